"""A synthetic consultation as a KoboToolbox CSV export.

The export is the one KoboToolbox writes with "XML values and headers",
"Include groups in headers" (separator ``/``) and select_multiple both as one
column and split into one ``1``/``0`` column per choice: ``;``-separated, every
field quoted, UTF-8. The form is consult's XLSForm (see
:mod:`consult.synth.exports.odk`), with the hidden fields ``code`` and ``ref``
after the questions and KoboToolbox's bookkeeping columns last. ``hxl=True``
adds the second row of HXL hashtags KoboToolbox writes when the form has an
``hxl`` column.
"""

from __future__ import annotations

import base64
import csv
import hashlib
from datetime import UTC
from pathlib import Path

from consult.questionnaire import ItemType
from consult.synth.exports.odk import (
    REFERRAL_FIELDS,
    FormColumn,
    form_columns,
    form_end,
    instance_uuid,
    xform_time,
)
from consult.synth.generate import SynthConsultation

BOOKKEEPING = (
    "__version__",
    "_id",
    "_uuid",
    "_submission_time",
    "_validation_status",
    "_notes",
    "_status",
    "_submitted_by",
    "_tags",
    "_index",
)
FIRST_ID = 48_160_001
"""The ``_id`` of the first submission; KoboToolbox's ids are server-wide integers."""


def write_kobo(consultation: SynthConsultation, path: Path, *, hxl: bool = False) -> Path:
    """Write ``consultation`` as a KoboToolbox CSV export at ``path``.

    KoboToolbox exports submitted forms only: previews, spam and partial
    responses are left out; duplicates are kept (a ``duplicate_id`` row repeats
    its original's ``_uuid``, a ``duplicate_code`` row has its own).
    """
    q = consultation.questionnaire
    columns = form_columns(q)
    version = _form_version(q.id, q.version)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", quoting=csv.QUOTE_ALL)
        writer.writerow(["start", "end", *(c.header("/") for c in columns), *REFERRAL_FIELDS,
                         *BOOKKEEPING])
        if hxl:
            writer.writerow(["#date +start", "#date +end", *(_hashtag(c) for c in columns),
                             "#meta +code", "#meta +ref", *([""] * len(BOOKKEEPING))])
        kept = [r for r in consultation.responses if r.finished and r.status == "complete"]
        for index, response in enumerate(kept):
            writer.writerow([
                xform_time(response.started_at),
                xform_time(form_end(response, index)),
                *(c.cell(response) for c in columns),
                response.referral_code,
                response.referred_by or "",
                version,
                str(FIRST_ID + index),
                instance_uuid(consultation, response),
                response.submitted_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "",
                "",
                "submitted_via_web",
                "",
                "",
                str(index + 1),
            ])
    return path


def _hashtag(column: FormColumn) -> str:
    """The HXL hashtag a form author would give the column (``#indicator +acc_factors``)."""
    if column.item.type is ItemType.COUNTRY and column.choice is None and not column.other_text:
        return "#country +code"
    attributes = [column.item.id]
    if column.choice is not None:
        attributes.append(column.choice)
    if column.other_text:
        attributes.append("other")
    return "#indicator " + " ".join(f"+{a}" for a in attributes)


def _form_version(form_id: str, version: str) -> str:
    # KoboToolbox names deployed versions like "vbPMHBYUkx2Gt8s8ikS4Nw".
    digest = hashlib.sha256(f"{form_id}:{version}".encode()).digest()
    return "v" + base64.urlsafe_b64encode(digest).decode()[:22].replace("-", "x").replace("_", "y")
