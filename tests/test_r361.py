"""The shipped R-361 instrument loads cleanly and has the agreed shape.

Item ids, types and codes are part of the data contract (responses, exports
and reports refer to them), so they are pinned here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from consult.questionnaire.load import check_questionnaire, load_questionnaire
from consult.questionnaire.model import Item, ItemType, Questionnaire, Text

PATH = Path(__file__).resolve().parents[1] / "questionnaires" / "r361.yaml"

DOMAIN_IDS = [
    "accommodation",
    "recruitment",
    "intake",
    "interventions",
    "reintegration",
    "training",
    "overall",
]
CONTENT_DOMAINS = DOMAIN_IDS[:-1]

PROFILE_ITEMS = {
    "country": ItemType.COUNTRY,
    "role": ItemType.SINGLE_CHOICE,
    "responsibility": ItemType.SINGLE_CHOICE,
    "experience_years": ItemType.NUMBER,
}

DOMAIN_ITEMS: dict[str, dict[str, ItemType]] = {
    "accommodation": {
        "acc_approach": ItemType.SINGLE_CHOICE,
        "acc_factors": ItemType.MULTIPLE_CHOICE,
        "acc_effective": ItemType.LIKERT,
        "acc_practice": ItemType.FREE_TEXT,
    },
    "recruitment": {
        "rec_attempts": ItemType.SINGLE_CHOICE,
        "rec_methods": ItemType.MULTIPLE_CHOICE,
        "rec_management": ItemType.MULTIPLE_CHOICE,
        "rec_practice": ItemType.FREE_TEXT,
    },
    "intake": {
        "int_same_procedures": ItemType.SINGLE_CHOICE,
        "int_tools": ItemType.MULTIPLE_CHOICE,
        "int_adequate": ItemType.LIKERT,
        "int_practice": ItemType.FREE_TEXT,
    },
    "interventions": {
        "prog_specialized": ItemType.SINGLE_CHOICE,
        "prog_types": ItemType.MULTIPLE_CHOICE,
        "prog_needed": ItemType.LIKERT,
        "prog_practice": ItemType.FREE_TEXT,
    },
    "reintegration": {
        "reint_community_support": ItemType.SINGLE_CHOICE,
        "reint_partners": ItemType.MULTIPLE_CHOICE,
        "reint_adequate": ItemType.LIKERT,
        "reint_practice": ItemType.FREE_TEXT,
    },
    "training": {
        "train_received": ItemType.SINGLE_CHOICE,
        "train_audience": ItemType.MULTIPLE_CHOICE,
        "train_important": ItemType.LIKERT,
        "train_practice": ItemType.FREE_TEXT,
    },
    "overall": {
        "best_practice": ItemType.FREE_TEXT,
    },
}

LIKERT_ITEMS = [i for d in DOMAIN_ITEMS.values() for i, t in d.items() if t is ItemType.LIKERT]
PRACTICE_ITEMS = [i for d in DOMAIN_ITEMS.values() for i, t in d.items() if t is ItemType.FREE_TEXT]

CONDITIONS = {
    "rec_methods": "rec_attempts",
    "prog_types": "prog_specialized",
    "train_audience": "train_received",
}


@pytest.fixture(scope="module")
def q() -> Questionnaire:
    return load_questionnaire(PATH)


def _texts(q: Questionnaire) -> Iterator[tuple[str, Text | None]]:
    """Every translatable text in the instrument, with a name for messages."""
    yield "title", q.title
    yield "description", q.description
    for name, choices in q.choice_lists.items():
        for choice in choices:
            yield f"choice_lists.{name}.{choice.code}", choice.label
    for domain in q.domains:
        yield f"{domain.id}.title", domain.title
        yield f"{domain.id}.intro", domain.intro
    for item in q.items():
        yield f"{item.id}.label", item.label
        if item.help is not None:
            yield f"{item.id}.help", item.help
        for choice in item.choices or []:
            yield f"{item.id}.{choice.code}", choice.label


def _domain_items(q: Questionnaire, domain_id: str) -> list[Item]:
    return next(d for d in q.domains if d.id == domain_id).items


def test_file_checks_without_any_issue() -> None:
    questionnaire, issues = check_questionnaire(PATH)
    assert questionnaire is not None
    assert [str(i) for i in issues] == []


def test_metadata(q: Questionnaire) -> None:
    assert q.id == "r361"
    assert q.version == "1.0"
    assert q.languages == ["en", "fr"]


def test_domain_ids_in_order(q: Questionnaire) -> None:
    assert [d.id for d in q.domains] == DOMAIN_IDS


def test_profile_items_are_required_with_their_types(q: Questionnaire) -> None:
    assert {i.id: i.type for i in q.profile} == PROFILE_ITEMS
    assert all(i.required for i in q.profile)
    years = q.item("experience_years")
    assert years.integer and years.min == 0 and years.max == 60


@pytest.mark.parametrize("domain_id", DOMAIN_IDS)
def test_listed_items_exist_in_their_domain_with_their_type(
    q: Questionnaire, domain_id: str
) -> None:
    types = {i.id: i.type for i in _domain_items(q, domain_id)}
    for item_id, item_type in DOMAIN_ITEMS[domain_id].items():
        assert item_id in types, f"{item_id} missing from {domain_id}"
        assert types[item_id] is item_type, f"{item_id} is {types[item_id]}, not {item_type}"


def test_every_text_has_english_and_french(q: Questionnaire) -> None:
    checked = 0
    for name, text in _texts(q):
        assert text is not None, f"{name} is missing"
        for lang in ("en", "fr"):
            assert (text.get(lang) or "").strip(), f"{name} has no {lang!r} text"
        assert set(text) == {"en", "fr"}, f"{name} has languages {sorted(text)}"
        checked += 1
    assert checked > 100


def test_questions_are_translated_not_copied(q: Questionnaire) -> None:
    for item in q.items():
        assert item.label["en"] != item.label["fr"], item.id
    for domain in q.domains:
        assert domain.title["en"] != domain.title["fr"], domain.id


@pytest.mark.parametrize("domain_id", CONTENT_DOMAINS)
def test_content_domain_covers_every_kind_of_question(q: Questionnaire, domain_id: str) -> None:
    items = _domain_items(q, domain_id)
    types = {i.type for i in items}
    for needed in (ItemType.SINGLE_CHOICE, ItemType.MULTIPLE_CHOICE, ItemType.LIKERT):
        assert needed in types, f"{domain_id} has no {needed.value} item"
    assert any(i.type is ItemType.FREE_TEXT and i.practice for i in items), (
        f"{domain_id} has no free_text practice item"
    )


def test_role_codes(q: Questionnaire) -> None:
    assert set(q.item("role").choice_codes()) == {"administrative", "custodial", "community"}


def test_responsibility_codes(q: Questionnaire) -> None:
    assert set(q.item("responsibility").choice_codes()) == {
        "front_line", "supervisor", "manager", "executive"
    }


def test_shared_choice_lists(q: Questionnaire) -> None:
    yes_no = {c.code: c for c in q.choice_lists["yes_no_dk"]}
    assert list(yes_no) == ["yes", "no", "dont_know"]
    assert [c for c, choice in yes_no.items() if choice.dont_know] == ["dont_know"]
    agree5 = {c.code: c for c in q.choice_lists["agree5"]}
    assert list(agree5) == [
        "strongly_disagree", "disagree", "neutral", "agree", "strongly_agree", "dont_know"
    ]
    assert [c for c, choice in agree5.items() if choice.dont_know] == ["dont_know"]


@pytest.mark.parametrize("item_id", LIKERT_ITEMS)
def test_likert_items_use_agree5(q: Questionnaire, item_id: str) -> None:
    item = q.item(item_id)
    assert item.choice_list == "agree5"
    assert item.agree == ["agree", "strongly_agree"]


@pytest.mark.parametrize("item_id", PRACTICE_ITEMS)
def test_open_items_collect_practices(q: Questionnaire, item_id: str) -> None:
    assert q.item(item_id).practice


@pytest.mark.parametrize(("item_id", "on"), sorted(CONDITIONS.items()))
def test_follow_up_items_are_asked_only_after_yes(q: Questionnaire, item_id: str, on: str) -> None:
    relevant = q.item(item_id).relevant
    assert relevant is not None
    assert relevant.item == on and relevant.equals == "yes"
    assert relevant.evaluate({on: "yes"})
    assert not relevant.evaluate({on: "no"})
    assert not relevant.evaluate({on: "dont_know"})
    assert not relevant.evaluate({})


def test_fixed_codes(q: Questionnaire) -> None:
    codes = {i.id: set(i.choice_codes()) for i in q.items()}
    assert {"concentration", "dispersion", "mixed", "case_by_case", "dont_know", "other"} <= (
        codes["acc_approach"]
    )
    assert q.item("acc_approach").choice("dont_know").dont_know  # type: ignore[union-attr]
    assert {"intelligence", "transfer"} <= codes["rec_management"]
    assert {"vera_2r", "erg22", "none"} <= codes["int_tools"]
    assert {"none"} <= codes["reint_partners"]
    for item_id in ("int_tools", "reint_partners"):
        assert q.item(item_id).choice("none").exclusive  # type: ignore[union-attr]


def test_last_item_is_best_practice(q: Questionnaire) -> None:
    last = q.items()[-1]
    assert last.id == "best_practice"
    assert last.type is ItemType.FREE_TEXT
    assert last.practice and not last.required
    assert q.domains[-1].items == [last]
