"""Whether a mapping fits the file being ingested.

A mapping is written once and used for every later export of its source, so
a typo in it, or an export of another layout, would lose data without a word.
Every column the mapping names must be in the file, and every question of
the file the ingest will not read is listed.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from consult.errors import Issue, ValidationFailed
from consult.ingest.mapping import Mapping, question_groups
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


def unread_questions(mapping: Mapping, table: SourceTable, mapping_path: Path) -> list[Issue]:
    """An issue for each question of ``table`` with answers that the ingest will not read.

    A question no entry of the mapping names is a warning (a column added to
    the export since the mapping was made); one the mapping maps to no item
    (``item: null``, decided at review) is listed as info on every ingest.
    """
    named = {column for q in mapping.questions.values() for column in q.columns}
    by_name = {c.name: c.index for c in table.columns}
    file_name, mapping_name = table.path.name, _shown(mapping_path)
    issues: list[Issue] = []
    for key, group in question_groups(table).items():
        names = [table.columns[i].name for i in group]
        if any(name in named for name in names):
            continue
        answered = _answered(table, group)
        if answered:
            issues.append(Issue(
                "unmapped-question", f"question {key} ({', '.join(names)}) is in no entry of "
                f"{mapping_name}; its {answered} answers are not stored", file=file_name,
                column=names[0], severity="warning",
                hint=f"Add it under questions in {mapping_name}: {key}: {{item: ITEM, columns: "
                f"[{', '.join(names)}]}}, or item: null to ignore it."))
    for q in mapping.questions.values():
        if q.item is not None:
            continue
        group = [by_name[name] for name in q.columns if name in by_name]
        answered = _answered(table, group)
        if answered:
            issues.append(Issue(
                "ignored-question", f"question {q.question} is mapped to no item (item: null); "
                f"its {answered} answers are not stored", file=file_name,
                column=q.columns[0] if q.columns else "", severity="info",
                hint=f"Set questions.{q.question}.item in {mapping_name} to keep them."))
    return issues


def _answered(table: SourceTable, group: list[int]) -> int:
    """How many rows have an answer in any of the columns ``group``."""
    return sum(1 for row in table.rows
               if any(i < len(row) and row[i].strip() for i in group))


def _shown(path: Path) -> str:
    """``mapping/qualtrics.yaml``: the mapping as the project's folder names it."""
    return f"{path.parent.name}/{path.name}"
