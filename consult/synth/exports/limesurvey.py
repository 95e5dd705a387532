"""A synthetic consultation as a LimeSurvey response export.

The layout is "Export responses" as CSV with "Question code" headings and
"Answer codes": LimeSurvey's response columns (``id`` ... ``refurl``), then one
column per question in survey order, then the URL parameter ``ref``.

A LimeSurvey survey built from consult's questionnaire has alphanumeric codes,
so the codes here are derived as a survey author would set them: the question
code is the item id without underscores (``acc_approach`` → ``accapproach``);
answer options are ``A1``, ``A2`` ... by position and ``-oth-`` for "Other";
multiple-choice subquestions are ``SQ001`` ... by position, ``Y`` when
selected, with the "Other" text in ``<code>[other]``. Countries are a
dropdown list whose answer codes are ISO3 codes. The respondent's own referral
code is the participant ``token``.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from consult.questionnaire import Item, ItemType, Questionnaire
from consult.synth.generate import SynthConsultation, SynthResponse

RESPONSE_COLUMNS = (
    "id",
    "submitdate",
    "lastpage",
    "startlanguage",
    "seed",
    "token",
    "startdate",
    "datestamp",
    "refurl",
)
URL_PARAMETERS = ("ref",)
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


def write_limesurvey(consultation: SynthConsultation, path: Path, *, delimiter: str = ",") -> Path:
    """Write ``consultation`` as a LimeSurvey CSV response export at ``path``.

    LimeSurvey has no previews or spam in its responses table, so those rows
    are left out; partial responses are kept with an empty ``submitdate`` and
    the page reached in ``lastpage`` (one page per group: the profile, then each
    domain; the page of their last answer); duplicates are kept (a ``duplicate_id``
    row repeats its original's ``id``, as when two exports are appended).
    ``delimiter=";"`` gives the semicolon variant of the export.
    """
    q = consultation.questionnaire
    page_of = _pages(q)
    pages = max(page_of.values(), default=0)
    rng = random.Random(consultation.seed)
    ids: dict[str, int] = {}
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow([*RESPONSE_COLUMNS, *question_columns(q), *URL_PARAMETERS])
        for response in consultation.responses:
            if response.status != "complete":
                continue
            number = ids.setdefault(response.response_id, len(ids) + 1)
            writer.writerow([
                str(number),
                response.submitted_at.strftime(DATE_FORMAT) if response.finished else "",
                str(pages if response.finished else
                    max((page_of[item] for item in response.answers), default=0)),
                response.language,
                str(rng.randrange(10**8, 10**9)),
                response.referral_code,
                response.started_at.strftime(DATE_FORMAT),
                response.submitted_at.strftime(DATE_FORMAT),
                "",
                *answer_cells(q, response),
                response.referred_by or "",
            ])
    return path


def question_code(item: Item) -> str:
    """The LimeSurvey question code of ``item``: its id without underscores."""
    return item.id.replace("_", "")


def question_columns(q: Questionnaire) -> list[str]:
    """The headings of the question columns, in survey order."""
    headings: list[str] = []
    for item in q.items():
        code = question_code(item)
        if item.type is ItemType.MULTIPLE_CHOICE:
            headings += [f"{code}[SQ{n:03d}]" for n in range(1, len(item.choices or []) + 1)]
        else:
            headings.append(code)
        if item.other:
            headings.append(f"{code}[other]")
    return headings


def answer_cells(q: Questionnaire, response: SynthResponse) -> list[str]:
    """The cells of ``response`` under :func:`question_columns`."""
    cells: list[str] = []
    for item in q.items():
        value = response.answers.get(item.id)
        codes = [c.code for c in item.choices or []]
        if item.type is ItemType.MULTIPLE_CHOICE:
            chosen = value if isinstance(value, list) else []
            cells += ["Y" if code in chosen else "" for code in codes]
        elif item.type in (ItemType.SINGLE_CHOICE, ItemType.LIKERT):
            if value is None:
                cells.append("")
            else:
                cells.append("-oth-" if value == "other" else f"A{codes.index(str(value)) + 1}")
        else:
            cells.append("" if value is None else str(value))
        if item.other:
            cells.append(response.other_text.get(item.id, ""))
    return cells


def _pages(q: Questionnaire) -> dict[str, int]:
    """Each item's page (question group), from 1: the profile first, then each domain."""
    groups = ([q.profile] if q.profile else []) + [d.items for d in q.domains]
    return {item.id: page for page, items in enumerate(groups, start=1) for item in items}
