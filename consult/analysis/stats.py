"""Tests of association and confidence intervals: the one module that calls pingouin.

Pingouin renames its output columns between releases (``p-unc`` became
``p_unc``); this module reads them in one place and returns plain
:class:`StatResult` records, so nothing else in consult depends on them.
Pingouin and SciPy are imported inside the functions: ``consult --help`` must
not pay for them.

Methods (documented for readers in docs/analysis.md):

- :func:`association_test`: Pearson's chi-square test of independence
  (``pingouin.chi2_independence``, first row, *without* Yates's continuity
  correction, as SPSS's "Pearson Chi-Square" row), with Cramér's V and degrees
  of freedom. When any expected count is below 5 the chi-square approximation
  is doubtful: a warning is recorded and the reported p-value comes from
  Fisher's exact test for a 2×2 table (``scipy.stats.fisher_exact``,
  two-sided) or otherwise from a Monte-Carlo test: ``MONTE_CARLO_RESAMPLES``
  tables with the observed margins drawn by Patefield's algorithm
  (``scipy.stats.random_table``), seeded, p = (1 + #{X² ≥ observed}) / (B + 1),
  as R's ``chisq.test(simulate.p.value = TRUE)``.
- :func:`kruskal_test`: Kruskal–Wallis H across groups (``pingouin.kruskal``,
  tie-corrected).
- :func:`wilson_interval`: Wilson score interval (Wilson 1927), 95% by default.
- :func:`holm`: Holm's step-down adjustment (``pingouin.multicomp``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from consult.errors import ConsultError

if TYPE_CHECKING:
    import pandas as pd

MONTE_CARLO_RESAMPLES = 10_000
"""Tables drawn for a Monte-Carlo p-value (smallest attainable p: 1/10,001)."""
SMALL_EXPECTED = 5.0
"""Expected counts below this make the chi-square approximation doubtful."""
Z_95 = 1.959963984540054
"""The 97.5% quantile of the standard normal distribution."""


@dataclass(frozen=True)
class StatResult:
    """One test, with the numbers a report prints.

    ``test`` is the method whose p-value is reported: ``chi2``,
    ``fisher_exact``, ``monte_carlo_chi2`` or ``kruskal_wallis``.
    ``statistic`` is that method's statistic (X², the odds ratio, X² again,
    H). ``chi2``, ``dof``, ``p_chi2`` and ``cramers_v`` are the Pearson
    chi-square figures, kept even when another p-value is reported.
    """

    test: str
    n: int
    statistic: float | None
    p_value: float | None
    dof: float | None = None
    chi2: float | None = None
    p_chi2: float | None = None
    cramers_v: float | None = None
    cells: int | None = None
    expected_below_5: int | None = None
    min_expected: float | None = None
    resamples: int | None = None
    seed: int | None = None
    warning: str | None = None


def association_test(data: pd.DataFrame, x: str, y: str, *, seed: int = 0,
                     resamples: int = MONTE_CARLO_RESAMPLES) -> StatResult | None:
    """Chi-square test of independence of columns ``x`` and ``y`` of ``data``.

    Rows with a missing ``x`` or ``y`` are left out. Returns ``None`` when the
    table has fewer than two rows or two columns (nothing to test).

    Returns
    -------
    StatResult
        ``test``: ``chi2`` when every expected count is at least 5, else
        ``fisher_exact`` (2×2) or ``monte_carlo_chi2`` (``resamples`` tables,
        ``seed``), with ``warning`` saying why; ``chi2``, ``dof``, ``p_chi2``,
        ``cramers_v`` (Pearson, no continuity correction); ``cells``,
        ``expected_below_5`` and ``min_expected``.
    """
    pg = _pingouin()
    frame = data[[x, y]].dropna()
    if frame[x].nunique() < 2 or frame[y].nunique() < 2:
        return None
    with warnings.catch_warnings():
        # Pingouin warns about low counts; the warning is recorded below instead.
        warnings.simplefilter("ignore")
        expected, observed, table = pg.chi2_independence(frame, x=x, y=y, correction=False)
    pearson = table.loc[table["test"] == "pearson"].iloc[0]
    chi2, dof, p_chi2 = float(pearson["chi2"]), float(pearson["dof"]), float(pearson["pval"])
    cramers_v = float(pearson["cramer"])
    expected_values = expected.to_numpy(dtype=float)
    below = int((expected_values < SMALL_EXPECTED).sum())
    common: dict[str, Any] = {
        "n": int(observed.to_numpy().sum()), "dof": dof, "chi2": chi2, "p_chi2": p_chi2,
        "cramers_v": cramers_v, "cells": int(expected_values.size), "expected_below_5": below,
        "min_expected": float(expected_values.min()),
    }
    if below == 0:
        return StatResult(test="chi2", statistic=chi2, p_value=p_chi2, **common)
    counts = observed.to_numpy(dtype=int)
    warning = (f"{below} of {expected_values.size} expected counts below 5: "
               "the chi-square approximation is doubtful")
    if counts.shape == (2, 2):
        from scipy.stats import fisher_exact  # type: ignore[import-untyped]

        odds_ratio, p_exact = fisher_exact(counts, alternative="two-sided")
        return StatResult(test="fisher_exact", statistic=float(odds_ratio), p_value=float(p_exact),
                          warning=warning + "; Fisher's exact test reported", **common)
    p_mc = monte_carlo_p(counts, chi2, seed=seed, resamples=resamples)
    return StatResult(test="monte_carlo_chi2", statistic=chi2, p_value=p_mc, resamples=resamples,
                      seed=seed, warning=warning + f"; Monte-Carlo p-value ({resamples:,} tables)",
                      **common)


def monte_carlo_p(counts: Any, observed_chi2: float, *, seed: int,
                  resamples: int = MONTE_CARLO_RESAMPLES) -> float:
    """Monte-Carlo p-value of Pearson's X² for a table with fixed margins.

    Tables are drawn with the observed row and column totals (Patefield 1981,
    ``scipy.stats.random_table``); p = (1 + #{X² ≥ observed}) / (resamples + 1),
    with R's tolerance for ties (``chisq.test``, ``simulate.p.value = TRUE``).
    """
    import numpy as np
    from scipy.stats import random_table

    table = np.asarray(counts, dtype=float)
    rows, cols = table.sum(axis=1), table.sum(axis=0)
    expected = np.outer(rows, cols) / table.sum()
    draws = random_table(rows, cols, seed=np.random.default_rng(seed)).rvs(size=resamples)
    stats = ((draws - expected) ** 2 / expected).sum(axis=(1, 2))
    almost_one = 1 - 64 * np.finfo(float).eps
    hits = int((stats >= almost_one * observed_chi2).sum())
    return (1 + hits) / (resamples + 1)


def kruskal_test(data: pd.DataFrame, dv: str, between: str) -> StatResult | None:
    """Kruskal–Wallis H test of ``dv`` across the groups in ``between``.

    Returns ``None`` with fewer than two groups or when every value is the
    same (H is undefined).

    Returns
    -------
    StatResult
        ``test`` ``kruskal_wallis``; ``statistic`` H (tie-corrected);
        ``dof`` groups − 1; ``p_value`` from the chi-square approximation.
    """
    pg = _pingouin()
    frame = data[[dv, between]].dropna()
    if frame[between].nunique() < 2 or frame[dv].nunique() < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = pg.kruskal(frame, dv=dv, between=between)
    row = table.iloc[0]
    h = float(row["H"])
    p = float(row[_column(table, "p_unc", "p-unc")])
    if not (math.isfinite(h) and math.isfinite(p)):
        return None
    return StatResult(test="kruskal_wallis", n=len(frame), statistic=h, p_value=p,
                      dof=float(row["ddof1"]))


def wilson_interval(count: int, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """Wilson score interval for ``count`` successes in ``n`` trials; ``None`` when n is 0.

    Checked against Newcombe (1998), Table I: 81/263 → 0.2553 to 0.3662.
    """
    if n <= 0:
        return None
    p = count / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = (z / (1 + z2 / n)) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm-adjusted p-values (``None`` stays ``None`` and does not count in the family)."""
    known = [(i, p) for i, p in enumerate(p_values) if p is not None]
    adjusted: list[float | None] = [None] * len(p_values)
    if not known:
        return adjusted
    pg = _pingouin()
    _, corrected = pg.multicomp([p for _, p in known], method="holm")
    for (index, _), value in zip(known, corrected, strict=True):
        adjusted[index] = float(value)
    return adjusted


def _pingouin() -> ModuleType:
    try:
        import pingouin  # type: ignore[import-untyped]
    except ImportError:
        raise ConsultError("consult analyze needs pingouin for its statistical tests; install it "
                           "with: pip install 'pingouin==0.7.0'") from None
    module: ModuleType = pingouin
    return module


def _column(table: pd.DataFrame, *names: str) -> str:
    for name in names:
        if name in table.columns:
            return name
    raise ConsultError(f"pingouin returned columns {list(table.columns)}, none of {list(names)}; "
                       "install the pinned version: pip install 'pingouin==0.7.0'")
