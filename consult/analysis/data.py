"""The loaded responses, made ready for analysis: a fingerprint, conditions, groupings.

Analysis works on two tidy frames as :func:`consult.store.responses.load_responses`
returns them: ``respondents`` (one row a respondent: id, source, source_id,
region, country_iso3, submitted_at ...) and ``answers`` (respondent_id,
item_id, ordinal, value; a multiple-choice answer is one row a selected code).
Regions are re-derived from the countries under the current ``[regions]
scheme`` (:func:`with_regions`) before anything else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from consult.errors import SettingsError
from consult.questionnaire import Condition, ItemType, Questionnaire

if TYPE_CHECKING:
    import pandas as pd

NOT_STATED = "(not stated)"
"""The group of respondents without a value for the grouping."""

RESPONDENT_FIELDS = ("source", "source_id", "referral_code", "referred_by", "wave", "language",
                     "country_iso3", "region", "started_at", "submitted_at", "finished", "progress")
ANSWER_FIELDS = ("source", "source_id", "item_id", "ordinal", "value", "other_text")
_NULL = "\x01"


def data_sha256(respondents: pd.DataFrame, answers: pd.DataFrame) -> str:
    """SHA-256 of the included respondents and their answers, in canonical form.

    Respondents are sorted by (source, source_id) and answers by (source,
    source_id, item_id, ordinal); the database's own row ids are replaced by
    (source, source_id), so the hash does not depend on the backend or on the
    order of ingests. Each column, in the order of ``RESPONDENT_FIELDS`` then
    ``ANSWER_FIELDS``, contributes ``<name>\\n`` followed by its values as text
    joined by NUL and a final ``\\n``: NULL is U+0001, integers are decimal,
    booleans ``1``/``0``, times UTC ``YYYY-MM-DDTHH:MM:SS.ffffffZ``. A section
    header (``respondents\\n``, ``answers\\n``) precedes each table.
    """
    import pandas as pd

    people = respondents.sort_values(["source", "source_id"], kind="stable")
    keys = respondents.set_index("id")[["source", "source_id"]]
    long = answers.join(keys, on="respondent_id")
    long = long.sort_values(["source", "source_id", "item_id", "ordinal"], kind="stable")
    digest = hashlib.sha256()
    for title, frame, fields in (("respondents", people, RESPONDENT_FIELDS),
                                 ("answers", long, ANSWER_FIELDS)):
        digest.update(f"{title}\n".encode())
        for name in fields:
            column = frame[name] if name in frame.columns else pd.Series([None] * len(frame))
            digest.update(f"{name}\n".encode())
            digest.update(_joined_text(column).encode("utf-8"))
            digest.update(b"\n")
    return digest.hexdigest()


def with_regions(respondents: pd.DataFrame, scheme: str, root: Path | None = None) -> pd.DataFrame:
    """``respondents`` with each ``region`` derived from ``country_iso3`` under ``scheme``.

    The store keeps the region worked out at ingest, under the scheme of that
    day; analysis re-derives it from the stored ISO country code so that the
    current ``[regions] scheme`` is the one applied (and the one results.json
    records). A respondent without a country keeps the stored region.
    """
    from consult.regions import region_of

    if respondents.empty:
        return respondents
    countries = respondents["country_iso3"]
    known = {str(c): region_of(str(c), scheme, root) for c in countries.dropna().unique()
             if str(c)}
    derived = [known.get(str(c), stored) if isinstance(c, str) and c else stored
               for c, stored in zip(countries, respondents["region"], strict=True)]
    return respondents.assign(region=derived)


def answers_by_item(answers: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The answers split by item (respondent_id, ordinal, value), empty values left out."""
    kept = answers.loc[answers["value"].notna() & (answers["value"].astype(str) != ""),
                       ["respondent_id", "item_id", "ordinal", "value"]]
    return {str(item_id): frame.drop(columns="item_id")
            for item_id, frame in kept.groupby("item_id", sort=True)}


