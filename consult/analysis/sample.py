"""Who answered: respondents by region, country, role and level, fielding dates, exclusions.

The one-way descriptions of the whole sample (by region, by role, by level of
responsibility) are given in full, as R-361 printed them ("Asia (3.7%)"),
with groups below the disclosure threshold flagged ``below_threshold``: those
groups are merged in every crossed table. Countries are protected: counts
below the threshold are suppressed, with secondary suppression against the
region totals and the grand total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from consult.analysis.data import NOT_STATED
from consult.analysis.disclosure import Protection, protect_cells
from consult.analysis.percent import PercentRule, share
from consult.questionnaire import ItemType, Questionnaire
from consult.results.model import CountRow, CountryRow, Fielding, Sample
from consult.results.notes import note

if TYPE_CHECKING:
    import pandas as pd


def describe_sample(respondents: pd.DataFrame, answers: Mapping[str, pd.DataFrame],
                    questionnaire: Questionnaire, exclusions: Mapping[str, int],
                    rule: PercentRule, threshold: int, language: str | None = None) -> Sample:
    """The sample section of results.json.

    Parameters
    ----------
    respondents
        The included respondents: ``id``, ``country_iso3``, ``region``,
        ``submitted_at``.
    answers
        Answers by item (:func:`consult.analysis.data.answers_by_item`), for
        the single-choice profile items (role, responsibility ...).
    exclusions
        Excluded responses by reason (``consult.store.responses.exclusion_counts``).
    rule, threshold
        Percent rule and disclosure threshold.
    """
    n = len(respondents)
    regions = _filled(respondents["region"])
    countries = _filled(respondents["country_iso3"])
    region_counts = regions.value_counts()
    region_order = sorted(region_counts.index,
                          key=lambda g: (g == NOT_STATED, -int(region_counts[g]), g))
    by_region = _count_rows([(g, _label(g), int(region_counts[g])) for g in region_order], n, rule,
                            threshold)
    by_country, country_notes = _by_country(countries, regions, region_order, n, rule, threshold)
    by_item: dict[str, list[CountRow]] = {}
    ids = set(respondents["id"].astype(int))
    for item in questionnaire.profile:
        if item.type is not ItemType.SINGLE_CHOICE:
            continue
        frame = answers.get(item.id)
        given: dict[str, int] = {}
        if frame is not None and not frame.empty:
            first = frame.loc[frame["respondent_id"].astype(int).isin(ids)]
            if "ordinal" in first.columns:
                first = first.sort_values(["respondent_id", "ordinal"], kind="stable")
            first = first.drop_duplicates("respondent_id")
            valid = first["value"].astype(str)
            given = {str(k): int(v) for k, v in
                     valid[valid.isin(item.choice_codes())].value_counts().items()}
        entries = [(c.code, questionnaire.text(c.label, language), given.get(c.code, 0))
                   for c in item.choices or []]
        if item.other:
            entries.append(("other", "Other", given.get("other", 0)))
        stated = sum(count for _, _, count in entries)
        if stated < n:
            entries.append((NOT_STATED, "Not stated", n - stated))
        by_item[item.id] = _count_rows(entries, n, rule, threshold)
    stamps = respondents["submitted_at"].dropna() if "submitted_at" in respondents else []
    fielding = Fielding(first_submitted_at=_iso(min(stamps)) if len(stamps) else None,
                        last_submitted_at=_iso(max(stamps)) if len(stamps) else None)
    notes = [note("sample_groups", threshold=threshold), *country_notes]
    return Sample(n_included=n, n_countries=int(countries[countries != NOT_STATED].nunique()),
                  n_regions=int(regions[regions != NOT_STATED].nunique()), by_region=by_region,
                  by_country=by_country, by_item=by_item, fielding=fielding,
                  exclusions={str(k): int(v) for k, v in sorted(exclusions.items())}, notes=notes)


# The row standing for the countries of a region that cannot be named (see _by_country).
OTHER_COUNTRIES = "(other)"


def _pinned_by_bounds(hidden: Sequence[tuple[str, str]], values: dict[tuple[str, str], int],
                      protection: Protection[tuple[str, str]], threshold: int) -> bool:
    """Whether a region's suppressed country counts follow from its total and their bounds.

    The rank test of :func:`protect_cells` uses the published totals alone; a
    reader also knows that a listed country has at least one respondent and a
    ``<5`` at most four. Two countries sharing a region total of 2 then have
    exactly one each; a region whose only suppressed country is small gives
    that country's count away. Such a region's suppressed countries are not
    named.
    """
    if not hidden:
        return False
    if len(hidden) == 1:
        # Its count is the region's total minus the published ones: a small one is not named
        # (a suppressed count of the threshold or more may follow from the totals).
        return protection.status[hidden[0]] == "primary"
    residual = sum(values[k] for k in hidden)  # the region total minus its published countries
    cap = {k: threshold - 1 if protection.status[k] == "primary" else residual for k in hidden}
    for key in hidden:
        others = [k for k in hidden if k != key]
        low = max(1, residual - sum(cap[k] for k in others))
        high = min(cap[key], residual - len(others))
        if low >= high:
            return True
    return False


def _count_rows(entries: Sequence[tuple[str, str, int]], n: int, rule: PercentRule,
                threshold: int) -> list[CountRow]:
    pcts = rule.distribution([count for _, _, count in entries], n)
    return [CountRow(key=key, label=label, count=count, pct=pct, share=share(count, n),
                     below_threshold=count < threshold)
            for (key, label, count), pct in zip(entries, pcts, strict=True)]


def _by_country(countries: pd.Series, regions: pd.Series, region_order: Sequence[str], n: int,
                rule: PercentRule, threshold: int) -> tuple[list[CountryRow], list[str]]:
    from consult.regions import country_name

    pairs = countries.to_frame("country").assign(region=regions.to_numpy())
    counts = pairs.groupby(["region", "country"]).size()
    values: dict[tuple[str, str], int] = {}
    for region in region_order:
        if region in counts.index.get_level_values(0):
            for country, count in sorted(counts[region].items(), key=lambda kv: (-kv[1], kv[0])):
                values[(region, str(country))] = int(count)
    lines = [[key for key in values if key[0] == region] for region in region_order]
    lines.append(list(values))
    protection = protect_cells(values, lines, threshold)
    unnamed = [r for r in region_order if _pinned_by_bounds(
        [k for k in values if k[0] == r and protection.suppressed(k)], values, protection,
        threshold)]
    rows: list[CountryRow] = []
    for region in region_order:
        keys = [k for k in values if k[0] == region]
        if region in unnamed:
            hidden = [k for k in keys if protection.suppressed(k)]
            keys = [k for k in keys if not protection.suppressed(k)]
            total = sum(values[k] for k in hidden)
            rows.append(CountryRow(
                country_iso3=OTHER_COUNTRIES, name=(f"{len(hidden)} other countries" if len(hidden) > 1
                                      else "1 other country"),
                region=_label(region), count=None, pct=None, share=None,
                display=f"<{threshold}" if total < threshold else "x",
                suppressed="primary" if total < threshold else "secondary"))
        # Suppressed countries go last, by name: their order must not hint at their size.
        keys.sort(key=lambda k: (protection.suppressed(k), -values[k] if not protection.suppressed(k)
                                 else 0, k[1]))
        for key in keys:
            status = protection.status[key]
            name = "Not stated" if key[1] == NOT_STATED else country_name(key[1])
            if status == "published":
                rows.append(CountryRow(country_iso3=key[1], name=name, region=_label(region),
                                       count=values[key], pct=rule.format(values[key], n),
                                       share=share(values[key], n), display=str(values[key]),
                                       suppressed=None))
            else:
                rows.append(CountryRow(country_iso3=key[1], name=name, region=_label(region),
                                       count=None, pct=None, share=None,
                                       display=f"<{threshold}" if status == "primary" else "x",
                                       suppressed=status))
    notes = []
    if unnamed:
        notes.append(note("countries_unnamed", regions=", ".join(_label(r) for r in unnamed)))
    alone = [r for r in region_order if r not in unnamed
             and len([k for k in values if k[0] == r]) == 1
             and protection.suppressed(next(k for k in values if k[0] == r))]
    if alone:
        notes.append(note("one_country", regions=", ".join(_label(r) for r in alone)))
    primary, secondary = protection.counts
    if primary or secondary:
        notes.append(note("countries_suppressed", primary=primary, secondary=secondary,
                          threshold=threshold))
    return rows, notes


def _filled(column: pd.Series) -> pd.Series:
    text = column.astype(object)
    return text.where(text.notna() & (text.astype(str) != ""), NOT_STATED).astype(str)


def _label(group: str) -> str:
    return "Not stated" if group == NOT_STATED else group


def _iso(moment: Any) -> str:
    value = moment.to_pydatetime() if hasattr(moment, "to_pydatetime") else moment
    if not isinstance(value, datetime):
        return str(value)
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
