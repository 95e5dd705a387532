"""results.json: schema, determinism, validation, and the analyze / results commands."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consult.analysis.run import analyze
from consult.cli.main import app
from consult.project import Project, init_project, parse_settings
from consult.questionnaire import Questionnaire, load_questionnaire
from consult.resources import shipped_questionnaires
from consult.results import (
    Results,
    read_results,
    results_bytes,
    schema,
    validate_results,
    validate_results_file,
    write_results,
)
from consult.results.schema import SCHEMA_PATH, schema_text
from consult.store import open_store
from consult.store.responses import IngestRecord, exclusion_counts, load_responses, write_ingest
from consult.synth import Association, generate
from consult.synth.generate import SynthConsultation
from consult.synth.records import synth_records

runner = CliRunner()
STAMP = re.compile(rb'"generated_at": "[^"]*"')


@pytest.fixture(scope="module")
def r361() -> Questionnaire:
    return load_questionnaire(shipped_questionnaires()["r361"])


@pytest.fixture(scope="module")
def consultation(r361: Questionnaire) -> SynthConsultation:
    return generate(r361, 120, seed=4, associations=[Association("int_same_procedures", "region",
                                                                 0.5)])


def store_into(url: str, consultation: SynthConsultation, *, reverse: bool = False) -> None:
    records = synth_records(consultation)
    with open_store(url) as store:
        if reverse:  # another ingest order: other row ids, the same data
            for index, record in enumerate(reversed(records)):
                write_ingest(store, IngestRecord("synth", "synth.csv", f"{index:064x}", 1), [record])
        else:
            write_ingest(store, IngestRecord("synth", "synth.csv", "0" * 64, len(records)), records)


def results_from(url: str, r361: Questionnaire) -> Results:
    with open_store(url) as store:
        respondents, answers = load_responses(store)
        exclusions = exclusion_counts(store)
    return analyze(respondents, answers, r361, parse_settings({"project": {"title": "t"}}),
                   exclusions)


@pytest.fixture(scope="module")
def results_file(r361: Questionnaire, consultation: SynthConsultation,
                 tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("results")
    url = f"sqlite:///{folder / 'consult.db'}"
    store_into(url, consultation)
    return write_results(results_from(url, r361), folder / "out" / "results.json")


# --------------------------------------------------------------------------- schema


def test_schema_file_matches_the_model() -> None:
    from jsonschema import Draft202012Validator

    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), (
        "consult/results/schema.json is stale: run python -m consult.results.schema")
    Draft202012Validator.check_schema(schema())
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema()["properties"]["schema_version"]["const"] == "1.0"


def test_a_real_results_file_is_valid_and_reads_back(results_file: Path) -> None:
    assert validate_results_file(results_file) == []
    results = read_results(results_file)
    assert results_bytes(results) == results_file.read_bytes()
    data = json.loads(results_file.read_text(encoding="utf-8"))
    assert data["chains"]["available"] is True  # synthetic responses carry referral codes
    assert data["themes"] == {} and data["best_practices"] == {}
    assert data["provenance"]["tool"] == "consult"
    assert "database" not in data["provenance"]["settings"]  # never a URL or a password
    assert re.fullmatch(r"[0-9a-f]{64}", data["provenance"]["data_sha256"])


def test_a_broken_file_is_rejected_with_json_paths(results_file: Path) -> None:
    data = json.loads(results_file.read_text(encoding="utf-8"))
    del data["provenance"]["data_sha256"]
    data["items"][1]["overall"]["n_applied"] = "many"
    data["items"][3]["by"]["region"]["cells"][0]["display"] = None
    data["schema_version"] = "2.0"
    messages = [f"{issue.where}: {issue.message}" for issue in validate_results(data)]
    assert messages == [
        "$.items[1].overall.n_applied: 'many' is not of type 'integer'",
        "$.items[3].by.region.cells[0].display: None is not of type 'string'",
        "$.provenance: 'data_sha256' is a required property",
        "$.schema_version: '1.0' was expected",
    ]


# --------------------------------------------------------------------------- determinism


def test_same_data_same_bytes_apart_from_the_time(r361: Questionnaire,
                                                  consultation: SynthConsultation,
                                                  tmp_path: Path) -> None:
    first, second = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    store_into(first, consultation)
    store_into(second, consultation, reverse=True)
    a, b, again = results_from(first, r361), results_from(second, r361), results_from(first, r361)
    assert a.provenance.data_sha256 == b.provenance.data_sha256
    bytes_a = STAMP.sub(b"", results_bytes(a))
    assert bytes_a == STAMP.sub(b"", results_bytes(b)) == STAMP.sub(b"", results_bytes(again))
    assert b'"generated_at"' not in bytes_a
    # Another setting gives other numbers.
    truncated = analyze(*load(first), r361,
                        parse_settings({"project": {"title": "t"}, "analysis": {"percent": "truncate"}}))
    assert STAMP.sub(b"", results_bytes(truncated)) != bytes_a


def load(url: str) -> tuple[object, object]:
    with open_store(url) as store:
        return load_responses(store)


def test_data_hash_is_the_same_on_every_backend(db_url: str, r361: Questionnaire,
                                                consultation: SynthConsultation,
                                                tmp_path: Path) -> None:
    reference = f"sqlite:///{tmp_path / 'reference.db'}"
    store_into(reference, consultation)
    store_into(db_url, consultation, reverse=True)
    with open_store(reference) as one, open_store(db_url) as other:
        from consult.analysis.data import data_sha256

        assert data_sha256(*load_responses(one)) == data_sha256(*load_responses(other))


def test_writing_is_atomic_and_leaves_nothing_behind(results_file: Path, tmp_path: Path) -> None:
    results = read_results(results_file)
    target = tmp_path / "out" / "results.json"
    write_results(results, target)
    target.write_text("old", encoding="utf-8")
    write_results(results, target)
    assert [p.name for p in target.parent.iterdir()] == ["results.json"]
    assert target.read_bytes() == results_file.read_bytes()


# --------------------------------------------------------------------------- commands


@pytest.fixture
def project(tmp_path: Path, consultation: SynthConsultation) -> Project:
    project = init_project(tmp_path / "demo")
    store_into(project.database_url, consultation)
    return project


def test_analyze_writes_results_and_a_summary(project: Project) -> None:
    result = runner.invoke(app, ["--project", str(project.root), "analyze"])
    assert result.exit_code == 0, result.output
    path = project.root / "out" / "results.json"
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Analysed 120 respondents from 15 countries (r361 1.0), submitted ")
    assert lines[-1] == f"Wrote {path}"
    assert validate_results_file(path) == []
    assert read_results(path).sample.n_included == 120


def test_analyze_without_responses_says_what_to_do(tmp_path: Path) -> None:
    project = init_project(tmp_path / "empty")
    result = runner.invoke(app, ["--project", str(project.root), "analyze"])
    assert result.exit_code == 1
    assert result.stderr == ("Error: no included responses in empty's database: import responses "
                             "first (consult ingest FILE), then run consult analyze\n")


def test_analyze_rejects_an_unknown_grouping(project: Project) -> None:
    settings = project.root / "consult.toml"
    settings.write_text(settings.read_text(encoding="utf-8").replace(
        'groupings = ["region", "role"]', 'groupings = ["region", "wave"]'), encoding="utf-8")
    result = runner.invoke(app, ["--project", str(project.root), "analyze"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {settings}: [analysis] groupings: 'wave' is not a single-choice profile item of "
        'the questionnaire; write groupings = ["region"] (this questionnaire can group by: '
        "region, country, role, responsibility; [] gives overall tables only)\n")


@pytest.mark.parametrize("command", [["analyze"], ["results", "show"], ["results", "validate"]])
def test_help_has_an_example(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example: consult " in result.stdout


def test_results_show_sections_and_items(project: Project) -> None:
    assert runner.invoke(app, ["--project", str(project.root), "analyze"]).exit_code == 0
    base = ["--project", str(project.root), "results", "show"]
    sample = runner.invoke(app, [*base, "sample"])
    assert sample.exit_code == 0 and "120 respondents from 15 countries" in sample.stdout
    item = runner.invoke(app, [*base, "int_same_procedures"])
    assert item.exit_code == 0 and "By region" in item.stdout and "chi2" in item.stdout
    empty = runner.invoke(app, [*base, "themes"])
    assert empty.stdout == "themes: empty (filled by a later version of consult)\n"
    bad = runner.invoke(app, [*base, "nonsense"])
    assert bad.exit_code == 1
    assert bad.stderr == (f"Error: no section 'nonsense' in {project.root / 'out' / 'results.json'}; "
                          "use one of provenance, sample, items, chains, themes, best_practices "
                          "or an item id (role, responsibility, experience_years, ...)\n")


def test_results_show_without_results(project: Project) -> None:
    result = runner.invoke(app, ["--project", str(project.root), "results", "show"])
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {project.root / 'out' / 'results.json'}: no such file; write "
                             "it with: consult analyze\n")


def test_results_validate_command(results_file: Path, tmp_path: Path) -> None:
    good = runner.invoke(app, ["results", "validate", str(results_file)])
    assert good.exit_code == 0
    assert good.stdout == f"{results_file}: valid (results schema 1.0)\n"
    data = json.loads(results_file.read_text(encoding="utf-8"))
    del data["sample"]["n_included"]
    data["provenance"]["tool"] = "other"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data), encoding="utf-8")
    bad = runner.invoke(app, ["results", "validate", str(broken)])
    assert bad.exit_code == 1
    assert bad.stderr == (f"Error: {broken} does not match the results schema 1.0\n"
                          "  error: $.provenance.tool: 'consult' was expected\n"
                          "  error: $.sample: 'n_included' is a required property\n")
    not_json = tmp_path / "not.json"
    not_json.write_text("{", encoding="utf-8")
    worse = runner.invoke(app, ["results", "validate", str(not_json)])
    assert worse.exit_code == 1
    assert worse.stderr == (f"Error: {not_json}: not JSON (line 1, column 2: Expecting property "
                            "name enclosed in double quotes)\n")