def applies_to(condition: Condition | None, by_item: Mapping[str, pd.DataFrame],
               everyone: frozenset[int]) -> frozenset[int]:
    """The respondents for whom ``condition`` holds (everyone when there is none).

    Same meaning as :meth:`consult.questionnaire.Condition.evaluate`, worked
    out on whole columns: ``equals`` needs exactly that one value (a multiple
    choice with more selections does not equal), ``not_equals`` needs an
    answer, a test on an unanswered item is false.
    """
    if condition is None:
        return everyone
    if condition.all_ is not None:
        result = everyone
        for part in condition.all_:
            result = result & applies_to(part, by_item, everyone)
        return result
    if condition.any_ is not None:
        found: frozenset[int] = frozenset()
        for part in condition.any_:
            found = found | applies_to(part, by_item, everyone)
        return found
    assert condition.item is not None
    frame = by_item.get(condition.item)
    if frame is None or frame.empty:
        present: frozenset[int] = frozenset()
        values = None
    else:
        present = frozenset(int(i) for i in frame["respondent_id"].unique())
        values = frame
    if condition.answered is not None:
        return (present if condition.answered else everyone - present) & everyone
    if values is None:
        return frozenset()

    def having(codes: list[str]) -> frozenset[int]:
        hit = values.loc[values["value"].astype(str).isin(codes), "respondent_id"]
        return frozenset(int(i) for i in hit.unique())

    if condition.selected is not None:
        return having([condition.selected]) & everyone
    if condition.in_ is not None:
        return having(list(condition.in_)) & everyone
    sizes = values.groupby("respondent_id").size()
    single = frozenset(int(i) for i in sizes.index[sizes == 1])
    if condition.equals is not None:
        return having([condition.equals]) & single & everyone
    assert condition.not_equals is not None
    return (present - (having([condition.not_equals]) & single)) & everyone


def describe_condition(condition: Condition | None) -> str | None:
    """A condition as short text: ``prog_specialized = yes``, ``all(a = x, b answered)``."""
    if condition is None:
        return None
    if condition.all_ is not None:
        return "all(" + ", ".join(describe_condition(c) or "" for c in condition.all_) + ")"
    if condition.any_ is not None:
        return "any(" + ", ".join(describe_condition(c) or "" for c in condition.any_) + ")"
    item = condition.item
    if condition.equals is not None:
        return f"{item} = {condition.equals}"
    if condition.not_equals is not None:
        return f"{item} ≠ {condition.not_equals}"
    if condition.in_ is not None:
        return f"{item} in ({', '.join(condition.in_)})"
    if condition.selected is not None:
        return f"{item} includes {condition.selected}"
    return f"{item} {'answered' if condition.answered else 'not answered'}"


def groupings_of(questionnaire: Questionnaire) -> list[str]:
    """What ``questionnaire`` can group respondents by: region and country (with a country
    item), then its single-choice profile items."""
    profile = questionnaire.profile
    places = ["region", "country"] if any(i.type is ItemType.COUNTRY for i in profile) else []
    return [*places, *(i.id for i in profile if i.type is ItemType.SINGLE_CHOICE)]


def check_groupings(names: list[str], questionnaire: Questionnaire, source: str) -> None:
    """Raise :class:`SettingsError` naming ``source`` (consult.toml) unless every grouping is usable.

    ``region`` and ``country`` need a country item: without one every
    respondent's region is "not stated", and a table of one group says nothing.
    """
    usable = groupings_of(questionnaire)
    country_items = {i.id for i in questionnaire.profile if i.type is ItemType.COUNTRY}
    wrong = [name for name in dict.fromkeys(names)
             if name not in usable and name not in country_items]
    if not wrong:
        return
    kept = [name for name in dict.fromkeys(names) if name not in wrong]
    listed = ", ".join(f'"{name}"' for name in kept)
    why = ("needs a country item, and the questionnaire has none"
           if wrong[0] in ("region", "country")
           else "is not a single-choice profile item of the questionnaire")
    allowed = (f"this questionnaire can group by: {', '.join(usable)}" if usable
               else "this questionnaire has no item to group by")
    raise SettingsError(
        f"{source}: [analysis] groupings: {wrong[0]!r} {why}; write groupings = [{listed}] "
        f"({allowed}; [] gives overall tables only)")


