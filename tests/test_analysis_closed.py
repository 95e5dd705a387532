"""Closed items: counts and bases by hand, and planted associations found (or not)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.stats as ss

from consult.analysis.closed import tabulate_item
from consult.analysis.percent import PercentRule
from consult.analysis.run import analyze
from consult.analysis.stats import association_test
from consult.project import Settings, parse_settings
from consult.questionnaire import Questionnaire, load_questionnaire
from consult.resources import shipped_questionnaires
from consult.results import Results
from consult.store import open_store
from consult.store.responses import IngestRecord, exclusion_counts, load_responses, write_ingest
from consult.synth import Association, generate
from consult.synth.generate import SynthConsultation
from consult.synth.records import synth_records


@pytest.fixture(scope="module")
def r361() -> Questionnaire:
    return load_questionnaire(shipped_questionnaires()["r361"])


def settings(**analysis: object) -> Settings:
    return parse_settings({"project": {"title": "test"}, "analysis": analysis})


def tidy(rows: list[tuple[int, str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["respondent_id", "item_id", "value"])
    return frame.assign(ordinal=frame.groupby(["respondent_id", "item_id"]).cumcount())


def people(n: int, region: str = "Oceania") -> pd.DataFrame:
    return pd.DataFrame({"id": range(1, n + 1), "source": "test",
                         "source_id": [f"r{i}" for i in range(1, n + 1)],
                         "country_iso3": "AUS", "region": region,
                         "submitted_at": pd.Timestamp("2014-10-01", tz="UTC")})


def test_single_choice_keeps_dont_know_and_missing_apart(r361: Questionnaire) -> None:
    answers = tidy([(i, "int_same_procedures", "yes") for i in range(1, 6)]
                   + [(6, "int_same_procedures", "no"), (7, "int_same_procedures", "no"),
                      (8, "int_same_procedures", "dont_know")])
    table = tabulate_item(answers, r361.item("int_same_procedures"), range(1, 11))
    assert table["code"].tolist() == ["yes", "no", "dont_know", "(missing)"]
    assert table["kind"].tolist() == ["answer", "answer", "dont_know", "missing"]
    assert table["count"].tolist() == [5, 2, 1, 2]
    assert set(table["n_answered"]) == {8} and set(table["n_applied"]) == {10}
    assert table["pct_answered"].tolist() == ["62.5", "25.0", "12.5", None]
    assert table["pct_applied"].tolist() == ["50.0", "20.0", "10.0", "20.0"]


def test_multiple_choice_is_percent_of_respondents(r361: Questionnaire) -> None:
    answers = tidy([(1, "int_tools", "vera_2r"), (1, "int_tools", "erg22"), (2, "int_tools", "erg22"),
                    (3, "int_tools", "dont_know"), (4, "int_tools", "none"),
                    (4, "int_same_procedures", "yes")])
    table = tabulate_item(answers, r361.item("int_tools"), range(1, 11)).set_index("code")
    assert table.loc["erg22", "count"] == 2 and table.loc["erg22", "pct_answered"] == "50.0"
    assert table.loc["vera_2r", "pct_answered"] == "25.0"
    assert table.loc["dont_know", "kind"] == "dont_know" and table.loc["dont_know", "count"] == 1
    assert table.loc["(missing)", "count"] == 6 and table.loc["(missing)", "pct_applied"] == "60.0"
    assert table.loc["other", "count"] == 0  # the item allows "other": a row even when empty
    assert set(table["n_answered"]) == {4}


def test_likert_median_and_agreement(r361: Questionnaire) -> None:
    codes = ["strongly_disagree", "disagree", "neutral", "agree", "agree", "strongly_agree",
             "dont_know"]
    answers = tidy([(i + 1, "int_adequate", code) for i, code in enumerate(codes)])
    results = analyze(people(8), answers, r361, settings(groupings=["region"]))
    likert = results.item("int_adequate").overall.likert
    assert likert is not None
    # Positions 1 2 3 4 4 5 ("don't know" left out): the middle falls between neutral (3)
    # and agree (4); the lower category is reported, and the numeric median is 3.5.
    assert likert.median == "neutral" and likert.median_position == 3.5
    assert likert.n_substantive == 6
    # 3 agreeing of the 7 who answered ("don't know" included).
    assert likert.agree_count == 3 and likert.pct_agree == "42.9"


def test_relevant_items_use_those_they_applied_to(r361: Questionnaire) -> None:
    rows = [(i, "prog_specialized", "yes") for i in range(1, 5)]
    rows += [(i, "prog_specialized", "no") for i in range(5, 9)]
    rows += [(1, "prog_types", "mentoring"), (2, "prog_types", "mentoring"),
             (2, "prog_types", "disengagement"), (3, "prog_types", "disengagement"),
             (6, "prog_types", "mentoring")]  # respondent 6 said "no": not asked
    results = analyze(people(10), tidy(rows), r361, settings(groupings=["region"]))
    overall = results.item("prog_types").overall
    assert (overall.n_applied, overall.n_not_applicable, overall.n_answered, overall.n_missing) == (
        4, 6, 3, 1)
    mentoring = next(r for r in overall.rows if r.code == "mentoring")
    assert mentoring.count == 2 and mentoring.pct_answered == "66.7" and mentoring.pct_applied == "50.0"
    assert results.item("prog_types").applies_when == "prog_specialized = yes"
    assert results.item("prog_types").notes == [
        "1 answer(s) from respondents the item did not apply to were left out.",
        "not crossed by region: fewer than two groups of at least 5 respondents"]
    assert results.item("prog_types").by == {}


def test_codes_not_in_the_questionnaire_are_left_out_and_noted(r361: Questionnaire) -> None:
    answers = tidy([(1, "int_same_procedures", "yes"), (2, "int_same_procedures", "maybe")])
    item = analyze(people(2), answers, r361, settings(groupings=["region"])).item(
        "int_same_procedures")
    assert (item.overall.n_answered, item.overall.n_missing) == (1, 1)
    assert item.notes[0] == "1 answer(s) with codes that are not choices of the item were left out."


def test_truncate_and_decimals_follow_the_settings(r361: Questionnaire) -> None:
    answers = tidy([(i, "int_same_procedures", "yes" if i <= 37 else "no") for i in range(1, 82)])
    item = r361.item("int_same_procedures")
    rounded = tabulate_item(answers, item, range(1, 82))
    truncated = tabulate_item(answers, item, range(1, 82), PercentRule(mode="truncate"))
    whole = tabulate_item(answers, item, range(1, 82), PercentRule(decimals=0))
    assert rounded["pct_answered"].tolist()[:2] == ["45.7", "54.3"]
    assert truncated["pct_answered"].tolist()[:2] == ["45.6", "54.3"]
    assert whole["pct_answered"].tolist()[:2] == ["46", "54"]


# --------------------------------------------------------------------------- planted associations


def stored(consultation: SynthConsultation, folder: Path) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                      dict[str, int]]:
    """The consultation through a real SQLite store, read back as analysis reads it."""
    with open_store(f"sqlite:///{folder / 'consult.db'}") as store:
        write_ingest(store, IngestRecord("synth", "synth.csv", "0" * 64,
                                         len(consultation.responses)),
                     synth_records(consultation))
        respondents, answers = load_responses(store)
        return respondents, answers, exclusion_counts(store)


@pytest.fixture(scope="module")
def planted(r361: Questionnaire, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        tuple[SynthConsultation, Results]]:
    consultation = generate(r361, 2000, seed=11,
                            associations=[Association("int_same_procedures", "region", 0.6)])
    respondents, answers, exclusions = stored(consultation, tmp_path_factory.mktemp("planted"))
    yield consultation, analyze(respondents, answers, r361, settings(), exclusions)


def test_planted_association_is_found(planted: tuple[SynthConsultation, Results]) -> None:
    consultation, results = planted
    test = results.item("int_same_procedures").by["region"].tests[0]
    assert test.test == "chi2" and test.p_value is not None and test.p_value < 0.001
    assert test.p_holm is not None and test.p_holm < 0.001
    # Independently, from the generator's own rows: region × answer, substantive answers.
    truth = pd.DataFrame([(r.region, r.answers.get("int_same_procedures"))
                          for r in consultation.complete], columns=["region", "answer"])
    truth = truth[truth["answer"].isin(["yes", "no"])]
    observed = pd.crosstab(truth["region"], truth["answer"]).to_numpy()
    chi2, p, dof, _ = ss.chi2_contingency(observed, correction=False)
    assert test.chi2 == pytest.approx(chi2) and test.p_chi2 == pytest.approx(p)
    assert test.dof == dof
    assert test.cramers_v == pytest.approx(ss.contingency.association(observed, method="cramer"))


def test_unplanted_items_show_no_association(planted: tuple[SynthConsultation, Results]) -> None:
    _, results = planted
    for item_id, grouping in (("prog_specialized", "region"), ("int_same_procedures", "role"),
                              ("train_received", "region")):
        test = results.item(item_id).by[grouping].tests[0]
        assert test.p_value is not None and test.p_value > 0.01, (item_id, grouping, test)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_no_association_across_seeds(r361: Questionnaire, seed: int) -> None:
    # Not one lucky seed: with nothing planted, p stays above 0.01 on each of five.
    consultation = generate(r361, 2000, seed=seed, junk=0)
    frame = pd.DataFrame([(r.region, r.answers.get("prog_specialized")) for r in consultation.complete],
                         columns=["region", "answer"])
    frame = frame[frame["answer"].isin(["yes", "no"])]
    result = association_test(frame, "region", "answer")
    assert result is not None and result.p_value is not None and result.p_value > 0.01
    # The same data with an association planted is found every time.
    planted = generate(r361, 2000, seed=seed, junk=0,
                       associations=[Association("prog_specialized", "region", 0.6)])
    frame = pd.DataFrame([(r.region, r.answers.get("prog_specialized")) for r in planted.complete],
                         columns=["region", "answer"])
    found = association_test(frame[frame["answer"].isin(["yes", "no"])], "region", "answer")
    assert found is not None and found.p_value is not None and found.p_value < 0.001


def test_likert_gets_chi2_and_kruskal(planted: tuple[SynthConsultation, Results]) -> None:
    _, results = planted
    tests = results.item("int_adequate").by["region"].tests
    assert [t.test for t in tests][-1] == "kruskal_wallis"
    assert {t.family_size for t in tests} == {len([
        t for item in results.items if "region" in item.by for t in item.by["region"].tests])}
    number = results.item("experience_years").by["region"]
    assert [t.test for t in number.tests] == ["kruskal_wallis"]
    assert all(s.number is not None and s.number.n >= 5 for s in number.summaries)
    assert np.isfinite(number.tests[0].p_value or np.nan)
