"""Agreement metrics against values computed by hand, and redaction of quotes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from consult.analysis.text.agreement import Match, agreement
from consult.analysis.text.redact import redact
from consult.cli.main import app

runner = CliRunner()


def test_agreement_matches_hand_computation() -> None:
    gold = {"a": ["X"], "b": ["X", "Y"], "c": ["Y"], "d": ["Y"], "e": ["Z"]}
    machine = {"a": ["T1"], "b": ["T1"], "c": ["T2"], "d": ["T2", "T1"], "e": ["T3"]}
    result = agreement(machine, gold)
    # Shared answers: T1-X {a,b} = 2, T1-Y {b,d} = 2, T2-Y {c,d} = 2, T3-Z {e} = 1, T2-X 0.
    # Best one-to-one matching: T1=X, T2=Y, T3=Z (total 5; T1=Y would leave T2=X at 0: 3).
    assert [(m.theme, m.code, m.shared) for m in result.matches] == [
        ("T1", "X", 2), ("T2", "Y", 2), ("T3", "Z", 1)]
    # Per answer F1: a 1, b {X} vs {X,Y} 2/3, c 1, d {Y,X} vs {Y} 2/3, e 1 -> (3 + 4/3)/5 = 13/15.
    assert result.f1 == pytest.approx(13 / 15, abs=1e-6)
    # Kappa T1 vs X: T1 = 1,1,0,1,0; X = 1,1,0,0,0. po = 4/5; pe = 3/5*2/5 + 2/5*3/5 = 0.48;
    # kappa = (0.8 - 0.48) / (1 - 0.48) = 0.32 / 0.52. T2 vs Y is the mirror image: the same.
    assert result.matches[0].kappa == pytest.approx(0.32 / 0.52, abs=1e-6)
    assert result.matches[1].kappa == pytest.approx(0.32 / 0.52, abs=1e-6)
    assert result.matches[2] == Match("T3", "Z", 1, 1.0)
    # Best themes T1 T1 T2 T2 T3 against X X Y Y Z: the same partition.
    assert result.nmi == pytest.approx(1.0) and result.ari == pytest.approx(1.0)
    assert (result.n_answers, result.n_themes, result.n_codes) == (5, 3, 3)


def test_nmi_ari_and_unmatched_answers_by_hand() -> None:
    gold = {"a": ["X"], "b": ["X"], "c": ["Y"], "d": ["Y"]}
    machine = {"a": ["A"], "b": ["A"], "c": ["A"], "d": ["B"]}
    result = agreement(machine, gold)
    # A=X (2 shared) and B=Y (1): c gets X against Y, F1 0; the others 1 -> 3/4.
    assert result.f1 == pytest.approx(0.75)
    # ARI: contingency X:A 2; Y:A 1, B 1. sum C(n_ij,2) = 1; rows C(2,2)+C(2,2) = 2; columns
    # C(3,2)+C(1,2) = 3; expected = 2*3/C(4,2) = 1; max = (2+3)/2 = 2.5; ARI = (1-1)/(2.5-1) = 0.
    assert result.ari == pytest.approx(0.0, abs=1e-9)
    # NMI (arithmetic mean): MI = .5 ln(4/3) + .25 ln(2/3) + .25 ln 2 = 0.215762;
    # H(gold) = ln 2 = 0.693147; H(machine) = -(.75 ln .75 + .25 ln .25) = 0.562335;
    # NMI = 0.215762 / ((0.693147 + 0.562335) / 2) = 0.343713.
    assert result.nmi == pytest.approx(0.343713, abs=1e-5)


def test_answers_the_machine_left_out_count_as_missed() -> None:
    result = agreement({"a": ["T1"]}, {"a": ["X"], "b": ["X"]})
    # a matches (F1 1), b has no machine theme (F1 0).
    assert result.f1 == pytest.approx(0.5)


@pytest.mark.parametrize(("text", "expected"), [
    ("contact me at j.doe@example.org", "contact me at [redacted]"),
    ("call 555-0142 any time", "call [redacted] any time"),
    ("or +1 (613) 555 0142.", "or [redacted]."),
    ("as Officer Smith showed", "as Officer [redacted] showed"),
    ("Dr. Jane Okafor and Mme Tremblay ran it", "Dr. [redacted] and Mme [redacted] ran it"),
    ("We had 3 units in 2014 and 12 staff.", "We had 3 units in 2014 and 12 staff."),
    ("Officers should be trained.", "Officers should be trained."),
])
def test_redaction(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_cli_agreement_prints_per_item(tmp_path: Path) -> None:
    machine = tmp_path / "themes.csv"
    machine.write_text("respondent,item,theme,label,score,rank\n1,q,T1,x,0.9,1\n2,q,T1,x,0.9,1\n"
                       "3,q,T2,y,0.8,1\n", encoding="utf-8")
    gold = tmp_path / "gold.csv"
    gold.write_text("respondent,item,code\n1,q,X\n2,q,X\n3,q,Y\n", encoding="utf-8")
    result = runner.invoke(app, ["--project", str(tmp_path), "themes", "agreement", "--gold",
                                 str(gold), "--machine", str(machine)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == ("q: 3 answers, 2 themes vs 2 codes  F1 1.000  "
                                             "NMI 1.000  ARI 1.000")
    bad = tmp_path / "bad.csv"
    bad.write_text("who,what\n1,2\n", encoding="utf-8")
    result = runner.invoke(app, ["--project", str(tmp_path), "themes", "agreement", "--gold",
                                 str(bad), "--machine", str(machine)])
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {bad}: expected the columns respondent, item and theme "
                             "(or code), one row per answer and theme\n")
