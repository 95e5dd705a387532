"""Reader of KoboToolbox CSV exports.

KoboToolbox's "XML values and headers" export names each column by its group
path joined by ``/`` (``accommodation/acc_approach``; without "Include groups
in headers", just ``acc_approach``), writes each select_multiple as one
space-separated column and/or one ``1``/``0`` column per choice
(``accommodation/acc_factors/leadership_influence``), and ends with its
bookkeeping columns (``_id``, ``_uuid``, ``_submission_time``,
``_validation_status`` ...). It holds submitted forms only, so every row is
finished; a submission marked "Not approved" in validation is spam. A second
row of HXL hashtags (``#date``, ``#indicator +acc``), written when the form has
an ``hxl`` column, is skipped.
"""

from __future__ import annotations

import re
from pathlib import Path

from consult.errors import IngestFileError
from consult.ingest.sources.base import SourceColumn, SourceTable
from consult.ingest.sources.odk import (
    FORM_METADATA,
    REFERRAL_COLUMNS,
    Records,
    add_derived,
    describe_form_columns,
    header_of,
    normalise_dates,
    read_records,
    require_responses,
)

KOBO_COLUMNS = frozenset({
    "_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status",
    "_submitted_by", "_tags", "_index", "__version__",
})
NOT_APPROVED = frozenset({"validation_status_not_approved", "not approved", "not_approved"})
"""``_validation_status`` values (uid or label) that mark a submission as rejected."""
_HASHTAG = re.compile(r"^#[a-z][a-z0-9_]*(\s*\+[a-z][a-z0-9_]*)*$", re.IGNORECASE)


class KoboReader:
    """KoboToolbox's CSV export (``name = "kobo"``)."""

    name = "kobo"

    def sniff(self, path: Path, head: list[list[str]]) -> float:
        """Sure when KoboToolbox's underscore bookkeeping columns are there."""
        header = header_of(head)
        found = sum(1 for name in header if name in KOBO_COLUMNS)
        if found == 0:
            return 0.0
        return round(0.3 + 0.65 * min(1.0, found / 6), 3)

    def read(self, path: Path) -> SourceTable:
        """Read a KoboToolbox CSV; raise ``IngestFileError`` when it is malformed."""
        records = read_records(path)
        _skip_hxl_row(records)
        require_responses(path, records)
        header = records.header
        meta = {"start": "started_at", "_submission_time": "submitted_at", "_uuid": "response_id",
                **REFERRAL_COLUMNS}
        if "_uuid" not in header:
            if "_id" not in header:
                raise IngestFileError(
                    f"{path}, line {records.header_line}: no _uuid or _id column, so this is not "
                    "a KoboToolbox export; export it again from the project's Data > Downloads "
                    "page (CSV, XML values and headers), or read the file as another format"
                )
            meta["_id"] = "response_id"
        if "_submission_time" not in header:
            meta["end"] = "submitted_at"
        specials: dict[int, SourceColumn] = {}
        for index, name in enumerate(header):
            if name in meta:
                specials[index] = SourceColumn(index, name, meta=meta[name])
            elif (name.startswith("_") or name in FORM_METADATA or name == "end"
                  or name.startswith(("meta/", "formhub/"))):
                specials[index] = SourceColumn(index, name, ignore=True)
        table = SourceTable(format=self.name, path=path, columns=[], rows=records.rows,
                            row_numbers=records.lines, multi_separator=" ")
        questions, notes = describe_form_columns(header, records.rows,
                                                 [i for i in range(len(header)) if i not in specials],
                                                 group_separator="/")
        table.columns = [specials.get(i) or questions[i] for i in range(len(header))]
        table.notes += records.notes + notes
        normalise_dates(table, utc_columns={"_submission_time"})
        validation = header.index("_validation_status") if "_validation_status" in header else None
        add_derived(table, "status", "_validation_status (not approved → spam)"
                    if validation is not None else "KoboToolbox exports submitted forms only",
                    ("spam" if validation is not None and row[validation].strip().lower()
                     in NOT_APPROVED else "complete" for row in table.rows))
        add_derived(table, "finished", "KoboToolbox exports submitted forms only",
                    ("1" for _ in table.rows))
        return table


KOBO = KoboReader()


def _skip_hxl_row(records: Records) -> None:
    """Drop the HXL hashtag row that follows the header, if there is one."""
    if not records.rows:
        return
    cells = [cell.strip() for cell in records.rows[0]]
    if any(cells) and all(not cell or _HASHTAG.match(cell) for cell in cells):
        records.notes.append(f"line {records.lines[0]}: HXL hashtag row skipped")
        del records.rows[0], records.lines[0]
