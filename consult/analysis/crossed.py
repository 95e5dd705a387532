"""Closed items crossed by a grouping (region, role ...), protected, with their tests.

A crossed table shows each group's answers. Before anything is shown, the
groups are planned by :func:`consult.analysis.disclosure.merge_small_groups`
(no group below the threshold on its own; sizes counted among the respondents
the item applied to), and the cells are protected by
:func:`consult.analysis.disclosure.protect_cells` against the totals a reader
knows: each group's number of answers (a row), each code's overall count (a
column, published unsuppressed in the item's overall table), each group's
number agreeing (Likert), and for multiple choice each group's "selected" +
"not selected" = its answers. Missing answers are published as they are: they
are the difference of two published totals.

Tests use the groups as shown (merged), substantive answers only ("don't
know" and missing left out). Their Holm adjustment happens once every item is
done (:func:`apply_holm`).
"""

from __future__ import annotations

import zlib
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, cast

from consult.analysis.closed import MISSING, dont_know_codes, likert_summary, number_summary
from consult.analysis.data import Grouping
from consult.analysis.disclosure import (
    OTHER_GROUP,
    GroupPlan,
    Status,
    merge_small_groups,
    protect_cells,
)
from consult.analysis.percent import PercentRule, share
from consult.analysis.stats import StatResult, association_test, holm, kruskal_test, wilson_interval
from consult.questionnaire import Item, ItemType
from consult.results.model import (
    Cell,
    CrossTable,
    Group,
    GroupSummary,
    ItemResult,
    Kind,
    StatTest,
    TestName,
)
from consult.results.notes import note

if TYPE_CHECKING:
    import pandas as pd


def cross_choice(valid: pd.DataFrame, item: Item, applied: frozenset[int], grouping: Grouping,
                 rule: PercentRule, threshold: int) -> tuple[CrossTable | None, str | None]:
    """A choice item's crossed table by ``grouping``; (None, why) when it cannot be shown.

    ``valid`` is :func:`consult.analysis.closed.choice_answers` of the item.
    """
    of = _applied_groups(grouping, applied)
    plan = merge_small_groups(_sizes(of, grouping), threshold)
    if plan.dropped:
        return None, _dropped_note(grouping, threshold)
    target = _target(of, plan)
    answers = valid.assign(group=valid["respondent_id"].map(target))
    n_applied = target.value_counts()
    n_answered = answers.groupby("group")["respondent_id"].nunique()
    counted = answers.groupby(["group", "code"]).size()
    codes = item.choice_codes()
    shown = plan.shown
    count = {(g, c): int(counted.get((g, c), 0)) for g in shown for c in codes}
    answered = {g: int(n_answered.get(g, 0)) for g in shown}
    multiple = item.type is ItemType.MULTIPLE_CHOICE

    values: dict[Hashable, int] = {}
    lines: list[list[Hashable]] = []
    if multiple:
        values.update({(g, c, "selected"): count[g, c] for g in shown for c in codes})
        values.update({(g, c, "not"): answered[g] - count[g, c] for g in shown for c in codes})
        lines += [[(g, c, "selected"), (g, c, "not")] for g in shown for c in codes]
        lines += [[(g, c, "selected") for g in shown] for c in codes]
    else:
        values.update({(g, c, "selected"): count[g, c] for g in shown for c in codes})
        lines += [[(g, c, "selected") for c in codes] for g in shown]
        lines += [[(g, c, "selected") for g in shown] for c in codes]
        if item.type is ItemType.LIKERT and item.agree:
            lines += [[(g, c, "selected") for c in item.agree] for g in shown]
    protection = protect_cells(values, lines, threshold)

    dont_know = dont_know_codes(item)
    cells: list[Cell] = []
    summaries: list[GroupSummary] = []
    for g in shown:
        row = [count[g, c] for c in codes]
        # Multiple choice does not partition the answers: no largest remainder there.
        pcts = ([rule.format(v, answered[g]) for v in row] if multiple
                else rule.distribution(row, answered[g]))
        for c, value, pct in zip(codes, row, pcts, strict=True):
            status = protection.status[(g, c, "selected")]
            kind: Kind = "dont_know" if c in dont_know else "answer"
            cells.append(_cell(g, c, kind, value, pct, answered[g], status, threshold))
        missing = int(n_applied.get(g, 0)) - answered[g]
        cells.append(Cell(group=g, code=MISSING, kind="missing", count=missing, display=str(missing),
                          pct_answered=None, share_answered=None, ci_low=None, ci_high=None,
                          suppressed=None))
        if item.type is ItemType.LIKERT:
            hidden_dk = any(protection.suppressed((g, c, "selected")) for c in dont_know)
            summaries.append(GroupSummary(group=g, likert=likert_summary(
                {c: count[g, c] for c in codes}, item, answered[g], rule, withhold_n=hidden_dk)))

    tests = _choice_tests(answers, item, grouping.name)
    primary, secondary = protection.counts
    notes = _plan_notes(plan, grouping, threshold)
    if protection.unprotectable:
        notes.append(note("unprotectable", n=len(protection.unprotectable)))
    table = CrossTable(grouping=grouping.name, groups=_groups(plan, grouping, n_applied, n_answered),
                       cells=cells, summaries=summaries, tests=tests, suppressed_primary=primary,
                       suppressed_secondary=secondary, notes=notes)
    return table, None


