"""A synthetic consultation as Qualtrics exports it.

Three variants: the current CSV export (three header rows: column ids,
question texts, ImportIds; UTF-8 with a BOM), the same as TSV, and the legacy
two-row layout of an older export or a file saved again from Excel (US dates
such as ``12/2/21 8:46``, ``TRUE``/``FALSE``). Questions carry generic export
tags ``Q1``, ``Q2``... in questionnaire order, as real surveys do, so ingest
must match them by their text. Previews and spam keep their Status; partial
responses are unfinished with their End Date set; duplicates stay.
"""

from __future__ import annotations

import csv
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from consult.questionnaire import Item, ItemType, Questionnaire
from consult.regions import country_name
from consult.synth.generate import SynthConsultation, SynthResponse

TIME_ZONE = "America/Denver"
STATUS = {"complete": "IP Address", "preview": "Survey Preview", "spam": "Spam",
          "test": "Survey Test"}
OTHER_LABEL = {"en": "Other", "fr": "Autre", "es": "Otro", "de": "Andere"}
# How respondents name their country in a free dropdown or text field; the
# variant is picked from the response id, so the same file comes out each time.
COUNTRY_VARIANTS = {
    "USA": ["United States", "USA", "U.S."],
    "CAN": ["Canada"],
    "AUS": ["Australia", "Australia (NSW)"],
    "NZL": ["New Zealand", "Aotearoa New Zealand"],
    "GBR": ["United Kingdom", "England"],
    "NLD": ["Netherlands", "Nederland"],
    "ESP": ["Spain", "España"],
    "ISR": ["Israel", "Israël"],
    "FRA": ["France"], "BEL": ["Belgium"], "DEU": ["Germany"], "SWE": ["Sweden"],
    "NOR": ["Norway"], "DNK": ["Denmark"], "SGP": ["Singapore"],
}
# Where Qualtrics would place a respondent of each country (its capital).
LOCATIONS = {
    "USA": (38.8951, -77.0364), "CAN": (45.4215, -75.6972), "AUS": (-35.2809, 149.13),
    "NZL": (-41.2866, 174.7756), "GBR": (51.5072, -0.1276), "FRA": (48.8566, 2.3522),
    "ESP": (40.4168, -3.7038), "NLD": (52.3676, 4.9041), "BEL": (50.8503, 4.3517),
    "DEU": (52.52, 13.405), "SWE": (59.3293, 18.0686), "NOR": (59.9139, 10.7522),
    "DNK": (55.6761, 12.5683), "ISR": (31.7683, 35.2137), "SGP": (1.3521, 103.8198),
}


def write_qualtrics(consultation: SynthConsultation, path: Path, *, lang: str | None = None) -> Path:
    """Write a current Qualtrics CSV export (three header rows, UTF-8 with BOM).

    ``lang`` is the language of the question texts and choice labels
    (default: the questionnaire's first language).
    """
    return _write(consultation, path, lang, delimiter=",", legacy=False)


def write_qualtrics_tsv(consultation: SynthConsultation, path: Path, *,
                        lang: str | None = None) -> Path:
    """Write a Qualtrics TSV export: three header rows, tab-separated, UTF-8 with BOM."""
    return _write(consultation, path, lang, delimiter="\t", legacy=False)


def write_qualtrics_legacy(consultation: SynthConsultation, path: Path, *,
                           lang: str | None = None) -> Path:
    """Write a legacy Qualtrics CSV: two header rows, US dates, ``TRUE``/``FALSE``."""
    return _write(consultation, path, lang, delimiter=",", legacy=True)


@dataclass(frozen=True)
class _Column:
    name: str
    text: str
    import_id: dict[str, str]
    cell: Callable[[SynthResponse], str]


def _write(consultation: SynthConsultation, path: Path, lang: str | None, *, delimiter: str,
           legacy: bool) -> Path:
    q = consultation.questionnaire
    language = lang or q.languages[0]
    columns = [*_meta_columns(legacy), *_item_columns(q, language), *_embedded_columns()]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow([c.name for c in columns])
        writer.writerow([c.text for c in columns])
        if not legacy:
            writer.writerow([json.dumps(c.import_id, separators=(",", ":")) for c in columns])
        for response in consultation.responses:
            writer.writerow([c.cell(response) for c in columns])
    return path


