"""Export a questionnaire as an XLSForm workbook (ODK, KoboToolbox, SurveyCTO).

The workbook has the three sheets of the XLSForm standard: ``survey``,
``choices`` and ``settings``. Texts go in ``label::Language (code)`` columns, one
per declared language, so the form stays bilingual. Conditions become XPath
``relevant`` expressions (see :func:`relevant_expression`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from consult.questionnaire.model import (
    OTHER_CODE,
    Choice,
    Condition,
    Item,
    ItemType,
    Questionnaire,
    Text,
)

COUNTRY_LIST = "countries"
"""The choice list shared by every country item."""

LANGUAGE_NAMES = {
    "ar": "Arabic", "da": "Danish", "de": "German", "el": "Greek", "en": "English",
    "es": "Spanish", "fi": "Finnish", "fr": "French", "it": "Italian", "ja": "Japanese",
    "ko": "Korean", "nl": "Dutch", "no": "Norwegian", "pl": "Polish", "pt": "Portuguese",
    "ru": "Russian", "sv": "Swedish", "tr": "Turkish", "uk": "Ukrainian", "zh": "Chinese",
}

# The few texts the export adds itself; languages without an entry get English.
_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "profile": "Respondent profile",
        "other": "Other (please specify)",
        "specify": "Please specify",
        "range": "Enter a number from {min} to {max}.",
        "at_least": "Enter a number of at least {min}.",
        "at_most": "Enter a number of at most {max}.",
        "exclusive": "This answer cannot be combined with others.",
        "too_long": "Please shorten your answer to {n} characters at most.",
    },
    "fr": {
        "profile": "Profil du répondant",
        "other": "Autre (veuillez préciser)",
        "specify": "Veuillez préciser",
        "range": "Entrez un nombre de {min} à {max}.",
        "at_least": "Entrez un nombre égal ou supérieur à {min}.",
        "at_most": "Entrez un nombre égal ou inférieur à {max}.",
        "exclusive": "Cette réponse ne peut pas être combinée avec d’autres.",
        "too_long": "Veuillez limiter votre réponse à {n} caractères.",
    },
}

Row = dict[str, str]


def to_xlsform(q: Questionnaire, path: Path) -> Path:
    """Write ``q`` as an XLSForm workbook at ``path`` and return ``path``.

    Profile items go in a group ``profile``, each domain in a group named by its
    id (one page each, appearance ``field-list``). A country item is a
    ``select_one countries`` over ISO3 codes. "Other — please specify" adds the
    choice ``other`` and a text question ``<item>_other`` shown when it is chosen.
    """
    from openpyxl import Workbook

    writer = _FormWriter(q)
    survey, choices = writer.survey_rows(), writer.choice_rows
    settings: Row = {
        "form_title": q.text(q.title),
        "form_id": q.id,
        "version": q.version,
        "default_language": language_column(q.languages[0]),
    }
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in (("survey", survey), ("choices", choices), ("settings", [settings])):
        sheet = workbook.create_sheet(name)
        columns = _columns(rows)
        sheet.append(columns)
        for row in rows:
            sheet.append([row.get(column, "") for column in columns])
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def relevant_expression(condition: Condition) -> str:
    """The XPath ``relevant`` expression for ``condition``.

    ``{item: q1, equals: "yes"}`` gives ``${q1} = 'yes'``; ``in`` gives
    ``(${q1} = 'a' or ${q1} = 'b')``; ``selected`` gives ``selected(${q2}, 'a')``;
    ``answered`` gives ``${q3} != ''`` (or ``= ''`` when false); ``all`` and
    ``any`` join their parts with ``and`` / ``or`` inside parentheses.
    """
    if condition.all_ is not None:
        return "(" + " and ".join(relevant_expression(c) for c in condition.all_) + ")"
    if condition.any_ is not None:
        return "(" + " or ".join(relevant_expression(c) for c in condition.any_) + ")"
    ref = "${" + str(condition.item) + "}"
    if condition.equals is not None:
        return f"{ref} = '{condition.equals}'"
    if condition.not_equals is not None:
        return f"{ref} != '{condition.not_equals}'"
    if condition.selected is not None:
        return f"selected({ref}, '{condition.selected}')"
    if condition.answered is not None:
        return f"{ref} != ''" if condition.answered else f"{ref} = ''"
    return "(" + " or ".join(f"{ref} = '{code}'" for code in condition.in_ or []) + ")"


def language_column(code: str) -> str:
    """The XLSForm name of a language: ``English (en)``."""
    return f"{LANGUAGE_NAMES.get(code, code)} ({code})"


def country_choices() -> list[tuple[str, str]]:
    """Every country as (ISO3 code, English short name), sorted by name.

    country_converter has no French names, so every language shows the English one.
    """
    import country_converter as coco

    data = coco.CountryConverter().data
    pairs = {(str(iso3), str(name)) for iso3, name in zip(data["ISO3"], data["name_short"],
                                                          strict=True)}
    return sorted(pairs, key=lambda pair: pair[1])


# --------------------------------------------------------------------------- helpers


class _FormWriter:
    """Builds the rows of the survey and choices sheets for one questionnaire."""

    def __init__(self, q: Questionnaire) -> None:
        self.q = q
        self.choice_rows: list[Row] = []
        self.names: set[str] = {item.id for item in q.items()}
        self.has_country = False

    def survey_rows(self) -> list[Row]:
        rows: list[Row] = []
        sections: list[tuple[str, Text, Text | None, list[Item]]] = []
        if self.q.profile:
            profile_title = {lang: self._word(lang, "profile") for lang in self.q.languages}
            sections.append(("profile", profile_title, None, self.q.profile))
        sections += [(d.id, d.title, d.intro, d.items) for d in self.q.domains]
        for section_id, title, intro, items in sections:
            group = self._unique(section_id, "_group")
            rows.append({"type": "begin group", "name": group, **self._texts("label", title),
                         "appearance": "field-list"})
            if intro:
                rows.append({"type": "note", "name": self._unique(f"{section_id}_intro", ""),
                             **self._texts("label", intro)})
            for item in items:
                rows += self._item_rows(item)
            rows.append({"type": "end group", "name": group})
        if self.has_country:
            for iso3, name in country_choices():
                self.choice_rows.append({"list_name": COUNTRY_LIST, "name": iso3,
                                         **self._texts("label", {"en": name})})
        return rows

    def _item_rows(self, item: Item) -> list[Row]:
        row: Row = {"name": item.id, **self._texts("label", item.label),
                    "required": "yes" if item.required else "no"}
        if item.help:
            row |= self._texts("hint", item.help)
        if item.relevant is not None:
            row["relevant"] = relevant_expression(item.relevant)
        if item.type in (ItemType.SINGLE_CHOICE, ItemType.LIKERT):
            row["type"] = f"select_one {self._choice_list(item)}"
            if item.type is ItemType.LIKERT:
                row["appearance"] = "likert"
        elif item.type is ItemType.MULTIPLE_CHOICE:
            row["type"] = f"select_multiple {self._choice_list(item)}"
            exclusive = [c.code for c in item.choices or [] if c.exclusive]
            if exclusive:
                row["constraint"] = " and ".join(
                    f"not(selected(., '{code}') and count-selected(.) > 1)" for code in exclusive
                )
                row |= self._message("exclusive")
        elif item.type is ItemType.NUMBER:
            row["type"] = "integer" if item.integer else "decimal"
            row |= self._number_constraint(item)
        elif item.type is ItemType.FREE_TEXT:
            row["type"] = "text"
            row["appearance"] = "multiline"
            row["constraint"] = f"string-length(.) <= {item.max_length}"
            row |= self._message("too_long", n=str(item.max_length))
        else:  # country
            row["type"] = f"select_one {COUNTRY_LIST}"
            row["appearance"] = "autocomplete"
            self.has_country = True
        rows = [row]
        if item.other:
            specify = {lang: self._word(lang, "specify") for lang in self.q.languages}
            rows.append({"type": "text", "name": self._unique(f"{item.id}_other", ""),
                         **self._texts("label", specify), "required": "yes",
                         "relevant": f"selected(${{{item.id}}}, '{OTHER_CODE}')"})
        return rows

    def _choice_list(self, item: Item) -> str:
        list_name = f"{item.id}_choices"
        choices: list[Choice] = list(item.choices or [])
        for choice in choices:
            self.choice_rows.append({"list_name": list_name, "name": choice.code,
                                     **self._texts("label", choice.label)})
        if item.other:
            other = {lang: self._word(lang, "other") for lang in self.q.languages}
            self.choice_rows.append({"list_name": list_name, "name": OTHER_CODE,
                                     **self._texts("label", other)})
        return list_name

    def _number_constraint(self, item: Item) -> Row:
        low, high = _number(item.min), _number(item.max)
        if low and high:
            return {"constraint": f". >= {low} and . <= {high}",
                    **self._message("range", min=low, max=high)}
        if low:
            return {"constraint": f". >= {low}", **self._message("at_least", min=low)}
        if high:
            return {"constraint": f". <= {high}", **self._message("at_most", max=high)}
        return {}

    def _texts(self, column: str, text: Text) -> Row:
        return {f"{column}::{language_column(lang)}": self.q.text(text, lang)
                for lang in self.q.languages}

    def _message(self, key: str, **values: str) -> Row:
        return {f"constraint_message::{language_column(lang)}":
                self._word(lang, key).format(**values) for lang in self.q.languages}

    def _word(self, lang: str, key: str) -> str:
        return _WORDS.get(lang, _WORDS["en"])[key]

    def _unique(self, name: str, suffix: str) -> str:
        candidate, n = name if name not in self.names else f"{name}{suffix}", 2
        while candidate in self.names:
            candidate, n = f"{name}{suffix}_{n}", n + 1
        self.names.add(candidate)
        return candidate


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def _columns(rows: list[Row]) -> list[str]:
    columns: dict[str, Any] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    return list(columns)
