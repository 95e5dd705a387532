"""Names and organisations too long for an e-mail header are refused where they enter."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from consult.cli.main import app
from consult.errors import ConsultError
from consult.project import load_project
from consult.sampling.nominations import add_nomination
from consult.sampling.setup import fielding_setup
from consult.store import fielding, open_store

runner = CliRunner()
LONG_NAME = "Ana" * 1000  # 3000 characters: the audit's name, refused by SMTP as "500 Line too long"
TOO_LONG = ("3000 characters long; shorten it to at most 200: mail servers refuse an e-mail "
            "whose header lines are that long")


def invoke(root: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--project", str(root), *args])
    return result.exit_code, result.stdout, result.stderr


def test_seeds_import_refuses_a_long_name_and_organisation(fielding_project: Path,
                                                           tmp_path: Path) -> None:
    seeds = tmp_path / "seeds.csv"
    seeds.write_text("name,email,organisation\n"
                     f"{LONG_NAME},ana@example.org,DEPEN\n"
                     f"Jean Roy,jean@example.org,{'X' * 201}\n"
                     f"Kofi Mensah,kofi@example.org,{'X' * 200}\n", encoding="utf-8")
    assert invoke(fielding_project, "seeds", "import", str(seeds)) == (1, "", (
        "Error: seeds.csv: no seeds imported\n"
        f"  error: seeds.csv (row 2, column name): {TOO_LONG}\n"
        "  error: seeds.csv (row 3, column organisation): 201 characters long; shorten it to "
        "at most 200: mail servers refuse an e-mail whose header lines are that long\n"))


def test_seeds_add_refuses_a_long_name(fielding_project: Path) -> None:
    assert invoke(fielding_project, "seeds", "add", "--name", LONG_NAME,
                  "--email", "ana@example.org") == (1, "", f"Error: name: {TOO_LONG}\n")
    name_of_200 = "A" * 200
    code, stdout, _ = invoke(fielding_project, "seeds", "add", "--name", name_of_200,
                             "--email", "ana@example.org")
    assert (code, stdout.startswith(f"Added seed {name_of_200} <ana@example.org>")) == (0, True)


def test_a_nomination_with_a_long_name_is_refused(fielding_project: Path) -> None:
    assert invoke(fielding_project, "seeds", "add", "--name", "Ana Lima",
                  "--email", "ana@example.org")[0] == 0
    project = load_project(explicit=fielding_project)
    with open_store(project.database_url) as store:
        ana = fielding.invitees(store)[0].code
        with pytest.raises(ConsultError) as caught:
            add_nomination(store, fielding_setup(project), ana, LONG_NAME, "max@example.org")
        assert str(caught.value) == f"name: {TOO_LONG}"
        assert fielding.nominations(store, None) == []