@dataclass(frozen=True)
class Grouping:
    """What respondents are crossed by: each respondent's group and the groups' order and labels."""

    name: str
    of: pd.Series
    order: tuple[str, ...]
    labels: Mapping[str, str]
    other_label: str
    item_id: str | None = None


def grouping(name: str, respondents: pd.DataFrame, by_item: Mapping[str, pd.DataFrame],
             questionnaire: Questionnaire, language: str | None = None) -> Grouping:
    """The grouping ``name``: ``region``, ``country`` or a single-choice profile item id.

    Respondents without a value are in the group ``(not stated)``. Regions and
    countries are ordered largest first (then by name), a profile item's groups
    in its choice order.

    Raises
    ------
    SettingsError
        When ``name`` is none of those.
    """
    import pandas as pd

    ids = respondents["id"].astype(int)
    country_items = {i.id for i in questionnaire.profile if i.type is ItemType.COUNTRY}
    if name in ("region", "country") or name in country_items:
        column = "region" if name == "region" else "country_iso3"
        values = pd.Series(respondents[column].to_numpy(), index=ids, dtype=object)
        values = values.where(values.notna() & (values.astype(str) != ""), NOT_STATED).astype(str)
        sizes = values.value_counts()
        order = tuple(sorted(sizes.index, key=lambda g: (g == NOT_STATED, -int(sizes[g]), g)))
        if column == "region":
            labels = {g: g for g in order}
            other = "Other regions"
        else:
            from consult.regions import country_name

            labels = {g: country_name(g) for g in order}
            other = "Other countries"
        labels[NOT_STATED] = "Not stated"
        return Grouping(name, values, order, labels, other)
    choices = {i.id: i for i in questionnaire.profile if i.type is ItemType.SINGLE_CHOICE}
    if name not in choices:
        allowed = ", ".join(["region", "country", *choices]) or "region, country"
        raise SettingsError(f"[analysis] groupings: {name!r} cannot group respondents; use one of "
                            f"{allowed} (single-choice profile items)")
    item = choices[name]
    frame = by_item.get(name)
    values = pd.Series(NOT_STATED, index=ids, dtype=object)
    if frame is not None and not frame.empty:
        first = frame.sort_values("ordinal").drop_duplicates("respondent_id")
        given = pd.Series(first["value"].astype(str).to_numpy(),
                          index=first["respondent_id"].astype(int))
        given = given[given.index.isin(ids)]
        values.loc[given.index] = given
    codes = item.choice_codes()
    values = values.where(values.isin([*codes, NOT_STATED]), NOT_STATED).astype(str)
    labels = {c.code: questionnaire.text(c.label, language) for c in item.choices or []}
    labels.setdefault("other", "Other")
    labels[NOT_STATED] = "Not stated"
    order = (*codes, NOT_STATED)
    return Grouping(name, values, order, labels, "Other groups", item_id=name)


def _joined_text(column: pd.Series) -> str:
    """A column's values as canonical text joined by NUL (see :func:`data_sha256`)."""
    import pandas as pd

    missing = column.isna()
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        text = pd.to_datetime(column, utc=True).dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    elif pd.api.types.is_bool_dtype(column.dtype):
        text = column.map({True: "1", False: "0"})
    elif pd.api.types.is_integer_dtype(column.dtype):
        text = column.astype(str)
    elif pd.api.types.is_float_dtype(column.dtype):
        text = column.astype("Int64").astype(str)
    else:
        text = column
    values = text.where(~missing, _NULL).tolist()
    try:
        return "\x00".join(values)
    except TypeError:  # not all text: write each value by the rules
        return "\x00".join(_NULL if gap else _one_text(v)
                            for v, gap in zip(values, missing.tolist(), strict=True))


def _one_text(value: object) -> str:
    from datetime import UTC, datetime

    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return str(value)
