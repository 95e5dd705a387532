"""A synthetic consultation as plain tables: XLSX and JSON Lines.

Both hold the columns and values of the canonical CSV (docs/formats.md), every
row included. XLSX keeps whole numbers as numbers and multiple choices as
space-separated codes; JSON Lines writes numbers as numbers, multiple choices as
lists and an unanswered item as ``null``.
"""

from __future__ import annotations

import json
from pathlib import Path

from consult.questionnaire import ItemType, Questionnaire
from consult.synth.generate import SynthConsultation, SynthResponse
from consult.synth.write import canonical_columns

Value = str | int | list[str] | None


def write_xlsx(consultation: SynthConsultation, path: Path) -> Path:
    """Write every row as a one-sheet workbook with the canonical columns."""
    import openpyxl  # imported here: only this export needs it

    q = consultation.questionnaire
    path.parent.mkdir(parents=True, exist_ok=True)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("responses")
    sheet.append(canonical_columns(q))
    for response in consultation.responses:
        sheet.append([" ".join(v) if isinstance(v, list) else v for v in _values(q, response)])
    book.save(path)
    return path


def write_jsonl(consultation: SynthConsultation, path: Path) -> Path:
    """Write every row as one JSON object a line, keyed by the canonical columns."""
    q = consultation.questionnaire
    columns = canonical_columns(q)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for response in consultation.responses:
            record = dict(zip(columns, _values(q, response), strict=True))
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def _values(q: Questionnaire, r: SynthResponse) -> list[Value]:
    """One row of the canonical CSV, with numbers and lists kept as they are."""
    row: list[Value] = [
        r.response_id,
        r.status,
        1 if r.finished else 0,
        r.progress,
        r.started_at.isoformat(timespec="seconds"),
        r.submitted_at.isoformat(timespec="seconds"),
        r.language,
        r.referral_code,
        r.referred_by,
    ]
    for item in q.items():
        value = r.answers.get(item.id)
        if item.type is ItemType.NUMBER and isinstance(value, str) and value.lstrip("-").isdigit():
            value = int(value)
        row.append(value)
        if item.other:
            row.append(r.other_text.get(item.id))
    return row
