"""The questionnaire as web pages: which items show, reading and checking a posted page.

Pure functions over the questionnaire model: no HTTP and no SQL, so the rules
(relevance, validation per item type, "other — please specify") are testable
on their own. Answers are ``item id → code / text`` (a list of codes for a
multiple choice); "other" texts are kept apart, ``item id → text``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from consult.questionnaire.model import OTHER_CODE, Item, ItemType, Questionnaire, Text
from consult.report.characters import printable
from consult.store.responses import AnswerRecord
from consult.web.strings import message

Answers = dict[str, str | list[str]]
OTHER_SUFFIX = "__other"
OTHER_MAX_LENGTH = 1000
PROFILE_TITLE: Text = {"en": "About you", "fr": "À propos de vous"}


@dataclass(frozen=True)
class Page:
    """One page of the form: the profile, or one domain."""

    id: str
    title: Text
    intro: Text | None
    items: tuple[Item, ...]


@dataclass
class PageInput:
    """A posted page, read and checked: its answers and one error per bad item."""

    values: Answers = field(default_factory=dict)
    others: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    raw: dict[str, list[str]] = field(default_factory=dict)  # as typed, to show back


def pages(questionnaire: Questionnaire) -> list[Page]:
    """The form's pages in order: the profile first, then one per domain."""
    found = []
    if questionnaire.profile:
        found.append(Page("profile", PROFILE_TITLE, None, tuple(questionnaire.profile)))
    found += [Page(d.id, d.title, d.intro, tuple(d.items)) for d in questionnaire.domains]
    return found


def is_shown(item: Item, answers: Answers) -> bool:
    """Whether ``item`` is asked, given the answers so far."""
    return item.relevant is None or item.relevant.evaluate(answers)


def hidden_items(questionnaire: Questionnaire, answers: Answers) -> list[str]:
    """Items hidden by their conditions, in order; a hidden item's answer counts as absent.

    Walking in order lets a hidden item hide the items that depend on it.
    """
    seen = dict(answers)
    hidden = []
    for item in questionnaire.items():
        if not is_shown(item, seen):
            seen.pop(item.id, None)
            hidden.append(item.id)
    return hidden


def answers_of(records: Iterable[AnswerRecord],
               questionnaire: Questionnaire) -> tuple[Answers, dict[str, str]]:
    """Stored answer rows back into answers and "other" texts."""
    values: Answers = {}
    others: dict[str, str] = {}
    types = {item.id: item.type for item in questionnaire.items()}
    for record in sorted(records, key=lambda r: (r.item_id, r.ordinal)):
        if types.get(record.item_id) is ItemType.MULTIPLE_CHOICE:
            codes = values.setdefault(record.item_id, [])
            assert isinstance(codes, list)
            codes.append(record.value)
        else:
            values[record.item_id] = record.value
        if record.other_text is not None:
            others[record.item_id] = record.other_text
    return values, others


def read_page(page: Page, form: Mapping[str, Sequence[str]], known: Answers,
              language: str, resolve_country: CountryResolver) -> PageInput:
    """Read and check the posted fields of ``page``; ``known`` are earlier pages' answers.

    Items hidden by a condition (evaluated on ``known`` plus this page's answers
    above them) are skipped: whatever was posted for them is ignored. Characters
    that no report could print (NUL and the other control characters but tab,
    newline and carriage return) are dropped as the page is read; a vertical tab
    or form feed, which text pasted from Word carries, becomes a newline.
    """
    result = PageInput()
    seen = dict(known)
    for item in page.items:
        typed = [printable(v) for v in form.get(item.id, [])]
        posted = [v for v in typed if v.strip() != ""]
        other = printable("".join(form.get(item.id + OTHER_SUFFIX, [])[:1]))
        result.raw[item.id] = typed
        result.raw[item.id + OTHER_SUFFIX] = [other]
        seen.pop(item.id, None)
        if not is_shown(item, seen):
            continue
        error = _check(item, posted, other, language, resolve_country, result)
        if error:
            result.errors[item.id] = error
        elif item.id in result.values:
            seen[item.id] = result.values[item.id]
    return result


class CountryResolver:
    """Turns a typed country name into an ISO3 code (``None`` when unknown)."""

    def __call__(self, text: str) -> str | None:
        from consult.regions import to_iso3

        return to_iso3(text)


def records_of(page: Page, values: Answers, others: Mapping[str, str]) -> list[AnswerRecord]:
    """The answer rows of ``page``: one per value, a multiple choice numbered in choice order."""
    rows = []
    for item in page.items:
        value = values.get(item.id)
        if value is None:
            continue
        if isinstance(value, list):
            order = item.choice_codes()
            for ordinal, code in enumerate(sorted(value, key=order.index)):
                rows.append(AnswerRecord(item.id, code, ordinal,
                                         others.get(item.id) if code == OTHER_CODE else None))
        else:
            rows.append(AnswerRecord(item.id, value, 0,
                                     others.get(item.id) if value == OTHER_CODE else None))
    return rows


def _check(item: Item, posted: list[str], other: str, language: str,
           resolve_country: CountryResolver, result: PageInput) -> str | None:
    """Store the item's value in ``result`` or return the error to show beside it."""
    if not posted:
        return message("required", language) if item.required else None
    if item.type is ItemType.MULTIPLE_CHOICE:
        codes = list(dict.fromkeys(posted))
        if any(code not in item.choice_codes() for code in codes):
            return message("bad_choice", language)
        exclusive = [c.code for c in item.choices or [] if c.exclusive]
        if len(codes) > 1 and any(code in exclusive for code in codes):
            return message("exclusive", language)
        value: str | list[str] = codes
    else:
        if len(posted) > 1:
            return message("one_answer", language)
        value = posted[0]
        if item.type.has_choices and value not in item.choice_codes():
            return message("bad_choice", language)
        if item.type is ItemType.NUMBER:
            number_error = _check_number(item, value, language)
            if number_error:
                return number_error
            number = float(value.strip().replace(",", "."))
            value = _plain(number)
        if item.type is ItemType.FREE_TEXT and len(value) > item.max_length:
            return message("too_long", language, limit=item.max_length)
        if item.type is ItemType.COUNTRY:
            if len(value) > 100:
                return message("too_long", language, limit=100)
            iso3 = resolve_country(value)
            if iso3 is None:
                return message("bad_country", language)
            value = iso3
    chosen = value if isinstance(value, list) else [value]
    if item.other and OTHER_CODE in chosen:
        if not other.strip():
            return message("specify", language)
        if len(other) > OTHER_MAX_LENGTH:
            return message("too_long", language, limit=OTHER_MAX_LENGTH)
        result.others[item.id] = other
    result.values[item.id] = value
    return None


def _check_number(item: Item, text: str, language: str) -> str | None:
    try:
        number = float(text.strip().replace(",", "."))
    except ValueError:
        return message("not_number", language)
    if number != number or number in (float("inf"), float("-inf")):
        return message("not_number", language)
    if item.integer and not number.is_integer():
        return message("not_integer", language)
    if (item.min is not None and number < item.min) or (item.max is not None and number > item.max):
        return message("out_of_range", language, low=_plain(item.min), high=_plain(item.max))
    return None


def _plain(number: float | None) -> str:
    if number is None:
        return "…"
    return str(int(number)) if number.is_integer() else str(number)
