"""Who answered: the R-361 sentence, country suppression, and the small-group rule end to end."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from consult.analysis.run import analyze
from consult.project import Settings, parse_settings
from consult.questionnaire import Questionnaire, load_questionnaire
from consult.resources import shipped_questionnaires
from consult.results import Results, results_bytes

# R-361's sample: 81 respondents from 15 countries, 37 / 34 / 7 / 3 by region.
COUNTRIES = {"USA": 30, "CAN": 7, "AUS": 30, "NZL": 3, "FJI": 1,
             "GBR": 1, "FRA": 1, "ESP": 1, "NLD": 1, "BEL": 1, "DEU": 1, "SWE": 1,
             "ISR": 1, "SGP": 1, "JPN": 1}
REGION = {"USA": "North America", "CAN": "North America", "AUS": "Oceania", "NZL": "Oceania",
          "FJI": "Oceania", "ISR": "Asia", "SGP": "Asia", "JPN": "Asia"}


@pytest.fixture(scope="module")
def r361() -> Questionnaire:
    return load_questionnaire(shipped_questionnaires()["r361"])


def settings(**analysis: object) -> Settings:
    return parse_settings({"project": {"title": "R-361"}, "analysis": analysis})


def r361_sample(countries: dict[str, int] = COUNTRIES) -> tuple[pd.DataFrame, pd.DataFrame]:
    codes = [code for code, n in countries.items() for _ in range(n)]
    n = len(codes)
    respondents = pd.DataFrame({
        "id": range(1, n + 1), "source": "r361", "source_id": [f"R{i:03d}" for i in range(n)],
        "country_iso3": codes, "region": [REGION.get(c, "Europe") for c in codes],
        "submitted_at": pd.date_range("2014-09-15", "2014-11-20", periods=n, tz="UTC")})
    roles = ["administrative", "custodial", "community"]
    rows = [(i + 1, "role", roles[i % 3], 0) for i in range(n - 2)]  # two did not say
    rows += [(i + 1, "int_same_procedures", "yes" if i % 4 else "no", 0) for i in range(n)]
    answers = pd.DataFrame(rows, columns=["respondent_id", "item_id", "value", "ordinal"])
    return respondents, answers


def sentence(results: Results) -> str:
    sample = results.sample
    regions = ", ".join(f"{row.label} ({row.pct}%)" for row in sample.by_region)
    first = pd.Timestamp(sample.fielding.first_submitted_at or "")
    last = pd.Timestamp(sample.fielding.last_submitted_at or "")
    return (f"In total, {sample.n_included} respondents from {sample.n_countries} countries "
            f"completed the online questionnaire between {first:%B} and {last:%B}, {last:%Y}. "
            f"Respondents represented {regions}.")


def test_the_r361_sentence_rounded(r361: Questionnaire) -> None:
    respondents, answers = r361_sample()
    results = analyze(respondents, answers, r361, settings(), {"preview": 2})
    assert sentence(results) == (
        "In total, 81 respondents from 15 countries completed the online questionnaire between "
        "September and November, 2014. Respondents represented North America (45.7%), "
        "Oceania (42.0%), Europe (8.6%), Asia (3.7%).")
    assert [r.below_threshold for r in results.sample.by_region] == [False, False, False, True]
    assert results.sample.exclusions == {"preview": 2}


def test_the_r361_sentence_truncated_as_printed(r361: Questionnaire) -> None:
    respondents, answers = r361_sample()
    results = analyze(respondents, answers, r361, settings(percent="truncate"))
    # As R-361 printed it (Research at a Glance, 2015).
    assert sentence(results).endswith(
        "North America (45.6%), Oceania (41.9%), Europe (8.6%), Asia (3.7%).")
    lr = analyze(respondents, answers, r361, settings(percent="truncate", largest_remainder=True))
    assert [row.pct for row in lr.sample.by_region] == ["45.7", "42.0", "8.6", "3.7"]


def test_profile_items_and_fielding(r361: Questionnaire) -> None:
    respondents, answers = r361_sample()
    sample = analyze(respondents, answers, r361, settings()).sample
    roles = {row.key: row.count for row in sample.by_item["role"]}
    assert roles == {"administrative": 27, "custodial": 26, "community": 26, "(not stated)": 2}
    assert sample.by_item["responsibility"][-1].key == "(not stated)"
    assert sample.fielding.first_submitted_at == "2014-09-15T00:00:00Z"
    assert sample.fielding.last_submitted_at == "2014-11-20T00:00:00Z"


def test_countries_below_the_threshold_are_suppressed(r361: Questionnaire) -> None:
    respondents, answers = r361_sample()
    sample = analyze(respondents, answers, r361, settings()).sample
    shown = {row.country_iso3: row.display for row in sample.by_country}
    assert shown["USA"] == "30" and shown["CAN"] == "7" and shown["AUS"] == "30"
    assert {shown[c] for c in ("NZL", "FJI")} == {"<5"}
    # Oceania keeps two small countries that hide each other: nothing more to suppress.
    assert not any(row.suppressed == "secondary" for row in sample.by_country
                   if row.region == "Oceania")
    # Europe's 7 and Asia's 3 countries have one respondent each: named, each "<5" would
    # still be exactly 1 (the region total equals the number of countries), so they are not.
    assert not {"GBR", "FRA", "ISR", "SGP", "JPN"} & set(shown)
    others = {row.region: row for row in sample.by_country if row.country_iso3 == "(other)"}
    assert set(others) == {"Europe", "Asia"}
    assert others["Europe"].name == "7 other countries" and others["Europe"].display == "x"
    assert others["Asia"].name == "3 other countries" and others["Asia"].display == "<5"
    assert sample.n_countries == 15
    assert any("are not named" in n for n in sample.notes)


@pytest.mark.parametrize("seed", range(40))
def test_no_named_country_count_follows_from_the_region_totals(r361: Questionnaire,
                                                               seed: int) -> None:
    """Every count a reader could give a named, small country is possible twice over.

    Brute force, independent of the suppression code: for each region, every
    split of its published total over its suppressed rows within what they
    show (a listed country has at least 1; "<5" at most 4).
    """
    import itertools
    import random

    rng = random.Random(seed)
    pool = ["GBR", "FRA", "ESP", "NLD", "BEL", "ISR", "SGP", "JPN", "NZL", "FJI", "USA", "CAN"]
    countries = {c: rng.choice([1, 1, 1, 2, 3, 6]) for c in rng.sample(pool, rng.randint(3, 9))}
    respondents, answers = r361_sample(countries)
    sample = analyze(respondents, answers, r361, settings()).sample
    totals = {row.label: row.count for row in sample.by_region}
    for region, total in totals.items():
        rows = [r for r in sample.by_country if r.region == region]
        hidden = [r for r in rows if r.count is None]
        left = total - sum(r.count or 0 for r in rows)
        ranges = [range(1, 5) if r.display == "<5" else range(1, left + 1) for r in hidden]
        splits = [s for s in itertools.product(*ranges) if sum(s) == left]
        assert splits, region
        for k, row in enumerate(hidden):
            # An "x" hides a count of at least the threshold: knowing it is no disclosure.
            if row.country_iso3 != "(other)" and row.display == "<5":
                assert len({s[k] for s in splits}) >= 2, (region, row.name, splits)


def test_secondary_suppression_of_a_country(r361: Questionnaire) -> None:
    # New Zealand alone is small in Oceania: Oceania's total would give it away, so
    # Australia is suppressed too (shown as x), and neither count is in the file.
    countries = {"USA": 30, "CAN": 7, "AUS": 30, "NZL": 4, "GBR": 6, "FRA": 6}
    respondents, answers = r361_sample(countries)
    results = analyze(respondents, answers, r361, settings())
    rows = {row.country_iso3: row for row in results.sample.by_country}
    assert (rows["NZL"].display, rows["NZL"].suppressed) == ("<5", "primary")
    assert (rows["AUS"].display, rows["AUS"].suppressed) == ("x", "secondary")
    assert rows["AUS"].count is None and rows["AUS"].pct is None and rows["AUS"].share is None
    # Suppressed rows come last in their region, so their order tells nothing of their size.
    oceania = [r.country_iso3 for r in results.sample.by_country if r.region == "Oceania"]
    assert oceania == ["AUS", "NZL"]


def test_small_groups_are_never_shown_alone(r361: Questionnaire) -> None:
    respondents, answers = r361_sample()
    table = analyze(respondents, answers, r361, settings()).item("int_same_procedures").by["region"]
    keys = [g.key for g in table.groups]
    assert keys == ["North America", "Oceania", "(other)"]
    assert table.groups[-1].merged_from == ["Asia", "Europe"]
    assert table.groups[-1].label == "Other regions" and table.groups[-1].n_applied == 10
    assert table.notes == ["Other regions = Asia, Europe: Asia had fewer than 5 respondents here, "
                           "and no group that small is shown on its own."]
    assert {c.group for c in table.cells} == set(keys)


def test_suppressed_counts_never_reach_the_file(r361: Questionnaire) -> None:
    respondents, answers = r361_sample()
    data = json.loads(results_bytes(analyze(respondents, answers, r361, settings())))
    cells = [cell for item in data["items"] for table in item["by"].values()
             for cell in table["cells"]] + data["sample"]["by_country"]
    hidden = [cell for cell in cells if cell["suppressed"]]
    assert hidden, "the fixture should exercise suppression"
    for cell in hidden:
        assert cell["count"] is None
        assert cell["display"] in ("<5", "x")
        for key in ("pct", "pct_answered", "share", "share_answered", "ci_low", "ci_high"):
            assert cell.get(key) is None
