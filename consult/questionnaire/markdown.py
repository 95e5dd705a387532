"""Render a questionnaire as a Markdown document for reviewers and translators.

The document reads like the paper version: title and description, then the
respondent profile and each domain as a section with its introduction, and
every item numbered with its type, whether it is required, when it is asked
(the condition in words) and its choices.
"""

from __future__ import annotations

from consult.questionnaire.model import Condition, Item, ItemType, Questionnaire, Text

# Fixed words of the document; a language without an entry gets English.
_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "meta": "Questionnaire `{id}`, version {version}; languages: {languages}.",
        "profile": "Respondent profile",
        "required": "required",
        "optional": "optional",
        "asked_if": "Asked only if {condition}.",
        "equals": "{item} is {value}",
        "not_equals": "{item} is not {value}",
        "in": "{item} is one of {values}",
        "selected": "{item} includes {value}",
        "answered": "{item} is answered",
        "not_answered": "{item} is not answered",
        "and": " and ",
        "quote": "“{}”",
        "question": "question {n} (`{id}`)",
        "or": " or ",
        "other": "Other (please specify)",
        "dont_know": "don't know",
        "exclusive": "only answer",
        "range": "from {min} to {max}",
        "at_least": "at least {min}",
        "at_most": "at most {max}",
        "whole": "whole number",
        "single_choice": "single choice",
        "multiple_choice": "multiple choice (select all that apply)",
        "likert": "rating scale",
        "number": "number",
        "free_text": "free text",
        "country": "country",
    },
    "fr": {
        "meta": "Questionnaire `{id}`, version {version}; langues\u00a0: {languages}.",
        "profile": "Profil du répondant",
        "required": "obligatoire",
        "optional": "facultative",
        "asked_if": "Posée seulement si {condition}.",
        "equals": "{item} est {value}",
        "not_equals": "{item} n’est pas {value}",
        "in": "{item} est l’une des réponses {values}",
        "selected": "{item} comprend {value}",
        "answered": "{item} a une réponse",
        "not_answered": "{item} n’a pas de réponse",
        "and": " et ",
        "quote": "«\u00a0{}\u00a0»",
        "question": "la question {n} (`{id}`)",
        "or": " ou ",
        "other": "Autre (veuillez préciser)",
        "dont_know": "ne sait pas",
        "exclusive": "réponse unique",
        "range": "de {min} à {max}",
        "at_least": "au moins {min}",
        "at_most": "au plus {max}",
        "whole": "nombre entier",
        "single_choice": "choix unique",
        "multiple_choice": "choix multiple (cochez toutes les réponses qui s’appliquent)",
        "likert": "échelle d’évaluation",
        "number": "nombre",
        "free_text": "texte libre",
        "country": "pays",
    },
}


def to_markdown(q: Questionnaire, lang: str | None = None) -> str:
    """``q`` as a Markdown document in ``lang`` (default: its first language).

    Items are numbered through the whole questionnaire; each shows its id in
    backticks so that reviewers can refer to it, and choices show their codes.
    """
    language = lang or q.languages[0]
    words = _WORDS.get(language, _WORDS["en"])
    numbers = {item.id: n for n, item in enumerate(q.items(), start=1)}
    lines = [f"# {q.text(q.title, language)}", "",
             words["meta"].format(id=q.id, version=q.version, languages=", ".join(q.languages)),
             ""]
    if q.description:
        lines += [q.text(q.description, language), ""]
    sections: list[tuple[str, Text | None, list[Item]]] = []
    if q.profile:
        sections.append((words["profile"], None, q.profile))
    sections += [(q.text(d.title, language), d.intro, d.items) for d in q.domains]
    for title, intro, items in sections:
        lines += [f"## {title}", ""]
        if intro:
            lines += [q.text(intro, language), ""]
        for item in items:
            lines += _item_lines(q, item, numbers, language, words)
    return "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------- helpers


def _item_lines(q: Questionnaire, item: Item, numbers: dict[str, int], language: str,
                words: dict[str, str]) -> list[str]:
    lines = [f"### {numbers[item.id]}. {q.text(item.label, language)}", ""]
    facts = [f"`{item.id}`", words[item.type.value],
             words["required"] if item.required else words["optional"]]
    if item.type is ItemType.NUMBER:
        facts += _number_facts(item, words)
    lines += [" · ".join(facts), ""]
    if item.help:
        lines += [f"*{q.text(item.help, language)}*", ""]
    if item.relevant is not None:
        condition = _condition_words(q, item.relevant, numbers, language, words)
        if item.relevant.all_ is not None or item.relevant.any_ is not None:
            condition = condition[1:-1]  # no parentheses around the whole sentence
        lines += [words["asked_if"].format(condition=condition), ""]
    if item.type.has_choices:
        for choice in item.choices or []:
            marks = [words[key] for key in ("dont_know", "exclusive") if getattr(choice, key)]
            note = f" ({', '.join(marks)})" if marks else ""
            lines.append(f"- {q.text(choice.label, language)} `{choice.code}`{note}")
        if item.other:
            lines.append(f"- {words['other']} `other`")
        lines.append("")
    return lines


def _number_facts(item: Item, words: dict[str, str]) -> list[str]:
    facts = [words["whole"]] if item.integer else []
    low, high = _number(item.min), _number(item.max)
    if low and high:
        facts.append(words["range"].format(min=low, max=high))
    elif low:
        facts.append(words["at_least"].format(min=low))
    elif high:
        facts.append(words["at_most"].format(max=high))
    return facts


def _condition_words(q: Questionnaire, cond: Condition, numbers: dict[str, int], language: str,
                     words: dict[str, str]) -> str:
    if cond.all_ is not None or cond.any_ is not None:
        joiner = words["and"] if cond.all_ is not None else words["or"]
        parts = [_condition_words(q, sub, numbers, language, words)
                 for sub in (cond.all_ or cond.any_ or [])]
        return "(" + joiner.join(parts) + ")"
    assert cond.item is not None
    target = q.item(cond.item)
    subject = words["question"].format(n=numbers.get(cond.item, "?"), id=cond.item)

    def label(code: str) -> str:
        choice = target.choice(code)
        if choice is not None:
            text = q.text(choice.label, language)
        else:
            text = words["other"] if code == "other" else code
        return words["quote"].format(text)

    if cond.answered is not None:
        return words["answered" if cond.answered else "not_answered"].format(item=subject)
    if cond.in_ is not None:
        values = ", ".join(label(code) for code in cond.in_)
        return words["in"].format(item=subject, values=values)
    key = "equals" if cond.equals is not None else (
        "not_equals" if cond.not_equals is not None else "selected")
    return words[key].format(item=subject, value=label(cond.codes()[0]))


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)
