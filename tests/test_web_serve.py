"""``consult serve`` and the web form's protections, each on its own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from test_web_helpers import make_project
from typer.testing import CliRunner

from consult.cli.main import app
from consult.project import DATABASE_ENV
from consult.web.security import SECRET_ENV, RateLimiter, Session, Signer, load_secret

runner = CliRunner()


def test_serve_help() -> None:
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    assert "Example: consult serve --port 8000" in result.stdout


def test_cli_start_up_does_not_import_the_web_stack() -> None:
    code = ("import sys, consult.cli.main; "
            "print(','.join(m for m in ('fastapi', 'uvicorn', 'starlette', 'jinja2', "
            "'consult.web') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == ""


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_serve_prints_a_personal_link_that_works(tmp_path: Path, sqlite_url: str,
                                                 host: str) -> None:
    env = {**os.environ, DATABASE_ENV: sqlite_url, "PYTHONUNBUFFERED": "1"}
    os.environ[DATABASE_ENV] = sqlite_url
    try:
        project, codes = make_project(tmp_path / "consultation")
    finally:
        del os.environ[DATABASE_ENV]
    with socket.socket() as probe:  # a free port (freed again for the server to take)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "consult", "--project", str(project.root), "serve", "--host",
         host, "--port", str(port), "--insecure-cookies"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None and process.stderr is not None
        link = process.stdout.readline().strip()
        assert link.startswith(f"Personal link: http://127.0.0.1:{port}/r/"), \
            process.stderr.read()
        code = link.rsplit("/", 1)[1]
        assert code in codes
        # uvicorn logs this line once the socket listens: no polling, no sleeping.
        line, said = "", ""
        while "Uvicorn running on" not in line:
            line = process.stderr.readline()
            said += line
            assert line, "serve stopped before listening"
        assert "an invitee's own code: answering the whole form with it uses it up" in said
        # Plain-HTTP cookies are fine on 127.0.0.1 only.
        assert ("Warning: --insecure-cookies on 0.0.0.0" in said) == (host == "0.0.0.0")
        response = httpx.get(f"http://127.0.0.1:{port}/r/{code}", follow_redirects=True)
        assert response.status_code == 200 and response.url.path == "/consent"
    finally:
        process.terminate()
        process.wait(30)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_a_tampered_session_cookie_is_ignored() -> None:
    signer = Signer(b"secret")
    session = Session(code="K7QM4XRT9", language="fr", consent=True)
    cookie = signer.dump(session)
    assert signer.load(cookie) == session
    body, mac = cookie.rsplit(".", 1)
    assert signer.load(body + "." + "0" * len(mac)) is None
    assert signer.load(Signer(b"other").dump(session)) is None
    assert signer.load("garbage") is None and signer.load(None) is None
    assert signer.csrf_ok(session, signer.csrf_token(session))
    assert not signer.csrf_ok(Session(), signer.csrf_token(session))


def test_rate_limit_forgets_failures_after_the_window() -> None:
    now = [0.0]
    limiter = RateLimiter(2, 60, clock=lambda: now[0])
    limiter.fail("10.0.0.1")
    limiter.fail("10.0.0.1")
    assert limiter.blocked("10.0.0.1") and not limiter.blocked("10.0.0.2")
    now[0] = 60.5
    assert not limiter.blocked("10.0.0.1")


def test_secret_from_environment_or_made_once(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    first = load_secret(tmp_path / ".consult")
    assert len(first) == 64 and load_secret(tmp_path / ".consult") == first
    assert (tmp_path / ".consult" / "web-secret").stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv(SECRET_ENV, "from-env")
    assert load_secret(tmp_path / ".consult") == b"from-env"


def test_asgi_factory_builds_the_form_of_the_named_project(
        tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from consult.web import asgi

    monkeypatch.setenv(DATABASE_ENV, sqlite_url)
    project, _ = make_project(tmp_path / "consultation")
    monkeypatch.setenv(asgi.PROJECT_ENV, str(project.root))
    with TestClient(asgi.app(), base_url="https://testserver") as client:
        cookie = client.get("/").headers["set-cookie"].lower()
    assert "; secure" in cookie
