"""Addresses with accents before the @: refused where they enter, and never a crash when sending.

Delivery runs against a real SMTP server on loopback (aiosmtpd, tests/smtp.py);
the web form against a real uvicorn server (tests/test_web_helpers.py).
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from smtp import smtp_running
from test_web_helpers import Respondent, make_project, running
from typer.testing import CliRunner

from consult.cli.main import app
from consult.errors import ConsultError
from consult.project import DATABASE_ENV, Project, load_project
from consult.sampling.contacts import mailable_address
from consult.sampling.invitations import invite
from consult.sampling.mailer import SmtpMailer
from consult.sampling.nominations import approve_nomination
from consult.sampling.setup import fielding_setup
from consult.store import fielding, open_store
from consult.store.fielding import NewContact
from consult.web.app import create_app

runner = CliRunner()
T0 = datetime(2014, 9, 8, 9, 0, tzinfo=UTC)
NOT_ASCII = ("write the address in plain ASCII letters: addresses with accents in the part "
             "before @ cannot be delivered by consult's mailer")


@dataclass
class Recorder:
    """Accepts every message and keeps its recipients."""

    accepted: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.accepted += envelope.rcpt_tos
        return "250 Message accepted for delivery"


@pytest.fixture
def server() -> Iterator[tuple[Recorder, int]]:
    handler = Recorder()
    with smtp_running(handler) as port:
        yield handler, port


def invoke(root: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--project", str(root), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    return result.exit_code, result.stdout, result.stderr


def use_smtp(root: Path, port: int) -> None:
    settings = root / "consult.toml"
    settings.write_text(settings.read_text(encoding="utf-8")
                        .replace('host = "localhost"', 'host = "127.0.0.1"')
                        .replace("port = 25", f"port = {port}"), encoding="utf-8")


def older_version_contact(root: Path, name: str, email: str) -> int:
    """A seed written straight to the store, unchecked, as a version before the check did."""
    with open_store(load_project(explicit=root).database_url) as store:
        [seed] = fielding.add_seeds(store, [NewContact(name=name, email=email)],
                                    lambda: "ZZZZZZZZZ", T0)
        assert seed.contact_id is not None
        return seed.contact_id


# --------------------------------------------------------------------------- where addresses enter


def test_seeds_import_names_file_row_and_column(fielding_project: Path, tmp_path: Path) -> None:
    seeds = tmp_path / "seeds.csv"
    seeds.write_text("name,email\nAna Lima,ana@example.org\nÜnï Ñ,ünï@example.org\n",
                     encoding="utf-8")
    assert invoke(fielding_project, "seeds", "import", str(seeds)) == (1, "", (
        "Error: seeds.csv: no seeds imported\n"
        f"  error: seeds.csv (row 3, column email): 'ünï@example.org': {NOT_ASCII}\n"))


def test_seeds_add_refuses_accents_before_the_at_and_converts_the_domain(
        fielding_project: Path) -> None:
    assert invoke(fielding_project, "seeds", "add", "--name", "Jürgen", "--email",
                  "jürgen@example.org") == (1, "", f"Error: email: 'jürgen@example.org': "
                                                   f"{NOT_ASCII}\n")
    code, stdout, _ = invoke(fielding_project, "seeds", "add", "--name", "Ana", "--email",
                             "ana@bücher.example.org")
    assert code == 0
    assert stdout.startswith("Added seed Ana <ana@xn--bcher-kva.example.org> with code ")


def test_mailable_address() -> None:
    # xn--bcher-kva is the IDNA (punycode) form of bücher: RFC 3492's own example
    # domain family, also what Python's "idna" codec gives.
    assert mailable_address("ana@bücher.example.org") == "ana@xn--bcher-kva.example.org"
    assert mailable_address("ana@example.org") == "ana@example.org"
    assert mailable_address("jürgen@example.org") is None
    assert mailable_address("ana@" + "x" * 64 + "ü.org") is None  # a label over 63 characters


@pytest.fixture
def web_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> Project:
    monkeypatch.setenv(DATABASE_ENV, sqlite_url)
    return make_project(tmp_path / "consultation")[0]


def test_the_nomination_form_refuses_accents_before_the_at(web_project: Project) -> None:
    with open_store(web_project.database_url) as store:
        code = fielding.invitees(store, waves=[0])[0].code
    with running(create_app(web_project, secure_cookies=False, secret=b"s")) as url:
        person = Respondent(url)
        try:
            person.complete(code)
            refused = person.post("/nominate", {"name": "Jürgen Colleague",
                                                "email": "jürgen@example.org"}, "/thanks")
            person.client.get("/thanks?lang=fr")
            refused_fr = person.post("/nominate", {"name": "Jürgen Colleague",
                                                   "email": "jürgen@example.org"}, "/thanks")
        finally:
            person.close()
    assert refused.status_code == 422
    assert ('<p class="error" id="email-error">Please write the address in plain letters, '
            "without accents before the @ (for example jurgen@example.org): addresses with "
            "accents before the @ cannot be delivered by the consultation&#39;s mailer.</p>"
            ) in refused.text
    assert refused_fr.status_code == 422
    assert ("Veuillez écrire l’adresse en lettres simples, sans accents avant le @"
            in html.unescape(refused_fr.text))
    with open_store(web_project.database_url) as store:
        assert fielding.nominations(store) == []


# --------------------------------------------------------------------------- already in a database


def test_invite_sends_the_others_and_names_the_contact_it_cannot_send_to(
        fielding_project: Path, server: tuple[Recorder, int]) -> None:
    handler, port = server
    use_smtp(fielding_project, port)
    assert invoke(fielding_project, "seeds", "add", "--name", "Ana", "--email",
                  "ana@example.org")[0] == 0
    bad = older_version_contact(fielding_project, "Ünï", "ünï@example.org")
    assert invoke(fielding_project, "seeds", "add", "--name", "Kofi", "--email",
                  "kofi@example.org")[0] == 0
    assert invoke(fielding_project, "wave", "open", "0")[0] == 0

    code, stdout, stderr = invoke(fielding_project, "invite", "--wave", "0", "--send")

    assert code == 1
    assert stdout.endswith(f"Queued 2 invitation(s) and 0 referral letter(s).\n"
                           f"Sent 2 message(s) via smtp://127.0.0.1:{port}\n")
    assert stderr == (f"  not sendable: invitation to contact {bad}: their address has accents "
                      "before the @, which consult's mailer cannot deliver\n")
    assert sorted(handler.accepted) == ["ana@example.org", "kofi@example.org"]
    # and the next run sends nothing twice, and still says so
    assert invoke(fielding_project, "invite", "--wave", "0", "--send")[2] == stderr
    assert len(handler.accepted) == 2


def test_invite_in_the_library_lists_the_unsendable(fielding_project: Path,
                                                    server: tuple[Recorder, int]) -> None:
    handler, port = server
    use_smtp(fielding_project, port)
    bad = older_version_contact(fielding_project, "Ünï", "ünï@example.org")
    assert invoke(fielding_project, "wave", "open", "0")[0] == 0
    project = load_project(explicit=fielding_project)
    with open_store(project.database_url) as store:
        result = invite(store, fielding_setup(project), SmtpMailer(project.settings.smtp),
                        now=T0)
    assert [(u.contact_id, u.kind) for u in result.unsendable] == [(bad, "invitation")]
    assert (result.invitations_queued, result.delivery.sent, handler.accepted) == (0, (), [])


def test_approving_such_a_nomination_is_refused_cleanly(fielding_project: Path) -> None:
    assert invoke(fielding_project, "seeds", "add", "--name", "Ana", "--email",
                  "ana@example.org")[0] == 0
    project = load_project(explicit=fielding_project)
    with open_store(project.database_url) as store:
        ana = fielding.invitees(store)[0].code
        nomination = fielding.add_nomination(
            store, ana, NewContact(name="Jürgen", email="jürgen@example.org"), T0)
        with pytest.raises(ConsultError):
            approve_nomination(store, fielding_setup(project), nomination.id)

    assert invoke(fielding_project, "nominations", "approve", str(nomination.id)) == (1, "", (
        f"Error: nomination {nomination.id}: the nominee's address has accents before the @, "
        "which consult's mailer cannot deliver; it stays pending; reject it with: consult "
        f"nominations reject {nomination.id}\n"))
    with open_store(project.database_url) as store:
        assert fielding.nomination(store, nomination.id).status == "pending"  # type: ignore[union-attr]
        assert [i.name for i in fielding.invitees(store)] == ["Ana"]
