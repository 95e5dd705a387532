"""Qualtrics response exports (Data & Analysis > Export & Import > Export data > CSV or TSV).

A Qualtrics export has three header rows: the column ids (export tags such as
``Q4_1``), the question texts, and one JSON object per column naming the
question (``{"ImportId":"QID4_1"}``) with the time zone of date columns. Older
exports, and files saved again from Excel, have only the first two. The
question text row is in whatever language the export was made in, so columns
are identified by the ImportId when there is one, else by the column id:
``Q4_1`` is choice 1 of ``Q4``, ``Q2_16_TEXT`` the "please specify" text of
``Q2``.
"""

from __future__ import annotations

import json
import re
from datetime import tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from consult.errors import IngestFileError
from consult.ingest.sources.base import SourceColumn, SourceTable
from consult.ingest.sources.table import check_names, fit_rows, normalise_meta
from consult.ingest.sources.text import is_dayfirst, read_rows

# Column ids (lower case, without spaces and "_") that hold a meta field, and
# the same for the ImportIds of the JSON row.
META_IDS = {
    "startdate": "started_at",
    "enddate": "submitted_at",
    "status": "status",
    "progress": "progress",
    "finished": "finished",
    "responseid": "response_id",
    "recordid": "response_id",
    "userlanguage": "language",
    "code": "referral_code",
    "referralcode": "referral_code",
    "ref": "referred_by",
    "referredby": "referred_by",
}
IGNORED_IDS = {
    "ipaddress", "duration(inseconds)", "duration", "recordeddate", "recipientlastname",
    "recipientfirstname", "recipientemail", "externalreference", "externaldatareference",
    "locationlatitude", "locationlongitude", "distributionchannel",
}
# Numeric Status codes of newer exports, as the labels older exports write.
STATUS_CODES = {"0": "IP Address", "1": "Survey Preview", "2": "Survey Test", "4": "Imported",
                "8": "Spam", "9": "Survey Preview Spam", "12": "Imported Spam", "16": "Offline",
                "17": "Offline Survey Preview"}

_QID = re.compile(r"^(?P<q>QID\d+)(?P<rest>(?:_.+)?)$")
_PART = re.compile(r"^(?P<q>.+?)(?:_(?P<k>\d+))?(?P<text>_TEXT)?$")
_OTHER_TEXT = re.compile(r"^(?P<q>.*) - (?P<label>.+?) - Text$")
_SELECTED = " - Selected Choice"


class _Qualtrics:
    """Reader of Qualtrics CSV/TSV exports, with or without the ImportId row."""

    name = "qualtrics"

    def sniff(self, path: Path, head: list[list[str]]) -> float:
        """0.95 for a three-row export, 0.9 for a two-row one, 0.85 without ResponseId."""
        if not head:
            return 0.0
        ids = {cell.strip() for cell in head[0]}
        has_id = "ResponseId" in ids or "ResponseID" in ids
        if not has_id and "StartDate" not in ids:
            return 0.0
        second = {cell.strip() for cell in head[1]} if len(head) > 1 else set()
        if (len(head) > 2 and _import_ids(head[2])) or "Response ID" in second:
            return 0.95
        if has_id:
            return 0.9
        if {"StartDate", "EndDate"} <= ids and "Start Date" in second:
            return 0.85
        return 0.5

    def read(self, path: Path) -> SourceTable:
        """Read a Qualtrics export; see the module docstring for the layout."""
        rows, starts = read_rows(path)
        header = [cell.strip() for cell in rows[0]]
        check_names(path, header)
        texts = rows[1] if len(rows) > 1 and _is_text_row(header, rows[1]) else []
        import_ids = _import_ids(rows[2]) if texts and len(rows) > 2 else None
        start = 1 + bool(texts) + (import_ids is not None)
        data, numbers = rows[start:], starts[start:]
        if not data:
            raise IngestFileError(
                f"{path}: the file has Qualtrics' header rows but no responses; check the "
                "filters in Data & Analysis and export again")
        fit_rows(path, data, numbers, len(header))
        texts = (texts + [""] * len(header))[: len(header)]
        ids = import_ids or [None] * len(header)
        ids = (ids + [None] * len(header))[: len(header)]
        columns = _describe(header, texts, ids)
        status = next((c.index for c in columns if c.meta == "status"), None)
        if status is not None:
            for row in data:
                row[status] = STATUS_CODES.get(row[status].strip(), row[status])
        dates = [c.index for c in columns if c.meta in ("started_at", "submitted_at")]
        zones = {i: zone for i in dates if (zone := _zone(ids[i]))}
        # Qualtrics writes US dates; a file saved again by a European Excel may not.
        dayfirst = is_dayfirst([row[i] for i in dates for row in data])
        normalise_meta(path, columns, data, numbers, dayfirst=dict.fromkeys(dates, dayfirst),
                       zones=zones)
        notes = [] if import_ids else ["no ImportId row (an older export or a file saved again "
                                       "from Excel): questions identified by their column ids"]
        return SourceTable(format="qualtrics", path=path, columns=columns, rows=data,
                           row_numbers=numbers, multi_separator=",", notes=notes)


QUALTRICS = _Qualtrics()


