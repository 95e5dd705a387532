"""French e-mails: a French subject and text for every kind, and a French title when given."""

from __future__ import annotations

from pathlib import Path

import pytest

from consult.sampling.messages import render, template_environment

CONTEXT = {"name": "Jean Roy", "organisation": "", "title": "International consultation",
           "sender": "team@example.org", "code": "K7QM-4XRT-9",
           "link": "https://survey.example.org/s?code=K7QM4XRT9", "wave": 0, "language": "fr",
           "nominated": False, "reminder_number": 1, "invited_on": "2014-09-08",
           "links": [{"code": "AB2C-DE3F-4", "link": "https://survey.example.org/s?code=X"}],
           "count": 1}


@pytest.mark.parametrize(("kind", "subject"), [
    ("invitation", "Invitation : International consultation"),
    ("reminder", "Rappel : International consultation"),
    ("referral", "Merci, et des liens pour vos collègues : International consultation")])
def test_every_french_message_has_a_french_subject_and_text(kind: str, subject: str) -> None:
    used, written_subject, body = render(template_environment(None), kind, "fr", CONTEXT)
    assert (used, written_subject) == ("fr", subject)
    assert body.startswith("Bonjour Jean Roy,\n")
    assert "Dear" not in body
    english = render(template_environment(None), kind, "en", {**CONTEXT, "language": "en"})
    assert english[1] != written_subject and english[2].startswith("Dear Jean Roy,\n")


def test_a_project_gives_its_french_title_by_extending_the_shipped_template(
        tmp_path: Path) -> None:
    folder = tmp_path / "templates" / "email"
    folder.mkdir(parents=True)
    (folder / "invitation.fr.txt.j2").write_text(
        '{% extends "default:email/invitation.fr.txt.j2" %}\n'
        '{% set title = "Consultation internationale" %}\n', encoding="utf-8")
    env = template_environment(tmp_path / "templates")
    _, subject, body = render(env, "invitation", "fr", CONTEXT)
    assert subject == "Invitation : Consultation internationale"
    assert "responsables des services correctionnels : Consultation internationale." in body
    # English keeps the project's title.
    assert render(env, "invitation", "en", CONTEXT)[1] == "Invitation: International consultation"
