"""The synthetic consultation generator: reproducible, realistic, and true to the questionnaire."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consult.cli.main import app
from consult.errors import ConsultError
from consult.questionnaire import ItemType, Questionnaire, load_questionnaire
from consult.resources import shipped_questionnaires
from consult.sampling.codes import is_valid
from consult.synth import Association, generate, write_canonical, write_truth
from consult.synth.generate import _tilt


@pytest.fixture(scope="module")
def r361() -> Questionnaire:
    return load_questionnaire(shipped_questionnaires()["r361"])


def test_same_seed_same_bytes_other_seed_other_bytes(r361: Questionnaire, tmp_path: Path) -> None:
    paths = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        paths.append(write_canonical(generate(r361, 40, seed=seed), tmp_path / f"{name}.csv"))
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()


def test_respondents_countries_waves_and_junk(r361: Questionnaire) -> None:
    c = generate(r361, 81, seed=2014, seeds=12, waves=3, junk=0.1)
    done = c.complete
    assert len(done) == 81
    assert len({r.country_iso3 for r in done}) == 15
    waves = Counter(r.wave for r in done)
    assert sorted(waves) == [0, 1, 2, 3] and waves[0] == 12
    kinds = Counter(r.kind for r in c.responses if r.kind != "complete")
    assert sum(kinds.values()) == 8
    assert set(kinds) == {"preview", "spam", "partial", "duplicate_id", "duplicate_code"}
    regions = Counter(r.region for r in done)
    # R-361's mix: North America and Oceania dominate, Europe and Asia follow.
    assert regions.most_common(2)[0][0] in {"North America", "Oceania"}
    assert set(regions) == {"North America", "Oceania", "Europe", "Asia"}


def test_referral_tree_is_consistent(r361: Questionnaire) -> None:
    c = generate(r361, 200, seed=1)
    by_code = {r.referral_code: r for r in c.complete}
    assert len(by_code) == 200
    for r in c.complete:
        assert is_valid(r.referral_code)
        if r.wave == 0:
            assert r.referred_by is None
        else:
            parent = by_code[r.referred_by or ""]
            assert parent.wave == r.wave - 1


def test_answers_respect_types_conditions_and_exclusive_choices(r361: Questionnaire) -> None:
    c = generate(r361, 300, seed=9)
    for r in c.complete:
        for item in r361.items():
            value = r.answers.get(item.id)
            if item.relevant is not None and not item.relevant.evaluate(r.answers):
                assert value is None, (item.id, r.answers)
            if value is None:
                assert not item.required or item.type is ItemType.FREE_TEXT
                continue
            if item.type is ItemType.MULTIPLE_CHOICE:
                assert isinstance(value, list) and set(value) <= set(item.choice_codes())
                exclusive = {ch.code for ch in item.choices or [] if ch.exclusive}
                if set(value) & exclusive:
                    assert len(value) == 1
            elif item.type in (ItemType.SINGLE_CHOICE, ItemType.LIKERT):
                assert value in item.choice_codes()
            elif item.type is ItemType.NUMBER:
                assert isinstance(value, int)
                assert item.min is not None and item.max is not None
                assert item.min <= value <= item.max


def test_free_text_has_several_themes_languages_and_nonanswers(r361: Questionnaire) -> None:
    c = generate(r361, 400, seed=3)
    themes = [r.themes["best_practice"] for r in c.complete if "best_practice" in r.themes]
    sizes = Counter(len(t) for t in themes)
    assert sizes[0] > 0 and sizes[1] > sizes[2] > sizes[3] > 0
    languages = Counter(lang for r in c.complete for lang in r.text_language.values())
    assert {"en", "fr", "es"} <= set(languages)
    cited = Counter(t for ts in themes for t in ts)
    assert cited.most_common(1)[0][0] == "staff_awareness_training"


def test_planted_association_and_independence(r361: Questionnaire) -> None:
    strength = 0.8
    c = generate(r361, 3000, seed=4, associations=[Association("int_same_procedures", "region",
                                                               strength)])
    item = r361.item("int_same_procedures")
    by_region: dict[str, Counter[str]] = {}
    for r in c.complete:
        if "int_same_procedures" in r.answers:
            by_region.setdefault(r.region, Counter())[str(r.answers["int_same_procedures"])] += 1
    for region, counts in by_region.items():
        if sum(counts.values()) < 200:
            continue
        tilted = _tilt({"yes": 1.0, "no": 1.0, "dont_know": 1.0}, item, region, 1.0)
        preferred = max(tilted, key=lambda code: tilted[code])
        assert counts[preferred] / sum(counts.values()) >= strength
    # An item with no planted association answers alike in every large region.
    shares = []
    for region in ("North America", "Oceania"):
        answers = [r.answers.get("train_received") for r in c.complete if r.region == region]
        shares.append(sum(a == "yes" for a in answers) / len(answers))
    assert abs(shares[0] - shares[1]) < 0.06


def test_association_errors(r361: Questionnaire) -> None:
    with pytest.raises(ConsultError, match="write ITEM:GROUP:STRENGTH"):
        Association.parse("int_same_procedures:region")
    with pytest.raises(ConsultError, match="only single_choice and likert"):
        generate(r361, 10, associations=[Association("acc_practice", "region", 0.5)])
    with pytest.raises(ConsultError, match="group 'planet' unknown"):
        generate(r361, 10, associations=[Association("int_same_procedures", "planet", 0.5)])


def test_canonical_csv_and_truth_files(r361: Questionnaire, tmp_path: Path) -> None:
    c = generate(r361, 30, seed=2)
    path = write_canonical(c, tmp_path / "r.csv")
    truth = write_truth(c, tmp_path / "r.truth.jsonl")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(c.responses)
    records = [json.loads(line) for line in truth.read_text(encoding="utf-8").splitlines()]
    assert [rec["response_id"] for rec in records] == [row["response_id"] for row in rows]
    first = next(r for r in c.complete if isinstance(r.answers.get("acc_factors"), list))
    row = next(row for row in rows if row["response_id"] == first.response_id)
    assert row["acc_factors"].split(" ") == first.answers["acc_factors"]
    assert row["country"] == first.country_iso3


def test_cli_synth_outside_a_project(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "x.csv"
    result = runner.invoke(app, ["synth", "-n", "20", "--seed", "3", "-o", str(out),
                                 "-q", str(shipped_questionnaires()["r361"])])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Synthetic consultation (r361 1.0, seed 3): 20 respondents from ")
    assert lines[-2:] == [f"Wrote {out}", f"  and {out.with_suffix('.truth.jsonl')}"]
    assert out.is_file()


def test_cli_synth_bad_association(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["synth", "--associate", "nonsense", "-o", str(tmp_path / "x.csv"),
                                      "-q", str(shipped_questionnaires()["r361"])])
    assert result.exit_code == 1
    assert result.stderr.strip() == ("Error: --associate 'nonsense': write ITEM:GROUP:STRENGTH, "
                                     "e.g. int_same_procedures:region:0.6")


def test_cli_synth_needs_a_project_or_a_questionnaire(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["synth"])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"Error: no consult.toml in {tmp_path.resolve()} or any folder above it; run the command "
        "inside a project, pass --project DIR, or create one with: consult init DIR"
    )
    assert "Example: consult synth" in CliRunner().invoke(app, ["synth", "--help"]).stdout
