"""Percentages as printed: exact rounding rules, truncation, largest remainder."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consult.analysis.percent import PercentRule, format_percent, percent_distribution


def test_r361_region_shares_round_and_truncate() -> None:
    # R-361 printed 37/81 as 45.6% (truncated); rounded it is 45.7%.
    assert format_percent(37, 81) == "45.7"
    assert format_percent(37, 81, mode="truncate") == "45.6"
    assert [format_percent(n, 81) for n in (37, 34, 7, 3)] == ["45.7", "42.0", "8.6", "3.7"]
    assert [format_percent(n, 81, mode="truncate") for n in (37, 34, 7, 3)] == [
        "45.6", "41.9", "8.6", "3.7"]


@pytest.mark.parametrize(("count", "base", "decimals", "expected"), [
    (1, 8, 0, "13"),        # 12.5 → 13, not banker's 12
    (3, 8, 0, "38"),        # 37.5 → 38
    (5, 8, 0, "63"),        # 62.5 → 63 (round-half-even would give 62)
    (1, 16, 1, "6.3"),      # 6.25 → 6.3
    (3, 16, 1, "18.8"),     # 18.75 → 18.8
    (1, 80, 2, "1.25"),     # exact, no rounding needed
    (1, 160, 2, "0.63"),    # 0.625 → 0.63
    (1, 200, 0, "1"),       # 0.5 → 1
    (1, 3, 1, "33.3"),
    (2, 3, 1, "66.7"),
    (0, 7, 1, "0.0"),
    (7, 7, 1, "100.0"),
    (23, 80, 1, "28.8"),    # 28.75 exactly; the float is 28.749999999999996
    (41, 80, 1, "51.3"),    # 51.25 exactly; the float is 51.24999999999999
])
def test_round_half_away_from_zero(count: int, base: int, decimals: int, expected: str) -> None:
    assert format_percent(count, base, decimals) == expected
    # The exact decimal rule, as a second opinion: Decimal is exact for these quotients.
    exact = Decimal(count * 100) / Decimal(base)
    assert Decimal(expected) == exact.quantize(Decimal(1).scaleb(-decimals), rounding="ROUND_HALF_UP")


def test_no_binary_float_surprise() -> None:
    # 23/80 is exactly 28.75%, but 23 / 80 * 100 is 28.749999999999996 in binary floating
    # point: rounding the float half-up gives 28.7, and format() rounds half to even
    # (1/16 → "6.2"). The integer rule gives the printed answer.
    assert 23 / 80 * 100 < 28.75
    assert str(Decimal(23 / 80 * 100).quantize(Decimal("0.1"), rounding="ROUND_HALF_UP")) == "28.7"
    assert f"{1 / 16 * 100:.1f}" == "6.2"
    assert format_percent(23, 80) == "28.8"
    assert format_percent(1, 16) == "6.3"


def test_truncate_cuts_and_zero_base_gives_none() -> None:
    assert format_percent(2, 3, 1, "truncate") == "66.6"
    assert format_percent(199, 200, 0, "truncate") == "99"
    assert format_percent(0, 0) is None
    with pytest.raises(ValueError, match="percent mode"):
        format_percent(1, 3, 1, "ceil")  # type: ignore[arg-type]


def test_largest_remainder_sums_to_100() -> None:
    # 1/3 each: rounding gives 33.3 × 3 = 99.9; largest remainder gives the missing 0.1 to
    # the first (equal remainders, equal counts: the earlier row).
    assert percent_distribution([1, 1, 1], 3) == ["33.3", "33.3", "33.3"]
    assert percent_distribution([1, 1, 1], 3, largest_remainder=True) == ["33.4", "33.3", "33.3"]
    # R-361's regions truncated sum to 99.8; largest remainder restores 100.
    assert percent_distribution([37, 34, 7, 3], 81, mode="truncate") == [
        "45.6", "41.9", "8.6", "3.7"]
    lr = percent_distribution([37, 34, 7, 3], 81, largest_remainder=True)
    assert lr == ["45.7", "42.0", "8.6", "3.7"]
    assert sum(Decimal(p) for p in lr if p) == 100
    # Not a partition (multiple choice): every count keeps the ordinary rule.
    assert percent_distribution([2, 2], 3, largest_remainder=True) == ["66.7", "66.7"]


@given(st.lists(st.integers(min_value=0, max_value=5000), min_size=1, max_size=12),
       st.integers(min_value=0, max_value=3))
def test_largest_remainder_always_sums_to_exactly_100(counts: list[int], decimals: int) -> None:
    base = sum(counts)
    rule = PercentRule(decimals=decimals, largest_remainder=True)
    shares = rule.distribution(counts, base)
    if base == 0:
        assert shares == [None] * len(counts)
        return
    assert sum(Decimal(s) for s in shares if s is not None) == 100
    for count, text in zip(counts, shares, strict=True):
        assert text is not None
        # Never more than one unit away from the exact share.
        assert abs(Decimal(text) - Decimal(count * 100) / Decimal(base)) < Decimal(1).scaleb(-decimals)
