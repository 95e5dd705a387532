"""Dates written without a time zone are read in [ingest] timezone (UTC by default)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from consult.cli.main import app
from consult.project import init_project
from consult.store import open_store
from consult.store.responses import load_responses

runner = CliRunner()


def ingest_legacy(root: Path, zone: str | None) -> tuple[dict[str, datetime], dict[str, str]]:
    """A Qualtrics export without its ImportId row, ingested: stored and written end dates."""
    project = init_project(root)
    if zone is not None:
        path = project.root / "consult.toml"
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("[ingest]\n", f'[ingest]\ntimezone = "{zone}"\n', 1),
                        encoding="utf-8")
    export = root / "legacy.csv"
    base = ["--project", str(root)]
    assert runner.invoke(app, [*base, "synth", "-n", "12", "--seed", "4", "--format",
                               "qualtrics-legacy", "-o", str(export)]).exit_code == 0
    result = runner.invoke(app, [*base, "ingest", str(export), "--accept-mapping"])
    assert result.exit_code == 0, result.output
    with export.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    written = {r[header.index("ResponseId")]: r[header.index("EndDate")] for r in rows[2:]}
    with open_store(f"sqlite:///{root / 'consult.db'}") as store:
        respondents, _ = load_responses(store)
    stored = {str(s): t.to_pydatetime() for s, t in zip(respondents["source_id"],
                                                         respondents["submitted_at"], strict=True)}
    return stored, written


@pytest.mark.parametrize("zone", [None, "America/Toronto"])
def test_dates_without_a_zone_are_read_in_the_projects_time_zone(tmp_path: Path,
                                                                 zone: str | None) -> None:
    stored, written = ingest_legacy(tmp_path / "p", zone)
    assert stored
    local = ZoneInfo(zone or "UTC")
    for response, moment in stored.items():
        naive = datetime.strptime(written[response], "%m/%d/%y %H:%M")  # as Qualtrics writes
        assert moment.astimezone(UTC) == naive.replace(tzinfo=local).astimezone(UTC)


def test_an_unknown_time_zone_names_the_setting(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p")
    path = project.root / "consult.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "[ingest]\n", '[ingest]\ntimezone = "Mars/Olympus"\n', 1), encoding="utf-8")
    result = runner.invoke(app, ["--project", str(project.root), "db", "info"])
    assert result.exit_code == 1
    assert "[ingest] timezone" in result.stderr and "Mars/Olympus" in result.stderr
