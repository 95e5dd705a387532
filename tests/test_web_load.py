"""A bounded load test: 120 respondents submit at once to two uvicorn workers on loopback.

Every respondent opens its personal link, consents, posts the eight pages and
opens the thank-you page; every fifth posts its last page twice at the same
moment, as a double click would. Afterwards the store must hold each
submission exactly once: one finished ``web`` row per code, with exactly that
respondent's answers, its code marked used and exactly its own child codes.

The server is ``uvicorn --factory consult.web.asgi:app --workers 2`` in its own
process, as in production; each respondent is an asyncio task with its own
cookies and connections, as a browser is. Everything is bounded (a fixed
number of respondents, request, run and start-up deadlines), so the test
stops by itself. ``benchmarks/web_load.py`` runs the same with 300
respondents and prints submissions per second; 120 keeps this test under a
minute on two shared cores.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from test_web_helpers import CSRF, page_answers

from consult.project import DATABASE_ENV, Project, init_project, load_project
from consult.questionnaire.load import load_questionnaire
from consult.questionnaire.model import ItemType, Questionnaire
from consult.sampling.codes import new_code
from consult.sampling.waves import open_wave
from consult.store import fielding, open_store, schema
from consult.store.fielding import NewContact
from consult.store.web import PageSave, save_web_page
from consult.web.asgi import INSECURE_ENV, PROJECT_ENV
from consult.web.form import pages
from consult.web.referrals import ChildCodes
from consult.web.security import SECRET_ENV

RESPONDENTS = 120
WORKERS = 2
CHILD_CODES = 3
DOUBLE_EVERY = 5  # every fifth respondent double-clicks "Submit"
START_TIMEOUT = 60.0
REQUEST_TIMEOUT = 60.0
RUN_TIMEOUT_BASE = 60.0  # seconds for a whole run: this, plus so much per respondent
RUN_TIMEOUT_PER_RESPONDENT = 1.0
SERVER_KEEP_ALIVE = 10  # seconds uvicorn keeps an idle connection open


def load_project_with_seeds(root: Path, database_url: str, seeds: int) -> tuple[Project, list[str]]:
    """A project on R-361 with ``seeds`` wave-0 codes (added in one transaction), wave 0 open.

    The project is made on ``database_url``; pass that URL on to whatever uses it, as
    the server's environment does (``project.database_url`` reads the environment).
    """
    before = os.environ.get(DATABASE_ENV)
    os.environ[DATABASE_ENV] = database_url
    try:
        init_project(root, title="Load test consultation")
        project = load_project(explicit=root)
        with open_store(database_url) as store:
            contacts = [NewContact(name=f"Seed {n}", email=f"seed{n}@example.org", language="en")
                        for n in range(seeds)]
            codes = [i.code for i in fielding.add_seeds(store, contacts, new_code, datetime.now(UTC))]
            open_wave(store, 0, child_codes=CHILD_CODES)
    finally:
        if before is None:
            del os.environ[DATABASE_ENV]
        else:
            os.environ[DATABASE_ENV] = before
    return project, codes


@dataclass
class Server:
    """A running uvicorn: its address, process id and log (collected as it is written)."""

    url: str = ""
    pid: int = 0
    lines: list[str] = field(default_factory=list)
    ended: bool = False
    changed: threading.Condition = field(default_factory=threading.Condition)

    def errors(self) -> list[str]:
        """Logged errors and tracebacks (none is expected)."""
        return [line for line in self.lines if "ERROR" in line or "Traceback" in line]


@contextmanager
def uvicorn_workers(project: Project, database_url: str,
                    workers: int = WORKERS) -> Iterator[Server]:
    """Run ``workers`` uvicorn workers on the project; yield the running server.

    Yields once every worker has logged "Application startup complete": the
    wait is on uvicorn's own log, never a guessed sleep.
    """
    env = {**os.environ, PROJECT_ENV: str(project.root), DATABASE_ENV: database_url,
           SECRET_ENV: "load-test-secret", INSECURE_ENV: "1", "PYTHONUNBUFFERED": "1"}
    server = Server()
    for _ in range(3):  # a free port found by binding 0 can be taken before uvicorn binds it
        port = _free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "consult.web.asgi:app",
             "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
             "--timeout-keep-alive", str(SERVER_KEEP_ALIVE), "--no-access-log",
             "--log-level", "info"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        server = Server(url=f"http://127.0.0.1:{port}", pid=process.pid)
        reader = threading.Thread(target=_drain, args=(process, server), daemon=True)
        reader.start()
        try:
            if _wait_started(server, workers):
                yield server
                return
        finally:
            process.terminate()
            process.wait(30)
            reader.join(30)
    raise RuntimeError("uvicorn did not start:\n" + "".join(server.lines))


def run_load(base: str, codes: list[str], questionnaire: Questionnaire, *,
             view_pages: bool = False) -> tuple[float, int, list[str]]:
    """Submit one response per code, all at once; return wall seconds, requests and problems.

    With ``view_pages`` every respondent also loads each page before posting it,
    as a browser does; without, it posts straight on (the token does not change).
    """
    return asyncio.run(_run_all(base, codes, questionnaire, view_pages))


def stored_once_problems(database_url: str, codes: list[str],
                         questionnaire: Questionnaire) -> list[str]:
    """Everything wrong in the store after the run: missing, duplicate or mixed-up submissions."""
    problems: list[str] = []
    r, a, rc = schema.respondents, schema.answers, schema.referral_codes
    with open_store(database_url) as store, store.engine.connect() as conn:
        rows = conn.execute(sa.select(r.c.id, r.c.source, r.c.source_id, r.c.referral_code,
                                      r.c.finished, r.c.included, r.c.progress,
                                      r.c.submitted_at)).all()
        answers: dict[int, list[tuple[str, int, str]]] = {}
        for ans in conn.execute(sa.select(a.c.respondent_id, a.c.item_id, a.c.ordinal, a.c.value)
                                .order_by(a.c.respondent_id, a.c.item_id, a.c.ordinal)):
            answers.setdefault(ans.respondent_id, []).append((ans.item_id, ans.ordinal, ans.value))
        used = {row.code: row.used_at for row in conn.execute(sa.select(rc.c.code, rc.c.used_at))}
        children = Counter(conn.execute(sa.select(rc.c.parent_code)
                                        .where(rc.c.parent_code.is_not(None))).scalars())
    per_code = Counter(row.source_id for row in rows)
    problems += [f"{code}: stored {n} times" for code, n in per_code.items() if n != 1]
    problems += [f"{code}: not stored" for code in codes if code not in per_code]
    problems += [f"unexpected respondent {row.source}/{row.source_id}" for row in rows
                 if row.source != "web" or row.source_id not in codes]
    for row in rows:
        if not (row.finished and row.included and row.progress == 100 and row.submitted_at):
            problems.append(f"{row.source_id}: not submitted ({row.finished=}, {row.progress=})")
        if row.referral_code != row.source_id:
            problems.append(f"{row.source_id}: referral code {row.referral_code}")
        if answers.get(row.id, []) != expected_answers(questionnaire, row.source_id):
            problems.append(f"{row.source_id}: answers differ from what was posted")
        if used.get(row.source_id) is None:
            problems.append(f"{row.source_id}: code not marked used")
        if children[row.source_id] != CHILD_CODES:
            problems.append(f"{row.source_id}: {children[row.source_id]} child codes, "
                            f"not {CHILD_CODES}")
    return problems


def respondent_pages(questionnaire: Questionnaire, code: str) -> list[dict[str, Any]]:
    """What the respondent with ``code`` posts, page by page: its own texts, so mix-ups show."""
    texts = {item.id: f"{code} on {item.id}" for item in questionnaire.items()
             if item.type is ItemType.FREE_TEXT}
    return [page_answers(questionnaire, n, texts) for n in range(1, len(pages(questionnaire)) + 1)]


def expected_answers(questionnaire: Questionnaire, code: str) -> list[tuple[str, int, str]]:
    """The answer rows ``(item, ordinal, value)`` the posts of ``code`` must leave, sorted."""
    rows = []
    for page in respondent_pages(questionnaire, code):
        for item_id, value in page.items():
            first = value[0] if isinstance(value, list) else value
            rows.append((item_id, 0, "CAN" if item_id == "country" else first))
    return sorted(rows)


def test_concurrent_submissions_are_stored_exactly_once(tmp_path: Path, db_url: str) -> None:
    project, codes = load_project_with_seeds(tmp_path / "consultation", db_url, RESPONDENTS)
    questionnaire = load_questionnaire(project.questionnaire_path)
    with uvicorn_workers(project, db_url) as server:
        seconds, requests, problems = run_load(server.url, codes, questionnaire)
    assert problems == [], problems[:20]
    assert server.errors() == []
    assert stored_once_problems(db_url, codes, questionnaire) == []
    # Not a speed target (that lives in benchmarks/): shown with -rP for the curious.
    print(f"{RESPONDENTS} submissions in {seconds:.1f} s ({RESPONDENTS / seconds:.1f}/s, "
          f"{requests / seconds:.0f} requests/s) on {WORKERS} workers")


def test_the_checker_sees_lost_altered_and_extra_rows(tmp_path: Path, sqlite_url: str) -> None:
    project, codes = load_project_with_seeds(tmp_path / "consultation", sqlite_url, 2)
    questionnaire = load_questionnaire(project.questionnaire_path)
    with uvicorn_workers(project, sqlite_url, workers=1) as server:
        _, _, problems = run_load(server.url, codes[:1], questionnaire, view_pages=True)
    assert problems == []
    found = stored_once_problems(sqlite_url, codes, questionnaire)
    assert found == [f"{codes[1]}: not stored"]
    with open_store(sqlite_url) as store:
        with store.engine.begin() as conn:
            a = schema.answers
            conn.execute(a.update().where(a.c.item_id == "best_practice").values(value="swapped"))
        fielding.issue_child_codes(store, CHILD_CODES + 1, new_code, datetime.now(UTC))
    assert stored_once_problems(sqlite_url, codes[:1], questionnaire) == [
        f"{codes[0]}: answers differ from what was posted",
        f"{codes[0]}: {CHILD_CODES + 1} child codes, not {CHILD_CODES}"]


@pytest.mark.postgres
def test_child_codes_are_issued_once_by_workers_on_several_machines(tmp_path: Path,
                                                                    pg_url: str) -> None:
    # Two issuers with their own lock files stand for workers on two machines: only
    # PostgreSQL's SERIALIZABLE transactions keep them from topping up the same gaps.
    _, codes = load_project_with_seeds(tmp_path / "consultation", pg_url, 40)
    with open_store(pg_url) as store:
        for code in codes:
            save_web_page(store, PageSave(code=code, wave=0, referred_by=None, language="en",
                                          answers=[], clear_items=[], progress=100,
                                          finished=True, now=datetime.now(UTC)))
        machines = [ChildCodes(store, CHILD_CODES, tmp_path / f"machine{n}.lock")
                    for n in range(2)]
        with ThreadPoolExecutor(max_workers=8) as pool:
            handed = list(pool.map(lambda job: machines[job[0]].of(job[1]),
                                   [(n, code) for code in codes for n in range(2)]))
        per_parent = Counter(i.parent_code for i in fielding.invitees(store, waves=[1]))
    assert [len(children) for children in handed] == [CHILD_CODES] * 2 * len(codes)
    assert per_parent == dict.fromkeys(codes, CHILD_CODES)


# --------------------------------------------------------------------------- helpers


async def _run_all(base: str, codes: list[str], questionnaire: Questionnaire,
                   view_pages: bool) -> tuple[float, int, list[str]]:
    plans = {code: respondent_pages(questionnaire, code) for code in codes}
    tls = ssl.create_default_context()  # unused on http://, but made once instead of per client
    counter = [0]
    deadline = RUN_TIMEOUT_BASE + RUN_TIMEOUT_PER_RESPONDENT * len(codes)
    start = time.perf_counter()
    try:
        results = await asyncio.wait_for(asyncio.gather(
            *(_submit(base, tls, code, plans[code], n % DOUBLE_EVERY == 0, view_pages, counter)
              for n, code in enumerate(codes)), return_exceptions=True), deadline)
    except TimeoutError:
        return time.perf_counter() - start, counter[0], [f"the run took over {deadline:.0f} s"]
    seconds = time.perf_counter() - start
    problems = [f"{code}: {result!r}" for code, result in zip(codes, results, strict=True)
                if result is not None]
    return seconds, counter[0], problems


async def _submit(base: str, tls: ssl.SSLContext, code: str, plan: list[dict[str, Any]],
                  double: bool, view_pages: bool, counter: list[int]) -> None:
    """One respondent from personal link to thank-you page; raises on anything unexpected."""
    # Like a browser, each respondent has its own cookies and connections (two at most,
    # for the double click). They go idle well before the server drops them: reusing one
    # the server is closing at that moment fails with "server disconnected".
    transport = httpx.AsyncHTTPTransport(verify=tls, limits=httpx.Limits(
        max_connections=2, keepalive_expiry=SERVER_KEEP_ALIVE / 2))
    async with httpx.AsyncClient(transport=transport, base_url=base, trust_env=False,
                                 timeout=REQUEST_TIMEOUT) as client:
        await _respond(client, code, plan, double, view_pages, counter)


async def _respond(client: httpx.AsyncClient, code: str, plan: list[dict[str, Any]],
                   double: bool, view_pages: bool, counter: list[int]) -> None:

    async def expect(response: Any, status: int, location: str | None = None) -> httpx.Response:
        got: httpx.Response = await response
        counter[0] += 1
        if got.status_code != status or (location and got.headers.get("location") != location):
            raise AssertionError(f"{got.request.method} {got.request.url.path}: "
                                 f"{got.status_code} {got.headers.get('location')}")
        return got

    await expect(client.get(f"/r/{code}"), 303, "/continue")
    found = CSRF.search((await expect(client.get("/consent"), 200)).text)
    assert found, "no CSRF token on the consent page"
    token = found.group(1)
    await expect(client.post("/consent", data={"csrf": token, "consent": "yes"}), 303, "/page/1")
    for number, answers in enumerate(plan, 1):
        last = number == len(plan)
        post = {"csrf": token, **answers}
        following = "/thanks" if last else f"/page/{number + 1}"
        if view_pages:
            await expect(client.get(f"/page/{number}"), 200)
        if last and double:
            await asyncio.gather(expect(client.post(f"/page/{number}", data=post), 303, following),
                                 expect(client.post(f"/page/{number}", data=post), 303, following))
        else:
            await expect(client.post(f"/page/{number}", data=post), 303, following)
    thanks = await expect(client.get("/thanks"), 200)
    if thanks.text.count('class="link"') != CHILD_CODES:
        raise AssertionError("the thank-you page does not show the child links")


def _drain(process: subprocess.Popen[str], log: Server) -> None:
    assert process.stderr is not None
    for line in process.stderr:
        with log.changed:
            log.lines.append(line)
            log.changed.notify_all()
    with log.changed:
        log.ended = True
        log.changed.notify_all()


def _wait_started(log: Server, workers: int) -> bool:
    """Wait until every worker has started (``True``) or uvicorn has stopped (``False``)."""
    def settled() -> bool:
        return log.ended or sum("Application startup complete" in line
                                for line in log.lines) >= workers

    with log.changed:
        if not log.changed.wait_for(settled, timeout=START_TIMEOUT):
            log.lines.append("(uvicorn did not start in time)\n")
            return False
        return not log.ended


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