def _describe(header: list[str], texts: list[str],
              ids: list[dict[str, str] | None]) -> list[SourceColumn]:
    """Describe every column from its id, question text and ImportId."""
    names = set(header)
    keys: dict[str, str] = {}  # QID -> the question's key (its export tag)
    columns: list[SourceColumn] = []
    for index, (name, text) in enumerate(zip(header, texts, strict=True)):
        import_id = (ids[index] or {}).get("ImportId", "")
        meta_key = re.sub(r"[\s_]", "", name.lower())
        import_key = re.sub(r"[\s_]", "", import_id.lower())
        meta = META_IDS.get(meta_key) or META_IDS.get(import_key)
        if meta:
            columns.append(SourceColumn(index=index, name=name, text=text, meta=meta))
        elif meta_key in IGNORED_IDS or import_key in IGNORED_IDS or name.startswith("Q_"):
            columns.append(SourceColumn(index=index, name=name, text=text, ignore=True))
        elif match := _QID.match(import_id):
            rest = match["rest"]
            base = name[: -len(rest)] if rest and name.endswith(rest) and name != rest else name
            key = keys.setdefault(match["q"], base)
            columns.append(_question(index, name, text, key, match["q"] + rest, True))
        else:
            columns.append(_question(index, name, text, name, name, False, names))
    return _split_texts(columns)


def _question(index: int, name: str, text: str, key: str, ident: str, trusted: bool,
              names: set[str] | None = None) -> SourceColumn:
    """A question column from ``ident``: ``X``, ``X_k``, ``X_TEXT`` or ``X_k_TEXT``.

    Without an ImportId (``trusted`` false) ``X_k`` is only a choice when other
    columns of ``X`` exist, since an export tag may itself end in ``_2``.
    """
    match = _PART.match(ident)
    assert match is not None  # the pattern matches any non-empty text
    base, choice, is_text = match["q"], match["k"], bool(match["text"])
    if not trusted:
        siblings = names or set()
        related = [n for n in siblings if n != name and (n == base or n.startswith(base + "_"))]
        if not related:
            return SourceColumn(index=index, name=name, text=text, question=name)
        key = base
        if is_text and choice is None and base not in siblings:
            return SourceColumn(index=index, name=name, text=text, question=name)
    if is_text and (choice is not None or not trusted):
        return SourceColumn(index=index, name=name, text=text, question=key, other_text=True)
    return SourceColumn(index=index, name=name, text=text, question=key, choice=choice)


def _split_texts(columns: list[SourceColumn]) -> list[SourceColumn]:
    """Split "question - Selected Choice - label" texts into ``text`` and ``choice_text``."""
    groups: dict[str, list[SourceColumn]] = {}
    for column in columns:
        if column.choice is not None and column.question is not None:
            groups.setdefault(column.question, []).append(column)
    prefix = {key: _common_prefix([c.text for c in group]) for key, group in groups.items()}
    result = []
    for column in columns:
        text, label = column.text, None
        if column.other_text and (match := _OTHER_TEXT.match(text)):
            text, label = match["q"], match["label"]
        elif _SELECTED + " - " in text:
            text, label = text.split(_SELECTED + " - ", 1)
        elif text.endswith(_SELECTED):
            text = text.removesuffix(_SELECTED)
        elif column.choice is not None and column.question is not None:
            cut = prefix[column.question]
            if cut:
                text, label = text[: cut - 3], text[cut:]
            elif " - " in text:
                text, label = text.rsplit(" - ", 1)
        if text != column.text or label is not None:
            column = SourceColumn(index=column.index, name=column.name, text=text,
                                  question=column.question, choice=column.choice,
                                  choice_text=label, other_text=column.other_text)
        result.append(column)
    return result


def _common_prefix(texts: list[str]) -> int:
    """Length of the longest prefix ending in " - " shared by ``texts`` (0 if fewer than two)."""
    if len(texts) < 2:
        return 0
    shortest = min(texts, key=len)
    end = 0
    while end < len(shortest) and all(t[end] == shortest[end] for t in texts):
        end += 1
    cut = shortest.rfind(" - ", 0, end)
    return cut + 3 if cut > 0 else 0


def _is_text_row(header: list[str], row: list[str]) -> bool:
    """Whether the second row is question texts rather than a response."""
    if "StartDate" in header:
        cell = row[header.index("StartDate")].strip() if header.index("StartDate") < len(row) else ""
        return not re.match(r"^\d", cell)
    return True


def _import_ids(row: list[str]) -> list[dict[str, str] | None] | None:
    """The row's ImportId objects when it is an ImportId row, else ``None``."""
    parsed: list[dict[str, str] | None] = []
    for cell in row:
        try:
            value = json.loads(cell) if cell.lstrip().startswith("{") else None
        except json.JSONDecodeError:
            value = None
        usable = isinstance(value, dict) and isinstance(value.get("ImportId"), str)
        parsed.append(value if usable else None)
    filled = [cell for cell in row if cell.strip()]
    found = [p for p in parsed if p is not None]
    return parsed if found and len(found) * 2 >= len(filled) else None


def _zone(import_id: dict[str, str] | None) -> tzinfo | None:
    name = (import_id or {}).get("timeZone")
    if not isinstance(name, str) or not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
