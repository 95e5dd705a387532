"""A synthetic consultation straight into store records, bypassing files.

For tests and benchmarks of the parts after ingest (analysis, chains,
themes): it stores what a perfect ingest would store. Junk rows are stored as
excluded responses with the reason ingest would give them.
"""

from __future__ import annotations

from consult.questionnaire import ItemType
from consult.store.responses import AnswerRecord, RespondentRecord
from consult.synth.generate import SynthConsultation, SynthResponse

JUNK_REASONS = {
    "preview": "preview",
    "spam": "spam",
    "partial": "incomplete",
    "duplicate_id": "duplicate",
    "duplicate_code": "duplicate",
}


def synth_records(consultation: SynthConsultation, source: str = "synth") -> list[RespondentRecord]:
    """One record per row; junk rows carry their exclusion reason."""
    records = []
    seen: set[str] = set()
    for index, response in enumerate(consultation.responses):
        source_id = response.response_id
        if source_id in seen:  # a duplicated response id is stored once
            continue
        seen.add(source_id)
        reason = JUNK_REASONS.get(response.kind)
        records.append(RespondentRecord(
            source=source,
            source_id=source_id,
            source_row=index + 2,
            referral_code=response.referral_code,
            referred_by=response.referred_by,
            wave=response.wave if response.kind == "complete" else None,
            language=response.language,
            country_iso3=response.country_iso3,
            region=response.region,
            started_at=response.started_at,
            submitted_at=response.submitted_at,
            finished=response.finished,
            progress=response.progress,
            answers=tuple(_answers(consultation, response)),
            exclusions=((reason, f"synthetic {response.kind} row"),) if reason else (),
        ))
    return records


def _answers(consultation: SynthConsultation, response: SynthResponse) -> list[AnswerRecord]:
    answers: list[AnswerRecord] = []
    for item in consultation.questionnaire.items():
        value = response.answers.get(item.id)
        if value is None:
            continue
        other = response.other_text.get(item.id)
        if item.type is ItemType.MULTIPLE_CHOICE and isinstance(value, list):
            order = item.choice_codes()
            for code in value:
                answers.append(AnswerRecord(item.id, code, order.index(code),
                                            other if code == "other" else None))
        else:
            answers.append(AnswerRecord(item.id, str(value), 0,
                                        other if value == "other" else None))
    return answers
