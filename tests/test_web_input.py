"""The web form against a real uvicorn server: control characters are not stored, a wave closed
mid-answer is explained, and each kind of wrong code has its own message (new-user audit 3)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_web_helpers import Respondent, csrf_of, make_project, running, stored

from consult.project import DATABASE_ENV, Project
from consult.sampling.codes import BODY_LENGTH, display
from consult.sampling.waves import close_wave
from consult.store import fielding, open_store
from consult.web.app import create_app

SECRET = b"test-secret"
TYPING_MISTAKE = "The code has a typing mistake (its last character does not match)."
NOT_A_CODE = "This is not a code of this consultation: codes look like XXXX-XXXX-X"


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


def enter(respondent: Respondent, typed: str, lang: str = "en") -> tuple[int, str]:
    """Type ``typed`` on the code-entry page (in ``lang``); the status and text of the answer."""
    token = csrf_of(respondent.client.get(f"/?lang={lang}"))
    response = respondent.client.post("/code", data={"csrf": token, "code": typed})
    return response.status_code, response.text


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


# --------------------------------------------------------------------------- closed wave


def test_a_page_posted_after_its_wave_closed_is_explained_and_earlier_pages_kept(
        project: Project, codes: list[str], respondent: Respondent) -> None:
    respondent.open(codes[0])
    respondent.consent()
    for number in (1, 2, 3):
        assert respondent.answer(number).url.path == f"/page/{number + 1}"
    token = csrf_of(respondent.client.get("/page/4"))
    with open_store(project.database_url) as store:
        close_wave(store, 0)
    posted = respondent.client.post("/page/4", data={"csrf": token, "int_practice": "Mine."})
    assert posted.status_code == 410 and posted.url.path == "/page/4"
    assert "This round of the consultation has closed" in posted.text
    assert ("The consultation closed while you were answering, so the answers on the page you "
            "just sent could not be saved. The pages you saved before are kept.") in posted.text
    row, answers = stored(project, codes[0])
    assert not row.finished and row.progress == round(100 * 3 / 8)
    assert "acc_approach" in answers and "int_practice" not in answers
    french = respondent.client.post("/page/4?lang=fr", data={"csrf": token})
    assert french.status_code == 410 and '<html lang="fr">' in french.text
    assert "Les pages enregistrées auparavant sont conservées." in french.text
    shown = respondent.client.get("/page/4?lang=en")  # opening the page again
    assert shown.status_code == 410 and "is closed" in shown.text


# --------------------------------------------------------------------------- code entry


def test_each_kind_of_wrong_code_has_its_own_message(codes: list[str],
                                                     respondent: Respondent) -> None:
    assert display("X" * (BODY_LENGTH + 1)) == "XXXX-XXXX-X"  # the shape the message gives
    empty = enter(respondent, "  - ")
    assert empty[0] == 400 and "Please type your code." in empty[1]
    assert 'aria-invalid="true" aria-describedby="code-help code-error"' in empty[1]
    assert "<title>Error: " in empty[1] and TYPING_MISTAKE not in empty[1]
    for typed in ["K" * 70, "K7QM4XRT9A", "K7QM-4XRT-O"]:  # too long, too long, an O
        status, text = enter(respondent, typed)
        assert status == 400 and NOT_A_CODE in text and TYPING_MISTAKE not in text, typed
    wrong = codes[0][:-1] + ("2" if codes[0][-1] != "2" else "3")
    status, text = enter(respondent, wrong)
    assert status == 400 and TYPING_MISTAKE in text and NOT_A_CODE not in text


def test_wrong_codes_in_french(respondent: Respondent) -> None:
    assert "Veuillez saisir votre code." in enter(respondent, "", "fr")[1]
    assert ("Ce n’est pas un code de cette consultation : les codes ont la forme XXXX-XXXX-X"
            in enter(respondent, "ABC", "fr")[1])
    assert "faute de frappe" in enter(respondent, "AAAAAAAAA", "fr")[1]


def test_empty_submissions_do_not_count_toward_the_lock(codes: list[str],
                                                        respondent: Respondent) -> None:
    for _ in range(8):  # the limit is 5 wrong codes
        assert enter(respondent, "")[0] == 400
    for typed in ["ABC", "ABCD", "AAAAAAAAA", "ABCDEF"]:
        assert enter(respondent, typed)[0] == 400
    status, text = enter(respondent, codes[0])
    assert status == 200 and "Before you start" in text
    assert enter(respondent, "ABCDE")[0] == 400  # the fifth wrong code
    assert enter(respondent, codes[1])[0] == 429
