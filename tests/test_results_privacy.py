"""results.json carries no identifier of a person: not ids, codes, names or addresses."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from consult.cli.main import app
from consult.project import init_project
from consult.questionnaire import load_questionnaire
from consult.synth import generate
from consult.synth.exports import writer

runner = CliRunner()


def test_results_hold_no_response_ids_codes_or_withdrawn_ids(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p")
    consultation = generate(load_questionnaire(project.questionnaire_path), 60, seed=5)
    withdrawn = consultation.complete[0].response_id
    settings = project.root / "consult.toml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(text.replace("min_progress = 100",
                                     f'min_progress = 100\nwithdrawn = ["{withdrawn}"]'),
                        encoding="utf-8")
    export = writer("canonical")(consultation, project.root / "export.csv")
    base = ["--project", str(project.root)]
    assert runner.invoke(app, [*base, "ingest", str(export), "--accept-mapping"]).exit_code == 0
    result = runner.invoke(app, [*base, "analyze"])
    assert result.exit_code == 0, result.output
    published = (project.root / "out" / "results.json").read_text(encoding="utf-8")
    assert '"withdrawn": 1' in published
    for response in consultation.responses:
        assert response.response_id not in published
        assert response.referral_code not in published