def cross_number(values: pd.Series, applied: frozenset[int], grouping: Grouping,
                 threshold: int) -> tuple[CrossTable | None, str | None]:
    """A number item by ``grouping``: each shown group's summary and a Kruskal–Wallis test.

    Groups are planned by their number of answers (a median of three values
    points at people).
    """
    import pandas as pd

    of = _applied_groups(grouping, applied)
    answered_groups = of[of.index.isin(values.index)]
    plan = merge_small_groups(_sizes(answered_groups, grouping), threshold)
    if plan.dropped:
        return None, _dropped_note(grouping, threshold)
    target = _target(of, plan)
    frame = pd.DataFrame({"value": values, "group": values.index.map(target)})
    n_applied = target.value_counts()
    n_answered = frame.groupby("group")["value"].size()
    summaries = [GroupSummary(group=g, number=number_summary(
        frame.loc[frame["group"] == g, "value"].to_numpy(dtype=float))) for g in plan.shown]
    result = kruskal_test(frame, dv="value", between="group")
    tests = [_stat_test(result, None)] if result else []
    table = CrossTable(grouping=grouping.name, groups=_groups(plan, grouping, n_applied, n_answered),
                       cells=[], summaries=summaries, tests=tests, suppressed_primary=0,
                       suppressed_secondary=0, notes=_plan_notes(plan, grouping, threshold))
    return table, None


def apply_holm(items: Sequence[ItemResult]) -> list[ItemResult]:
    """Holm-adjust the p-values of every family: all tests, over all items, of one grouping."""
    families: dict[str, list[tuple[int, str, int]]] = {}
    for i, item in enumerate(items):
        for name, table in item.by.items():
            for t, _ in enumerate(table.tests):
                families.setdefault(name, []).append((i, name, t))
    adjusted: dict[tuple[int, str, int], tuple[float | None, int]] = {}
    for members in families.values():
        p_values = [items[i].by[name].tests[t].p_value for i, name, t in members]
        size = sum(p is not None for p in p_values)
        for key, p_holm in zip(members, holm(p_values), strict=True):
            adjusted[key] = (p_holm, size)
    result = []
    for i, item in enumerate(items):
        by = {}
        for name, table in item.by.items():
            tests = [test.model_copy(update={"p_holm": adjusted[i, name, t][0],
                                             "family_size": adjusted[i, name, t][1]})
                     for t, test in enumerate(table.tests)]
            by[name] = table.model_copy(update={"tests": tests})
        result.append(item.model_copy(update={"by": by}))
    return result


def seed_for(*parts: str) -> int:
    """A fixed seed for one test, from its item, grouping and choice."""
    return zlib.crc32("|".join(parts).encode("utf-8"))


# --------------------------------------------------------------------------- helpers


def _applied_groups(grouping: Grouping, applied: frozenset[int]) -> pd.Series:
    return grouping.of[grouping.of.index.isin(applied)]


def _sizes(of: pd.Series, grouping: Grouping) -> dict[str, int]:
    counts = of.value_counts()
    return {g: int(counts.get(g, 0)) for g in grouping.order}


