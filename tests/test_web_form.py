"""The web form against a real uvicorn server on loopback, driven over HTTP with httpx: its
pages, codes, drafts, input cleaning and security."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_web_helpers import Respondent, csrf_of, make_project, running, stored

from consult.project import DATABASE_ENV, Project, load_project
from consult.questionnaire.load import load_questionnaire
from consult.sampling.codes import BODY_LENGTH, display, new_code
from consult.sampling.waves import close_wave
from consult.store import fielding, open_store
from consult.store.web import web_draft
from consult.web.app import create_app

SECRET = b"test-secret"
TYPING_MISTAKE = "The code has a typing mistake (its last character does not match)."
NOT_A_CODE = "This is not a code of this consultation: codes look like XXXX-XXXX-X"
XSS = "<script>alert(1)</script>"
SQLI = "'); DROP TABLE answers;--"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> Project:
    monkeypatch.setenv(DATABASE_ENV, sqlite_url)
    return make_project(tmp_path / "consultation")[0]


@pytest.fixture
def codes(project: Project) -> list[str]:
    with open_store(project.database_url) as store:
        return [i.code for i in fielding.invitees(store, waves=[0])]


@pytest.fixture
def base(project: Project) -> Iterator[str]:
    with running(create_app(project, secure_cookies=False, code_attempts=5,
                            secret=SECRET)) as url:
        yield url


@pytest.fixture
def respondent(base: str) -> Iterator[Respondent]:
    person = Respondent(base)
    yield person
    person.close()


def test_complete_r361_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  db_url: str) -> None:
    monkeypatch.setenv(DATABASE_ENV, db_url)
    project, codes = make_project(tmp_path / "consultation")
    with running(create_app(project, secure_cookies=False, secret=SECRET)) as url:
        person = Respondent(url)
        # The code as printed on an invitation: lower case, with dashes.
        first = person.open(display(codes[0]).lower())
        assert first.status_code == 200 and first.url.path == "/consent"
        assert person.consent().url.path == "/page/1"
        bad = person.answer(1, experience_years="twelve", role="")
        assert bad.status_code == 422
        assert 'class="error-summary"' in bad.text
        assert '<a href="#role-0">' in bad.text and '<a href="#experience_years">' in bad.text
        assert 'aria-describedby="experience_years-help experience_years-error"' in bad.text
        assert "Please enter a number." in bad.text and "Please answer this question." in bad.text
        assert 'value="twelve"' in bad.text  # what was typed is shown back
        for number in range(1, 9):
            response = person.answer(number)
            assert response.status_code == 200, response.text
            if number < 8:
                assert f"Page {number + 1} of 8" in response.text
        assert response.url.path == "/thanks" and "Thank you" in response.text
        links = [line.split('value="')[1].split('"')[0] for line in response.text.splitlines()
                 if 'class="link"' in line]
        assert len(links) == 3 and all(link.startswith("http://127.0.0.1:8000/r/")
                                       for link in links)
        nominated = person.post("/nominate", {"name": "Ada Colleague",
                                              "email": "ada@example.org"}, "/thanks")
        assert "your nomination was recorded" in nominated.text
        child = Respondent(url)
        assert child.open(links[0].rsplit("/", 1)[1]).url.path == "/consent"
        child.close()
        person.close()
    row, answers = stored(project, codes[0])
    assert (row.source, row.referral_code, row.wave, row.finished) == ("web", codes[0], 0, True)
    assert row.submitted_at is not None and row.progress == 100 and row.included is True
    assert row.country_iso3 == "CAN" and row.region is not None
    assert answers["country"][0].value == "CAN"
    assert answers["experience_years"][0].value == "12"
    assert answers["acc_practice"][0].value == "An answer to acc_practice."
    # Every R-361 item: the first choice of each filter question ("yes") shows its follow-up.
    assert sorted(answers) == sorted(i.id for i in load_questionnaire(project.questionnaire_path)
                                     .items())
    with open_store(project.database_url) as store:
        assert [n.email for n in fielding.nominations(store)] == ["ada@example.org"]
        children = [i for i in fielding.invitees(store, waves=[1]) if i.parent_code == codes[0]]
        assert sorted(link.rsplit("/", 1)[1] for link in links) == sorted(c.code for c in children)
        assert fielding.find_code(store, codes[0]) is not None


def test_resume_on_another_device_with_payloads_kept_verbatim_and_shown_escaped(
        project: Project, codes: list[str], base: str, respondent: Respondent) -> None:
    respondent.open(codes[1])
    respondent.consent()
    respondent.answer(1)
    respondent.answer(2, texts={"acc_practice": XSS}, acc_approach="other",
                      acc_approach__other=SQLI)
    other_device = Respondent(base)
    token = csrf_of(other_device.client.get("/"))
    resumed = other_device.client.post("/code", data={"csrf": token, "code": codes[1]})
    assert resumed.url.path == "/page/3"
    shown = other_device.client.get("/page/2").text
    assert XSS not in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown
    assert "&#39;); DROP TABLE answers;--" in shown
    assert '<input type="radio" id="acc_approach-5" name="acc_approach" value="other" checked>' \
        in shown
    other_device.close()
    row, answers = stored(project, codes[1])
    assert row.finished is False and row.submitted_at is None and row.progress == 25
    assert row.included is False  # a draft counts for nothing until it is submitted
    assert answers["acc_practice"][0].value == XSS
    assert (answers["acc_approach"][0].value, answers["acc_approach"][0].other_text) == \
        ("other", SQLI)


def test_a_completed_code_is_refused_on_any_device(project: Project, codes: list[str],
                                                   base: str, respondent: Respondent) -> None:
    respondent.complete(codes[0])
    again = Respondent(base)
    refused = again.open(codes[0])
    assert refused.status_code == 409
    assert "already completed" in refused.text
    again.close()
    # The session that submitted cannot change the response either.
    after = respondent.post("/page/8", {"best_practice": "changed"}, "/thanks")
    assert after.url.path == "/thanks"
    _, answers = stored(project, codes[0])
    assert answers["best_practice"][0].value == "An answer to best_practice."


def test_post_without_a_valid_csrf_token_is_refused(project: Project, codes: list[str],
                                                    respondent: Respondent) -> None:
    respondent.open(codes[0])
    missing = respondent.client.post("/consent", data={"consent": "yes"})
    forged = respondent.client.post("/consent", data={"consent": "yes", "csrf": "0" * 64})
    assert (missing.status_code, forged.status_code) == (403, 403)
    assert "This form has expired" in missing.text
    stranger = Respondent(respondent.client.base_url.__str__())
    token = csrf_of(respondent.client.get("/consent"))  # another browser's token
    assert stranger.client.post("/code", data={"csrf": token, "code": codes[0]}).status_code \
        == 403
    stranger.close()


def test_code_entry_is_rate_limited_after_wrong_codes(codes: list[str],
                                                      respondent: Respondent) -> None:
    statuses = [respondent.open(code).status_code
                for code in ["AAAAAAAAA", new_code(), "K7QM4XRT", new_code(), new_code()]]
    assert statuses[0] == 400 and statuses[1] == 404
    blocked = respondent.open(codes[0])  # even a good code, once locked out
    assert blocked.status_code == 429 and "Too many attempts" in blocked.text
    token = csrf_of(respondent.client.get("/"))
    assert respondent.client.post("/code", data={"csrf": token, "code": codes[0]}).status_code \
        == 429


def test_relevance_skips_hidden_items_and_drops_their_stale_answers(
        project: Project, codes: list[str], respondent: Respondent) -> None:
    respondent.open(codes[0])
    respondent.consent()
    respondent.answer(1)
    respondent.answer(2)
    respondent.answer(3, rec_attempts="yes", rec_methods=["other"], rec_methods__other="")
    _, answers = stored(project, codes[0])
    assert "rec_attempts" not in answers  # the page with an error was not saved
    page = respondent.answer(3, rec_attempts="yes", rec_methods="other",
                             rec_methods__other="Letters")
    assert page.url.path == "/page/4"
    _, answers = stored(project, codes[0])
    assert answers["rec_methods"][0].other_text == "Letters"
    respondent.answer(3, rec_attempts="no", rec_methods="other", rec_methods__other="Letters")
    _, answers = stored(project, codes[0])
    assert answers["rec_attempts"][0].value == "no"
    assert "rec_methods" not in answers


def test_other_needs_its_text(codes: list[str], respondent: Respondent) -> None:
    respondent.open(codes[0])
    respondent.consent()
    respondent.answer(1)
    page = respondent.answer(2, acc_approach="other", acc_approach__other="  ")
    assert page.status_code == 422 and "Please specify your other answer." in page.text
    assert 'id="acc_approach-error"' in page.text


def test_language_switch_is_remembered(codes: list[str], respondent: Respondent) -> None:
    respondent.open(codes[0])
    french = respondent.client.get("/consent?lang=fr")
    assert '<html lang="fr">' in french.text and "Avant de commencer" in french.text
    page = respondent.consent()
    assert "Page 1 sur 8" in page.text and "Dans quel pays" in page.text
    error = respondent.answer(1, experience_years="99")
    assert "Veuillez saisir un nombre de 0 à 60." in error.text
    assert "How many years" in respondent.client.get("/page/1?lang=en").text


def test_a_closed_wave_refuses_its_codes(project: Project, codes: list[str],
                                         respondent: Respondent) -> None:
    with open_store(project.database_url) as store:
        close_wave(store, 0)
    closed = respondent.open(codes[0])
    assert closed.status_code == 410 and "is closed" in closed.text


def test_security_headers_and_cookie_flags(project: Project, base: str,
                                          respondent: Respondent) -> None:
    response = respondent.client.get("/")
    headers = response.headers
    assert headers["content-security-policy"].startswith("default-src 'self'")
    assert "script-src" not in headers["content-security-policy"]  # no inline script allowed
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    cookie = headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    assert "<script" not in response.text
    with running(create_app(project, secret=SECRET)) as secure_base:
        secure = Respondent(secure_base)
        assert "; secure" in secure.client.get("/").headers["set-cookie"].lower()
        secure.close()


def test_a_server_error_shows_no_traceback(project: Project) -> None:
    app = create_app(project, secure_cookies=False, secret=SECRET)

    def boom() -> None:
        raise RuntimeError("secret-detail in /work/main/consult/web/app.py")

    app.add_api_route("/boom", boom)
    with running(app) as url:
        person = Respondent(url)
        response = person.client.get("/boom")
        person.close()
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    for leak in ("Traceback", "secret-detail", "RuntimeError", ".py"):
        assert leak not in response.text
    assert response.headers["x-frame-options"] == "DENY"
    assert "set-cookie" not in response.headers  # the respondent's session survives


def test_oversized_and_unknown_requests_get_plain_pages(codes: list[str],
                                                        respondent: Respondent) -> None:
    respondent.open(codes[0])
    token = csrf_of(respondent.client.get("/consent"))
    big = respondent.client.post("/consent", data={"csrf": token, "consent": "x" * 600_000})
    assert big.status_code == 413 and "Too much text" in big.text
    assert respondent.client.get("/page/abc").status_code == 404
    assert respondent.client.get("/nowhere").status_code == 404


def test_draft_is_readable_through_the_store(project: Project, codes: list[str],
                                             respondent: Respondent) -> None:
    respondent.open(codes[2])
    respondent.consent()
    respondent.answer(1)
    with open_store(project.database_url) as store:
        draft = web_draft(store, codes[2])
        assert draft is not None and not draft.finished and draft.progress == 12
        assert {a.item_id for a in draft.answers} == {"country", "role", "responsibility",
                                                      "experience_years"}
        assert fielding.completed_codes(store) == set()


def test_nomination_errors_are_shown_and_nothing_is_cut(project: Project, codes: list[str],
                                                        respondent: Respondent) -> None:
    respondent.complete(codes[1])
    long_name = respondent.post("/nominate", {"name": "N" * 201, "email": "n@example.org"},
                                "/thanks")
    assert long_name.status_code == 422
    assert "<title>Error: Thank you" in long_name.text
    assert '<a href="#name">Name – Please shorten your answer to at most 200 characters.</a>' \
        in long_name.text
    assert '<p class="error" id="name-error">Please shorten your answer to at most 200 ' \
        'characters.</p>' in long_name.text
    assert 'aria-invalid="true" aria-describedby="name-error"' in long_name.text
    assert 'value="n@example.org"' in long_name.text  # what was typed is kept
    respondent.client.get("/thanks?lang=fr")
    bad_email = respondent.post("/nominate", {"name": XSS, "email": "not-an-address"}, "/thanks")
    assert bad_email.status_code == 422 and 'id="email-error"' in bad_email.text
    assert "Veuillez saisir une adresse électronique de la forme nom@example.org." \
        in bad_email.text
    assert 'id="name-error"' not in bad_email.text
    assert XSS not in bad_email.text and "&lt;script&gt;" in bad_email.text
    with open_store(project.database_url) as store:
        assert fielding.nominations(store) == []


def test_the_form_bears_the_title_the_invitations_give(project: Project, codes: list[str]) -> None:
    questionnaire = load_questionnaire(project.questionnaire_path)
    settings = project.root / "consult.toml"
    text = settings.read_text(encoding="utf-8")

    def site_titles(title: str) -> list[str]:
        settings.write_text(re.sub(r'(?m)^title = ".*"$', f'title = "{title}"', text, count=1),
                            encoding="utf-8")
        titled = load_project(explicit=project.root)
        assert titled.settings.project.title == title
        with running(create_app(titled, secure_cookies=False, secret=SECRET)) as url:
            person = Respondent(url)
            person.open(codes[0])
            pages = [person.client.get(f"/consent?lang={lang}").text for lang in ("en", "fr")]
            person.close()
        return [re.findall(r'<p class="site">(.*?)</p>', page)[0] for page in pages]

    # Titled as the questionnaire (the default): its title in the respondent's language.
    assert site_titles(questionnaire.title["en"]) == [questionnaire.title["en"],
                                                      questionnaire.title["fr"]]
    # A consultation titled in consult.toml is named so on the form, as in its invitations.
    assert site_titles("Consultation 2026") == ["Consultation 2026"] * 2


# --------------------------------------------------------------------------- input and codes


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
