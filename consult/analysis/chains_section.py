"""The ``chains`` section of results.json: referral chains as protected aggregates.

:func:`chains_section` rebuilds the recruitment trees from the respondents'
codes (:mod:`consult.analysis.chains`) and keeps only what may be published:
counts, distribution summaries and three two-way tables. No id, code or
per-respondent record leaves this module; a report draws its chain figures
from these aggregates alone.

Disclosure control
------------------
The tables follow the crossed tables' rules (:mod:`consult.analysis.disclosure`):
regions with fewer respondents in the chains than the threshold are merged
(:func:`~consult.analysis.disclosure.merge_small_groups`), late waves below it
are merged into one ``n+`` row, counts from 1 to threshold − 1 are suppressed
and further cells are suppressed (:func:`~consult.analysis.disclosure.protect_cells`)
until none of them can be worked out from what is published. The tables
describe the same people, so they are protected together, against:

- ``transitions``: its grand total and its diagonal (the same-region
  recruitments, published with the homophily index);
- ``composition``: each wave's total (``by_wave``) and each region's total
  (``sample.by_region``);
- both at once: for each region, its roots (the wave-0 cell of
  ``composition``) plus its column of ``transitions`` (its recruits whose
  recruiter's region is known) make the region's total. This is exact when
  every recruiter has a region and is treated as exact otherwise, which can
  only suppress more;
- ``recruiters_by_wave``: each wave's total, and the totals of
  ``recruits_distribution`` (who recruited no one, who recruited someone).

The row and column totals of ``transitions`` are not published: with the
regions' sizes they would give away how many roots each region has.

The homophily index adds one relation that is not linear: with the
recruitments ``T`` and the expected count ``E`` published, ``E·T = Σ r_g·c_g``
is a quadratic in the transition cells. When the suppressed transition cells
keep fewer than two degrees of freedom under the linear relations (with two
regions, always), that quadratic could pin them down, so the index and ``E``
are withheld then.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING

from consult.analysis.chains import (
    NOT_STATED,
    RecruitmentTrees,
    homophily,
    recruitment_trees,
    recruits_per_seed,
    transition_matrix,
)
from consult.analysis.closed import number_summary
from consult.analysis.disclosure import (
    OTHER_GROUP,
    GroupPlan,
    Protection,
    merge_small_groups,
    protect_cells,
)
from consult.analysis.percent import PercentRule, share
from consult.results.model import (
    ChainCell,
    ChainGroup,
    ChainHomophily,
    Chains,
    ChainTable,
    RecruitsCount,
    WaveCount,
)
from consult.results.notes import note

if TYPE_CHECKING:
    import pandas as pd

NO_CODES = ("no respondent carries a referral code: the responses came through open links, or "
            "from an export whose code column was not mapped to referral_code (docs/formats.md), "
            "so no referral chain can be rebuilt")
RECRUITED = "recruited"
NOT_RECRUITED = "not_recruited"
LABELS = {OTHER_GROUP: "Other regions", NOT_STATED: "Not stated",
          RECRUITED: "Recruited someone", NOT_RECRUITED: "Recruited no one"}

Key = tuple[str, str, str]
"""A cell of the protected tables: (table, row, column); table is ``t``, ``c`` or ``r``."""


def chains_section(respondents: pd.DataFrame, threshold: int, rule: PercentRule | None = None,
                   *, code_parents: Mapping[str, str | None] | None = None) -> Chains:
    """The referral chains of the included respondents, as results.json publishes them.

    Parameters
    ----------
    respondents
        The included respondents as :func:`consult.store.responses.load_responses`
        returns them (``id``, ``referral_code``, ``referred_by``, ``region``, ``wave``).
        Respondents with neither a code nor a referrer's code are left out and counted.
    threshold
        ``[disclosure] threshold``.
    rule
        How percentages are written.
    code_parents
        Issued code → parent code (:func:`consult.store.fielding.code_parents`),
        for responses that carry only their own code.
    """
    import numpy as np

    rule = rule or PercentRule()
    coded = _has_code(respondents)
    linked = respondents[coded]
    without = int((~coded).sum())
    if linked.empty:
        return Chains(available=False, reason=NO_CODES, n_without_code=without)
    trees = recruitment_trees(linked, code_parents=code_parents)
    nodes = trees.nodes
    n = len(nodes)
    depths = Counter(int(d) for d in nodes["depth"])
    by_wave = [WaveCount(wave=w, count=depths[w], pct=pct, share=share(depths[w], n))
               for w, pct in zip(sorted(depths), rule.distribution(
                   [depths[w] for w in sorted(depths)], n), strict=True)]
    recruits = [int(k) for k in nodes["recruits"]]
    distribution = _recruits_distribution(recruits, threshold, rule)
    seeds = recruits_per_seed(trees)
    seed_recruits = seeds.loc[seeds["root"] == "seed", "recruits"].to_numpy(dtype=float)
    tables = _Tables(trees, threshold, rule, distribution)
    notes = [*_flag_notes(nodes, trees, without), *tables.notes]
    return Chains(
        available=True, reason=None, n_respondents=n, n_without_code=without,
        seeds=int(nodes["is_seed"].sum()), roots=int(nodes["recruiter_id"].isna().sum()),
        recruited=int(nodes["recruiter_id"].notna().sum()),
        unknown_referrer=int(nodes["unknown_referrer"].sum()),
        cycles=len(trees.cycles), in_cycles=int(nodes["in_cycle"].sum()),
        shared_code=int(nodes["shared_code"].sum()),
        wave_mismatches=_wave_mismatches(nodes),
        longest_chain=max(depths), by_wave=by_wave,
        recruits_per_seed=number_summary(seed_recruits) if seed_recruits.size else None,
        recruits_per_respondent=number_summary(np.array(recruits, dtype=float)),
        recruits_distribution=distribution,
        transitions=tables.transitions, homophily=tables.homophily,
        composition=tables.composition, recruiters_by_wave=tables.recruiters,
        notes=notes)


class _Tables:
    """The three protected tables and the homophily index, built and protected together."""

    def __init__(self, trees: RecruitmentTrees, threshold: int, rule: PercentRule,
                 distribution: Sequence[RecruitsCount]) -> None:
        nodes = trees.nodes
        self.threshold, self.rule = threshold, rule
        self.notes: list[str] = []
        self.transitions: ChainTable | None = None
        self.homophily: ChainHomophily | None = None
        self.composition: ChainTable | None = None
        regions = [r if r is not None else NOT_STATED for r in nodes["region"]]
        sizes = Counter(regions)
        order = sorted(sizes, key=lambda g: (g == NOT_STATED, -sizes[g], g))
        plan = merge_small_groups({g: sizes[g] for g in order}, threshold)
        self._plan = plan
        depth_counts = Counter(int(d) for d in nodes["depth"])
        waves = _wave_groups(depth_counts, threshold)
        wave_of = {d: key for key, members in waves for d in members}
        wave_total = {key: sum(depth_counts[d] for d in members) for key, members in waves}
        wave_keys = [key for key, _ in waves]
        if len(waves) < len(depth_counts):
            last, members = waves[-1]
            self.notes.append(note("waves_merged", first=members[0], last=last,
                                   threshold=threshold))

        values: dict[Hashable, int] = {}
        lines: list[list[Hashable]] = []
        t_regions: list[str] = []
        shown: list[str] = []
        if plan.dropped:
            self.notes.append(note("no_regions_crossed", threshold=threshold))
        else:
            shown = list(plan.shown)
            t_regions = [g for g in shown if g != NOT_STATED]
            if len(t_regions) < 2:  # regions and "(not stated)": nothing crosses regions
                t_regions = []
                self.notes.append(note("one_region", threshold=threshold))
            mapped = [plan.target(r) if r is not None else None for r in nodes["region"]]
            merged = RecruitmentTrees(nodes=nodes.assign(region=mapped), cycles=trees.cycles)
            matrix = transition_matrix(merged)
            for g in t_regions:
                for h in t_regions:
                    present = g in matrix.index and h in matrix.columns
                    values[("t", g, h)] = int(matrix.loc[g, h]) if present else 0
            composition = Counter((wave_of[int(d)], plan.target(r))
                                  for d, r in zip(nodes["depth"], regions, strict=True))
            for w in wave_keys:
                for h in shown:
                    values[("c", w, h)] = composition[(w, h)]
            if t_regions:
                lines.append([("t", g, h) for g in t_regions for h in t_regions])
                lines.append([("t", g, g) for g in t_regions])
            lines += [[("c", w, h) for h in shown] for w in wave_keys]
            lines += [[("c", w, h) for w in wave_keys] for h in shown]
            lines += [[("c", wave_keys[0], h), *(("t", g, h) for g in t_regions)]
                      for h in t_regions]
            if plan.merged:
                names = ", ".join(LABELS.get(g, g) for g in plan.merged)
                small = ", ".join(LABELS.get(g, g) for g in plan.small)
                self.notes.append(note("merged_groups", other="Other regions", names=names,
                                       small=small, threshold=threshold, where="in the chains"))
            self._merged = merged
        recruited = Counter((wave_of[int(d)], RECRUITED if int(k) else NOT_RECRUITED)
                            for d, k in zip(nodes["depth"], nodes["recruits"], strict=True))
        for w in wave_keys:
            for column in (RECRUITED, NOT_RECRUITED):
                values[("r", w, column)] = recruited[(w, column)]
        lines += [[("r", w, RECRUITED), ("r", w, NOT_RECRUITED)] for w in wave_keys]
        lines += [[("r", w, column) for w in wave_keys] for column in (RECRUITED, NOT_RECRUITED)]
        protection = protect_cells(values, lines, threshold)
        if protection.unprotectable:
            self.notes.append(note("unprotectable", n=len(protection.unprotectable)))
        self._values, self._lines, self._protection = values, lines, protection

        wave_groups = [ChainGroup(key=key, label=key, total=wave_total[key],
                                  merged_from=[str(d) for d in members] if len(members) > 1 else [])
                       for key, members in waves]
        if t_regions:
            self.transitions = self._table(
                "t", [self._region(g, None) for g in t_regions],
                [self._region(g, None) for g in t_regions], None)
            self.homophily = self._homophily()
        if shown:
            self.composition = self._table(
                "c", wave_groups, [self._region(g, _size_of(plan, sizes, g)) for g in shown],
                wave_total)
        distributed = {row.recruits: row for row in distribution}
        nobody = distributed[0].count if 0 in distributed and not distributed[0].or_more else None
        everyone = sum(wave_total.values())
        columns = [ChainGroup(key=RECRUITED, label=LABELS[RECRUITED],
                              total=everyone - nobody if nobody is not None else None,
                              merged_from=[]),
                   ChainGroup(key=NOT_RECRUITED, label=LABELS[NOT_RECRUITED], total=nobody,
                              merged_from=[])]
        self.recruiters = self._table("r", wave_groups, columns, wave_total)

    def _region(self, key: str, total: int | None) -> ChainGroup:
        plan: GroupPlan = self._plan
        return ChainGroup(key=key, label=LABELS.get(key, key), total=total,
                          merged_from=list(plan.merged) if key == OTHER_GROUP else [])

    def _table(self, name: str, rows: list[ChainGroup], columns: list[ChainGroup],
               row_totals: Mapping[str, int] | None) -> ChainTable:
        protection: Protection[Hashable] = self._protection
        keys: list[Key] = [(name, r.key, c.key) for r in rows for c in columns]
        total = sum(self._values[k] for k in keys)
        cells: list[ChainCell] = []
        for row in rows:
            counts = [self._values[(name, row.key, c.key)] for c in columns]
            base = row_totals[row.key] if row_totals is not None else total
            pcts = self.rule.distribution(counts, base)
            for column, count, pct in zip(columns, counts, pcts, strict=True):
                status = protection.status[(name, row.key, column.key)]
                if status == "published":
                    cells.append(ChainCell(row=row.key, column=column.key, count=count,
                                           display=str(count), pct=pct, share=share(count, base),
                                           suppressed=None))
                else:
                    cells.append(ChainCell(row=row.key, column=column.key, count=None,
                                           display=f"<{self.threshold}" if status == "primary"
                                           else "x", pct=None, share=None, suppressed=status))
        primary = sum(protection.status[k] == "primary" for k in keys)
        secondary = sum(protection.status[k] == "secondary" for k in keys)
        notes = []
        if primary or secondary:
            notes.append(note("suppressed", primary=primary, secondary=secondary,
                              threshold=self.threshold))
        return ChainTable(rows=rows, columns=columns, cells=cells, total=total,
                          suppressed_primary=primary, suppressed_secondary=secondary, notes=notes)

    def _homophily(self) -> ChainHomophily:
        h = homophily(self._merged)
        recruitments, observed = h.transitions, h.observed_same
        notes = []
        index, expected = h.index, (h.expected_same if recruitments else None)
        if index is None:
            notes.append(note("no_homophily"))
        elif _pinned_by_expected(self._values, self._lines, self._protection):
            index, expected = None, None
            notes.append(note("homophily_withheld"))
        if self._plan.merged:
            notes.append(note("homophily_merged"))
        return ChainHomophily(index=index, observed_same=observed, expected_same=expected,
                              recruitments=recruitments,
                              pct_same=self.rule.format(observed, recruitments),
                              share_same=share(observed, recruitments), notes=notes)


# --------------------------------------------------------------------------- helpers


def _size_of(plan: GroupPlan, sizes: Mapping[str, int], group: str) -> int:
    """The respondents of a shown group (``(other)``: of every group it gathers)."""
    if group == OTHER_GROUP:
        return sum(sizes[g] for g in plan.merged)
    return sizes[group]


def _has_code(respondents: pd.DataFrame) -> pd.Series:
    def filled(column: str) -> pd.Series:
        if column not in respondents.columns:
            import pandas as pd

            return pd.Series(False, index=respondents.index)
        values = respondents[column]
        return values.notna() & (values.astype(str).str.strip() != "")

    return filled("referral_code") | filled("referred_by")


def _wave_groups(counts: Mapping[int, int], threshold: int) -> list[tuple[str, tuple[int, ...]]]:
    """Each depth its own row, the deepest merged (``3+``) while they are below the threshold."""
    groups = [[d] for d in sorted(counts)]
    while len(groups) > 1 and sum(counts[d] for d in groups[-1]) < threshold:
        last = groups.pop()
        groups[-1] += last
    return [(str(g[0]) if len(g) == 1 else f"{g[0]}+", tuple(g)) for g in groups]


def _recruits_distribution(recruits: Sequence[int], threshold: int,
                           rule: PercentRule) -> list[RecruitsCount]:
    counts = Counter(recruits)
    rows = [[k] for k in range(max(recruits) + 1)]
    while len(rows) > 1 and sum(counts[k] for k in rows[-1]) < threshold:
        last = rows.pop()
        rows[-1] += last
    n = len(recruits)
    totals = [sum(counts[k] for k in row) for row in rows]
    return [RecruitsCount(recruits=row[0], or_more=len(row) > 1, count=total, pct=pct,
                          share=share(total, n))
            for row, total, pct in zip(rows, totals, rule.distribution(totals, n), strict=True)]


def _pinned_by_expected(values: Mapping[Hashable, int], lines: Sequence[Sequence[Hashable]],
                        protection: Protection[Hashable]) -> bool:
    """Whether the suppressed transition cells keep fewer than two degrees of freedom.

    With every published cell known, each line is an equation in the suppressed
    cells; their solutions are a particular one plus the null space of those
    equations. Projected on the transition cells, a null space of dimension 0
    or 1 leaves the quadratic ``E·T = Σ r_g·c_g`` at most two solutions.
    """
    import numpy as np

    hidden = [k for k in values if protection.suppressed(k)]
    transition = [i for i, k in enumerate(hidden) if isinstance(k, tuple) and k[0] == "t"]
    if not transition:
        return False
    members = [set(line) for line in lines]
    rows = [[1.0 if k in line else 0.0 for k in hidden] for line in members
            if any(k in line for k in hidden)]
    if rows:
        matrix = np.array(rows)
        rank = int(np.linalg.matrix_rank(matrix))
        null = np.linalg.svd(matrix)[2][rank:].T
    else:
        null = np.eye(len(hidden))
    if null.size == 0:
        return True
    return int(np.linalg.matrix_rank(null[transition, :])) < 2


def _wave_mismatches(nodes: pd.DataFrame) -> int:
    known = nodes[nodes["wave"].notna()]
    return int(sum(int(w) != int(d) for w, d in zip(known["wave"], known["depth"], strict=True)))


def _flag_notes(nodes: pd.DataFrame, trees: RecruitmentTrees, without: int) -> list[str]:
    notes = []
    unknown = int(nodes["unknown_referrer"].sum())
    if unknown:
        notes.append(note("unknown_referrer", n=unknown))
    if trees.cycles:
        notes.append(note("loops", n=len(trees.cycles), members=int(nodes["in_cycle"].sum())))
    shared = int(nodes["shared_code"].sum())
    if shared:
        notes.append(note("shared_codes", n=shared))
    mismatched = _wave_mismatches(nodes)
    if mismatched:
        notes.append(note("wave_mismatch", n=mismatched))
    if without:
        notes.append(note("no_code", n=without))
    return notes