def _target(of: pd.Series, plan: GroupPlan) -> pd.Series:
    return of.where(~of.isin(plan.merged), OTHER_GROUP)


def _cell(group: str, code: str, kind: Kind, value: int, pct: str | None, base: int,
          status: Status, threshold: int) -> Cell:
    if status != "published":
        return Cell(group=group, code=code, kind=kind, count=None,
                    display=f"<{threshold}" if status == "primary" else "x",
                    pct_answered=None, share_answered=None, ci_low=None, ci_high=None,
                    suppressed=status)
    interval = wilson_interval(value, base)
    return Cell(group=group, code=code, kind=kind, count=value,
                display=str(value), pct_answered=pct, share_answered=share(value, base),
                ci_low=interval[0] if interval else None, ci_high=interval[1] if interval else None,
                suppressed=None)


def _groups(plan: GroupPlan, grouping: Grouping, n_applied: pd.Series,
            n_answered: pd.Series) -> list[Group]:
    groups = []
    for g in plan.shown:
        applied, answered = int(n_applied.get(g, 0)), int(n_answered.get(g, 0))
        groups.append(Group(
            key=g, label=grouping.other_label if g == OTHER_GROUP else grouping.labels.get(g, g),
            n_applied=applied, n_answered=answered, n_missing=applied - answered,
            merged_from=list(plan.merged) if g == OTHER_GROUP else []))
    return groups


def _plan_notes(plan: GroupPlan, grouping: Grouping, threshold: int) -> list[str]:
    if not plan.merged:
        return []
    names = ", ".join(grouping.labels.get(g, g) for g in plan.merged)
    small = ", ".join(grouping.labels.get(g, g) for g in plan.small)
    return [note("merged_groups", other=grouping.other_label, names=names, small=small,
                 threshold=threshold, where="here")]


def _dropped_note(grouping: Grouping, threshold: int) -> str:
    return note("not_crossed", grouping=grouping.name, threshold=threshold)


def _choice_tests(answers: pd.DataFrame, item: Item, grouping: str) -> list[StatTest]:
    dont_know = dont_know_codes(item)
    substantive = answers.loc[~answers["code"].isin(dont_know)]
    tests: list[StatTest] = []
    if item.type is ItemType.MULTIPLE_CHOICE:
        import numpy as np
        import pandas as pd

        people = substantive.drop_duplicates("respondent_id")
        ids = people["respondent_id"].to_numpy()
        # Factorise once: comparing integer codes is far cheaper than comparing strings.
        index, uniques = pd.factorize(substantive["code"])
        who = substantive["respondent_id"].to_numpy()
        position = {str(code): k for k, code in enumerate(uniques)}
        for code in [c for c in item.choice_codes() if c not in dont_know]:
            picked = np.isin(ids, who[index == position[code]]) if code in position else \
                np.zeros(len(ids), dtype=bool)
            frame = pd.DataFrame({"group": people["group"].to_numpy(),
                                  "selected": np.where(picked, "selected", "not selected")})
            result = association_test(frame, "group", "selected",
                                      seed=seed_for(item.id, grouping, code))
            if result is not None:
                tests.append(_stat_test(result, code))
        return tests
    result = association_test(substantive, "group", "code", seed=seed_for(item.id, grouping))
    if result is not None:
        tests.append(_stat_test(result, None))
    if item.type is ItemType.LIKERT:
        scale = {c.code: i + 1 for i, c in enumerate(c for c in item.choices or [] if not c.dont_know)}
        ranked = substantive.assign(position=substantive["code"].map(scale))
        location = kruskal_test(ranked, dv="position", between="group")
        if location is not None:
            tests.append(_stat_test(location, None))
    return tests


def _stat_test(result: StatResult, choice: str | None) -> StatTest:
    return StatTest(test=cast(TestName, result.test), choice=choice, n=result.n,
                    statistic=result.statistic, p_value=result.p_value, p_holm=None, family_size=0,
                    dof=result.dof, chi2=result.chi2, p_chi2=result.p_chi2,
                    cramers_v=result.cramers_v, cells=result.cells,
                    expected_below_5=result.expected_below_5, min_expected=result.min_expected,
                    resamples=result.resamples, seed=result.seed, warning=result.warning)

