"""Reader of LimeSurvey response exports (CSV, "Question code" headings, "Answer codes").

LimeSurvey's response columns come first (``id``, ``submitdate``, ``lastpage``,
``startlanguage``, ``seed``, ``token``, ``startdate``, ``datestamp``,
``refurl``), then one column per question code. A multiple-choice question has
one column per subquestion, ``Q[SQ001]``, holding ``Y`` when selected; its
"Other" text is in ``Q[other]`` (so is a list question's). Cells hold answer
codes (``A1``, ``-oth-``) and subquestion codes as the survey author set them:
this reader reports them as written, and the column mapping resolves them
against the questionnaire. A response is finished when it has a
``submitdate``; the participant ``token`` (or a ``code`` column) is the
respondent's referral code and the URL parameter ``ref`` the referrer's.
"""

from __future__ import annotations

import re
from pathlib import Path

from consult.errors import IngestFileError
from consult.ingest.sources.base import SourceColumn, SourceTable
from consult.ingest.sources.odk import (
    add_derived,
    header_of,
    normalise_dates,
    read_records,
    require_responses,
)

CORE_COLUMNS = ("id", "submitdate", "lastpage", "startlanguage")
OPTIONAL_COLUMNS = ("seed", "token", "startdate", "datestamp", "refurl")
IGNORED = frozenset({"lastpage", "seed", "datestamp", "refurl", "ipaddr", "interviewtime"})
"""Response columns ingest does not read (the page reached, the IP address, timings)."""
NO_DATESTAMP = "1980-01-01 00:00:00"
"""The ``submitdate`` LimeSurvey writes for a finished response of a survey without date stamps."""
SELECTED = frozenset({"", "Y", "1"})
_SUBQUESTION = re.compile(r"^(?P<question>[^\[\]]+)\[(?P<sub>[^\[\]]+)\]$")


class LimeSurveyReader:
    """LimeSurvey's CSV response export (``name = "limesurvey"``)."""

    name = "limesurvey"

    def sniff(self, path: Path, head: list[list[str]]) -> float:
        """Sure when LimeSurvey's response columns head the file."""
        header = header_of(head)
        core = sum(1 for name in CORE_COLUMNS if name in header)
        optional = sum(1 for name in OPTIONAL_COLUMNS if name in header)
        if core < 2:
            return 0.0
        first = 0.05 if header[:2] == ["id", "submitdate"] else 0.0
        return round(0.6 * core / len(CORE_COLUMNS) + 0.35 * optional / len(OPTIONAL_COLUMNS)
                     + first, 3)

    def read(self, path: Path) -> SourceTable:
        """Read a LimeSurvey CSV export; raise ``IngestFileError`` when it is malformed."""
        records = read_records(path)
        require_responses(path, records)
        header = records.header
        missing = [name for name in ("id", "submitdate") if name not in header]
        if missing:
            raise IngestFileError(
                f"{path}, line {records.header_line}: no {' or '.join(missing)} column, so this "
                "is not a LimeSurvey response export; export it again (Responses > Export > "
                "CSV, \"Question code\" headings, \"Answer codes\"), or read the file as another "
                "format"
            )
        table = SourceTable(format=self.name, path=path, columns=[], rows=records.rows,
                            row_numbers=records.lines, multi_separator=None)
        table.notes += records.notes
        meta = {"id": "response_id", "submitdate": "submitted_at", "startdate": "started_at",
                "startlanguage": "language", "ref": "referred_by", "referred_by": "referred_by",
                **_referral_column(header, records.rows)}
        comments = 0
        for index, name in enumerate(header):
            if name in meta:
                column = SourceColumn(index, name, meta=meta[name])
            elif name in IGNORED or name in ("token", "code"):
                column = SourceColumn(index, name, ignore=True)
            else:
                column = _question_column(index, name, records.rows)
                comments += column.ignore
            table.columns.append(column)
        if comments:
            table.notes.append(f"{comments} comment column(s) ([...comment]) not read")
        submitted = header.index("submitdate")
        finished = ["1" if row[submitted].strip() else "0" for row in table.rows]
        undated = [line for row, line in zip(table.rows, table.row_numbers, strict=True)
                   if row[submitted].strip() == NO_DATESTAMP]
        if undated:
            for row in table.rows:
                if row[submitted].strip() == NO_DATESTAMP:
                    row[submitted] = ""
            table.notes.append(
                f"{len(undated)} response(s) submitted without a date (submitdate {NO_DATESTAMP}, "
                f"first at line {undated[0]}): the survey does not keep date stamps"
            )
        normalise_dates(table)
        add_derived(table, "status", "LimeSurvey exports no previews or spam",
                    ("complete" for _ in table.rows))
        add_derived(table, "finished", "submitdate (empty → not finished)", finished)
        return table


LIMESURVEY = LimeSurveyReader()


def _referral_column(header: list[str], rows: list[list[str]]) -> dict[str, str]:
    """The column holding the respondent's own code: ``token``, else a ``code`` column."""
    if "token" in header:
        token = header.index("token")
        if "code" not in header or any(row[token].strip() for row in rows):
            return {"token": "referral_code"}
    return {"code": "referral_code"} if "code" in header else {}


def _question_column(index: int, name: str, rows: list[list[str]]) -> SourceColumn:
    """A question column: the whole answer, a subquestion, or an "Other" text."""
    match = _SUBQUESTION.match(name)
    if match is None:
        return SourceColumn(index, name, question=name)
    question, sub = match["question"], match["sub"]
    if sub == "other":
        return SourceColumn(index, name, question=question, other_text=True)
    if sub.endswith("comment"):
        return SourceColumn(index, name, ignore=True, text=f"comment on {question}")
    if all(row[index].strip() in SELECTED for row in rows):
        return SourceColumn(index, name, question=question, choice=sub)
    # An array question's subquestion holds an answer code of its own.
    return SourceColumn(index, name, question=name)
