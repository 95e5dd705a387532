"""Loading and checking questionnaires: every problem, located by YAML path and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from consult.cli.main import app
from consult.errors import QuestionnaireError
from consult.questionnaire import ItemType, load_questionnaire
from consult.questionnaire.load import parse_questionnaire

GOOD = """\
id: tiny
version: "1"
title: {en: Tiny, fr: Minuscule}
languages: [en, fr]
choice_lists:
  yn:
    - {code: "yes", label: {en: "Yes", fr: "Oui"}}
    - {code: "no", label: {en: "No", fr: "Non"}}
    - {code: dk, label: {en: "Don't know", fr: "Je ne sais pas"}, dont_know: true}
profile:
  - id: country
    type: country
    label: {en: Country, fr: Pays}
    required: true
domains:
  - id: main
    title: {en: Main, fr: Principal}
    items:
      - id: q1
        type: single_choice
        label: {en: Q1, fr: Q1 fr}
        choice_list: yn
      - id: q2
        type: multiple_choice
        label: {en: Q2, fr: Q2 fr}
        other: true
        relevant: {item: q1, equals: "yes"}
        choices:
          - {code: a, label: {en: A, fr: A}}
          - {code: b, label: {en: B, fr: B}}
      - id: q3
        type: free_text
        label: {en: Q3, fr: Q3 fr}
        practice: true
        relevant: {item: q2, selected: other}
"""


def line_of(text: str, snippet: str, nth: int = 1) -> int:
    """The 1-based line of the ``nth`` line of ``text`` containing ``snippet``."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if snippet in line]
    return hits[nth - 1]


def problems(text: str) -> list[tuple[int | None, str, str]]:
    """(line, where, message) of every error in ``text``."""
    _, issues = parse_questionnaire(text, "q.yaml")
    return [(i.line, i.where, i.message) for i in issues if i.severity == "error"]


def test_good_questionnaire_loads_and_resolves_choice_lists(tmp_path: Path) -> None:
    path = tmp_path / "q.yaml"
    path.write_text(GOOD, encoding="utf-8")
    q = load_questionnaire(path)
    assert [i.id for i in q.items()] == ["country", "q1", "q2", "q3"]
    assert q.item("q1").choice_codes() == ["yes", "no", "dk"]
    assert q.item("q2").choice_codes() == ["a", "b", "other"]
    assert q.item("q2").type is ItemType.MULTIPLE_CHOICE
    assert q.domain_of("q3") is not None and q.domain_of("country") is None


def test_every_problem_is_reported_with_its_line_not_just_the_first() -> None:
    text = GOOD.replace("type: free_text", "type: essay").replace(
        "label: {en: Q1, fr: Q1 fr}", "label: {en: Q1}"
    )
    found = problems(text)
    # Schema errors come first and stop the semantic pass; the unknown type is one of them.
    assert found == [
        (
            line_of(text, "type: essay"),
            "domains[0].items[2].type",
            "unknown value 'essay'; input should be 'single_choice', 'multiple_choice', "
            "'likert', 'number', 'free_text' or 'country'",
        )
    ]
    text = GOOD.replace("label: {en: Q1, fr: Q1 fr}", "label: {en: Q1}").replace("id: q3", "id: q1")
    found = problems(text)
    assert found == [
        (line_of(text, "label: {en: Q1}"), "domains[0].items[0].label",
         "no text in declared language 'fr'"),
        (line_of(text, "id: q1", 2), "domains[0].items[2].id", "item id 'q1' is used twice"),
    ]


def test_condition_on_unknown_or_later_item_is_located() -> None:
    text = GOOD.replace('relevant: {item: q1, equals: "yes"}', "relevant: {item: q3, answered: true}")
    assert problems(text) == [
        (
            line_of(text, "item: q3"),
            "domains[0].items[1].relevant.item",
            "condition refers to 'q3', which is not an earlier item (conditions may only read "
            "items asked before)",
        )
    ]


def test_condition_with_unknown_code_names_valid_codes() -> None:
    text = GOOD.replace('equals: "yes"', 'equals: "maybe"')
    assert problems(text) == [
        (
            line_of(text, "maybe"),
            "domains[0].items[1].relevant",
            "condition compares 'q1' with unknown code(s) ['maybe']; valid codes: "
            "['yes', 'no', 'dk']",
        )
    ]


