"""Whether a mapping fits the file being ingested.

A mapping is written once and used for every later export of its source, so
a typo in it, or an export of another layout, would lose data without a word.
The file must be an export of the survey the mapping was made for, every
column the mapping names must be in it, and every question of the file the
ingest will not read is listed.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from consult.errors import ConsultError, Issue, ValidationFailed
from consult.ingest.mapping import (
    Mapping,
    QuestionMapping,
    draft_mapping,
    group_text,
    question_groups,
    similarity,
)
from consult.ingest.sources.base import SourceTable
from consult.questionnaire import Questionnaire

SAME_SURVEY = 0.3
"""Below this share of questions agreeing with the mapping and the questionnaire, a file is
taken for an export of another survey."""


def check_same_survey(mapping: Mapping, table: SourceTable, mapping_path: Path,
                      questionnaire: Questionnaire) -> None:
    """Refuse a file that is an export of another survey than the one ``mapping`` was made for.

    A platform names questions generically (Qualtrics' ``Q1``, ``Q2``...), so
    keys alone do not tell surveys apart: a question agrees with the mapping
    when an entry names its key or columns and, when both have one, the
    entry's question text is the file's. When too few agree, the file is
    matched against the questionnaire afresh, as a first ingest would; too few
    matches there too, and it is refused before any cell is converted.
    """
    groups = question_groups(table)
    if not groups:
        return
    entries = list(mapping.questions.values())
    agreeing = sum(1 for key, group in groups.items()
                   if _agrees(mapping.questions.get(key) or _entry_of(entries, table, group),
                              group_text(group, table)))
    if agreeing >= max(1, SAME_SURVEY * len(groups)):
        return
    draft = draft_mapping(table, questionnaire)
    matched = sum(1 for q in draft.questions.values() if q.item is not None)
    if matched >= max(1, SAME_SURVEY * len(draft.questions)):
        return  # the questionnaire's questions, worded or laid out otherwise
    raise ConsultError(
        f"{table.path}: only {agreeing} of {len(groups)} questions agree with {_shown(mapping_path)} "
        f"and {matched} match the questionnaire {questionnaire.id} {questionnaire.version}; this "
        "looks like an export of another survey. Check the file; ingest another survey in a "
        "project of its own (consult init), or write its mapping by hand (docs/mapping.md)")


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


def _entry_of(entries: list[QuestionMapping], table: SourceTable,
              group: list[int]) -> QuestionMapping | None:
    names = {table.columns[i].name for i in group}
    return next((q for q in entries if names & set(q.columns)), None)


def _agrees(entry: QuestionMapping | None, text: str) -> bool:
    if entry is None:
        return False
    if not entry.text or not text:
        return True
    # The draft keeps the first 160 characters of a question's text.
    return similarity(entry.text, text[:160]) >= 0.6


def _answered(table: SourceTable, group: list[int]) -> int:
    """How many rows have an answer in any of the columns ``group``."""
    return sum(1 for row in table.rows
               if any(i < len(row) and row[i].strip() for i in group))


def _shown(path: Path) -> str:
    """``mapping/qualtrics.yaml``: the mapping as the project's folder names it."""
    return f"{path.parent.name}/{path.name}"
