"""The public proctoring benchmark: a real Qualtrics study, imported and ingested as a user would."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consult.cli.main import app
from consult.project import load_project
from consult.store import open_store
from consult.store.responses import load_responses

BENCH = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "proctoring-educators"
pytestmark = pytest.mark.skipif(not BENCH.is_dir(),
                                reason=f"benchmark data not found at {BENCH}")
runner = CliRunner()


def counted_from_csv(column: str) -> tuple[int, Counter[str]]:
    """Rows and the values of ``column``, read with the csv module alone (two header rows)."""
    with (BENCH / "responses_qualtrics.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    index = rows[0].index(column)
    data = rows[2:]
    return len(data), Counter(row[index] for row in data if row[index])


def test_qsf_import_then_ingest_stores_every_response_and_q6_counts(tmp_path: Path) -> None:
    yaml_path = tmp_path / "proctoring.yaml"
    result = runner.invoke(app, ["questionnaire", "import", str(BENCH / "survey.qsf"),
                                 "-o", str(yaml_path)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["init", str(tmp_path / "p"), "-q", str(yaml_path)])
    assert result.exit_code == 0, result.output
    project_dir = tmp_path / "p"
    args = ["--project", str(project_dir), "ingest", str(BENCH / "responses_qualtrics.csv")]
    # Every question matches, the matrices' statements (Q4_1..Q4_8, Q33_*, Q34_*) too:
    # the draft needs no review.
    result = runner.invoke(app, [*args, "--accept-mapping"])
    assert result.exit_code == 0, result.stdout + result.stderr
    project = load_project(explicit=project_dir)
    with open_store(project.database_url) as store:
        respondents, answers = load_responses(store, included_only=False)
    rows, expected = counted_from_csv("Q6")
    # The public export holds 125 responses (its README says 124): Yes 26, No 98,
    # I'm Unsure 1. The paper reports n = 26 (21%) of 125 using tools.
    assert len(respondents) == rows == 125
    assert respondents["included"].all()
    q6 = answers[answers["item_id"] == "q6"]
    labels = {c.code: c.label["en"] for c in _item(project_dir, "q6").choices or []}
    counts = Counter(labels[v] for v in q6["value"])
    assert counts == expected
    assert abs(counts["Yes"] - 26) <= 1
    # A matrix statement: the paper's "aware of Respondus n = 56".
    rows, expected = counted_from_csv("Q4_7")
    q4_7 = answers[answers["item_id"] == "q4_7"]
    labels = {c.code: c.label["en"] for c in _item(project_dir, "q4_7").choices or []}
    assert Counter(labels[v] for v in q4_7["value"]) == expected
    assert expected["Aware"] == 56
    for matrix in ("q33", "q34"):
        assert answers["item_id"].str.startswith(matrix + "_").any(), matrix


def _item(project_dir: Path, item_id: str):  # type: ignore[no-untyped-def]
    from consult.questionnaire import load_questionnaire

    return load_questionnaire(project_dir / "questionnaire.yaml").item(item_id)
