"""CSV files for the coordinator: a name a spreadsheet would run as a formula is written as text."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consult.cli.main import app
from consult.csvcells import safe_cell
from consult.project import load_project
from consult.sampling.nominations import add_nomination, approve_nomination
from consult.sampling.setup import fielding_setup
from consult.store import fielding, open_store

runner = CliRunner()
HYPERLINK = '=HYPERLINK("http://evil.example.org","x")'


@pytest.mark.parametrize(("value", "written"), [
    (HYPERLINK, "'" + HYPERLINK),
    ("+1 555 0100", "'+1 555 0100"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("Ana Lima", "Ana Lima"),
    ("Ana = Lima", "Ana = Lima"),
    ("", ""),
])
def test_a_cell_a_spreadsheet_would_run_gets_an_apostrophe(value: str, written: str) -> None:
    assert safe_cell(value) == written


def test_links_csv_writes_seed_and_nominee_names_as_text(fielding_project: Path,
                                                         tmp_path: Path) -> None:
    base = ["--project", str(fielding_project)]
    added = runner.invoke(app, [*base, "seeds", "add", "--name", HYPERLINK,
                                "--email", "ana@example.org"])
    assert added.exit_code == 0, added.output
    project = load_project(explicit=fielding_project)
    with open_store(project.database_url) as store:
        seed = fielding.invitees(store)[0]
        nomination = add_nomination(store, fielding_setup(project), seed.code, "@SUM(1+1)",
                                    "max@example.org")
        approve_nomination(store, fielding_setup(project), nomination.id)
    target = tmp_path / "links.csv"

    result = runner.invoke(app, [*base, "links", "-o", str(target)])

    assert result.exit_code == 0, result.output
    with target.open(encoding="utf-8", newline="") as stream:
        names = sorted(row["name"] for row in csv.DictReader(stream))
    assert names == ["'" + HYPERLINK, "'@SUM(1+1)"]
    printed = runner.invoke(app, [*base, "links"])
    assert '"\'=HYPERLINK(""http://evil.example.org"",""x"")"' in printed.stdout
