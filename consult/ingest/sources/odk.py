"""Reader of ODK Central's CSV download of submissions.

Central writes ``SubmissionDate`` first, then the form's fields with group
paths joined by ``-`` (``accommodation-acc_approach``), each select_multiple as
one space-separated column and, when "split select multiple choices into
columns" is on, one ``1``/``0`` column per choice after it
(``accommodation-acc_factors/leadership_influence``), then its bookkeeping
columns (``KEY``, ``ReviewState`` ...). Central holds submitted forms only, so
every row is finished; a submission the project rejected in review is spam.

The rules for XLSForm columns (groups, split choices, ``_other`` texts) and
the record helpers here are shared with the KoboToolbox and LimeSurvey readers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

from consult.errors import IngestFileError
from consult.ingest.sources.base import SourceColumn, SourceTable
from consult.ingest.sources.table import short_row_error
from consult.ingest.sources.text import check_header, iso_datetime, read_rows

CENTRAL_COLUMNS = frozenset({
    "SubmissionDate", "KEY", "meta-instanceID", "SubmitterID", "SubmitterName",
    "AttachmentsPresent", "AttachmentsExpected", "Status", "ReviewState", "DeviceID",
    "Edits", "FormVersion",
})
FORM_METADATA = frozenset({
    "today", "deviceid", "username", "simserial", "subscriberid", "phonenumber", "audit",
    "instanceID", "instanceName",
})
"""XLSForm metadata questions, device and audit details a consultation never reads."""
REFERRAL_COLUMNS = {"code": "referral_code", "referral_code": "referral_code",
                    "ref": "referred_by", "referred_by": "referred_by"}
"""Hidden fields holding the respondent's own referral code and the referrer's."""


class OdkReader:
    """ODK Central's submissions CSV (``name = "odk"``)."""

    name = "odk"

    def sniff(self, path: Path, head: list[list[str]]) -> float:
        """Sure when ``SubmissionDate`` comes first and Central's columns follow."""
        header = header_of(head)
        if not header:
            return 0.0
        found = sum(1 for name in header if name in CENTRAL_COLUMNS)
        score = 0.4 if header[0] == "SubmissionDate" else 0.0
        score += 0.6 * min(1.0, found / 6)
        return round(score, 3)

    def read(self, path: Path) -> SourceTable:
        """Read an ODK Central CSV; raise ``IngestFileError`` when it is malformed."""
        records = read_records(path)
        require_responses(path, records)
        header = records.header
        meta = {"SubmissionDate": "submitted_at", "start": "started_at", "KEY": "response_id",
                **REFERRAL_COLUMNS}
        if "KEY" not in header:
            if "meta-instanceID" not in header:
                raise IngestFileError(
                    f"{path}, line {records.header_line}: no KEY or meta-instanceID column, so "
                    "this is not an ODK Central submissions CSV; download it again from the form's "
                    "Submissions page (Download > CSV), or read the file as another format"
                )
            meta["meta-instanceID"] = "response_id"
        if "SubmissionDate" not in header:
            meta["end"] = "submitted_at"
        specials: dict[int, SourceColumn] = {}
        for index, name in enumerate(header):
            if name in meta:
                specials[index] = SourceColumn(index, name, meta=meta[name])
            elif (name in CENTRAL_COLUMNS or name in FORM_METADATA or name == "end"
                  or name.startswith("meta-")):
                specials[index] = SourceColumn(index, name, ignore=True)
        table = SourceTable(format=self.name, path=path, columns=[], rows=records.rows,
                            row_numbers=records.lines, multi_separator=" ")
        questions, notes = describe_form_columns(header, records.rows,
                                                 [i for i in range(len(header)) if i not in specials],
                                                 group_separator="-")
        table.columns = [specials.get(i) or questions[i] for i in range(len(header))]
        table.notes += records.notes + notes
        normalise_dates(table, utc_columns={"SubmissionDate"})
        review = header.index("ReviewState") if "ReviewState" in header else None
        add_derived(table, "status", "ReviewState (rejected → spam)" if review is not None
                    else "ODK Central holds submitted forms only",
                    ("spam" if review is not None and row[review].strip() == "rejected"
                     else "complete" for row in table.rows))
        add_derived(table, "finished", "ODK Central holds submitted forms only",
                    ("1" for _ in table.rows))
        return table


ODK = OdkReader()


# --------------------------------------------------------------------------- shared helpers


@dataclass
class Records:
    """A delimited file's header and its non-blank data rows, with their lines."""

    header: list[str]
    header_line: int
    rows: list[list[str]]
    lines: list[int]
    notes: list[str] = field(default_factory=list)


def read_records(path: Path) -> Records:
    """Read ``path``, check its header and that every row has one cell per column."""
    rows, starts = read_rows(path)
    if not rows:
        raise IngestFileError(f"{path}: the file is empty")
    header = rows[0]
    check_header(path, header, starts[0])
    records = Records(header=header, header_line=starts[0], rows=[], lines=[])
    for index, (row, line) in enumerate(zip(rows[1:], starts[1:], strict=True), start=1):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            raise short_row_error(path, line, len(row), len(header), index == len(rows) - 1)
        if len(row) > len(header):
            raise IngestFileError(
                f"{path}, line {line}: {len(row)} cells where the header has {len(header)} "
                "columns; a value may hold an unquoted delimiter, or the file was edited by "
                "hand: export it again"
            )
        records.rows.append(row)
        records.lines.append(line)
    return records


