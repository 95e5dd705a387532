"""Percentages as printed: exact integer arithmetic, formatted with Decimal.

A percentage is worked out from the count and its base as integers, so that
37/81 is 45.679... and never a binary float that happens to sit just below a
rounding boundary. Two rules, chosen in ``[analysis] percent``:

- ``round``: half away from zero (1/8 = 12.5% → 13% at 0 decimals);
- ``truncate``: cut after the last decimal, as R-361 printed 37/81 as 45.6%.

With ``[analysis] largest_remainder`` a distribution whose counts partition its
base (every respondent in exactly one row) gets percentages that sum to exactly
100: each share is truncated, then the units still missing go one by one to the
rows with the largest remainders (ties to the larger count, then to the earlier
row). A distribution that does not partition its base (multiple choice) keeps
the ordinary rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

PercentMode = Literal["round", "truncate"]


@dataclass(frozen=True)
class PercentRule:
    """How percentages are written (from ``[analysis]``)."""

    mode: PercentMode = "round"
    decimals: int = 1
    largest_remainder: bool = False

    def format(self, count: int, base: int) -> str | None:
        """``count`` of ``base`` as a percentage string; ``None`` when ``base`` is 0."""
        return format_percent(count, base, self.decimals, self.mode)

    def distribution(self, counts: Sequence[int], base: int) -> list[str | None]:
        """Percentages of a whole distribution, with largest remainder when asked and possible."""
        return percent_distribution(counts, base, self.decimals, self.mode,
                                    largest_remainder=self.largest_remainder)


def format_percent(count: int, base: int, decimals: int = 1, mode: PercentMode = "round") -> str | None:
    """``100 × count / base`` with ``decimals`` decimals, by ``mode``; ``None`` when ``base`` is 0.

    >>> format_percent(37, 81), format_percent(37, 81, mode="truncate")
    ('45.7', '45.6')
    >>> format_percent(1, 8, 0), format_percent(1, 40, 0), format_percent(1, 400, 1)
    ('13', '3', '0.3')
    """
    if base <= 0:
        return None
    if count < 0:
        raise ValueError(f"a count cannot be negative (got {count})")
    units, remainder = divmod(count * 100 * 10**decimals, base)
    if mode == "round" and 2 * remainder >= base:
        units += 1
    elif mode not in ("round", "truncate"):
        raise ValueError(f"percent mode must be 'round' or 'truncate' (got {mode!r})")
    return _write(units, decimals)


def percent_distribution(counts: Sequence[int], base: int, decimals: int = 1,
                         mode: PercentMode = "round", *,
                         largest_remainder: bool = False) -> list[str | None]:
    """Percentages of every count in a distribution over the same base.

    With ``largest_remainder`` and counts that sum to ``base``, the results sum
    to exactly 100 (see the module docstring); otherwise each count follows
    ``mode`` on its own.
    """
    if base <= 0:
        return [None for _ in counts]
    if not largest_remainder or sum(counts) != base:
        return [format_percent(c, base, decimals, mode) for c in counts]
    scale = 100 * 10**decimals
    floors, remainders = [], []
    for count in counts:
        units, remainder = divmod(count * scale, base)
        floors.append(units)
        remainders.append(remainder)
    missing = scale - sum(floors)
    order = sorted(range(len(counts)), key=lambda i: (-remainders[i], -counts[i], i))
    for index in order[:missing]:
        floors[index] += 1
    return [_write(units, decimals) for units in floors]


def share(count: int, base: int) -> float | None:
    """``count / base`` as a float for charts and sorting (never for printed figures)."""
    return count / base if base > 0 else None


def _write(units: int, decimals: int) -> str:
    value = Decimal(units).scaleb(-decimals)
    return f"{value:.{decimals}f}"
