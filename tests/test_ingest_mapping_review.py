"""A mapping is reviewed before it is used and read strictly: a typo in it is an error naming
the entry, and no question is left out without a word."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from consult.cli.main import app
from consult.project import Project, init_project
from consult.questionnaire import load_questionnaire
from consult.store import open_store
from consult.store.responses import load_responses
from consult.synth import SynthConsultation, generate
from consult.synth.exports import writer

runner = CliRunner()


@pytest.fixture(scope="module")
def consultation() -> SynthConsultation:
    from consult.resources import shipped_questionnaires

    return generate(load_questionnaire(shipped_questionnaires()["r361"]), 20, seed=5)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return init_project(tmp_path / "p")


def ingest(project: Project, path: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--project", str(project.root), "ingest", str(path), *args])
    return result.exit_code, result.stdout, result.stderr


def accepted(project: Project, consultation: SynthConsultation) -> tuple[Path, Path]:
    """A Qualtrics export and its mapping, drafted and accepted; nothing stored yet."""
    path = writer("qualtrics")(consultation, project.root / "export.csv")
    other = init_project(project.root.parent / "draft")
    code, stdout, stderr = ingest(other, path, "--accept-mapping")
    assert code == 0, stdout + stderr
    mapping = project.root / "mapping" / "qualtrics.yaml"
    mapping.parent.mkdir(exist_ok=True)
    mapping.write_text((other.root / "mapping" / "qualtrics.yaml").read_text(encoding="utf-8"),
                       encoding="utf-8")
    return path, mapping


def edit(mapping: Path, change: object) -> None:
    data = yaml.safe_load(mapping.read_text(encoding="utf-8"))
    change(data)  # type: ignore[operator]
    mapping.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def key_of(mapping: Path, item: str) -> str:
    data = yaml.safe_load(mapping.read_text(encoding="utf-8"))
    return next(k for k, e in data["questions"].items() if e["item"] == item)


def stored_rows(project: Project) -> int:
    with open_store(project.database_url) as store:
        return store.counts()["respondents"]


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_an_unknown_key_in_an_entry_is_an_error_with_a_suggestion(
        project: Project, consultation: SynthConsultation) -> None:
    path, mapping = accepted(project, consultation)
    role = key_of(mapping, "role")
    edit(mapping, lambda d: d["questions"][role].update(itme=d["questions"][role].pop("item")))
    code, _, stderr = ingest(project, path)
    assert code == 1
    assert f"{mapping} (questions.{role}.itme): unknown key 'itme'. Did you mean item?" in \
        one_line(stderr)
    assert "nothing was ingested" in stderr and "Traceback" not in stderr
    assert stored_rows(project) == 0


def test_a_column_the_file_lacks_is_an_error_naming_the_entry(
        project: Project, consultation: SynthConsultation) -> None:
    path, mapping = accepted(project, consultation)
    country = key_of(mapping, "country")
    column = yaml.safe_load(mapping.read_text(encoding="utf-8"))["questions"][country]["columns"][0]
    edit(mapping, lambda d: d["questions"][country].update(columns=[column + "x"]))
    code, _, stderr = ingest(project, path)
    assert code == 1
    assert (f"{mapping} (questions.{country}.columns): column '{column}x' is not in export.csv. "
            f"Did you mean {column}") in one_line(stderr)
    assert stored_rows(project) == 0


def test_a_recode_to_a_code_that_does_not_exist_is_an_error(
        project: Project, consultation: SynthConsultation) -> None:
    path, mapping = accepted(project, consultation)
    edit(mapping, lambda d: d.update(values={
        "role": {"Custodial (institutional)": "custodail"}, "country": {"Narnia": "Narnia"},
        "experience_years": {"many": "30"}}))
    code, _, stderr = ingest(project, path)
    assert code == 1
    text = one_line(stderr)
    assert (f"{mapping} (values.role.Custodial (institutional)): 'custodail' is not a choice of "
            "role. Did you mean custodial?") in text
    assert "(values.country.Narnia): 'Narnia' is not an ISO 3166 alpha-3 country code" in text
    assert ("(values.experience_years.many): experience_years is a number item: values recode "
            "only choice and country items") in text
    assert stored_rows(project) == 0


def test_a_valid_recode_and_a_valid_country_code_are_taken(
        project: Project, consultation: SynthConsultation) -> None:
    path, mapping = accepted(project, consultation)
    edit(mapping, lambda d: d.update(values={"role": {"Institution": "custodial"},
                                             "country": {"Narnia": "GBR"}}))
    code, stdout, stderr = ingest(project, path)
    assert code == 0, stdout + stderr
    assert stored_rows(project) > 0


def test_a_yaml_syntax_error_is_one_line_with_its_line(
        project: Project, consultation: SynthConsultation) -> None:
    path, mapping = accepted(project, consultation)
    mapping.write_text(mapping.read_text(encoding="utf-8") + "values: {role: [\n",
                       encoding="utf-8")
    code, _, stderr = ingest(project, path)
    assert code == 1
    assert re.match(rf"Error: {re.escape(str(mapping))}, line \d+: the mapping is not valid YAML",
                    stderr.replace("\n", ""))


def with_extra_question(path: Path, target: Path) -> Path:
    """A canonical export with a question the questionnaire does not have, answered by all."""
    rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
    rows[0].append("favourite_colour")
    for row in rows[1:]:
        row.append("blue")
    with target.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return target


def test_a_draft_with_an_unmatched_question_stops_until_it_is_reviewed(
        project: Project, consultation: SynthConsultation) -> None:
    path = with_extra_question(writer("canonical")(consultation, project.root / "c.csv"),
                               project.root / "export.csv")
    code, stdout, _ = ingest(project, path)
    assert code == 3 and stdout.startswith("Drafted mapping/table.yaml")
    assert "unmatched  favourite_colour" in stdout
    mapping = project.root / "mapping" / "table.yaml"
    assert "reviewed: false" in mapping.read_text(encoding="utf-8")
    # Running again without reviewing does not drop the question silently: it stops again.
    code, stdout, _ = ingest(project, path)
    assert code == 3
    assert stdout.startswith("Still a draft (reviewed: false): mapping/table.yaml for export.csv")
    assert "then set reviewed: true in it" in one_line(stdout)
    assert stored_rows(project) == 0
    code, stdout, _ = ingest(project, path, "--accept-mapping")  # not all confident: refused
    assert code == 3 and stored_rows(project) == 0
    # Reviewed (the question left unmatched on purpose): stored, the question listed as info.
    mapping.write_text(mapping.read_text(encoding="utf-8").replace("reviewed: false",
                                                                   "reviewed: true"),
                       encoding="utf-8")
    code, report = ingest_json(project, path)
    assert code == 0 and report["status"] == "ingested"
    ignored = [i for i in report["issues"] if i["code"] == "ignored-question"]
    assert [(i["severity"], i["column"], i["message"]) for i in ignored] == [
        ("info", "favourite_colour", "question favourite_colour is mapped to no item "
         f"(item: null); its {len(consultation.responses)} answers are not stored")]


def test_a_question_in_no_entry_of_the_mapping_is_a_warning(
        project: Project, consultation: SynthConsultation) -> None:
    plain = writer("canonical")(consultation, project.root / "c.csv")
    assert ingest(project, plain, "--accept-mapping")[0] == 0
    path = with_extra_question(plain, project.root / "later.csv")
    code, report = ingest_json(project, path)
    assert code == 0
    warned = [i for i in report["issues"] if i["code"] == "unmapped-question"]
    assert len(warned) == 1 and warned[0]["severity"] == "warning"
    assert warned[0]["message"].startswith("question favourite_colour (favourite_colour) is in "
                                           "no entry of mapping/table.yaml; its ")
    assert "favourite_colour: {item: ITEM, columns: [favourite_colour]}" in warned[0]["hint"]


def test_a_file_ingested_with_a_wrong_mapping_is_ingested_again_with_replace(
        project: Project, consultation: SynthConsultation) -> None:
    path, mapping = accepted(project, consultation)
    role = key_of(mapping, "role")
    edit(mapping, lambda d: d["questions"][role].update(item=None))  # a reviewer's mistake
    assert ingest(project, path)[0] == 0
    assert stored_values(project, "role") == 0
    edit(mapping, lambda d: d["questions"][role].update(item="role"))
    code, stdout, _ = ingest(project, path)
    assert code == 0 and f"run: consult ingest {path} --replace" in one_line(stdout)
    assert stored_values(project, "role") == 0
    with open_store(project.database_url) as store:
        respondents = store.counts()["respondents"]
    code, stdout, stderr = ingest(project, path, "--replace")
    assert code == 0, stdout + stderr
    assert stored_values(project, "role") > 0
    assert f"{stored_values(project, 'role')} replaced" in one_line(stdout)
    with open_store(project.database_url) as store:
        assert store.counts()["respondents"] == respondents


def ingest_json(project: Project, path: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, ["--project", str(project.root), "ingest", str(path), "--json",
                                 *args])
    return result.exit_code, json.loads(result.stdout)


def stored_values(project: Project, item: str) -> int:
    with open_store(project.database_url) as store:
        _, answers = load_responses(store, included_only=False)
    return int((answers["item_id"] == item).sum())


def test_an_export_of_another_survey_is_refused_even_with_a_mapping(
        project: Project, consultation: SynthConsultation) -> None:
    path, mapping = accepted(project, consultation)
    # Another survey on the same platform: the same generic keys (Q1, Q2...), other
    # questions, other answers.
    rows = list(csv.reader(path.open(encoding="utf-8-sig", newline="")))
    keys = set(yaml.safe_load(mapping.read_text(encoding="utf-8"))["questions"])
    asked = [i for i, name in enumerate(rows[0]) if name.split("_")[0] in keys]
    for i in asked:
        rows[1][i] = f"How often do you use online proctoring tool number {i}?"
        for row in rows[3:]:
            row[i] = "Python Programming" if row[i] else ""
    other = project.root / "other.csv"
    with other.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    code, stdout, stderr = ingest(project, other)
    assert code == 1
    text = one_line(stderr)
    assert text.startswith(f"Error: {other}: only 0 of ")
    assert "questions agree with mapping/qualtrics.yaml and " in text
    assert "this looks like an export of another survey" in text
    assert "Recode" not in stdout + stderr
    assert stored_rows(project) == 0
