"""Disclosure control: primary and secondary suppression, and the small-group rule."""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Sequence
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from consult.analysis.disclosure import (
    OTHER_GROUP,
    merge_small_groups,
    protect_cells,
    recoverable,
)


def grid(rows: dict[str, dict[str, int]]) -> tuple[dict[tuple[str, str], int], list[list[Hashable]]]:
    """Cells and lines (each row, each column) of a two-way table."""
    values = {(r, c): v for r, cols in rows.items() for c, v in cols.items()}
    columns = list(next(iter(rows.values())))
    lines: list[list[Hashable]] = [[(r, c) for c in columns] for r in rows]
    lines += [[(r, c) for r in rows] for c in columns]
    return values, lines


def alternatives(values: dict[tuple[str, str], int], lines: Sequence[Sequence[Hashable]],
                 hidden: Sequence[tuple[str, str]], cell: tuple[str, str], top: int) -> set[int]:
    """Every value ``cell`` can take in a non-negative table agreeing with all that is published.

    Brute force, independent of the rank test: try every assignment of the hidden cells.
    """
    totals = [sum(values[k] for k in line) for line in lines]  # type: ignore[index]
    found = set()
    for guess in itertools.product(range(top + 1), repeat=len(hidden)):
        trial = dict(values)
        trial.update(zip(hidden, guess, strict=True))
        if all(sum(trial[k] for k in line) == total  # type: ignore[index]
               for line, total in zip(lines, totals, strict=True)):
            found.add(trial[cell])
    return found


def determined(lines: Sequence[Sequence[Hashable]], hidden: Sequence[Hashable]) -> set[Hashable]:
    """Hidden cells fixed by the line totals: exact Gauss-Jordan elimination over fractions.

    A second, independent opinion on the rank test in consult (which uses NumPy's SVD).
    """
    rows = [[Fraction(int(k in line)) for k in hidden] for line in lines]
    pivots: list[tuple[int, int]] = []
    r = 0
    for c in range(len(hidden)):
        pivot = next((i for i in range(r, len(rows)) if rows[i][c] != 0), None)
        if pivot is None:
            continue
        rows[r], rows[pivot] = rows[pivot], rows[r]
        rows[r] = [v / rows[r][c] for v in rows[r]]
        for i in range(len(rows)):
            if i != r and rows[i][c] != 0:
                rows[i] = [a - rows[i][c] * b for a, b in zip(rows[i], rows[r], strict=True)]
        pivots.append((r, c))
        r += 1
    # A variable is fixed when its pivot row has no other non-zero entry.
    return {hidden[c] for row, c in pivots
            if all(v == 0 for j, v in enumerate(rows[row]) if j != c)}


def test_primary_cells_are_the_counts_from_1_to_threshold_minus_1() -> None:
    values, lines = grid({"a": {"x": 0, "y": 4, "z": 4}, "b": {"x": 9, "y": 4, "z": 4}})
    status = protect_cells(values, lines, threshold=5).status
    assert status[("a", "x")] == "published"  # a zero identifies no one
    assert {k for k, s in status.items() if s == "primary"} == {
        ("a", "y"), ("a", "z"), ("b", "y"), ("b", "z")}
    # Four small cells already in a rectangle protect each other: nothing more to hide.
    assert "secondary" not in status.values()


def test_secondary_suppression_makes_a_rectangle() -> None:
    # One small cell (North America, don't know = 2). Row and column totals are published,
    # so hiding it alone would give it away: 32 − 20 − 10 = 2.
    values, lines = grid({
        "North America": {"yes": 20, "no": 10, "dont_know": 2},
        "Oceania": {"yes": 15, "no": 12, "dont_know": 6},
        "Europe": {"yes": 8, "no": 9, "dont_know": 7},
    })
    protection = protect_cells(values, lines, threshold=5)
    hidden = sorted(k for k in values if protection.suppressed(k))
    assert protection.status[("North America", "dont_know")] == "primary"
    assert hidden == [("Europe", "dont_know"), ("Europe", "no"), ("North America", "dont_know"),
                      ("North America", "no")]
    assert protection.counts == (1, 3)
    assert protection.unprotectable == frozenset()
    # Independent check by brute force: the small cell can take several values.
    possible = alternatives(values, lines, hidden, ("North America", "dont_know"), top=12)
    assert len(possible) > 1 and 2 in possible


def test_without_secondary_suppression_the_cell_would_be_recoverable() -> None:
    values, lines = grid({"a": {"x": 20, "y": 2}, "b": {"x": 15, "y": 12}})
    only_primary = [("a", "y")]
    assert recoverable(only_primary, lines) == [("a", "y")]
    assert alternatives(values, lines, only_primary, ("a", "y"), top=15) == {2}
    protection = protect_cells(values, lines, threshold=5)
    assert sorted(k for k in values if protection.suppressed(k)) == sorted(values)


