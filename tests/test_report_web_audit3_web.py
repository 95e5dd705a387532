"""The web form against a real uvicorn server: control characters are not stored
(new-user audit 3)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_web_helpers import Respondent, make_project, running, stored

from consult.project import DATABASE_ENV, Project
from consult.store import fielding, open_store
from consult.web.app import create_app

SECRET = b"test-secret"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> Project:
    monkeypatch.setenv(DATABASE_ENV, sqlite_url)
    return make_project(tmp_path / "consultation")[0]


@pytest.fixture
def codes(project: Project) -> list[str]:
    with open_store(project.database_url) as store:
        return [i.code for i in fielding.invitees(store, waves=[0])]


@pytest.fixture
def respondent(project: Project) -> Iterator[Respondent]:
    with running(create_app(project, secure_cookies=False, code_attempts=5,
                            secret=SECRET)) as url:
        person = Respondent(url)
        yield person
        person.close()


# --------------------------------------------------------------------------- control characters


def test_control_characters_are_not_stored_but_tabs_and_newlines_are(
        project: Project, codes: list[str], respondent: Respondent) -> None:
    respondent.open(codes[0])
    respondent.consent()
    respondent.answer(1)
    typed = "Staff\x00 training\x0bfor all\tofficers\r\nand\x1f managers\x0c."
    page = respondent.answer(2, {"acc_practice": typed}, acc_approach="other",
                             acc_approach__other="Own\x00 wing\x08")
    assert page.status_code == 200 and page.url.path == "/page/3"
    _, answers = stored(project, codes[0])
    assert answers["acc_practice"][0].value == "Staff training\nfor all\tofficers\r\nand managers\n."
    assert answers["acc_approach"][0].other_text == "Own wing"


def test_a_nul_alone_is_no_answer(codes: list[str], respondent: Respondent) -> None:
    respondent.open(codes[0])
    respondent.consent()
    respondent.answer(1)
    page = respondent.answer(2, acc_approach="other", acc_approach__other="\x00\x00")
    assert page.status_code == 422 and "Please specify your other answer." in page.text
