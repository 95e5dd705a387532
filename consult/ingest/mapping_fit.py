"""Whether a mapping fits the file being ingested.

A mapping is written once and used for every later export of its source, so
a typo in it, or an export of another layout, would lose data without a word.
Every column the mapping names must be in the file.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from consult.errors import Issue, ValidationFailed
from consult.ingest.mapping import Mapping
from consult.ingest.sources.base import SourceTable


def check_columns(mapping: Mapping, table: SourceTable, mapping_path: Path) -> None:
    """Raise :class:`ValidationFailed` naming each mapped column that ``table`` lacks."""
    names = [c.name for c in table.columns]
    present = set(names)
    file_name = table.path.name
    issues: list[Issue] = []

    def missing(where: str, column: str) -> None:
        close = difflib.get_close_matches(column, names, n=3)
        issues.append(Issue(
            "mapping-column", f"column {column!r} is not in {file_name}", file=str(mapping_path),
            where=where, hint=(f"Did you mean {', '.join(close)}?" if close
                               else "Write the column's name as the file's header has it.")))

    for q in mapping.questions.values():
        if q.item is None:
            continue
        for column in q.columns:
            if column not in present:
                missing(f"questions.{q.question}.columns", column)
    for key, meta in (("referral_code", mapping.referral_code),
                      ("referred_by", mapping.referred_by)):
        if meta and meta not in present:
            missing(key, meta)
    if issues:
        raise ValidationFailed(f"{mapping_path}: the mapping names columns that {file_name} does "
                               "not have; nothing was ingested", issues)
