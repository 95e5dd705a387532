"""Write a synthetic consultation as files.

``write_canonical`` writes consult's own canonical CSV (documented in
docs/formats.md): one row per response, one column per item, choice codes as
they are in the questionnaire, multiple choices space-separated, "other"
texts in ``<item>_other`` columns. Export formats of the survey platforms are
added beside it by the ingest work.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from consult.questionnaire import Questionnaire
from consult.synth.generate import SynthConsultation, SynthResponse

META_COLUMNS = (
    "response_id",
    "status",
    "finished",
    "progress",
    "started_at",
    "submitted_at",
    "language",
    "referral_code",
    "referred_by",
)


def canonical_columns(questionnaire: Questionnaire) -> list[str]:
    """The header of a canonical CSV for ``questionnaire``."""
    columns = list(META_COLUMNS)
    for item in questionnaire.items():
        columns.append(item.id)
        if item.other:
            columns.append(f"{item.id}_other")
    return columns


def write_canonical(consultation: SynthConsultation, path: Path) -> Path:
    """Write every row (junk included) as canonical CSV (UTF-8) to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = canonical_columns(consultation.questionnaire)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for response in consultation.responses:
            writer.writerow(_canonical_row(consultation.questionnaire, response))
    return path


def write_truth(consultation: SynthConsultation, path: Path) -> Path:
    """Write what the generator knows and an export hides, one JSON object a line.

    Per row: response id, kind (complete or the junk kind), wave, country,
    region, and for every free-text item the language and the themes planted.
    Tests and benchmarks score ingest, analysis and theme-finding against it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for r in consultation.responses:
            record = {
                "response_id": r.response_id,
                "kind": r.kind,
                "wave": r.wave,
                "referral_code": r.referral_code,
                "referred_by": r.referred_by,
                "country_iso3": r.country_iso3,
                "region": r.region,
                "themes": r.themes,
                "text_language": r.text_language,
            }
            handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    return path


def _canonical_row(q: Questionnaire, r: SynthResponse) -> list[str]:
    row = [
        r.response_id,
        r.status,
        "1" if r.finished else "0",
        str(r.progress),
        r.started_at.isoformat(timespec="seconds"),
        r.submitted_at.isoformat(timespec="seconds"),
        r.language,
        r.referral_code,
        r.referred_by or "",
    ]
    for item in q.items():
        value = r.answers.get(item.id)
        if value is None:
            row.append("")
        elif isinstance(value, list):
            row.append(" ".join(value))
        else:
            row.append(str(value))
        if item.other:
            row.append(r.other_text.get(item.id, ""))
    return row
