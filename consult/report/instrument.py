"""The questionnaire as the respondents saw it, in the report's language (Appendix A)."""

from __future__ import annotations

from consult.questionnaire import Condition, Item, Questionnaire
from consult.report import formats
from consult.report.model import QuestionnaireInfo, QuestionnaireItem, QuestionnaireSection


def questionnaire_info(q: Questionnaire, lang: str, t: dict[str, str]) -> QuestionnaireInfo:
    """Every section and question of ``q`` in ``lang``, numbered through the questionnaire."""
    numbers = {item.id: n for n, item in enumerate(q.items(), start=1)}
    sections = []
    if q.profile:
        sections.append(QuestionnaireSection("profile", t["profile"], "",
                                             [_item(q, i, numbers, lang, t) for i in q.profile]))
    sections += [QuestionnaireSection(d.id, q.text(d.title, lang), q.text(d.intro, lang),
                                      [_item(q, i, numbers, lang, t) for i in d.items])
                 for d in q.domains]
    return QuestionnaireInfo(q.id, q.version, q.text(q.title, lang), q.text(q.description, lang),
                             t["questionnaire_meta"].format(id=q.id, version=q.version), sections)


# --------------------------------------------------------------------------- helpers


def _item(q: Questionnaire, item: Item, numbers: dict[str, int], lang: str,
          t: dict[str, str]) -> QuestionnaireItem:
    choices = [q.text(c.label, lang) for c in item.choices or []] if item.type.has_choices else []
    if item.other:
        choices.append(t["other_specify"])
    condition = ""
    if item.relevant is not None:
        condition = t["asked_if"].format(condition=_condition(q, item.relevant, numbers, lang, t))
    return QuestionnaireItem(numbers[item.id], item.id, q.text(item.label, lang),
                             t[f"type_{item.type.value}"], q.text(item.help, lang), condition,
                             choices)


def _condition(q: Questionnaire, cond: Condition, numbers: dict[str, int], lang: str,
               t: dict[str, str]) -> str:
    if cond.all_ is not None or cond.any_ is not None:
        parts = [_condition(q, sub, numbers, lang, t) for sub in (cond.all_ or cond.any_ or [])]
        return formats.join_list(parts, lang, None if cond.all_ is not None else t["or"])
    assert cond.item is not None
    n = str(numbers.get(cond.item, "?"))
    target = q.item(cond.item)

    def label(code: str) -> str:
        choice = target.choice(code)
        text = q.text(choice.label, lang) if choice is not None else (
            t["other_specify"] if code == "other" else code)
        return t["quote"].format(text)

    if cond.answered is not None:
        return t["cond_answered" if cond.answered else "cond_not_answered"].format(n=n)
    if cond.in_ is not None:
        values = formats.join_list([label(c) for c in cond.in_], lang, t["or"])
        return t["cond_in"].format(n=n, values=values)
    key = ("cond_equals" if cond.equals is not None else
           "cond_not_equals" if cond.not_equals is not None else "cond_selected")
    return t[key].format(n=n, value=label(cond.codes()[0]))