def require_responses(path: Path, records: Records) -> None:
    """Reject a file that has a header but no response rows."""
    if not records.rows:
        raise IngestFileError(
            f"{path}, line {records.header_line}: the file has a header but no responses; "
            "check the export's filters (date range, status) and export it again"
        )


def header_of(head: list[list[str]]) -> list[str]:
    """The header row of a file's first rows, split on ``;`` if it was read as one cell."""
    if not head or not head[0]:
        return []
    header = head[0]
    if len(header) == 1 and ";" in header[0]:
        header = [cell.strip().strip('"') for cell in header[0].split(";")]
    return [cell.strip().lstrip("\ufeff") for cell in header]


def normalise_dates(table: SourceTable, utc_columns: Iterable[str] = ()) -> None:
    """Rewrite the ``started_at``/``submitted_at`` cells of ``table`` as canonical dates.

    A cell that is not a date is kept as written and reported in ``table.notes``.
    """
    utc = set(utc_columns)
    for column in table.columns:
        if column.meta not in ("started_at", "submitted_at"):
            continue
        bad: list[tuple[int, str]] = []
        for row, line in zip(table.rows, table.row_numbers, strict=True):
            try:
                row[column.index] = iso_datetime(row[column.index],
                                                 zone=UTC if column.name in utc else None)
            except ValueError:
                bad.append((line, row[column.index]))
        if bad:
            table.notes.append(
                f"column {column.name}: {len(bad)} value(s) are not ISO 8601 dates (first at line "
                f"{bad[0][0]}: {bad[0][1]!r}); kept as written"
            )


def add_derived(table: SourceTable, meta: str, source: str, values: Iterable[str]) -> None:
    """Append a column holding ``meta``, worked out by consult from ``source``."""
    index = len(table.columns)
    table.columns.append(SourceColumn(index, f"[{meta}]", text=f"set by consult: {source}",
                                      meta=meta))
    for row, value in zip(table.rows, values, strict=True):
        row.append(value)


def describe_form_columns(header: list[str], rows: list[list[str]], indexes: list[int], *,
                          group_separator: str) -> tuple[dict[int, SourceColumn], list[str]]:
    """Describe the question columns (``indexes``) of an XLSForm-based export.

    The question is the last segment of the group path. A column
    ``<path>/<choice>`` is the split column of select_multiple ``<path>``: it is
    ignored when the combined column ``<path>`` is there (it holds the same
    answers) and read otherwise. With ``/`` as group separator too
    (KoboToolbox), a path without its combined column is taken for a
    select_multiple when every column under it holds only ``1``, ``0`` or
    nothing. ``<path>_other`` is the "please specify" text of ``<path>``.
    Returns the descriptions and notes for ``SourceTable.notes``.
    """
    names = {header[i]: i for i in indexes}
    parent: dict[int, str] = {}
    for i in indexes:
        base, sep, _ = header[i].rpartition("/")
        if sep and (base in names or group_separator != "/"):
            parent[i] = base
    if group_separator == "/":
        members: dict[str, list[int]] = defaultdict(list)
        for i in indexes:
            if i not in parent and "/" in header[i]:
                members[header[i].rpartition("/")[0]].append(i)
        for base, group in members.items():
            if _looks_split(header, rows, group):
                parent.update(dict.fromkeys(group, base))
    split_parents = set(parent.values())

    def base_of_other(name: str) -> str | None:
        base = name.removesuffix("_other")
        return base if name != base and (base in names or base in split_parents) else None

    paths = {parent.get(i) or base_of_other(header[i]) or header[i] for i in indexes}
    question = _question_names(paths, group_separator)
    notes = [f"question {path!r}: its name is used in several groups, so it is read by its "
             "whole path" for path, q in question.items() if q == path and group_separator in path]
    columns: dict[int, SourceColumn] = {}
    combined_split = 0
    for i in indexes:
        name = header[i]
        if i in parent:
            base, choice = parent[i], name.rpartition("/")[2]
            if base in names:
                combined_split += 1
                columns[i] = SourceColumn(i, name, ignore=True,
                                          text=f"choice {choice} of {base}, also in column {base}")
            else:
                columns[i] = SourceColumn(i, name, question=question[base], choice=choice)
        elif (other := base_of_other(name)) is not None:
            columns[i] = SourceColumn(i, name, question=question[other], other_text=True)
        else:
            columns[i] = SourceColumn(i, name, question=question[name])
    if combined_split:
        notes.append(f"{combined_split} split select_multiple column(s) ignored: the combined "
                     "columns hold the same answers")
    return columns, notes


def _looks_split(header: list[str], rows: list[list[str]], group: list[int]) -> bool:
    """Whether columns sharing a path look like a select_multiple's split choices."""
    if not all(row[i] in ("", "0", "1") for row in rows for i in group):
        return False
    # Question names cannot start with a digit; choice names can.
    return len(group) > 1 or header[group[0]].rpartition("/")[2][:1].isdigit()


def _question_names(paths: set[str], group_separator: str) -> dict[str, str]:
    """Each question path's name: its last segment, or the whole path when that is ambiguous."""
    last = {path: path.rpartition(group_separator)[2] for path in paths}
    count: dict[str, int] = defaultdict(int)
    for name in last.values():
        count[name] += 1
    return {path: (name if count[name] == 1 else path) for path, name in last.items()}
