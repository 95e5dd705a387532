"""Closed items over everyone they applied to: counts, percentages, intervals, summaries.

Every function takes tidy answers (``respondent_id``, ``item_id``,
``value``; ``ordinal`` when present) so that it works on any source, not only
the store. Meanings (docs/analysis.md):

- *applied*: the respondents whose answers made the item's ``relevant``
  condition true (everyone when it has none). This is the base of every
  figure; answers from respondents the item did not apply to are left out and
  counted in a note.
- *answered*: applied and gave at least one valid code, "don't know"
  included; *missing*: applied and gave none. "Don't know" and missing are
  kept apart from the substantive answers and from each other.
- ``pct_answered`` has the answered as its base (so "don't know" is a row of
  it); ``pct_applied`` has the applied as its base (so missing is a row).
- Multiple choice: each choice's count is the respondents selecting it; its
  percentages use the same bases, so they do not sum to 100.
- Likert: the median is the category holding the middle answer of the
  ordered scale, "don't know" left out (the lower one when the middle falls
  between two categories); percent agreeing counts the item's ``agree``
  codes over those who answered ("don't know" included).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from consult.analysis.percent import PercentRule, share
from consult.analysis.stats import wilson_interval
from consult.questionnaire import Item, ItemType
from consult.results.model import AnswerRow, LikertSummary, NumberSummary, Overall

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

CLOSED_TYPES = (ItemType.SINGLE_CHOICE, ItemType.MULTIPLE_CHOICE, ItemType.LIKERT, ItemType.NUMBER)
MISSING = "(missing)"


def tabulate_item(answers: pd.DataFrame, item: Item, respondents: Iterable[int],
                  rule: PercentRule | None = None) -> pd.DataFrame:
    """One choice item over ``respondents`` (those it applied to), as a tidy frame.

    Parameters
    ----------
    answers
        Tidy answers: ``respondent_id``, ``item_id``, ``value`` (and
        ``ordinal``); rows of other items and of other respondents are ignored.
    item
        A single-choice, multiple-choice or Likert item.
    respondents
        The ids of everyone the item applied to: the base of ``pct_applied``.
    rule
        How percentages are written (default: rounded to one decimal).

    Returns
    -------
    pandas.DataFrame
        One row per choice code (questionnaire order, ``other`` after the
        choices) and a last row ``(missing)``, with columns ``item_id``,
        ``code``, ``kind`` (``answer``, ``dont_know``, ``missing``),
        ``count``, ``n_answered``, ``n_applied``, ``pct_answered``,
        ``pct_applied`` (strings as printed), ``share_answered``, ``ci_low``,
        ``ci_high`` (Wilson 95% of ``share_answered``).
    """
    import pandas as pd

    if not item.type.has_choices:
        raise ValueError(f"tabulate_item: {item.id} is a {item.type.value} item, not a choice item")
    applied = frozenset(int(r) for r in respondents)
    frame = answers.loc[answers["item_id"] == item.id]
    overall = overall_choice(choice_answers(frame, item, applied), item, len(applied),
                             rule or PercentRule())
    records = [{"item_id": item.id, **row.model_dump(), "n_answered": overall.n_answered,
                "n_applied": overall.n_applied} for row in overall.rows]
    columns = ["item_id", "code", "kind", "count", "n_answered", "n_applied", "pct_answered",
               "pct_applied", "share_answered", "ci_low", "ci_high"]
    return pd.DataFrame.from_records(records, columns=columns)


def choice_answers(frame: pd.DataFrame, item: Item, applied: frozenset[int]) -> pd.DataFrame:
    """The valid answers of ``item`` by the respondents it applied to: ``respondent_id``, ``code``.

    A single-choice or Likert item keeps one answer a respondent (the first by
    ``ordinal``); a multiple-choice item one row a respondent and code.
    Values that are not codes of the item are dropped.
    """
    import pandas as pd

    if frame.empty:
        return pd.DataFrame({"respondent_id": pd.Series(dtype="int64"),
                             "code": pd.Series(dtype=object)})
    kept = frame.assign(respondent_id=frame["respondent_id"].astype("int64"),
                        code=frame["value"].astype(str))
    kept = kept.loc[kept["respondent_id"].isin(applied) & kept["code"].isin(item.choice_codes())]
    if "ordinal" in kept.columns:
        kept = kept.sort_values(["respondent_id", "ordinal"], kind="stable")
    if item.type is ItemType.MULTIPLE_CHOICE:
        kept = kept.drop_duplicates(["respondent_id", "code"])
    else:
        kept = kept.drop_duplicates("respondent_id")
    return kept[["respondent_id", "code"]].reset_index(drop=True)


def overall_choice(valid: pd.DataFrame, item: Item, n_applied: int, rule: PercentRule,
                   n_not_applicable: int = 0, notes: Sequence[str] = ()) -> Overall:
    """:class:`Overall` of a choice item from its :func:`choice_answers`."""
    counts = {code: 0 for code in item.choice_codes()}
    for code, count in valid["code"].value_counts().items():
        counts[str(code)] = int(count)
    n_answered = int(valid["respondent_id"].nunique())
    rows = answer_rows(counts, item, n_answered, n_applied, rule)
    dont_know = dont_know_codes(item)
    if item.type is ItemType.MULTIPLE_CHOICE:
        # A respondent who chose "don't know" chose nothing else (it is exclusive).
        n_dont_know = int(valid.loc[valid["code"].isin(dont_know), "respondent_id"].nunique())
    else:
        n_dont_know = sum(counts[c] for c in dont_know)
    likert = likert_summary(counts, item, n_answered, rule) if item.type is ItemType.LIKERT else None
    return Overall(n_applied=n_applied, n_not_applicable=n_not_applicable, n_answered=n_answered,
                   n_missing=n_applied - n_answered, n_dont_know=n_dont_know, rows=rows,
                   likert=likert, number=None, notes=list(notes))


def overall_number(values: pd.Series, n_applied: int, n_not_applicable: int = 0,
                   notes: Sequence[str] = ()) -> Overall:
    """:class:`Overall` of a number item from its numeric answers (one a respondent)."""
    n = int(values.size)
    return Overall(n_applied=n_applied, n_not_applicable=n_not_applicable, n_answered=n,
                   n_missing=n_applied - n, n_dont_know=0, rows=[], likert=None,
                   number=number_summary(values.to_numpy(dtype=float)), notes=list(notes))


def number_values(frame: pd.DataFrame, applied: frozenset[int]) -> tuple[pd.Series, int]:
    """Numeric answers (index: respondent id) of the applied, and how many were not numbers."""
    import pandas as pd

    if frame.empty:
        return pd.Series(dtype=float), 0
    kept = frame.loc[frame["respondent_id"].astype("int64").isin(applied)]
    if "ordinal" in kept.columns:
        kept = kept.sort_values(["respondent_id", "ordinal"], kind="stable")
    kept = kept.drop_duplicates("respondent_id")
    numbers = pd.to_numeric(kept["value"], errors="coerce")
    values = pd.Series(numbers.to_numpy(dtype=float), index=kept["respondent_id"].astype("int64"))
    return values.dropna(), int(numbers.isna().sum())


def answer_rows(counts: Mapping[str, int], item: Item, n_answered: int, n_applied: int,
                rule: PercentRule) -> list[AnswerRow]:
    """One :class:`AnswerRow` a code, then the missing row."""
    codes = list(counts)
    values = [counts[c] for c in codes]
    n_missing = n_applied - n_answered
    partition = item.type is not ItemType.MULTIPLE_CHOICE
    if partition:
        pct_answered = rule.distribution(values, n_answered)
        pct_applied = rule.distribution([*values, n_missing], n_applied)
    else:
        pct_answered = [rule.format(v, n_answered) for v in values]
        pct_applied = [rule.format(v, n_applied) for v in [*values, n_missing]]
    dont_know = dont_know_codes(item)
    rows = []
    for index, code in enumerate(codes):
        interval = wilson_interval(values[index], n_answered)
        rows.append(AnswerRow(
            code=code, kind="dont_know" if code in dont_know else "answer", count=values[index],
            pct_answered=pct_answered[index], pct_applied=pct_applied[index],
            share_answered=share(values[index], n_answered),
            ci_low=interval[0] if interval else None, ci_high=interval[1] if interval else None))
    rows.append(AnswerRow(code=MISSING, kind="missing", count=n_missing, pct_answered=None,
                          pct_applied=pct_applied[-1], share_answered=None, ci_low=None,
                          ci_high=None))
    return rows


def likert_summary(counts: Mapping[str, int], item: Item, n_answered: int, rule: PercentRule, *,
                   withhold_n: bool = False) -> LikertSummary:
    """Median (on the scale, "don't know" left out) and agreement of a Likert item.

    ``withhold_n`` leaves out ``n_substantive`` (when a suppressed "don't know"
    count would follow from it).
    """
    scale = [c.code for c in item.choices or [] if not c.dont_know]
    on_scale = [counts.get(code, 0) for code in scale]
    n = sum(on_scale)
    median, position = ordinal_median(on_scale)
    agree_count = sum(counts.get(code, 0) for code in item.agree or [])
    interval = wilson_interval(agree_count, n_answered)
    return LikertSummary(
        n_substantive=None if withhold_n else n,
        median=scale[median] if median is not None else None, median_position=position,
        agree_count=agree_count, pct_agree=rule.format(agree_count, n_answered),
        share_agree=share(agree_count, n_answered),
        ci_low=interval[0] if interval else None, ci_high=interval[1] if interval else None)


def ordinal_median(counts: Sequence[int]) -> tuple[int | None, float | None]:
    """(index of the category holding the lower median, median of the 1-based positions)."""
    n = sum(counts)
    if n == 0:
        return None, None

    def position_at(rank: int) -> int:  # 0-based rank in the ordered answers
        seen = 0
        for index, count in enumerate(counts):
            seen += count
            if rank < seen:
                return index
        raise AssertionError("rank beyond the answers")

    lower, upper = position_at((n - 1) // 2), position_at(n // 2)
    return lower, (lower + upper) / 2 + 1


def number_summary(values: np.ndarray) -> NumberSummary:
    """Mean, SD (n − 1), median and quartiles (linear interpolation, R's type 7)."""
    import numpy as np

    n = int(values.size)
    if n == 0:
        return NumberSummary(n=0, mean=None, sd=None, median=None, q1=None, q3=None)
    q1, median, q3 = (float(v) for v in np.percentile(values, [25, 50, 75]))
    return NumberSummary(n=n, mean=float(values.mean()),
                         sd=float(values.std(ddof=1)) if n > 1 else None,
                         median=median, q1=q1, q3=q3)


def dont_know_codes(item: Item) -> list[str]:
    """The item's "don't know" codes."""
    return [c.code for c in item.choices or [] if c.dont_know]
