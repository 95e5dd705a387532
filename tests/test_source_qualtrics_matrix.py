"""A Qualtrics matrix (Q4_1, Q4_2...) goes to the items a QSF import makes of it (q4_1, q4_2...)."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import yaml
from typer.testing import CliRunner

from consult.cli.main import app
from consult.project import load_project
from consult.store import open_store
from consult.store.responses import load_responses

runner = CliRunner()
SCALE = [{"code": "1", "label": {"en": "Aware"}}, {"code": "2", "label": {"en": "Unaware"}},
         {"code": "3", "label": {"en": "I'm Unsure"}}]
TOOLS = ["Examity", "Honorlock", "Respondus"]


def questionnaire(path: Path) -> Path:
    """What ``consult questionnaire import`` makes of a matrix and a single choice."""
    items = [{"id": f"q4_{n}", "type": "likert", "label": {"en": f"Awareness of tools — {tool}"},
              "choices": SCALE} for n, tool in enumerate(TOOLS, start=1)]
    items.append({"id": "q6", "type": "single_choice",
                  "label": {"en": "Did you use an online proctoring tool?"},
                  "choices": [{"code": "1", "label": {"en": "Yes"}},
                              {"code": "2", "label": {"en": "No"}}]})
    path.write_text(yaml.safe_dump({
        "id": "proctoring", "version": "1.0", "title": {"en": "Proctoring"}, "languages": ["en"],
        "domains": [{"id": "d", "title": {"en": "Tools"}, "items": items}]}), encoding="utf-8")
    return path


def export(path: Path) -> tuple[Path, list[list[str]]]:
    header = ["StartDate", "EndDate", "Status", "Progress", "Finished", "ResponseId",
              *[f"Q4_{n}" for n in range(1, 4)], "Q6"]
    texts = ["Start Date", "End Date", "Response Type", "Progress", "Finished", "Response ID",
             *[f"Awareness of tools - {tool}" for tool in TOOLS],
             "Did you use an online proctoring tool?"]
    ids = [{"ImportId": "startDate"}, {"ImportId": "endDate"}, {"ImportId": "status"},
           {"ImportId": "progress"}, {"ImportId": "finished"}, {"ImportId": "_recordId"},
           *[{"ImportId": f"QID4_{n}"} for n in range(1, 4)], {"ImportId": "QID6"}]
    answers = [["Aware", "Unaware", "Aware", "Yes"], ["Unaware", "Unaware", "Aware", "No"],
               ["I'm Unsure", "Aware", "", "No"], ["Aware", "Aware", "Aware", "Yes"]]
    rows = [header, texts, [json.dumps(i) for i in ids]]
    rows += [["2021-05-01 10:00:00", "2021-05-01 10:10:00", "IP Address", "100", "True",
              f"R_{n}", *cells] for n, cells in enumerate(answers)]
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path, answers


def test_matrix_statements_map_to_their_items_without_review(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", str(tmp_path / "p"), "-q",
                                 str(questionnaire(tmp_path / "q.yaml"))])
    assert result.exit_code == 0, result.output
    path, answers = export(tmp_path / "responses.csv")
    result = runner.invoke(app, ["--project", str(tmp_path / "p"), "ingest", str(path),
                                 "--accept-mapping"])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "0 warnings" in result.stdout
    project = load_project(explicit=tmp_path / "p")
    with open_store(project.database_url) as store:
        _, stored = load_responses(store)
    labels = {c["code"]: c["label"]["en"] for c in SCALE}
    for n in range(1, 4):
        values = stored[stored["item_id"] == f"q4_{n}"]["value"]
        assert Counter(labels[v] for v in values) == Counter(
            row[n - 1] for row in answers if row[n - 1])
    mapping = yaml.safe_load((tmp_path / "p" / "mapping" / "qualtrics.yaml").read_text())
    assert {k: (e["item"], e["columns"]) for k, e in mapping["questions"].items()} == {
        "Q4_1": ("q4_1", ["Q4_1"]), "Q4_2": ("q4_2", ["Q4_2"]), "Q4_3": ("q4_3", ["Q4_3"]),
        "Q6": ("q6", ["Q6"])}
