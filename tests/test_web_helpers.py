"""Helpers for the web form tests: a real uvicorn server on loopback and a form-filling client.

``running(app)`` serves ``app`` from a thread on a free port of 127.0.0.1 and
yields its base URL; it waits on uvicorn's own ``started`` flag (bounded by a
deadline), never on a fixed sleep.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
import uvicorn

from consult.project import Project, init_project, load_project
from consult.questionnaire.load import load_questionnaire
from consult.questionnaire.model import ItemType, Questionnaire
from consult.sampling.seeds import add_seed
from consult.sampling.waves import open_wave
from consult.store import open_store, schema
from consult.web.form import pages

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@contextmanager
def running(app: Any) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (free port) for the duration of the block."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    poll = threading.Event()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        poll.wait(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)


def make_project(root: Path, seeds: int = 3) -> tuple[Project, list[str]]:
    """A project on R-361 with ``seeds`` seeds in wave 0, opened; returns it and their codes."""
    init_project(root, title="Test consultation")
    project = load_project(explicit=root)
    with open_store(project.database_url) as store:
        codes = [add_seed(store, f"Seed {n}", f"seed{n}@example.org",
                          languages=["en", "fr"]).code for n in range(seeds)]
        open_wave(store, 0, child_codes=3)
    return project, codes


def stored(project: Project, code: str) -> tuple[Any, dict[str, list[Any]]]:
    """The respondent row of ``code`` and its answers by item, in choice order."""
    with open_store(project.database_url) as store, store.engine.connect() as conn:
        r, a = schema.respondents, schema.answers
        row = conn.execute(sa.select(r).where(r.c.source_id == code)).one()
        answers: dict[str, list[Any]] = {}
        for ans in conn.execute(sa.select(a).where(a.c.respondent_id == row.id)
                                .order_by(a.c.item_id, a.c.ordinal)):
            answers.setdefault(ans.item_id, []).append(ans)
    return row, answers


def csrf_of(response: httpx.Response) -> str:
    """The CSRF token in a rendered form."""
    found = CSRF.search(response.text)
    assert found, response.text
    return found.group(1)


def page_answers(questionnaire: Questionnaire, number: int,
                 texts: dict[str, str] | None = None) -> dict[str, Any]:
    """A valid answer to every item of page ``number``: first choice, 12, Canada or text."""
    answers: dict[str, Any] = {}
    for item in pages(questionnaire)[number - 1].items:
        if item.type.has_choices:
            code = item.choice_codes()[0]
            answers[item.id] = [code] if item.type is ItemType.MULTIPLE_CHOICE else code
        elif item.type is ItemType.NUMBER:
            answers[item.id] = "12"
        elif item.type is ItemType.COUNTRY:
            answers[item.id] = "Canada"
        else:
            answers[item.id] = (texts or {}).get(item.id, f"An answer to {item.id}.")
    return answers


class Respondent:
    """One browser (its own cookies) filling in the form over HTTP."""

    def __init__(self, base: str) -> None:
        self.client = httpx.Client(base_url=base, follow_redirects=True, timeout=30)
        self.questionnaire = load_questionnaire(
            Path(__file__).resolve().parents[1] / "questionnaires" / "r361.yaml")

    def open(self, code: str) -> httpx.Response:
        """Follow the personal link of ``code``."""
        return self.client.get(f"/r/{code}")

    def post(self, url: str, data: dict[str, Any], token_from: str | None = None) -> httpx.Response:
        """Post ``data`` to ``url`` with the CSRF token of the page at ``token_from`` (or ``url``)."""
        token = csrf_of(self.client.get(token_from or url))
        return self.client.post(url, data={"csrf": token, **data})

    def consent(self) -> httpx.Response:
        """Agree on the consent page."""
        return self.post("/consent", {"consent": "yes"})

    def answer(self, number: int, texts: dict[str, str] | None = None,
               **changes: Any) -> httpx.Response:
        """Answer page ``number`` validly, with ``changes`` on top."""
        data = {**page_answers(self.questionnaire, number, texts), **changes}
        return self.post(f"/page/{number}", data)

    def complete(self, code: str, texts: dict[str, str] | None = None) -> httpx.Response:
        """Open, consent and answer every page; returns the thank-you page."""
        self.open(code)
        response = self.consent()
        for number in range(1, len(pages(self.questionnaire)) + 1):
            response = self.answer(number, texts)
            assert response.status_code == 200, response.text
        return response

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()