def _meta_columns(legacy: bool) -> list[_Column]:
    zone = {"timeZone": TIME_ZONE}

    def when(moment: Callable[[SynthResponse], datetime]) -> Callable[[SynthResponse], str]:
        return lambda r: _date(moment(r), legacy)

    def finished(r: SynthResponse) -> str:
        return ("TRUE" if r.finished else "FALSE") if legacy else str(r.finished)

    def located(r: SynthResponse, axis: int) -> str:
        place = LOCATIONS.get(r.country_iso3)
        return "" if place is None or r.status == "preview" else f"{place[axis]:.4f}"

    return [
        _Column("StartDate", "Start Date", {"ImportId": "startDate", **zone},
                when(lambda r: r.started_at)),
        _Column("EndDate", "End Date", {"ImportId": "endDate", **zone},
                when(lambda r: r.submitted_at)),
        _Column("Status", "Response Type", {"ImportId": "status"}, lambda r: STATUS[r.status]),
        _Column("IPAddress", "IP Address", {"ImportId": "ipAddress"}, _ip_address),
        _Column("Progress", "Progress", {"ImportId": "progress"}, lambda r: str(r.progress)),
        _Column("Duration (in seconds)", "Duration (in seconds)", {"ImportId": "duration"},
                lambda r: str(int((r.submitted_at - r.started_at).total_seconds()))),
        _Column("Finished", "Finished", {"ImportId": "finished"}, finished),
        _Column("RecordedDate", "Recorded Date", {"ImportId": "recordedDate", **zone},
                when(lambda r: r.submitted_at)),
        _Column("ResponseId", "Response ID", {"ImportId": "_recordId"}, lambda r: r.response_id),
        _Column("RecipientLastName", "Recipient Last Name", {"ImportId": "recipientLastName"},
                lambda r: ""),
        _Column("RecipientFirstName", "Recipient First Name", {"ImportId": "recipientFirstName"},
                lambda r: ""),
        _Column("RecipientEmail", "Recipient Email", {"ImportId": "recipientEmail"},
                lambda r: ""),
        _Column("ExternalReference", "External Data Reference",
                {"ImportId": "externalDataReference"}, lambda r: ""),
        _Column("LocationLatitude", "Location Latitude", {"ImportId": "locationLatitude"},
                lambda r: located(r, 0)),
        _Column("LocationLongitude", "Location Longitude", {"ImportId": "locationLongitude"},
                lambda r: located(r, 1)),
        _Column("DistributionChannel", "Distribution Channel", {"ImportId": "distributionChannel"},
                lambda r: "preview" if r.status == "preview" else "anonymous"),
        _Column("UserLanguage", "User Language", {"ImportId": "userLanguage"}, _user_language),
    ]


def _item_columns(q: Questionnaire, lang: str) -> list[_Column]:
    other = OTHER_LABEL.get(lang, OTHER_LABEL["en"])
    columns: list[_Column] = []
    for number, item in enumerate(q.items(), start=1):
        tag, qid, label = f"Q{number}", f"QID{number}", q.text(item.label, lang)
        after = len(item.choices or []) + 1  # the position of "Other" after the listed choices
        if item.type is ItemType.MULTIPLE_CHOICE:
            for k, choice in enumerate(item.choices or [], start=1):
                text = q.text(choice.label, lang)
                columns.append(_Column(f"{tag}_{k}", f"{label} - Selected Choice - {text}",
                                       {"ImportId": f"{qid}_{k}"}, _selected(item, choice.code, text)))
            if item.other:
                columns.append(_Column(f"{tag}_{after}", f"{label} - Selected Choice - {other}",
                                       {"ImportId": f"{qid}_{after}"},
                                       _selected(item, "other", other)))
        elif item.type.has_choices:
            labels = {c.code: q.text(c.label, lang) for c in item.choices or []}
            labels["other"] = other
            text = f"{label} - Selected Choice" if item.other else label
            columns.append(_Column(tag, text, {"ImportId": qid}, _labelled(item, labels)))
        elif item.type is ItemType.COUNTRY:
            columns.append(_Column(tag, label, {"ImportId": qid}, _country(item)))
        else:  # number and free text are text entry questions
            columns.append(_Column(tag, label, {"ImportId": f"{qid}_TEXT"}, _verbatim(item)))
        if item.other:
            columns.append(_Column(f"{tag}_{after}_TEXT", f"{label} - {other} - Text",
                                   {"ImportId": f"{qid}_{after}_TEXT"}, _other_text(item)))
    return columns


def _embedded_columns() -> list[_Column]:
    """The embedded data fields the invitation links fill: own and referrer's code."""
    return [
        _Column("code", "code", {"ImportId": "code"}, lambda r: r.referral_code),
        _Column("ref", "ref", {"ImportId": "ref"}, lambda r: r.referred_by or ""),
    ]


# --------------------------------------------------------------------------- cells


def _selected(item: Item, code: str, label: str) -> Callable[[SynthResponse], str]:
    def cell(r: SynthResponse) -> str:
        value = r.answers.get(item.id)
        return label if isinstance(value, list) and code in value else ""
    return cell


def _labelled(item: Item, labels: dict[str, str]) -> Callable[[SynthResponse], str]:
    def cell(r: SynthResponse) -> str:
        value = r.answers.get(item.id)
        return labels.get(str(value), str(value)) if value is not None else ""
    return cell


def _country(item: Item) -> Callable[[SynthResponse], str]:
    def cell(r: SynthResponse) -> str:
        value = r.answers.get(item.id)
        if value is None:
            return ""
        variants = COUNTRY_VARIANTS.get(str(value)) or [country_name(str(value))]
        return variants[zlib.crc32(r.response_id.encode()) % len(variants)]
    return cell


def _verbatim(item: Item) -> Callable[[SynthResponse], str]:
    def cell(r: SynthResponse) -> str:
        value = r.answers.get(item.id)
        return "" if value is None else str(value)
    return cell


def _other_text(item: Item) -> Callable[[SynthResponse], str]:
    return lambda r: r.other_text.get(item.id, "")


def _date(moment: datetime, legacy: bool) -> str:
    local = moment.astimezone(ZoneInfo(TIME_ZONE))
    if legacy:
        return f"{local.month}/{local.day}/{local:%y} {local.hour}:{local:%M}"
    return f"{local:%Y-%m-%d %H:%M:%S}"


def _ip_address(r: SynthResponse) -> str:
    if r.status == "preview":
        return ""
    # RFC 5737 documentation addresses: never a real respondent's.
    return f"203.0.113.{zlib.crc32(r.referral_code.encode()) % 254 + 1}"


def _user_language(r: SynthResponse) -> str:
    if r.language == "fr" and r.country_iso3 == "CAN":
        return "FR-CA"
    return r.language.upper()
