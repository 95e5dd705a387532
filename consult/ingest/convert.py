"""Rows of a source table into canonical respondent records, each problem located.

Values become choice codes (by code, by label in any language, by the
mapping's recodings, or by position for platforms that number choices),
numbers, ISO3 countries and verbatim text. Nothing here touches the store.
"""

from __future__ import annotations

import difflib
import hashlib
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from itertools import chain, compress
from typing import Any, cast

from consult.errors import Issue
from consult.ingest.mapping import (
    Mapping,
    QuestionMapping,
    choice_lookup,
    choice_position,
    is_other_label,
    normalise_label,
)
from consult.ingest.sources.base import SourceTable
from consult.questionnaire import Item, ItemType, Questionnaire
from consult.questionnaire.model import OTHER_CODE
from consult.regions import country_suggestions, region_of, to_iso3
from consult.store.responses import AnswerRecord, RespondentRecord, normal_code

_ANSWER_ORDER = operator.itemgetter(0, 2)  # (item_id, ordinal) of an AnswerRecord
FALSE_CELLS = {"", "0", "false", "no", "n", "non", "not selected"}


@dataclass
class Converted:
    """One source row, converted."""

    record: RespondentRecord
    row: int
    status: str
    said: tuple[str, ...] = ()  # the response-level fields its fingerprint covers, as read


