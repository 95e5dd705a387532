"""What every source reader shares: reading delimited text safely (encoding,
delimiter, malformed rows) and reading the dates platforms write.

Each platform reader then only interprets headers and cells.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import datetime, tzinfo
from pathlib import Path

from consult.errors import IngestFileError

DELIMITERS = (",", ";", "\t")


def read_text(path: Path) -> str:
    """The file's text: UTF-8 (a BOM is dropped), else a clear error naming the line."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestFileError(f"{path}: cannot read the file ({exc.strerror})") from None
    if not data.strip():
        raise IngestFileError(f"{path}: the file is empty")
    if b"\x00" in data[:4096]:
        raise IngestFileError(
            f"{path}: this is not a text export (it contains binary data); export the "
            "responses as CSV, TSV, XLSX or JSON Lines"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise IngestFileError(
            f"{path}, line {line}: not UTF-8 text (byte {data[exc.start]:#04x}); export the file "
            "as UTF-8 (in Excel: Save As > CSV UTF-8), or convert it with: "
            f"iconv -f windows-1252 -t utf-8 {path.name} > fixed.csv"
        ) from None


def sniff_delimiter(text: str) -> str:
    """The delimiter of a delimited file: the one that splits its header most often."""
    # Only the first line: splitting (or partitioning) a 160 MB text copies it.
    end = text.find("\n")
    first = next(iter((text if end < 0 else text[:end]).splitlines()), "")
    counts = {d: first.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def read_rows(path: Path, delimiter: str | None = None) -> tuple[list[list[str]], list[int]]:
    """All rows of a delimited file as text, with the 1-based line where each row starts.

    Raises :class:`IngestFileError` for a file whose quoting is broken (for
    example a file truncated inside a quoted field).
    """
    text = read_text(path)
    rows, starts = _read_rows_line_by_line(path, text, delimiter or sniff_delimiter(text))
    # A blank line at the end is not a row.
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
        starts.pop()
    return rows, starts


def _read_rows_line_by_line(path: Path, text: str, sep: str) -> tuple[list[list[str]], list[int]]:
    """Rows and their first lines: each row starts on the line after the one where the
    csv module says the previous row ended.

    Asking the reader row by row costs no more than listing its rows at once
    (1.3 s either way for 159 MB), so there is no quicker count to try first.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    rows: list[list[str]] = []
    starts: list[int] = []
    line = 1
    try:
        for row in reader:
            starts.append(line)
            rows.append(row)
            line = reader.line_num + 1
    except csv.Error as exc:
        raise IngestFileError(
            f"{path}, line {reader.line_num}: the file is malformed ({exc}); it may be "
            "truncated: export it again"
        ) from None
    return rows, starts


def check_header(path: Path, header: list[str], line: int = 1) -> None:
    """Reject an empty or duplicated column name in a header row."""
    seen: dict[str, int] = {}
    for index, name in enumerate(header):
        if name in seen:
            raise IngestFileError(
                f"{path}, line {line}: column {name!r} appears twice (columns {seen[name] + 1} and "
                f"{index + 1}); rename one in the export or the file"
            )
        seen[name] = index


_DATE = re.compile(
    r"^(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})"
    r"(?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?$")


def iso_datetime(text: str, *, dayfirst: bool = False, zone: tzinfo | None = None) -> str:
    """``text`` (ISO, ``12/2/21 8:46``, ``09/08/2014 04:01:00 PM``, ``8.9.2014``) as ISO 8601.

    Slashed dates are month-first unless ``dayfirst``; dotted dates are always
    day-first. A date without an offset gets ``zone`` when given.
    """
    value = text.strip()
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = _slashed(value, dayfirst)
    if zone is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.isoformat(timespec="seconds")


def _slashed(value: str, dayfirst: bool) -> datetime:
    match = _DATE.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a date and time consult can read; write it as "
                         "2014-09-08 16:01:00")
    a, b, year = int(match["a"]), int(match["b"]), int(match["y"])
    day, month = (a, b) if dayfirst or match["sep"] == "." else (b, a)
    year += 2000 if len(match["y"]) == 2 else 0
    hour, minute, second = int(match["H"] or 0), int(match["M"] or 0), int(match["S"] or 0)
    if match["ampm"]:
        pm = match["ampm"][0].lower() == "p"
        hour = hour % 12 + (12 if pm else 0)
    return datetime(year, month, day, hour, minute, second)


def is_dayfirst(values: Sequence[str]) -> bool:
    """Whether a column's slashed dates are day-first: some first number is above 12."""
    for value in values:
        match = _DATE.match(value.strip())
        if match and match["sep"] != "." and int(match["a"]) > 12:
            return True
    return False
