"""A respondent listed in ``[ingest] withdrawn`` leaves the analysis at once, whatever
their source (a web-form response has no ingest to exclude it at), and a web draft
never submitted counts as an incomplete response."""

from __future__ import annotations

import csv
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from consult.analysis.run import analyze_project
from consult.analysis.text.embed import MiniLMEmbedder
from consult.analysis.text.run import ThemesRun, fit_project_themes
from consult.ingest.run import ingest_file
from consult.project import Project, init_project, load_project
from consult.questionnaire import ItemType, load_questionnaire
from consult.store import open_store
from consult.store.responses import (
    AnswerRecord,
    IngestRecord,
    exclusion_counts,
    load_responses,
    write_ingest,
)
from consult.store.web import PageSave, save_web_page
from consult.synth import generate
from consult.synth.exports import writer
from consult.synth.records import synth_records

NOW = datetime(2014, 10, 1, 12, tzinfo=UTC)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """Synthetic responses from an import, one completed web response and one web draft."""
    project = init_project(tmp_path / "p")
    questionnaire = load_questionnaire(project.questionnaire_path)
    consultation = generate(questionnaire, 40, seed=5, junk=0)
    text_item = next(i.id for i in questionnaire.items() if i.type is ItemType.FREE_TEXT)
    with open_store(project.database_url) as store:
        write_ingest(store, IngestRecord("synth", "synth.csv", uuid.uuid4().hex, 40),
                     synth_records(consultation))
        done = PageSave(code="WEBCODE1X", wave=0, referred_by=None, language="en",
                        answers=[AnswerRecord(text_item, "Train every officer on web day.")],
                        clear_items=[text_item], progress=100, finished=True, now=NOW)
        save_web_page(store, done)
        save_web_page(store, PageSave(**{**done.__dict__, "code": "WEBCODE2Y", "finished": False,
                                         "progress": 40}))
    return project


def withdraw(project: Project, *entries: str) -> Project:
    path = project.root / "consult.toml"
    text = path.read_text(encoding="utf-8")
    listed = ", ".join(f'"{entry}"' for entry in entries)
    path.write_text(text.replace("min_progress = 100",
                                 f"min_progress = 100\nwithdrawn = [{listed}]"), encoding="utf-8")
    return load_project(explicit=project.root)


def test_a_web_respondent_who_withdraws_leaves_the_analysis(project: Project) -> None:
    before = analyze_project(project).results.sample
    assert before.exclusions == {"incomplete": 1}  # the draft, never submitted
    # The code as the respondent's letter prints it: dashes, any case.
    project = withdraw(project, "webc-ode1-x")
    after = analyze_project(project).results.sample
    assert after.n_included == before.n_included - 1
    assert after.exclusions == {"incomplete": 1, "withdrawn": 1}
    with open_store(project.database_url) as store:
        assert exclusion_counts(store) == {"incomplete": 1}  # nothing stored was changed


def test_a_withdrawn_answer_is_left_out_of_themes(project: Project,
                                                  embedder: MiniLMEmbedder) -> None:
    questionnaire = load_questionnaire(project.questionnaire_path)
    item = next(i.id for i in questionnaire.items() if i.type is ItemType.FREE_TEXT)
    with open_store(project.database_url) as store:
        respondents, _ = load_responses(store)
    web = str(respondents.loc[respondents["referral_code"] == "WEBCODE1X", "id"].item())

    def coded(fitted: ThemesRun) -> set[str]:
        with fitted.csv_path.open(encoding="utf-8", newline="") as handle:
            return {row["respondent"] for row in csv.DictReader(handle)}

    assert web in coded(fit_project_themes(project, [item], embedder=embedder))
    assert web not in coded(fit_project_themes(withdraw(project, "WEBCODE1X"), [item],
                                               embedder=embedder))


def test_an_import_withdrawn_by_response_id_or_code_leaves_at_once(project: Project) -> None:
    with open_store(project.database_url) as store:
        respondents, _ = load_responses(store)
    synth = respondents[respondents["source"] == "synth"]
    by_id = synth["source_id"].iloc[0]
    by_code = synth["referral_code"].dropna().iloc[1]
    project = withdraw(project, by_id, f"{by_code[:4]}-{by_code[4:]}".lower())
    sample = analyze_project(project).results.sample
    assert sample.exclusions == {"incomplete": 1, "withdrawn": 2}
    assert sample.n_included == len(respondents) - 2


def test_an_ingest_excludes_a_code_withdrawn_however_it_is_spelled(tmp_path: Path) -> None:
    project = init_project(tmp_path / "q")
    consultation = generate(load_questionnaire(project.questionnaire_path), 30, seed=3, junk=0)
    code = next(r.referral_code for r in consultation.complete if r.referral_code)
    project = withdraw(project, f" {code[:3].lower()}-{code[3:]} ")
    path = writer("canonical")(consultation, project.root / "export.csv")
    result = ingest_file(project, path, accept_mapping=True)
    assert result.status == "ingested" and result.excluded == {"withdrawn": 1}
