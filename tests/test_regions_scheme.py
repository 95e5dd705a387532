"""``[regions] scheme``: checked by every command, applied by analysis (audit finding 7).

The store keeps each respondent's ISO country code; analysis derives the
regions from it under the scheme consult.toml names now, so results.json's
provenance tells the truth about the regions it holds.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consult.cli.main import app
from consult.regions import R361_REGIONS

runner = CliRunner()


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An R-361 project holding 40 synthetic respondents, ingested under the r361 scheme."""
    root = tmp_path_factory.mktemp("regions") / "project"
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0
    csv = root / "synthetic" / "responses.csv"
    for command in (["synth", "-n", "40", "--junk", "0", "-o", str(csv)],
                    ["ingest", str(csv), "--accept-mapping"]):
        result = runner.invoke(app, ["--project", str(root), *command])
        assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def project(ingested: Path, tmp_path: Path) -> Path:
    """A private copy of the ingested project, free to change."""
    return Path(shutil.copytree(ingested, tmp_path / "project"))


def set_scheme(project: Path, scheme: str) -> Path:
    settings = project / "consult.toml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(text.replace('scheme = "r361"', f"scheme = {json.dumps(scheme)}"),
                        encoding="utf-8")
    return settings


def analysed(project: Path) -> dict:
    result = runner.invoke(app, ["--project", str(project), "analyze"])
    assert result.exit_code == 0, result.output
    return json.loads((project / "out" / "results.json").read_text(encoding="utf-8"))


def test_analysis_applies_the_current_scheme_to_stored_countries(project: Path) -> None:
    before = analysed(project)
    assert {row["key"] for row in before["sample"]["by_region"]} <= set(R361_REGIONS)
    set_scheme(project, "un")
    after = analysed(project)
    assert after["provenance"]["settings"]["regions"] == {"scheme": "un"}
    un_regions = {row["key"] for row in after["sample"]["by_region"]}
    assert "Northern America" in un_regions
    assert not un_regions & set(R361_REGIONS)
    crossed = {group["key"] for item in after["items"] if "region" in item["by"]
               for group in item["by"]["region"]["groups"]}
    assert crossed and not crossed & set(R361_REGIONS)
    # The same respondents, regrouped: the fingerprint says the analysed data changed.
    assert after["sample"]["n_included"] == before["sample"]["n_included"] == 40
    assert after["provenance"]["data_sha256"] != before["provenance"]["data_sha256"]


def test_a_scheme_file_regroups_countries_without_a_new_ingest(project: Path) -> None:
    (project / "regions.yaml").write_text("regions: {CAN: Canada}\ndefault: Elsewhere\n",
                                          encoding="utf-8")
    set_scheme(project, "regions.yaml")
    regions = {row["key"] for row in analysed(project)["sample"]["by_region"]}
    assert regions <= {"Canada", "Elsewhere"} and "Elsewhere" in regions


@pytest.mark.parametrize("command", [["db", "info"], ["analyze"], ["report"]], ids=" ".join)
def test_an_unknown_scheme_stops_every_command(project: Path, command: list[str]) -> None:
    settings = set_scheme(project, "r362")
    result = runner.invoke(app, ["--project", str(project), *command])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {settings.resolve()}: [regions] scheme = 'r362': use 'r361', 'un' or the path "
        "of a YAML file mapping ISO3 codes to regions\n")
