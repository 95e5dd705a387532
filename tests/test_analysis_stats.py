"""Tests of association and intervals, checked against independent computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats as ss
from scipy.stats.contingency import association

from consult.analysis.stats import (
    association_test,
    holm,
    kruskal_test,
    monte_carlo_p,
    wilson_interval,
)


def tidy(table: list[list[int]], rows: str = "group", cols: str = "answer") -> pd.DataFrame:
    """One record a respondent from a contingency table."""
    records = [(f"g{i}", f"a{j}") for i, row in enumerate(table) for j, n in enumerate(row)
               for _ in range(n)]
    return pd.DataFrame(records, columns=[rows, cols])


def test_chi2_matches_scipy() -> None:
    table = [[30, 12, 18], [14, 25, 21], [20, 20, 40]]
    result = association_test(tidy(table), "group", "answer")
    assert result is not None
    chi2, p, dof, expected = ss.chi2_contingency(np.array(table), correction=False)
    assert result.test == "chi2" and result.warning is None
    assert result.chi2 == pytest.approx(chi2) and result.statistic == pytest.approx(chi2)
    assert result.p_value == pytest.approx(p) and result.p_chi2 == pytest.approx(p)
    assert result.dof == dof == 4
    assert result.cramers_v == pytest.approx(association(np.array(table), method="cramer"))
    assert result.min_expected == pytest.approx(expected.min())
    assert result.n == 200 and result.cells == 9 and result.expected_below_5 == 0


def test_two_by_two_is_not_yates_corrected() -> None:
    table = [[30, 20], [15, 35]]
    result = association_test(tidy(table), "group", "answer")
    assert result is not None and result.test == "chi2"
    chi2, p, _, _ = ss.chi2_contingency(np.array(table), correction=False)
    assert result.chi2 == pytest.approx(chi2) and result.p_value == pytest.approx(p)
    assert result.cramers_v == pytest.approx(association(np.array(table), method="cramer"))


def test_small_two_by_two_reports_fisher() -> None:
    # Fisher's tea-tasting table. R: fisher.test(matrix(c(3, 1, 1, 3), 2))
    #   p-value = 0.4857
    result = association_test(tidy([[3, 1], [1, 3]]), "group", "answer")
    assert result is not None
    assert result.test == "fisher_exact"
    assert result.p_value == pytest.approx(0.4857, abs=5e-5)
    assert result.statistic == pytest.approx(9.0)  # the sample odds ratio, 3·3 / 1·1
    assert result.expected_below_5 == 4
    assert result.warning == ("4 of 4 expected counts below 5: the chi-square approximation is "
                              "doubtful; Fisher's exact test reported")
    # The chi-square figures stay beside it.
    chi2, p, _, _ = ss.chi2_contingency(np.array([[3, 1], [1, 3]]), correction=False)
    assert result.chi2 == pytest.approx(chi2) and result.p_chi2 == pytest.approx(p)


def test_small_larger_table_reports_a_seeded_monte_carlo_p() -> None:
    table = [[3, 1, 6], [2, 7, 1], [4, 4, 2]]
    result = association_test(tidy(table), "group", "answer", seed=7)
    assert result is not None
    assert result.test == "monte_carlo_chi2" and result.resamples == 10_000 and result.seed == 7
    assert result.warning is not None and result.warning.endswith("Monte-Carlo p-value (10,000 tables)")
    # Independent: SciPy's own Monte-Carlo test of the same statistic (20,000 tables).
    reference = ss.chi2_contingency(
        np.array(table), correction=False,
        method=ss.MonteCarloMethod(n_resamples=20_000, rng=np.random.default_rng(1)))
    assert result.p_value == pytest.approx(float(reference.pvalue), abs=0.01)
    # Seeded: the same seed gives the same p, another seed a slightly different one.
    again = association_test(tidy(table), "group", "answer", seed=7)
    assert again is not None and again.p_value == result.p_value
    other = monte_carlo_p(np.array(table), float(result.chi2 or 0), seed=8)
    assert other != result.p_value and other == pytest.approx(result.p_value, abs=0.01)


def test_nothing_to_test_gives_none() -> None:
    assert association_test(tidy([[5, 6]]), "group", "answer") is None
    assert association_test(tidy([[5], [6]]), "group", "answer") is None
    same = pd.DataFrame({"group": ["a", "a", "b"], "v": [1, 1, 1]})
    assert kruskal_test(same, "v", "group") is None


def test_kruskal_matches_scipy() -> None:
    rng = np.random.default_rng(3)
    data = pd.DataFrame({"group": np.repeat(["a", "b", "c"], 30),
                         "v": np.concatenate([rng.integers(1, 6, 30), rng.integers(2, 6, 30),
                                              rng.integers(1, 4, 30)])})
    result = kruskal_test(data, "v", "group")
    h, p = ss.kruskal(*(data.loc[data["group"] == g, "v"] for g in "abc"))
    assert result is not None and result.test == "kruskal_wallis"
    assert result.statistic == pytest.approx(h) and result.p_value == pytest.approx(p)
    assert result.dof == 2 and result.n == 90


@pytest.mark.parametrize(("count", "n", "low", "high"), [
    # Newcombe (1998), Statistics in Medicine 17:857-872, Table I, method 3 (Wilson score).
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_interval_matches_newcombe(count: int, n: int, low: float, high: float) -> None:
    interval = wilson_interval(count, n)
    assert interval is not None
    assert interval[0] == pytest.approx(low, abs=5e-5)
    assert interval[1] == pytest.approx(high, abs=5e-5)


def test_wilson_interval_matches_statsmodels() -> None:
    from statsmodels.stats.proportion import proportion_confint

    for count, n in ((37, 81), (0, 5), (5, 5), (1, 1000)):
        assert wilson_interval(count, n) == pytest.approx(
            proportion_confint(count, n, alpha=0.05, method="wilson"), abs=1e-12)
    assert wilson_interval(0, 0) is None


def test_holm_adjustment_by_hand() -> None:
    # Sorted 0.01, 0.03, 0.04, 0.5 times 4, 3, 2, 1 = 0.04, 0.09, 0.08 → 0.09 (monotone), 0.5.
    assert holm([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    # Untested entries stay empty and do not count in the family.
    assert holm([None, 0.02, 0.04]) == [None, pytest.approx(0.04), pytest.approx(0.04)]
    assert holm([None]) == [None]
