"""Plain tables: one header row, one row per respondent, as CSV, XLSX or JSON Lines.

consult's canonical CSV (docs/formats.md) is one such table. Columns whose
names are common meta names (``id``, ``code``, ``ref``, ``submitted``...,
compared case-insensitively) are meta; ``<item>_other`` is the "please
specify" text of ``<item>`` when that column exists; every other column is a
question named by its header. Multiple-choice cells hold space-separated
codes (JSON Lines: a list).

The helpers after the reader (:func:`normalise_meta`, :func:`fit_rows`,
:func:`iso_datetime`) turn meta cells into the canonical values of
:mod:`consult.ingest.sources.base`; the platform readers share them.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, tzinfo
from pathlib import Path
from typing import Any

from consult.errors import IngestFileError
from consult.ingest.sources.base import SourceColumn, SourceTable
from consult.ingest.sources.text import (
    check_header,
    is_dayfirst,
    iso_datetime,
    read_rows,
    read_text,
)

XLSX_SUFFIXES = (".xlsx", ".xlsm")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")

# Header names (lower case, spaces and hyphens as "_") that hold a meta field.
META_NAMES: dict[str, str] = {
    **dict.fromkeys(("id", "respondent_id", "response_id", "responseid", "respondentid"),
                    "response_id"),
    **dict.fromkeys(("code", "referral_code"), "referral_code"),
    **dict.fromkeys(("ref", "referred_by", "referrer"), "referred_by"),
    **dict.fromkeys(("submitted", "submitted_at", "submitdate", "end_date", "enddate"),
                    "submitted_at"),
    **dict.fromkeys(("start", "start_date", "started_at", "startdate"), "started_at"),
    **dict.fromkeys(("lang", "language"), "language"),
    "status": "status",
    **dict.fromkeys(("finished", "complete"), "finished"),
    "progress": "progress",
    "withdrawn": "withdrawn",
}
CANONICAL_META = ("response_id", "status", "finished", "progress", "started_at", "submitted_at",
                  "language", "referral_code", "referred_by")


class _Table:
    """Reader of plain tables (CSV with , ; or tab, XLSX, JSON Lines)."""

    name = "table"

    def sniff(self, path: Path, head: list[list[str]]) -> float:
        """0.9 for consult's canonical CSV, 0.6-0.7 for other plain tables.

        A table is the fallback for any file with one header row, so it stays
        below the platform readers' scores on their own exports.
        """
        if not head:
            return 0.6 if path.suffix.lower() in XLSX_SUFFIXES + JSONL_SUFFIXES else 0.0
        header = head[0]
        if not header or any(not name.strip() for name in header):
            return 0.3
        if set(CANONICAL_META) <= set(header):
            return 0.9
        known = sum(1 for name in header if _meta_name(name))
        return 0.7 if known >= 2 else 0.5

    def read(self, path: Path) -> SourceTable:
        """Read the table in ``path`` (by its suffix, or by its first bytes)."""
        kind = _kind(path)
        multi: str | None = " "
        if kind == "xlsx":
            header, rows, numbers = _read_xlsx(path)
        elif kind == "jsonl":
            header, rows, numbers, multi = _read_jsonl(path)
        else:
            all_rows, starts = read_rows(path)
            header, rows, numbers = all_rows[0], all_rows[1:], starts[1:]
        check_names(path, header)
        if not rows:
            raise IngestFileError(f"{path}: the file has a header row but no responses; "
                                  "export it again with the responses included")
        fit_rows(path, rows, numbers, len(header), spreadsheet=kind == "xlsx")
        columns = describe_columns(header)
        dayfirst = {c.index: is_dayfirst([row[c.index] for row in rows]) for c in columns
                    if c.meta in ("started_at", "submitted_at")}
        normalise_meta(path, columns, rows, numbers, dayfirst=dayfirst)
        notes = [f"read {kind.upper()} with {len(rows)} row(s)"]
        notes += [f"column {columns[i].name!r}: dates read as day/month/year"
                  for i, first in dayfirst.items() if first]
        return SourceTable(format="table", path=path, columns=columns, rows=rows,
                           row_numbers=numbers, multi_separator=multi, notes=notes)


TABLE = _Table()


def describe_columns(header: Sequence[str]) -> list[SourceColumn]:
    """Describe the columns of a plain table from its header names."""
    names = set(header)
    columns: list[SourceColumn] = []
    taken: set[str] = set()
    for index, name in enumerate(header):
        meta = _meta_name(name)
        if not name.strip():
            # an unnamed column, such as the index pandas writes: nothing to map it to
            columns.append(SourceColumn(index=index, name=name, ignore=True))
        elif meta and meta not in taken:
            taken.add(meta)
            columns.append(SourceColumn(index=index, name=name, text=name, meta=meta))
        elif name.endswith("_other") and name.removesuffix("_other") in names:
            columns.append(SourceColumn(index=index, name=name, text=name,
                                        question=name.removesuffix("_other"), other_text=True))
        else:
            columns.append(SourceColumn(index=index, name=name, text=name, question=name))
    return columns


# --------------------------------------------------------------------------- XLSX and JSONL


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in XLSX_SUFFIXES:
        return "xlsx"
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    try:
        with path.open("rb") as handle:
            start = handle.read(4096)
    except OSError as exc:
        raise IngestFileError(f"{path}: cannot read the file ({exc.strerror})") from None
    if start.startswith(b"PK\x03\x04"):
        return "xlsx"
    if start.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return "jsonl"
    return "csv"


def _read_xlsx(path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    import openpyxl  # imported here: only XLSX files need it

    try:
        # A handle rather than the path: openpyxl refuses names not ending in .xlsx.
        with path.open("rb") as handle:
            book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
            try:
                sheet = book.worksheets[0]
                found = [(number, [_xlsx_cell(v) for v in values])
                         for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)]
            finally:
                book.close()
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        reason = "it is not a zip archive" if isinstance(exc, zipfile.BadZipFile) else str(exc)
        raise IngestFileError(
            f"{path}: not an Excel workbook ({reason}); save it from Excel as .xlsx, or export "
            "the responses as CSV") from None
    except OSError as exc:
        raise IngestFileError(f"{path}: cannot read the file ({exc.strerror})") from None
    # Blank rows are skipped, above the column names too.
    found = [(n, cells) for n, cells in found if any(c.strip() for c in cells)]
    if not found:
        raise IngestFileError(f"{path}: the first sheet is empty; put the column names in its "
                              "first row and one response per row below them")
    _refuse_title_rows(path, found)
    header = found[0][1]
    while header and not header[-1].strip():
        header.pop()
    return header, [cells for _, cells in found[1:]], [n for n, _ in found[1:]]


def _refuse_title_rows(path: Path, found: list[tuple[int, list[str]]]) -> None:
    """Refuse a title (one filled cell) above the column names, naming both rows."""
    filled = [sum(1 for c in cells if c.strip()) for _, cells in found]
    if filled[0] != 1 or len(found) < 2:
        return
    header = next((i for i, count in enumerate(filled) if count > 1), None)
    if header is None:
        return  # a one-column table
    title = next(c for c in found[0][1] if c.strip()).strip()
    raise IngestFileError(
        f"{path}, row {found[0][0]}: {title[:60]!r} is a title above the table, not column "
        f"names; delete the row(s) above the column names (row {found[header][0]}) so that "
        "they are the first row of the first sheet")


def _xlsx_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.time() == time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(timespec="seconds")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_jsonl(path: Path) -> tuple[list[str], list[list[str]], list[int], str]:
    text = read_text(path)
    records: list[tuple[int, dict[str, Any]]] = []
    # split on newlines only: JSON strings may hold U+2028, which splitlines() breaks on
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line, object_pairs_hook=_unique_keys)
        except _DuplicateKeyError as exc:
            raise IngestFileError(f"{path}, line {number}: key {exc.key!r} appears twice in the "
                                  "object; keep one") from None
        except json.JSONDecodeError as exc:
            raise IngestFileError(f"{path}, line {number}: not a JSON object ({exc.msg} at "
                                  f"character {exc.colno}); each line must be one JSON object") from None
        if not isinstance(record, dict):
            raise IngestFileError(f"{path}, line {number}: a JSON {type(record).__name__}, not an "
                                  "object; each line must be one JSON object")
        records.append((number, record))
    header = list(dict.fromkeys(key for _, record in records for key in record))
    values = [str(v) for _, record in records for value in record.values()
              if isinstance(value, list) for v in value]
    separator = next((s for s in (" ", "|", ";", "\x1f") if not any(s in v for v in values)), "\x1f")
    rows = []
    for number, record in records:
        row = []
        for key in header:
            value = record.get(key)
            if isinstance(value, dict):
                raise IngestFileError(f"{path}, line {number}, key {key!r}: a nested object; "
                                      "flatten it into one key per question")
            if isinstance(value, list):
                row.append(separator.join(_json_cell(v) for v in value))
            else:
                row.append(_json_cell(value))
        rows.append(row)
    return header, rows, [n for n, _ in records], separator


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKeyError(key)
        seen[key] = value
    return seen


def _json_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --------------------------------------------------------------------------- shared helpers


def check_names(path: Path, header: Sequence[str], line: int = 1) -> None:
    """Reject a column name used twice; unnamed columns may repeat."""
    check_header(path, [name if name.strip() else f"\0{i}" for i, name in enumerate(header)], line)


def fit_rows(path: Path, rows: list[list[str]], numbers: Sequence[int], width: int, *,
             spreadsheet: bool = False) -> None:
    """Make every row ``width`` cells long, or refuse the file naming the row.

    A spreadsheet drops a row's trailing blank cells, so its short rows are
    padded. In delimited text a row with cells but fewer than the header is a
    file cut short (the last row) or a broken row, and is refused; so is a row
    with more cells than the header in either.
    """
    last = len(rows) - 1
    for index, (row, number) in enumerate(zip(rows, numbers, strict=True)):
        if len(row) > width:
            if any(cell.strip() for cell in row[width:]):
                raise IngestFileError(
                    f"{path}, row {number}: {len(row)} cells but the header names {width} "
                    "columns; give every column of the table a name in the header row, "
                    "or delete the cells right of the table" if spreadsheet else
                    f"{path}, line {number}: {len(row)} cells but the header names {width} "
                    "columns; a value may hold an unquoted delimiter: export the file again")
            del row[width:]
        elif len(row) < width and not spreadsheet and any(cell.strip() for cell in row):
            raise short_row_error(path, number, len(row), width, index == last)
        row.extend([""] * (width - len(row)))


def short_row_error(path: Path, line: int, cells: int, width: int,
                    last: bool) -> IngestFileError:
    """The error for a row of delimited text with fewer cells than its header has columns."""
    why = ("the file may be truncated (it ends inside this row): export it again" if last else
           "a value may hold an unquoted line break, or the file was edited by hand: export "
           "it again")
    return IngestFileError(f"{path}, line {line}: {cells} cells where the header has {width} "
                           f"columns; {why}")


def normalise_meta(path: Path, columns: Sequence[SourceColumn], rows: list[list[str]],
                   numbers: Sequence[int], *, dayfirst: dict[int, bool] | None = None,
                   zones: dict[int, tzinfo] | None = None) -> None:
    """Rewrite every meta cell of ``rows`` in place to its canonical value.

    ``dayfirst`` and ``zones`` give, by column index, whether slashed dates are
    day-first and the time zone of dates written without an offset.
    """
    for column in columns:
        if column.meta is None:
            continue
        convert = _converter(column.meta, (dayfirst or {}).get(column.index, False),
                             (zones or {}).get(column.index))
        index = column.index
        cells = [row[index] for row in rows]
        # A meta column repeats few values: convert each distinct cell once, in
        # the order they first appear, so that the first bad cell is reported
        # at its first line.
        done = dict.fromkeys(cells, "")
        for cell in done:
            try:
                done[cell] = convert(cell.strip())
            except ValueError as exc:
                number = numbers[cells.index(cell)]
                raise IngestFileError(
                    f"{path}, line {number}, column {column.name!r}: {exc}") from None
        for row, value in zip(rows, map(done.__getitem__, cells), strict=True):
            row[index] = value


_STATUS = {
    **dict.fromkeys(("", "complete", "completed", "submitted", "normal", "ip address",
                     "imported", "offline"), "complete"),
    **dict.fromkeys(("preview", "survey preview", "offline survey preview"), "preview"),
    **dict.fromkeys(("spam", "survey preview spam", "imported spam"), "spam"),
    **dict.fromkeys(("test", "survey test"), "test"),
}
_YES = {"1", "true", "t", "yes", "y", "complete", "completed"}
_NO = {"0", "false", "f", "no", "n", "incomplete"}
_LANGUAGES = {"english": "en", "french": "fr", "français": "fr", "francais": "fr",
              "spanish": "es", "español": "es", "espanol": "es", "german": "de", "deutsch": "de",
              "dutch": "nl", "nederlands": "nl", "hebrew": "he", "swedish": "sv",
              "norwegian": "no", "danish": "da"}


def _converter(meta: str, dayfirst: bool, zone: tzinfo | None) -> Callable[[str], str]:
    if meta in ("started_at", "submitted_at"):
        return lambda text: iso_datetime(text, dayfirst=dayfirst, zone=zone)
    return {
        "status": _status,
        "finished": _flag,
        "withdrawn": _flag,
        "progress": _progress,
        "language": _language,
    }.get(meta, str.strip)


def _status(text: str) -> str:
    try:
        return _STATUS[text.lower()]
    except KeyError:
        raise ValueError(f"status {text!r} is not one consult knows; use complete, preview, "
                         "spam or test") from None


def _flag(text: str) -> str:
    lowered = text.lower().removesuffix(".0")
    if lowered in _YES:
        return "1"
    if lowered in _NO:
        return "0"
    if not lowered:
        return ""
    raise ValueError(f"{text!r} is not a yes/no value; use 1 or 0")


def _progress(text: str) -> str:
    if not text:
        return ""
    try:
        value = round(float(text.removesuffix("%")))
    except ValueError:
        value = -1
    if not 0 <= value <= 100:
        raise ValueError(f"progress {text!r} is not a percentage from 0 to 100")
    return str(value)


def _language(text: str) -> str:
    lowered = text.strip().lower()
    base = re.split(r"[-_]", lowered)[0]
    if re.fullmatch(r"[a-z]{2,3}", base):
        return base
    return _LANGUAGES.get(lowered, lowered)


def _meta_name(name: str) -> str | None:
    return META_NAMES.get(re.sub(r"[\s-]+", "_", name.strip().lower()))
