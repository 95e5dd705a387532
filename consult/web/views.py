"""What the templates are given for each question: one :class:`FieldView` per shown item."""

from __future__ import annotations

from dataclasses import dataclass

from consult.questionnaire.model import OTHER_CODE, Item, ItemType, Questionnaire
from consult.web.form import OTHER_MAX_LENGTH, OTHER_SUFFIX, Answers, is_shown


@dataclass(frozen=True)
class ChoiceView:
    """One option of a choice question."""

    code: str
    label: str
    input_id: str
    checked: bool


@dataclass(frozen=True)
class FieldView:
    """One question as the page template shows it.

    ``kind`` is ``radio``, ``checkbox``, ``number``, ``text`` or ``country``.
    ``first_input_id`` is where the error summary links to. ``describedby``
    lists the ids of the help and error texts tied to the inputs.
    """

    id: str
    kind: str
    label: str
    help: str
    required: bool
    choices: tuple[ChoiceView, ...]
    value: str
    other: bool
    other_name: str
    other_text: str
    other_max_length: int
    error: str
    max_length: int
    integer: bool
    first_input_id: str
    describedby: str


def field_views(questionnaire: Questionnaire, items: tuple[Item, ...], known: Answers,
                shown_values: dict[str, list[str]], others: dict[str, str],
                errors: dict[str, str], language: str) -> list[FieldView]:
    """The page's shown items, filled with ``shown_values`` (as typed or as stored).

    An item whose condition is false on the answers known before the page is
    left out; with JavaScript off, conditions on items of the same page are
    applied when the page is saved.
    """
    views = []
    on_page = {i.id for i in items}
    for item in items:
        earlier_only = item.relevant is not None and not (
            set(item.relevant.referenced_items()) & on_page)
        if earlier_only and not is_shown(item, known):
            continue
        values = shown_values.get(item.id, [])
        kind = _kind(item)
        choices = tuple(
            ChoiceView(code, _choice_label(questionnaire, item, code, language),
                       f"{item.id}-{n}", code in values)
            for n, code in enumerate(item.choice_codes()))
        help_text = questionnaire.text(item.help, language) if item.help else ""
        error = errors.get(item.id, "")
        described = " ".join(part for part, present in ((f"{item.id}-help", help_text),
                                                        (f"{item.id}-error", error)) if present)
        views.append(FieldView(
            id=item.id, kind=kind, label=questionnaire.text(item.label, language),
            help=help_text, required=item.required, choices=choices,
            value=values[0] if values and not choices else "",
            other=item.other, other_name=item.id + OTHER_SUFFIX,
            other_text=others.get(item.id, ""), other_max_length=OTHER_MAX_LENGTH,
            error=error, max_length=item.max_length if kind == "text" else 100,
            integer=item.integer,
            first_input_id=f"{item.id}-0" if choices else item.id,
            describedby=described))
    return views


def _kind(item: Item) -> str:
    if item.type is ItemType.MULTIPLE_CHOICE:
        return "checkbox"
    if item.type.has_choices:
        return "radio"
    return {ItemType.NUMBER: "number", ItemType.COUNTRY: "country"}.get(item.type, "text")


def _choice_label(questionnaire: Questionnaire, item: Item, code: str, language: str) -> str:
    if code == OTHER_CODE and item.choice(code) is None:
        return {"fr": "Autre"}.get(language, "Other")
    choice = item.choice(code)
    return questionnaire.text(choice.label, language) if choice else code