def test_equals_on_multiple_choice_suggests_selected() -> None:
    text = GOOD.replace("relevant: {item: q2, selected: other}", "relevant: {item: q2, equals: a}")
    assert problems(text) == [
        (
            line_of(text, "equals: a"),
            "domains[0].items[2].relevant",
            "'q2' is multiple_choice: test it with 'selected: CODE' (equals, not_equals and in "
            "compare a single answer)",
        )
    ]


def test_unquoted_yes_gets_a_hint() -> None:
    text = GOOD.replace('code: "yes"', "code: yes")
    assert problems(text) == [
        (
            line_of(text, "code: yes"),
            "choice_lists.yn[0].code",
            "True was read as true/false: put quotes around yes, no, on and off when they are "
            'codes or texts, e.g. "yes"',
        )
    ]


def test_unknown_key_duplicate_key_and_missing_choices() -> None:
    text = GOOD.replace("        practice: true\n", "        practise: true\n")
    assert problems(text) == [
        (line_of(text, "practise"), "domains[0].items[2].practise", "unknown key 'practise'")
    ]
    text = GOOD.replace("        choice_list: yn\n", "")
    assert problems(text) == [
        (line_of(text, "type: single_choice"), "domains[0].items[0].type",
         "item 'q1' is single_choice but has no choices or choice_list"),
        (line_of(text, "item: q1"), "domains[0].items[1].relevant",
         "condition compares 'q1' with unknown code(s) ['yes']; valid codes: []"),
    ]
    text = GOOD.replace('version: "1"\n', 'version: "1"\nid: again\n')
    assert (3, "id", "key 'id' appears twice") in problems(text)


def test_yaml_syntax_error_and_control_characters() -> None:
    assert problems("id: [unclosed\n") == [(2, "", "not valid YAML: expected ',' or ']', but got "
                                            "'<stream end>'")]
    found = problems("id: a\x07b\n")
    assert len(found) == 1 and found[0][2].startswith("not valid YAML")


def test_load_raises_with_all_issues(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    text = GOOD.replace("label: {en: Q2, fr: Q2 fr}", "label: {en: Q2}").replace(
        "label: {en: Q3, fr: Q3 fr}", "label: {fr: Q3}")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire(path)
    q2, q3 = line_of(text, "label: {en: Q2}"), line_of(text, "label: {fr: Q3}")
    assert str(caught.value).splitlines() == [
        f"{path} is not a valid questionnaire: 2 problem(s)",
        f"  - {path}, line {q2} (domains[0].items[1].label): no text in declared language 'fr'",
        f"  - {path}, line {q3} (domains[0].items[2].label): no text in declared language 'en'",
    ]


def test_cli_check_success_and_failure(tmp_path: Path) -> None:
    runner = CliRunner()
    good = tmp_path / "good.yaml"
    good.write_text(GOOD, encoding="utf-8")
    result = runner.invoke(app, ["questionnaire", "check", str(good)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        f"{good}: valid (tiny 1, 1 domains, 4 items, 0 warning(s))"
    )
    bad = tmp_path / "bad.yaml"
    text = GOOD.replace("type: free_text", "type: essay")
    bad.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["questionnaire", "check", str(bad)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {bad}, line {line_of(text, 'essay')} (domains[0].items[2].type): "
        "unknown value 'essay'; input should be 'single_choice', 'multiple_choice', 'likert', "
        "'number', 'free_text' or 'country'",
        f"{bad}: 1 error(s); the questionnaire is not valid.",
    ]
    result = runner.invoke(app, ["questionnaire", "check", "--json", str(bad)])
    assert result.exit_code == 1 and '"valid": false' in result.stdout


def test_cli_check_help_has_an_example() -> None:
    result = CliRunner().invoke(app, ["questionnaire", "check", "--help"])
    assert result.exit_code == 0 and "Example: consult questionnaire check" in result.stdout


def test_cli_show_prints_the_tree_in_french(tmp_path: Path) -> None:
    path = tmp_path / "q.yaml"
    path.write_text(GOOD, encoding="utf-8")
    result = CliRunner().invoke(app, ["questionnaire", "show", str(path), "--lang", "fr"])
    assert result.exit_code == 0, result.output
    assert "Q2 fr" in result.stdout and "[multiple_choice; if q1]" in result.stdout
    result = CliRunner().invoke(app, ["questionnaire", "show", str(path), "--lang", "de"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: --lang 'de': the questionnaire is written in en, fr"