class RowConverter:
    """Converts the rows of one table with one mapping; collects issues as it goes."""

    def __init__(self, table: SourceTable, mapping: Mapping, questionnaire: Questionnaire,
                 region_scheme: str, source: str, root: Any = None,
                 zone: tzinfo = UTC) -> None:
        self.table = table
        self.mapping = mapping
        self.questionnaire = questionnaire
        self.scheme = region_scheme
        self.root = root
        self.source = source
        self.file = table.path.name
        self.zone = zone
        """The time zone of dates written without one ([ingest] timezone)."""
        self.issues: list[Issue] = []
        self._meta = {c.meta: c.index for c in table.columns if c.meta}
        by_name = {c.name: c.index for c in table.columns}
        if mapping.referral_code in by_name:
            self._meta["referral_code"] = by_name[str(mapping.referral_code)]
        if mapping.referred_by in by_name:
            self._meta["referred_by"] = by_name[str(mapping.referred_by)]
        self._plans = [self._plan(q, by_name) for q in mapping.questions.values() if q.item]
        self._known = {item.id: _known_values(item, mapping.values.get(item.id, {}))
                       for item in questionnaire.items()}
        self._countries: dict[str, str | None] = {}
        self._offsets: dict[tzinfo, tzinfo] = {}

    def convert_all(self, progress: Callable[[int, int], None] | None = None) -> list[Converted]:
        """Every row of the table, converted column by column (issues go to :attr:`issues`)."""
        return self.convert_rows(0, len(self.table.rows), progress)

    def convert_rows(self, start: int, stop: int,
                     progress: Callable[[int, int], None] | None = None) -> list[Converted]:
        """The rows ``start:stop`` of the table, converted column by column.

        A column holds few distinct values, so each distinct cell is converted
        once and its answer records are shared by every row holding it; only
        the rows are walked per item. Issues go to :attr:`issues` in row order:
        converting consecutive parts one after the other gives the same
        records and issues as converting the whole table at once.
        """
        table = self.table
        width = len(table.columns)
        grid = [row if len(row) >= width else [*row, *[""] * (width - len(row))]
                for row in table.rows[start:stop]]
        n = len(grid)
        cells: list[tuple[str, ...]] = list(zip(*grid, strict=True)) if grid else []
        if not cells:
            cells = [("",) * n] * width
        numbers = table.row_numbers[start:stop]
        first_issue = len(self.issues)
        countries: list[str | None] = [None] * n
        per_item: list[list[tuple[AnswerRecord, ...]]] = []
        texts: list[list[str]] = []
        for done, plan in enumerate(sorted(self._plans, key=lambda p: p.item.id)):
            records, pieces = self._column_answers(plan, cells, numbers, countries)
            per_item.append(records)
            texts.append(pieces)
            if progress is not None:
                progress(done + 1, len(self._plans) + 1)
        meta = {name: [cell.strip() for cell in cells[index]] for name, index in self._meta.items()}
        blank = [""] * n
        response_ids, statuses = meta.get("response_id", blank), meta.get("status", blank)
        finished, progresses = meta.get("finished", ["1"] * n), meta.get("progress", blank)
        codes, referrers = meta.get("referral_code", blank), meta.get("referred_by", blank)
        languages = meta.get("language", blank)
        started, submitted = meta.get("started_at", blank), meta.get("submitted_at", blank)
        said = [_SEP_FIELD.join(fields) for fields in zip(
            statuses, finished, progresses, submitted, codes, referrers, strict=True)]
        answers_of: list[tuple[AnswerRecord, ...]] = [
            tuple(chain.from_iterable(parts)) for parts in zip(*per_item, strict=True)
        ] if per_item else [()] * n
        if len({plan.item.id for plan in self._plans}) < len(self._plans):
            # Two mapped questions feed one item: restore the item order.
            answers_of = [tuple(sorted(answers, key=_ANSWER_ORDER)) for answers in answers_of]
        parts_of = zip(*texts, strict=True) if texts else ((),) * n
        fingerprints = [fingerprint(what, parts) for what, parts in zip(said, parts_of, strict=True)]
        regions = {country: region_of(country, self.scheme, self.root)
                   for country in set(countries) if country is not None}
        out: list[Converted] = []
        for r in range(n):
            row_number = numbers[r]
            country = countries[r]
            record = RespondentRecord(
                source=self.source,
                source_id=response_ids[r] or f"row-{row_number}",
                source_row=row_number,
                referral_code=normal_code(codes[r]),
                referred_by=normal_code(referrers[r]),
                language=languages[r] or None,
                country_iso3=country,
                region=regions[country] if country is not None else None,
                started_at=self._date(started[r], row_number, "started_at"),
                submitted_at=self._date(submitted[r], row_number, "submitted_at"),
                finished=finished[r] not in ("0", "false", "False"),
                progress=_int(progresses[r]),
                fingerprint=fingerprints[r],
                answers=answers_of[r],
            )
            out.append(Converted(record=record, row=row_number, status=statuses[r] or "complete",
                                 said=(statuses[r], finished[r], progresses[r], submitted[r],
                                       codes[r], referrers[r])))
        self.issues[first_issue:] = sorted(self.issues[first_issue:], key=lambda i: i.row or 0)
        if progress is not None:
            progress(len(self._plans) + 1, len(self._plans) + 1)
        return out

    def _column_answers(self, plan: _Plan, cells: list[tuple[str, ...]], numbers: list[int],
                        countries: list[str | None]
                        ) -> tuple[list[tuple[AnswerRecord, ...]], list[str]]:
        """The answer records of one item for every row, and the text each adds to a
        response's fingerprint."""
        item = plan.item
        n = len(numbers)
        empty: tuple[AnswerRecord, ...] = ()
        if item.type is ItemType.FREE_TEXT and not plan.other_columns and len(plan.main) == 1:
            # Verbatim, spaces and all: nothing to convert.
            index = plan.main[0]
            name = plan.names[index]
            records = [(AnswerRecord(item.id, raw, 0, None, name),) if raw and not raw.isspace()
                       else empty for raw in cells[index]]
            head = _SEP_ANSWER + item.id + _SEP_PART + "0" + _SEP_PART
            return records, [head + found[0].value + _SEP_PART if found else ""
                             for found in records]
        values = self._column_values(plan, cells, numbers)
        others: list[str | None] = [None] * n
        for index in plan.other_columns:
            for r, cell in enumerate(cells[index]):
                if others[r] is None and cell and not cell.isspace():
                    others[r] = cell.strip()
        codes = plan.codes
        shared: dict[tuple[tuple[str, str], ...], tuple[tuple[AnswerRecord, ...], str]] = {}
        shared[()] = (empty, "")

        def records_of(found: tuple[tuple[str, str], ...]) -> tuple[tuple[AnswerRecord, ...], str]:
            records = self._records(item, found, None, codes)
            shared[found] = (records, _pieces(records))
            return shared[found]

        is_country = item.type is ItemType.COUNTRY
        if not plan.other_columns and not is_country:
            pairs = [shared.get(found) or records_of(found) for found in values]
            return [pair[0] for pair in pairs], [pair[1] for pair in pairs]
        is_multiple = item.type is ItemType.MULTIPLE_CHOICE
        has_choices = item.type.has_choices
        result: list[tuple[AnswerRecord, ...]] = [empty] * n
        pieces: list[str] = [""] * n
        # A country resolved once is the same on every row (one that is not is
        # looked up again, so that each of its rows is reported).
        by_country: dict[tuple[tuple[str, str], ...], tuple[str, tuple[AnswerRecord, ...], str]] = {}
        for r in range(n):
            key = found = values[r]
            other_text = others[r]
            if other_text is None:
                if not is_country:
                    result[r], pieces[r] = shared.get(found) or records_of(found)
                    continue
                if (known := by_country.get(found)) is not None:
                    countries[r], result[r], pieces[r] = known
                    continue
            if not found:
                if not (other_text and has_choices):
                    continue
                found = ((OTHER_CODE, plan.other_name or ""),)
            if is_country:
                country = self._country(found[0][0], numbers[r], plan, found[0][1])
                if country is None:
                    continue
                countries[r] = country
                found = ((country, found[0][1]),)
            # An "other" text whose box was not ticked: the text shows the intent.
            if (other_text and is_multiple
                    and OTHER_CODE not in [v for v, _ in found]):
                found = (*found, (OTHER_CODE, plan.other_name or ""))
            result[r] = self._records(item, found, other_text, codes)
            pieces[r] = _pieces(result[r])
            if is_country and other_text is None:
                by_country[key] = (found[0][0], result[r], pieces[r])
        return result, pieces

    def _column_values(self, plan: _Plan, cells: list[tuple[str, ...]],
                       numbers: list[int]) -> list[tuple[tuple[str, str], ...]]:
        """``(value, source column)`` pairs of one item for every row, before "other" rules."""
        n = len(numbers)
        none: tuple[tuple[str, str], ...] = ()
        if plan.split:
            selected: list[list[tuple[str, str]]] = [[] for _ in range(n)]
            for index, code in plan.split:
                column = cells[index]
                pick = {cell: bool(cell) and cell.strip().casefold() not in FALSE_CELLS
                        for cell in set(column)}
                pair = (code, plan.names[index])
                for r in compress(range(n), map(pick.__getitem__, column)):
                    selected[r].append(pair)
            return [tuple(found) if found else none for found in selected]
        values: list[tuple[tuple[str, str], ...]] = [none] * n
        free_text = plan.item.type is ItemType.FREE_TEXT
        pending: Sequence[int] = range(n)
        for index in plan.main:
            column, name = cells[index], plan.names[index]
            if free_text:
                for r in pending:
                    raw = column[r]
                    if raw and not raw.isspace():
                        values[r] = ((raw, name),)  # verbatim, spaces and all
            else:
                # Convert each distinct cell once; a cell that raises an issue is
                # converted again on each of its rows, so that every row is reported.
                every_row = isinstance(pending, range)  # the first column
                wanted = column if every_row else [column[r] for r in pending]
                converted: dict[str, tuple[tuple[str, str], ...] | None] = {}
                for raw in set(wanted):
                    converted[raw] = (none if not raw or raw.isspace()
                                      else self._convert_quietly(plan, raw, name))
                looked_up = list(map(converted.__getitem__, wanted))
                if every_row and None not in converted.values():
                    values = cast(list[tuple[tuple[str, str], ...]], looked_up)  # no None in it
                else:
                    for r, found in zip(pending, looked_up, strict=True):
                        values[r] = (found if found is not None else tuple(self._convert_cell(
                            plan, column[r].strip(), numbers[r], name)))
            if isinstance(pending, range):
                pending = list(compress(pending, map(operator.not_, values)))
            else:
                pending = [r for r in pending if not values[r]]
        return values

    def _convert_quietly(self, plan: _Plan, raw: str,
                         name: str) -> tuple[tuple[str, str], ...] | None:
        """A distinct cell converted, or ``None`` when it raises an issue (left unreported)."""
        issues_before = len(self.issues)
        found = tuple(self._convert_cell(plan, raw.strip(), 0, name))
        if len(self.issues) > issues_before:
            del self.issues[issues_before:]
            return None
        return found

    @staticmethod
    def _records(item: Item, found: tuple[tuple[str, str], ...], other_text: str | None,
                 codes: list[str]) -> tuple[AnswerRecord, ...]:
        multiple = item.type is ItemType.MULTIPLE_CHOICE
        records = [AnswerRecord(item.id, value, codes.index(value) if multiple else ordinal,
                                other_text if value == OTHER_CODE else None, column)
                   for ordinal, (value, column) in enumerate(found)]
        if multiple:
            records.sort(key=_ANSWER_ORDER)
        return tuple(records)

    # ------------------------------------------------------------------ helpers

    @dataclass
    class _Plan:
        item: Item
        main: list[int]
        split: list[tuple[int, str]]
        other_columns: list[int]
        other_name: str | None
        names: dict[int, str] = field(default_factory=dict)
        codes: list[str] = field(default_factory=list)

    def _plan(self, q: QuestionMapping, by_name: dict[str, int]) -> RowConverter._Plan:
        item = self.questionnaire.item(str(q.item))
        main: list[int] = []
        split: list[tuple[int, str]] = []
        other: list[int] = []
        for name in q.columns:
            if name not in by_name:
                continue
            column = self.table.columns[by_name[name]]
            if column.other_text:
                other.append(column.index)
            elif column.choice is not None and item.type is ItemType.MULTIPLE_CHOICE:
                # (a matrix statement's column holds its whole answer: read as a main column)
                code = q.choices.get(str(column.choice))
                if code is None:
                    self.issues.append(Issue(
                        "unmapped-choice", f"choice column {name!r} of {q.question} is not "
                        f"mapped to a choice of {item.id}; it is not read", file=self.file,
                        column=name, item=item.id, severity="warning",
                        hint=f"Add it under questions.{q.question}.choices in the mapping."))
                else:
                    split.append((column.index, code))
            else:
                main.append(column.index)
        # Kobo and ODK repeat a split multiple choice as one combined column: read one.
        if main and split:
            split = []
        other_name = self.table.columns[other[0]].name if other else None
        names = {i: self.table.columns[i].name for i in [*main, *(i for i, _ in split)]}
        return RowConverter._Plan(item, main, split, other, other_name, names, item.choice_codes())

    def _convert_cell(self, plan: _Plan, cell: str, row_number: int,
                      name: str) -> list[tuple[str, str]]:
        item = plan.item
        if item.type is ItemType.COUNTRY:
            return [(cell, name)]
        if item.type is ItemType.NUMBER:
            number = self._number(cell, item, row_number, name)
            return [(number, name)] if number is not None else []
        parts = [cell]
        if (item.type is ItemType.MULTIPLE_CHOICE and cell not in self._known[item.id]
                and normalise_label(cell) not in self._known[item.id]):
            sep = self.table.multi_separator
            parts = [p for p in (cell.split(sep) if sep else [cell]) if p.strip()]
        out: list[tuple[str, str]] = []
        for part in parts:
            code = self._code(item, part.strip(), row_number, name)
            if code is not None and code not in [v for v, _ in out]:
                out.append((code, name))
        return out

    def _code(self, item: Item, value: str, row_number: int, column: str) -> str | None:
        known = self._known[item.id]
        code = known.get(value)
        if code is not None:
            return code
        code = known.get(normalise_label(value))
        if code is not None:
            known[value] = code  # the same spelling comes again: look it up directly next time
            return code
        position = choice_position(value)
        codes = item.choice_codes()
        if position is not None and 1 <= position <= len(codes):
            return codes[position - 1]
        if item.other and (value.strip().lower() == "-oth-" or is_other_label(value)):
            return OTHER_CODE
        labels = sorted({k for k in known if not k.startswith("\0")})
        close = difflib.get_close_matches(normalise_label(value), labels, n=3, cutoff=0.6)
        self.issues.append(Issue(
            "unknown-value", f"{value!r} is not a choice of {item.id}", file=self.file,
            row=row_number, column=column, item=item.id,
            hint=(f"Closest: {', '.join(close)}. " if close else "")
            + f"Recode it under values: {{{item.id}: {{'{value}': CODE}}}} in the mapping."))
        return None

    def _number(self, cell: str, item: Item, row_number: int, column: str) -> str | None:
        try:
            number = float(cell.replace(",", ".")) if cell.count(",") == 1 and "." not in cell \
                else float(cell)
        except ValueError:
            self.issues.append(Issue("not-a-number", f"{cell!r} is not a number", file=self.file,
                                     row=row_number, column=column, item=item.id))
            return None
        if (item.min is not None and number < item.min) or (item.max is not None
                                                              and number > item.max):
            self.issues.append(Issue(
                "out-of-range", f"{cell} is outside {item.min:g}..{item.max:g}; not stored"
                if item.min is not None and item.max is not None else f"{cell} is out of range",
                file=self.file, row=row_number, column=column, item=item.id,
                severity="warning"))
            return None
        if item.integer and not number.is_integer():
            self.issues.append(Issue("not-an-integer", f"{cell} is not a whole number; not stored",
                                     file=self.file, row=row_number, column=column, item=item.id,
                                     severity="warning"))
            return None
        return str(int(number)) if number.is_integer() else repr(number)

    def _country(self, value: str, row_number: int, plan: _Plan, column: str) -> str | None:
        recode = self.mapping.values.get(plan.item.id, {})
        if value in recode:
            return recode[value]
        if value not in self._countries:
            self._countries[value] = to_iso3(value)
        code = self._countries[value]
        if code is None:
            close = country_suggestions(value)
            self.issues.append(Issue(
                "unknown-country", f"country {value!r} cannot be resolved to an ISO 3166 code",
                file=self.file, row=row_number, column=column, item=plan.item.id,
                hint=(f"Did you mean {', '.join(close)}? " if close else "")
                + f"Add it under values: {{{plan.item.id}: {{'{value}': ISO3}}}} in the mapping."))
        return code

    def _date(self, text: str | None, row_number: int, field_name: str) -> datetime | None:
        if not text:
            return None
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            self.issues.append(Issue("bad-date", f"{field_name} {text!r} is not an ISO date-time",
                                     file=self.file, row=row_number, severity="warning"))
            return None
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=self.zone)
        # One object per UTC offset: each parse makes its own, and a large
        # ingest pickles these dates (consult.ingest.parallel) once per object.
        zone = self._offsets.setdefault(parsed.tzinfo, parsed.tzinfo)
        return parsed if zone is parsed.tzinfo else parsed.replace(tzinfo=zone)


