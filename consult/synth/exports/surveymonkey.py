"""A synthetic consultation as SurveyMonkey exports it ("All individual responses", CSV).

Two header rows: row 1 the respondent columns and each question's text over
the first of its columns; row 2 ``Response``, ``Open-Ended Response``, the
choice labels of a multiple choice, or ``Other (please specify)``. The web
link carries the respondent's own code and the referrer's as custom variables
(``Custom Data 1`` and ``Custom Data 2``). SurveyMonkey never exports previews
or spam, so they are left out; partial responses have no End Date.
"""

from __future__ import annotations

import csv
import zlib
from datetime import datetime
from pathlib import Path

from consult.questionnaire import ItemType, Questionnaire
from consult.regions import country_name
from consult.synth.exports.qualtrics import COUNTRY_VARIANTS
from consult.synth.generate import SynthConsultation, SynthResponse

META_HEADER = ["Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address",
               "Email Address", "First Name", "Last Name", "Custom Data 1", "Custom Data 2"]
COLLECTOR_ID = "405123987"
OTHER_TEXT = {"en": "Other (please specify)", "fr": "Autre (veuillez préciser)"}


def write_surveymonkey(consultation: SynthConsultation, path: Path, *,
                       lang: str | None = None) -> Path:
    """Write a SurveyMonkey CSV export (UTF-8 with BOM) of every row but previews and spam.

    ``lang`` is the language of the question texts and choice labels
    (default: the questionnaire's first language).
    """
    q = consultation.questionnaire
    language = lang or q.languages[0]
    first, second = _header(q, language)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(first)
        writer.writerow(second)
        for response in consultation.responses:
            if response.status in ("preview", "spam", "test"):
                continue
            writer.writerow(_meta(response) + _answers(q, response, language))
    return path


def _header(q: Questionnaire, lang: str) -> tuple[list[str], list[str]]:
    first, second = list(META_HEADER), [""] * len(META_HEADER)
    other = OTHER_TEXT.get(lang, OTHER_TEXT["en"])
    for item in q.items():
        label = q.text(item.label, lang)
        if item.type is ItemType.MULTIPLE_CHOICE:
            kinds = [q.text(c.label, lang) for c in item.choices or []]
        elif item.type is ItemType.FREE_TEXT:
            kinds = ["Open-Ended Response"]
        else:
            kinds = ["Response"]
        if item.other:
            kinds.append(other)
        first += [label] + [""] * (len(kinds) - 1)
        second += kinds
    return first, second


def _meta(r: SynthResponse) -> list[str]:
    # RFC 5737 documentation addresses: never a real respondent's.
    address = f"198.51.100.{zlib.crc32(r.referral_code.encode()) % 254 + 1}"
    return [r.response_id, COLLECTOR_ID, _date(r.started_at),
            _date(r.submitted_at) if r.finished else "", address, "", "", "",
            r.referral_code, r.referred_by or ""]


def _answers(q: Questionnaire, r: SynthResponse, lang: str) -> list[str]:
    other = OTHER_TEXT.get(lang, OTHER_TEXT["en"])
    cells: list[str] = []
    for item in q.items():
        value = r.answers.get(item.id)
        if item.type is ItemType.MULTIPLE_CHOICE:
            chosen = value if isinstance(value, list) else []
            cells += [q.text(c.label, lang) if c.code in chosen else "" for c in item.choices or []]
        elif item.type is ItemType.COUNTRY and value is not None:
            variants = COUNTRY_VARIANTS.get(str(value)) or [country_name(str(value))]
            cells.append(variants[zlib.crc32(r.response_id.encode()) % len(variants)])
        elif item.type.has_choices and value is not None:
            choice = item.choice(str(value))
            cells.append(q.text(choice.label, lang) if choice else other)
        else:
            cells.append("" if value is None else str(value))
        if item.other:
            cells.append(r.other_text.get(item.id, ""))
    return cells


def _date(moment: datetime) -> str:
    return f"{moment:%m/%d/%Y %I:%M:%S %p}"
