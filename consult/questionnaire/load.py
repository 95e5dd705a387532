"""Load a questionnaire from YAML and check it thoroughly.

Every problem is collected with its YAML path and line, then all are reported
together, so an author fixes a file in one pass rather than one error a run.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from consult.errors import Issue, QuestionnaireError
from consult.questionnaire.model import Condition, Item, ItemType, Questionnaire, Text

Loc = tuple[str | int, ...]


def load_questionnaire(path: Path) -> Questionnaire:
    """Read, check and return the questionnaire in ``path``.

    Raises
    ------
    QuestionnaireError
        With every problem found, each naming its YAML path and line.
    """
    questionnaire, issues = check_questionnaire(path)
    if questionnaire is None or any(i.severity == "error" for i in issues):
        raise QuestionnaireError(f"{path} is not a valid questionnaire", issues)
    return questionnaire


def check_questionnaire(path: Path) -> tuple[Questionnaire | None, list[Issue]]:
    """Check ``path`` and return the questionnaire (if it parsed) and all issues.

    Warnings (for example a label in a language the questionnaire does not
    declare) do not stop loading; errors do.
    """
    name = str(path)
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [Issue("file-missing", "file not found", file=name)]
    except UnicodeDecodeError as exc:
        return None, [Issue("encoding", f"not UTF-8 text ({exc.reason})", file=name,
                            hint="Save the file as UTF-8.")]
    return parse_questionnaire(source, name)


def parse_questionnaire(source: str, name: str = "<questionnaire>") -> tuple[
    Questionnaire | None, list[Issue]
]:
    """Parse YAML text; see :func:`check_questionnaire`."""
    try:
        root = yaml.compose(source, Loader=yaml.SafeLoader)
        data = yaml.safe_load(source)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        return None, [Issue("yaml", f"not valid YAML: {exc.problem}", file=name, line=line)]
    except yaml.YAMLError as exc:  # e.g. a control character in the text
        return None, [Issue("yaml", f"not valid YAML: {exc}", file=name)]
    lines: dict[Loc, int] = {}
    issues: list[Issue] = []
    if root is not None:
        _index_lines(root, (), lines, issues, name)
    if not isinstance(data, dict):
        return None, [Issue("shape", "the file must be a mapping with id, version, title, "
                            "languages, profile and domains", file=name, line=1)]
    try:
        questionnaire = Questionnaire.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc: Loc = tuple(err["loc"])
            issues.append(Issue("schema", _schema_message(err), file=name, where=_where(loc),
                                line=_line(lines, loc)))
        return None, issues
    questionnaire, semantic = _resolve_and_check(questionnaire)
    for code, loc, message, severity in semantic:
        issues.append(Issue(code, message, file=name, where=_where(loc), line=_line(lines, loc),
                            severity=severity))
    return questionnaire, issues


# --------------------------------------------------------------------------- helpers


def _index_lines(node: yaml.Node, loc: Loc, lines: dict[Loc, int], issues: list[Issue],
                 name: str) -> None:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                issues.append(Issue("duplicate-key", f"key {key!r} appears twice",
                                    file=name, where=_where((*loc, key)),
                                    line=key_node.start_mark.line + 1))
            seen.add(key)
            lines[(*loc, key)] = key_node.start_mark.line + 1
            _index_lines(value_node, (*loc, key), lines, issues, name)
            lines[(*loc, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, child in enumerate(node.value):
            _index_lines(child, (*loc, index), lines, issues, name)


def _line(lines: dict[Loc, int], loc: Loc) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _where(loc: Loc) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _schema_message(err: Any) -> str:
    kind = err["type"]
    field = err["loc"][-1] if err["loc"] else ""
    if kind == "extra_forbidden":
        return f"unknown key {field!r}"
    if kind == "missing":
        return f"missing required key {field!r}"
    if kind == "enum":
        return f"unknown value {err['input']!r}; {err['msg'][0].lower()}{err['msg'][1:]}"
    if kind == "string_pattern_mismatch":
        return (f"{err['input']!r} is not a valid {field or 'value'}: use lower-case letters, "
                "digits and underscores, starting with a letter")
    if kind == "dict_type" and field in {"label", "title", "help", "intro", "description"}:
        return f"{field} must give a text per language, e.g. {field}: {{en: ..., fr: ...}}"
    if kind == "string_type" and isinstance(err.get("input"), bool):
        return (f"{err['input']!r} was read as true/false: put quotes around yes, no, on "
                "and off when they are codes or texts, e.g. \"yes\"")
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


Problem = tuple[str, Loc, str, str]


def _resolve_and_check(q: Questionnaire) -> tuple[Questionnaire, list[Problem]]:
    problems: list[Problem] = []

    def error(code: str, loc: Loc, message: str) -> None:
        problems.append((code, loc, message, "error"))

    def warn(code: str, loc: Loc, message: str) -> None:
        problems.append((code, loc, message, "warning"))

    def check_text(text: Text | None, loc: Loc) -> None:
        if text is None:
            return
        for lang in q.languages:
            if not (text.get(lang) or "").strip():
                error("missing-translation", loc, f"no text in declared language {lang!r}")
        for lang in text:
            if lang not in q.languages:
                warn("undeclared-language", (*loc, lang),
                     f"text in {lang!r}, which is not among languages {q.languages}")

    if len(set(q.languages)) != len(q.languages):
        error("duplicate-language", ("languages",), "a language is listed twice")
    check_text(q.title, ("title",))
    check_text(q.description, ("description",))
    for list_name, choices in q.choice_lists.items():
        _check_choices(choices, ("choice_lists", list_name), check_text, error)

    located: list[tuple[Item, Loc]] = [(item, ("profile", i)) for i, item in enumerate(q.profile)]
    domain_ids: set[str] = set()
    for d_index, domain in enumerate(q.domains):
        dloc: Loc = ("domains", d_index)
        if domain.id in domain_ids:
            error("duplicate-id", (*dloc, "id"), f"domain id {domain.id!r} is used twice")
        domain_ids.add(domain.id)
        check_text(domain.title, (*dloc, "title"))
        check_text(domain.intro, (*dloc, "intro"))
        if not domain.items:
            error("empty-domain", (*dloc, "items"), f"domain {domain.id!r} has no items")
        located += [(item, (*dloc, "items", i)) for i, item in enumerate(domain.items)]

    resolved: dict[Loc, Item] = {}
    seen: dict[str, Item] = {}
    for item, loc in located:
        if item.id in seen:
            error("duplicate-id", (*loc, "id"), f"item id {item.id!r} is used twice")
        check_text(item.label, (*loc, "label"))
        check_text(item.help, (*loc, "help"))
        item = _resolve_choices(q, item, loc, error)
        _check_item(item, loc, check_text, error)
        if item.relevant is not None:
            _check_condition(item.relevant, (*loc, "relevant"), item, seen, error)
        seen.setdefault(item.id, item)
        resolved[loc] = item

    profile = [resolved[("profile", i)] for i in range(len(q.profile))]
    domains = [
        d.model_copy(update={"items": [resolved[("domains", di, "items", ii)]
                                       for ii in range(len(d.items))]})
        for di, d in enumerate(q.domains)
    ]
    return q.model_copy(update={"profile": profile, "domains": domains}), problems


def _resolve_choices(q: Questionnaire, item: Item, loc: Loc, error: Any) -> Item:
    if item.choice_list is None:
        return item
    if item.choices is not None:
        error("choices-twice", (*loc, "choice_list"), "give either choices or choice_list, not both")
        return item
    if item.choice_list not in q.choice_lists:
        known = ", ".join(sorted(q.choice_lists)) or "none defined"
        error("unknown-choice-list", (*loc, "choice_list"),
              f"unknown choice list {item.choice_list!r} (known: {known})")
        return item
    return item.model_copy(update={"choices": q.choice_lists[item.choice_list]})


def _check_choices(choices: Iterable[Any], loc: Loc, check_text: Any, error: Any) -> None:
    codes: set[str] = set()
    for index, choice in enumerate(choices):
        if choice.code in codes:
            error("duplicate-code", (*loc, index, "code"), f"choice code {choice.code!r} is used twice")
        codes.add(choice.code)
        check_text(choice.label, (*loc, index, "label"))


def _check_item(item: Item, loc: Loc, check_text: Any, error: Any) -> None:
    if item.type.has_choices:
        if not item.choices:
            error("no-choices", (*loc, "type"),
                  f"item {item.id!r} is {item.type.value} but has no choices or choice_list")
        elif item.choice_list is None:
            _check_choices(item.choices, (*loc, "choices"), check_text, error)
        if item.other and item.choice("other") is not None:
            error("other-code", (*loc, "other"),
                  "'other: true' adds the code 'other'; remove the choice with that code")
    elif item.choices is not None or item.choice_list is not None or item.other:
        error("choices-not-allowed", (*loc, "type"),
              f"item {item.id!r} is {item.type.value}: choices and other apply only to "
              "single_choice, multiple_choice and likert items")
    if item.agree is not None and not item.agree:
        error("empty-agree", (*loc, "agree"), "agree is empty: list the codes counted as agreeing")
    if item.type is ItemType.LIKERT and item.agree:
        unknown = [c for c in item.agree if c not in item.choice_codes()]
        if unknown:
            error("unknown-code", (*loc, "agree"), f"agree names unknown codes {unknown}")
    elif item.agree is not None and item.type is not ItemType.LIKERT:
        error("agree-not-allowed", (*loc, "agree"), "agree applies only to likert items")
    if item.min is not None and item.max is not None and item.min > item.max:
        error("range", (*loc, "min"), f"min ({item.min}) is greater than max ({item.max})")
    if (item.min is not None or item.max is not None or item.integer) and item.type is not ItemType.NUMBER:
        error("range-not-allowed", (*loc, "type"), "min, max and integer apply only to number items")
    if item.practice and item.type is not ItemType.FREE_TEXT:
        error("practice-not-allowed", (*loc, "practice"), "practice applies only to free_text items")


def _check_condition(cond: Condition, loc: Loc, item: Item, earlier: dict[str, Item],
                     error: Any) -> None:
    for index, sub in enumerate(cond.all_ or []):
        _check_condition(sub, (*loc, "all", index), item, earlier, error)
    for index, sub in enumerate(cond.any_ or []):
        _check_condition(sub, (*loc, "any", index), item, earlier, error)
    if cond.item is None:
        return
    if cond.item == item.id:
        error("condition-self", (*loc, "item"), f"item {item.id!r} cannot depend on itself")
        return
    target = earlier.get(cond.item)
    if target is None:
        error("condition-unknown-item", (*loc, "item"),
              f"condition refers to {cond.item!r}, which is not an earlier item "
              "(conditions may only read items asked before)")
        return
    if target.type is ItemType.MULTIPLE_CHOICE and (cond.equals or cond.in_ or cond.not_equals):
        error("condition-multiple", loc,
              f"{cond.item!r} is multiple_choice: test it with 'selected: CODE' "
              "(equals, not_equals and in compare a single answer)")
    if cond.selected is not None and target.type is not ItemType.MULTIPLE_CHOICE:
        error("condition-selected", (*loc, "selected"),
              f"'selected' tests a multiple_choice item; {cond.item!r} is {target.type.value}")
    if target.type.has_choices:
        unknown = [c for c in cond.codes() if c not in target.choice_codes()]
        if unknown:
            error("condition-unknown-code", loc,
                  f"condition compares {cond.item!r} with unknown code(s) {unknown}; "
                  f"valid codes: {target.choice_codes()}")