def _known_values(item: Item, recode: dict[str, str]) -> dict[str, str]:
    """Every spelling of the item's choices that converts directly, the mapping's recodings last."""
    known = {code: code for code in item.choice_codes()}
    known.update(choice_lookup(item))
    for raw, code in recode.items():
        known[raw] = code
        known[normalise_label(raw)] = code
    return known




def _int(text: str | None) -> int | None:
    try:
        return round(float(text)) if text else None
    except ValueError:
        return None


_FINGERPRINT_META = ("status", "finished", "progress", "submitted_at", "referral_code",
                     "referred_by")
_SEP_FIELD, _SEP_PART, _SEP_ANSWER = "\x1f", "\x1e", "\x1d"
FINGERPRINT_PREFIX = "2:"


def fingerprint(said: str, pieces: Iterable[str]) -> str:
    """What a response says, hashed: its :data:`_FINGERPRINT_META` fields joined by
    ``\x1f``, then the :func:`_pieces` of its answers in item order.

    Prefixed with the scheme (``2:``) so that fingerprints stored by earlier
    versions (:func:`legacy_fingerprint`) are still recognised.
    """
    digest = hashlib.blake2b((said + _SEP_ANSWER + "".join(pieces)).encode(), digest_size=31)
    return FINGERPRINT_PREFIX + digest.hexdigest()


def legacy_fingerprint(said: Sequence[str], answers: Sequence[AnswerRecord]) -> str:
    """The fingerprint consult 0.1 stored (SHA-256 of a repr), to compare with old rows."""
    payload = (list(said), [(a.item_id, a.ordinal, a.value, a.other_text or "") for a in answers])
    return hashlib.sha256(repr(payload).encode()).hexdigest()


def _pieces(records: Sequence[AnswerRecord]) -> str:
    return "".join(_SEP_ANSWER + a.item_id + _SEP_PART + str(a.ordinal) + _SEP_PART + a.value
                   + _SEP_PART + (a.other_text or "") for a in records)