def test_rank_test_finds_a_bridge_that_every_line_count_misses() -> None:
    # Two suppressed rectangles joined by one suppressed cell (r1, c3): every row and
    # column holds 0 or at least 2 suppressed cells, yet the joining cell follows from
    # rows r1 + r2 − columns c1 − c2. Hand-checked, and checked by brute force below.
    rows = ["r1", "r2", "r3", "r4"]
    cols = ["c1", "c2", "c3", "c4"]
    lines: list[list[Hashable]] = [[(r, c) for c in cols] for r in rows]
    lines += [[(r, c) for r in rows] for c in cols]
    hidden = [("r1", "c1"), ("r1", "c2"), ("r2", "c1"), ("r2", "c2"),
              ("r3", "c3"), ("r3", "c4"), ("r4", "c3"), ("r4", "c4"), ("r1", "c3")]
    assert recoverable(hidden, lines) == [("r1", "c3")]
    assert determined(lines, hidden) == {("r1", "c3")}
    assert determined(lines, hidden[:4]) == set()  # a rectangle alone fixes nothing


def test_a_cell_that_follows_whatever_is_hidden_is_reported() -> None:
    # p + q, q + r and p + r are all published: three equations, three unknowns.
    values = {"p": 2, "q": 10, "r": 10}
    protection = protect_cells(values, [["p", "q"], ["q", "r"], ["p", "r"]], threshold=5)
    assert protection.unprotectable == frozenset({"p"})
    assert all(protection.suppressed(k) for k in values)


def test_nested_totals_country_within_region() -> None:
    # France (2) is small; Europe's total (12) and the grand total are published, so the
    # United Kingdom must go too, and nothing else.
    values = {("Europe", "GBR"): 10, ("Europe", "FRA"): 2, ("Oceania", "AUS"): 20,
              ("Oceania", "NZL"): 9}
    lines = [[("Europe", "GBR"), ("Europe", "FRA")], [("Oceania", "AUS"), ("Oceania", "NZL")],
             list(values)]
    status = protect_cells(values, lines, threshold=5).status
    assert status == {("Europe", "GBR"): "secondary", ("Europe", "FRA"): "primary",
                      ("Oceania", "AUS"): "published", ("Oceania", "NZL"): "published"}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(min_value=0, max_value=12), min_size=3, max_size=3),
                min_size=2, max_size=4))
def test_no_primary_cell_is_ever_recoverable(table: list[list[int]]) -> None:
    values, lines = grid({f"g{i}": {f"c{j}": v for j, v in enumerate(row)}
                          for i, row in enumerate(table)})
    protection = protect_cells(values, lines, threshold=5)
    hidden = [k for k in values if protection.suppressed(k)]
    primary = {k for k, s in protection.status.items() if s == "primary"}
    exposed = set(recoverable(hidden, lines)) & primary
    assert exposed == determined(lines, hidden) & primary
    assert exposed <= protection.unprotectable
    for line in lines:
        assert sum(protection.suppressed(k) for k in line) != 1 or all(
            protection.suppressed(k) for k in line)


def test_small_groups_merge_into_other() -> None:
    # R-361's regions: Asia (3) is below 5; alone in "Other" it would still be 3, so the
    # smallest reportable region (Europe, 7) joins it.
    plan = merge_small_groups({"North America": 37, "Oceania": 34, "Europe": 7, "Asia": 3}, 5)
    assert plan.shown == ("North America", "Oceania", OTHER_GROUP)
    assert plan.merged == ("Asia", "Europe") and plan.small == ("Asia",)
    assert plan.target("Asia") == OTHER_GROUP and plan.target("Oceania") == "Oceania"
    assert not plan.dropped
    # Two small groups together reach the threshold: nothing else is merged.
    assert merge_small_groups({"a": 10, "b": 3, "c": 3}, 5).shown == ("a", OTHER_GROUP)
    # Nothing small: nothing merged; empty groups are left out.
    plan = merge_small_groups({"a": 10, "b": 6, "c": 0}, 5)
    assert plan.shown == ("a", "b") and plan.merged == () and not plan.dropped


def test_too_few_to_cross_is_dropped() -> None:
    assert merge_small_groups({"a": 10, "b": 2}, 5).dropped  # only "(other)" would remain
    assert merge_small_groups({"a": 4}, 5).dropped
    assert merge_small_groups({"a": 40}, 5).dropped  # a single group: nothing to cross
