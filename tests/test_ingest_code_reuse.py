"""A referral code already held by a stored response (from the web form or an earlier
file) is reported when an export uses it again: otherwise one person counts twice."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from consult.ingest.run import ingest_file
from consult.project import init_project
from consult.questionnaire import load_questionnaire
from consult.store import open_store
from consult.store.web import PageSave, save_web_page
from consult.synth import generate
from consult.synth.exports import writer


def test_a_code_completed_on_the_web_form_is_reported_when_an_export_reuses_it(
        tmp_path: Path) -> None:
    project = init_project(tmp_path / "p")
    consultation = generate(load_questionnaire(project.questionnaire_path), 30, seed=4, junk=0)
    reused = next(r for r in consultation.complete if r.referral_code)
    with open_store(project.database_url) as store:
        save_web_page(store, PageSave(code=reused.referral_code, wave=0, referred_by=None,
                                      language="en", answers=[], clear_items=[], progress=100,
                                      finished=True, now=datetime(2014, 10, 1, tzinfo=UTC)))
    path = writer("canonical")(consultation, project.root / "export.csv")
    result = ingest_file(project, path, accept_mapping=True)
    assert result.status == "ingested"
    reported = [(i.code, i.severity, i.message) for i in result.issues if i.code == "code-reused"]
    assert reported == [("code-reused", "warning", f"referral code {reused.referral_code} is "
                         f"already held by a stored response (web {reused.referral_code}); "
                         "both count")]
    # Taking a changed version of the same file again (--replace) finds each response
    # holding its own code: nothing more to report.
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    rows[1][rows[0].index("experience_years")] = "39"
    changed = project.root / "changed.csv"
    with changed.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    again = ingest_file(project, changed, replace_changed=True)
    assert again.status == "ingested" and again.replaced == 1
    assert [i.message for i in again.issues if i.code == "code-reused"] == [reported[0][2]] * (
        rows[1][0] == reused.response_id)
