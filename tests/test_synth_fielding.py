"""A rehearsed snowball fielding: seeds, waves and responses that carry the issued codes."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from consult.cli.main import app
from consult.project import init_project
from consult.store import open_store
from consult.store.fielding import code_parents
from consult.store.responses import load_responses

runner = CliRunner()


def run(project: Path, *args: str) -> str:
    result = runner.invoke(app, ["--project", str(project), *args])
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout


def test_three_waves_answer_with_the_codes_the_fielding_issued(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p")
    root = project.root
    seeds = root / "synthetic" / "seeds.csv"
    run(root, "synth", "--seed-contacts", "6", "-o", str(seeds))
    with seeds.open(encoding="utf-8", newline="") as handle:
        contacts = list(csv.DictReader(handle))
    assert len(contacts) == 6 and all(c["email"].endswith("@example.org") for c in contacts)
    run(root, "seeds", "import", str(seeds))
    run(root, "wave", "open", "0")
    for wave in (0, 1, 2):
        export = root / "synthetic" / f"wave{wave}.csv"
        run(root, "synth", "--respond-wave", str(wave), "--rate", "0.9", "--format", "qualtrics",
            "-o", str(export))
        run(root, "ingest", str(export), "--accept-mapping", "--mapping", "qualtrics")
        if wave < 2:
            run(root, "wave", "open", str(wave + 1))
    with open_store(project.database_url) as store:
        respondents, _ = load_responses(store)
        parents = code_parents(store)
    # Every respondent answered with an issued code, and its wave is its depth in the tree.
    assert set(respondents["referral_code"]) <= set(parents)
    depths = {code: _depth(parents, code) for code in respondents["referral_code"]}
    assert set(depths.values()) == {0, 1, 2}


def test_respond_wave_needs_an_open_wave(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p")
    result = runner.invoke(app, ["--project", str(project.root), "synth", "--respond-wave", "0"])
    assert result.exit_code == 1
    assert result.stderr.strip() == ("Error: --respond-wave 0: no code of wave 0 is waiting for "
                                     "an answer; open the wave first (consult wave open 0)")


def _depth(parents: dict[str, str | None], code: str) -> int:
    depth, current = 0, parents[code]
    while current is not None:
        depth, current = depth + 1, parents[current]
    return depth
