"""Re-running analysis keeps the themes of the same data and drops those of other data."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from consult.cli.main import app
from consult.project import init_project
from consult.questionnaire import load_questionnaire
from consult.results import read_results, write_results
from consult.synth import generate
from consult.synth.exports import writer

runner = CliRunner()


def test_analyze_keeps_themes_only_while_the_data_is_the_same(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p")
    base = ["--project", str(project.root)]
    questionnaire = load_questionnaire(project.questionnaire_path)
    first = writer("canonical")(generate(questionnaire, 40, seed=1), tmp_path / "a.csv")
    assert runner.invoke(app, [*base, "ingest", str(first), "--accept-mapping"]).exit_code == 0
    assert runner.invoke(app, [*base, "analyze"]).exit_code == 0
    path = project.out_dir / "results.json"
    marked = {"best_practice": {"marker": "fitted earlier"}}
    write_results(read_results(path).model_copy(update={"themes": marked}), path)

    assert runner.invoke(app, [*base, "analyze"]).exit_code == 0
    assert read_results(path).themes == marked

    second = writer("canonical")(generate(questionnaire, 10, seed=2), tmp_path / "b.csv")
    assert runner.invoke(app, [*base, "ingest", str(second)]).exit_code == 0
    assert runner.invoke(app, [*base, "analyze"]).exit_code == 0
    assert read_results(path).themes == {}
