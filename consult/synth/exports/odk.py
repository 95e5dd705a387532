"""A synthetic consultation as ODK Central's CSV download of the submissions.

The form is the one consult exports as XLSForm (``consult questionnaire
xlsform``): question names are item ids, choice names are choice codes, the
profile sits in group ``profile`` and each domain in a group named by its id.
The two hidden fields ``code`` and ``ref`` carry the respondent's own referral
code and the referrer's (fed from the form link's URL parameters).

The layout is the one Central writes with "split select multiple choices into
columns" on: ``SubmissionDate`` first, group paths joined by ``-``, each
select_multiple as its combined column followed by one ``1``/``0`` column per
choice (``accommodation-acc_factors/leadership_influence``), then Central's own
bookkeeping columns. The column helpers here are shared with the KoboToolbox
writer, which uses the same form.
"""

from __future__ import annotations

import csv
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from consult.questionnaire import Item, ItemType, Questionnaire
from consult.synth.generate import SynthConsultation, SynthResponse

BOOKKEEPING = (
    "meta-instanceID",
    "KEY",
    "SubmitterID",
    "SubmitterName",
    "AttachmentsPresent",
    "AttachmentsExpected",
    "Status",
    "ReviewState",
    "DeviceID",
    "Edits",
    "FormVersion",
)
REFERRAL_FIELDS = ("code", "ref")
"""The hidden fields holding the respondent's own referral code and the referrer's."""

_UUID_NAMESPACE = uuid.UUID("6f1c9a52-3d1e-4b8e-9a57-2c1f0e4b7d10")


@dataclass(frozen=True)
class FormColumn:
    """One question column of an XLSForm-based export.

    ``choice`` marks the split column of one choice of a select_multiple;
    ``other_text`` the ``<item>_other`` "please specify" question.
    """

    group: str
    name: str
    item: Item
    choice: str | None = None
    other_text: bool = False

    def header(self, group_separator: str) -> str:
        """The column's heading with groups joined by ``group_separator``."""
        path = f"{self.group}{group_separator}{self.name}"
        return f"{path}/{self.choice}" if self.choice is not None else path

    def cell(self, response: SynthResponse) -> str:
        """The value an XLSForm platform exports for ``response`` in this column."""
        if self.other_text:
            return response.other_text.get(self.item.id, "")
        value = response.answers.get(self.item.id)
        if self.choice is not None:
            # An unanswered (or irrelevant) select_multiple leaves its split columns empty.
            if value is None:
                return ""
            return "1" if isinstance(value, list) and self.choice in value else "0"
        if value is None:
            return ""
        return " ".join(value) if isinstance(value, list) else str(value)


def write_odk(consultation: SynthConsultation, path: Path) -> Path:
    """Write ``consultation`` as ODK Central's submissions CSV at ``path``.

    Central holds submitted forms only, so previews and partial responses are
    left out; spam is written with ``ReviewState`` ``rejected``; duplicates are
    kept (a ``duplicate_id`` row repeats its original's instance id).
    """
    q = consultation.questionnaire
    columns = form_columns(q)
    header = ["SubmissionDate", "start", "end", *(c.header("-") for c in columns),
              *REFERRAL_FIELDS, *BOOKKEEPING]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        kept = [r for r in consultation.responses if r.finished and r.status in ("complete", "spam")]
        for index, response in enumerate(kept):
            instance = "uuid:" + instance_uuid(consultation, response)
            writer.writerow([
                _central_time(response.submitted_at, index),
                xform_time(response.started_at),
                xform_time(form_end(response, index)),
                *(c.cell(response) for c in columns),
                response.referral_code,
                response.referred_by or "",
                instance,
                instance,
                "5",
                "Public link",
                "0",
                "0",
                "",
                _review_state(response, index),
                "",
                "0",
                q.version,
            ])
    return path


def form_columns(q: Questionnaire) -> list[FormColumn]:
    """The question columns of an export of consult's XLSForm, in form order."""
    sections = [("profile", q.profile), *((d.id, d.items) for d in q.domains)]
    columns: list[FormColumn] = []
    for group, items in sections:
        for item in items:
            columns.append(FormColumn(group, item.id, item))
            if item.type is ItemType.MULTIPLE_CHOICE:
                columns += [FormColumn(group, item.id, item, choice=code)
                            for code in item.choice_codes()]
            if item.other:
                columns.append(FormColumn(group, f"{item.id}_other", item, other_text=True))
    return columns


def instance_uuid(consultation: SynthConsultation, response: SynthResponse) -> str:
    """The form instance's UUID for ``response``: the same for rows sharing a response id."""
    return str(uuid.uuid5(_UUID_NAMESPACE, f"{consultation.seed}:{response.response_id}"))


def xform_time(moment: datetime) -> str:
    """A form's ``start``/``end`` value: ``2014-09-08T16:01:00.000+00:00``."""
    return moment.isoformat(timespec="milliseconds")


def form_end(response: SynthResponse, index: int) -> datetime:
    """When the form was finished: a few seconds before the server received it."""
    return response.submitted_at - timedelta(seconds=2 + index % 5)


def _central_time(moment: datetime, index: int) -> str:
    # Central writes UTC with milliseconds and Z; the milliseconds vary per row.
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + f".{(index * 137) % 1000:03d}Z"


def _review_state(response: SynthResponse, index: int) -> str:
    if response.status == "spam":
        return "rejected"
    if index % 5 == 0:
        return "approved"
    return "hasIssues" if index % 7 == 3 else ""
