"""SurveyMonkey response exports (Analyze Results > Save as > Export file > All individual responses > CSV).

Row 1 names the respondent columns (``Respondent ID``, ``Collector ID``,
``Start Date``...) and then each question's text, written only over the first
of the question's columns. Row 2 says what each column holds: ``Response``
(the whole answer), ``Open-Ended Response``, a choice label (one column per
choice of a multiple choice, holding the label when selected) or ``Other
(please specify)``. A question is keyed ``sm<index of its first column>``; a
column left blank in row 1 is named ``<question text> - <row 2>``.

SurveyMonkey has no status or finished column; partial responses, when
exported, have no End Date, so the reader adds a derived ``finished`` column.
"""

from __future__ import annotations

from pathlib import Path

from consult.errors import IngestFileError
from consult.ingest.sources.base import SourceColumn, SourceTable
from consult.ingest.sources.table import (
    META_NAMES,
    check_names,
    fit_rows,
    normalise_meta,
)
from consult.ingest.sources.text import is_dayfirst, read_rows

META_COLUMNS = {
    "respondent id": "response_id",
    "start date": "started_at",
    "end date": "submitted_at",
    "custom data": "referral_code",
    "custom data 1": "referral_code",
    "custom data 2": "referred_by",
}
IGNORED_COLUMNS = {"collector id", "ip address", "email address", "first name", "last name"}
WHOLE_ANSWER = {"response", "open-ended response"}


class _SurveyMonkey:
    """Reader of SurveyMonkey CSV exports (two header rows)."""

    name = "surveymonkey"

    def sniff(self, path: Path, head: list[list[str]]) -> float:
        """0.95 with ``Respondent ID`` and ``Collector ID``, 0.8 with ``Respondent ID`` alone."""
        if not head:
            return 0.0
        names = {cell.strip().lower() for cell in head[0]}
        if "respondent id" not in names:
            return 0.0
        if "collector id" in names:
            return 0.95
        second = {cell.strip().lower() for cell in head[1]} if len(head) > 1 else set()
        return 0.8 if second & WHOLE_ANSWER else 0.6

    def read(self, path: Path) -> SourceTable:
        """Read a SurveyMonkey export; see the module docstring for the layout."""
        rows, starts = read_rows(path)
        header = [cell.strip() for cell in rows[0]]
        check_names(path, header)
        data, numbers = rows[2:], starts[2:]
        if not data:
            raise IngestFileError(
                f"{path}: the file has SurveyMonkey's two header rows but no responses; check "
                "the filters in Analyze Results and export again")
        second = (rows[1] + [""] * len(header))[: len(header)]
        fit_rows(path, data, numbers, len(header))
        columns = _describe(header, second)
        end = next((c for c in columns if c.meta == "submitted_at"), None)
        notes = []
        if end is not None:
            # Partial responses, when exported, are the ones without an End Date.
            columns.append(SourceColumn(index=len(header), name="finished",
                                        text="derived: 1 when End Date is set", meta="finished"))
            for row in data:
                row.append("1" if row[end.index].strip() else "0")
            notes.append("finished derived from End Date (partial responses have none)")
        dates = [row[c.index] for c in columns if c.meta in ("started_at", "submitted_at")
                 for row in data]
        first = is_dayfirst(dates)
        dayfirst = {c.index: first for c in columns if c.meta in ("started_at", "submitted_at")}
        normalise_meta(path, columns, data, numbers, dayfirst=dayfirst)
        return SourceTable(format="surveymonkey", path=path, columns=columns, rows=data,
                           row_numbers=numbers, notes=notes)


SURVEYMONKEY = _SurveyMonkey()


def _describe(header: list[str], second: list[str]) -> list[SourceColumn]:
    """Describe the columns, filling each question's text forward over its columns."""
    columns: list[SourceColumn] = []
    question: tuple[str, str] | None = None  # (key, text) of the question being read
    taken = set(header)
    for index, (name, kind) in enumerate(zip(header, second, strict=True)):
        kind = kind.strip()
        lowered = name.lower()
        if not kind:
            question = None
            meta = META_COLUMNS.get(lowered) or META_NAMES.get(lowered.replace(" ", "_"))
            if meta:
                columns.append(SourceColumn(index=index, name=name, text=name, meta=meta))
            elif lowered in IGNORED_COLUMNS or not name:
                columns.append(SourceColumn(index=index, name=name, text=name, ignore=True))
            else:
                columns.append(SourceColumn(index=index, name=name, text=name, question=name))
            continue
        if name or question is None:
            question = (f"sm{index}", name)
        key, text = question
        if not name:
            # Row 1 is blank over a question's later columns; a mapping names columns, so
            # each gets a name of its own: "<question text> - <row 2>".
            name = f"{text} - {kind}"
            if name in taken:
                name = f"{name} (column {index + 1})"
        taken.add(name)
        if kind.lower() in WHOLE_ANSWER:
            columns.append(SourceColumn(index=index, name=name, text=text, question=key))
        elif "please specify" in kind.lower():
            columns.append(SourceColumn(index=index, name=name, text=text, question=key,
                                        choice_text=kind, other_text=True))
        else:
            columns.append(SourceColumn(index=index, name=name, text=text, question=key,
                                        choice=kind, choice_text=kind))
    return columns
