"""Disclosure control: small cells suppressed so that no official can be singled out.

Two rules, applied to country-level and crossed tables (never to the one-way
descriptions of the whole sample, which R-361 printed in full):

1. **Small groups.** A group (a region, a role ...) with fewer respondents than
   the threshold is never shown on its own: :func:`merge_small_groups` puts all
   small groups together as "Other ...", and when that is still too small,
   adds the smallest reportable groups to it until it is not.
2. **Small cells.** :func:`protect_cells` suppresses every count from 1 to
   threshold − 1 (*primary* suppression; zeros are shown), then suppresses
   further cells (*secondary* suppression) until no primary cell can be worked
   out from the published totals:

   a. while some line (a row, a column, any published total) holds exactly one
      suppressed cell, suppress another cell of that line: preferably one that
      also completes another line left with a single suppressed cell (so that
      suppressions form rectangles rather than cascades), then the smallest,
      then the earliest;
   b. then check exactly: with the published cells and totals known, a
      suppressed cell is recoverable when its unit vector lies in the row space
      of the lines restricted to the suppressed cells (a rank test). For the
      first recoverable primary cell, suppress the smallest published cell of
      a line through it, and go back to (a).

   Each round suppresses one more cell, so the loop ends. Cells that stay
   recoverable although every cell of their lines is suppressed (a line of
   one cell, e.g. the only country of a region whose total is published) are
   reported as ``unprotectable``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

K = TypeVar("K", bound=Hashable)

Status = Literal["published", "primary", "secondary"]
OTHER_GROUP = "(other)"
"""The key of the group that gathers small groups (no choice code or region can be written so)."""


@dataclass(frozen=True)
class GroupPlan:
    """Which group each original group is reported under.

    ``shown``: the reported groups in order (``OTHER_GROUP`` last when used);
    ``merged``: the original groups folded into ``OTHER_GROUP``; ``dropped``:
    ``True`` when even everything together is below the threshold, so that no
    crossed table can be shown.
    """

    shown: tuple[str, ...]
    merged: tuple[str, ...]
    small: tuple[str, ...]
    dropped: bool = False

    def target(self, group: str) -> str:
        """The reported group of an original group."""
        return OTHER_GROUP if group in self.merged else group


@dataclass(frozen=True)
class Protection(Generic[K]):
    """The outcome of :func:`protect_cells` for every cell."""

    status: Mapping[K, Status]
    unprotectable: frozenset[K] = field(default_factory=frozenset)

    def suppressed(self, key: K) -> bool:
        """Whether ``key`` must not be published."""
        return self.status[key] != "published"

    @property
    def counts(self) -> tuple[int, int]:
        """(primary, secondary) suppressed cells."""
        values = list(self.status.values())
        return values.count("primary"), values.count("secondary")


def merge_small_groups(sizes: Mapping[str, int], threshold: int) -> GroupPlan:
    """Decide how groups are shown, given each group's size (in the table's base).

    Groups are kept in the order of ``sizes``. Groups of size 0 are left out.
    All groups below ``threshold`` are merged into ``OTHER_GROUP``; if that
    group is still below the threshold, the smallest reportable groups (ties:
    the later one) join it until it reaches the threshold. If fewer than two
    groups remain to be shown, ``dropped`` is set.
    """
    present = {g: n for g, n in sizes.items() if n > 0}
    small = [g for g, n in present.items() if n < threshold]
    merged = list(small)
    if merged:
        rest = [g for g in present if g not in merged]
        while sum(present[g] for g in merged) < threshold and rest:
            smallest = min(reversed(rest), key=lambda g: present[g])
            rest.remove(smallest)
            merged.append(smallest)
    shown = [g for g in present if g not in merged]
    if merged:
        shown.append(OTHER_GROUP)
    dropped = len(shown) < 2 or (bool(merged) and sum(present[g] for g in merged) < threshold)
    return GroupPlan(shown=tuple(shown), merged=tuple(merged), small=tuple(small), dropped=dropped)


def protect_cells(values: Mapping[K, int], lines: Sequence[Sequence[K]],
                  threshold: int) -> Protection[K]:
    """Primary and secondary suppression of ``values`` (see the module docstring).

    Parameters
    ----------
    values
        Every cell of the table that may be suppressed, in table order (the
        order breaks ties). Cells that are published whatever their size
        (item non-response) are not passed: they are known totals.
    lines
        Each published total, as the cells it adds up. Lines of fewer than
        two cells are ignored: they protect nothing.
    threshold
        Counts from 1 to ``threshold`` − 1 are primary suppressed.
    """
    order = {key: index for index, key in enumerate(values)}
    status: dict[K, Status] = {
        key: ("primary" if 0 < value < threshold else "published") for key, value in values.items()
    }
    usable = [list(dict.fromkeys(k for k in line if k in order)) for line in lines]
    usable = [line for line in usable if len(line) >= 2]
    through: dict[K, list[list[K]]] = {key: [] for key in values}
    for line in usable:
        for key in line:
            through[key].append(line)

    def suppressed_in(line: Sequence[K]) -> int:
        return sum(status[k] != "published" for k in line)

    def best_partner(line: Sequence[K]) -> K | None:
        # Prefer a cell that also completes another line left with one suppressed cell
        # (a rectangle rather than a cascade), then the smallest, then the earliest.
        free = [k for k in line if status[k] == "published"]
        if not free:
            return None
        return min(free, key=lambda k: (-sum(suppressed_in(other) == 1 for other in through[k]),
                                        values[k], order[k]))

    unprotectable: set[K] = set()
    while True:
        lonely = next((line for line in usable if suppressed_in(line) == 1
                       and best_partner(line) is not None), None)
        if lonely is not None:
            partner = best_partner(lonely)
            assert partner is not None
            status[partner] = "secondary"
            continue
        progressed = False
        hidden = [k for k in values if status[k] != "published"]
        for key in recoverable(hidden, usable):
            if status[key] != "primary" or key in unprotectable:
                continue
            candidates = [c for line in through[key] if (c := best_partner(line)) is not None]
            if candidates:
                status[min(candidates, key=lambda k: (values[k], order[k]))] = "secondary"
                progressed = True
                break
            unprotectable.add(key)
        if not progressed:
            break
    return Protection(status=status, unprotectable=frozenset(unprotectable))


def recoverable(suppressed: Sequence[K], lines: Sequence[Sequence[K]]) -> list[K]:
    """The suppressed cells whose value follows from the published cells and line totals.

    With every published cell known, each line gives one linear equation in
    the suppressed cells. A cell is determined when its unit vector lies in the
    row space of those equations: adding it as one more row leaves the rank
    unchanged. (Bounds such as "a count is at least 0" are not used.)
    """
    import numpy as np

    if not suppressed:
        return []
    column = {k: i for i, k in enumerate(suppressed)}
    members = [set(line) for line in lines]
    rows = [[1.0 if k in line else 0.0 for k in suppressed]
            for line in members if any(k in column for k in line)]
    if not rows:
        return []
    matrix = np.array(rows)
    rank = np.linalg.matrix_rank(matrix)
    found = []
    for key in suppressed:
        unit = np.zeros((1, len(suppressed)))
        unit[0, column[key]] = 1.0
        if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
            found.append(key)
    return found
