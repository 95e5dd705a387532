"""The instrument model: a questionnaire, its domains, items and choices.

Models are frozen pydantic models so that a loaded questionnaire can be passed
around freely. Structural checks (types, unknown keys) come from pydantic;
cross-references (duplicate ids, conditions, languages) are checked in
:mod:`consult.questionnaire.load`, which reports every problem with its line.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Text = dict[str, str]
"""A text in each of the questionnaire's languages, e.g. ``{"en": ..., "fr": ...}``."""


class ItemType(StrEnum):
    """What kind of answer an item collects."""

    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    LIKERT = "likert"
    NUMBER = "number"
    FREE_TEXT = "free_text"
    COUNTRY = "country"

    @property
    def has_choices(self) -> bool:
        """Whether items of this type answer from a list of choices."""
        return self in {ItemType.SINGLE_CHOICE, ItemType.MULTIPLE_CHOICE, ItemType.LIKERT}


OTHER_CODE = "other"
"""The choice code given to "Other — please specify" when an item allows it."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Choice(_Frozen):
    """One answer option, with a stable code that never changes across versions.

    ``dont_know`` marks "don't know"/"prefer not to say" options, which analysis
    keeps apart from substantive answers. ``exclusive`` marks a multiple-choice
    option ("none of these") that cannot be combined with others.
    """

    code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_\-]+$", max_length=64)]
    label: Text
    dont_know: bool = False
    exclusive: bool = False


class Condition(_Frozen):
    """When an item is shown: a test on an earlier item, or a combination.

    Exactly one form is used::

        {item: q1, equals: "yes"}          single choice (or country) equals a code
        {item: q1, not_equals: "no"}
        {item: q1, in: ["a", "b"]}         one of several codes
        {item: q2, selected: "a"}          multiple choice includes a code
        {item: q3, answered: true}         any answer at all
        {all: [cond, cond]} / {any: [cond, cond]}
    """

    item: Identifier | None = None
    equals: str | None = None
    not_equals: str | None = None
    in_: list[str] | None = Field(default=None, alias="in")
    selected: str | None = None
    answered: bool | None = None
    all_: list[Condition] | None = Field(default=None, alias="all")
    any_: list[Condition] | None = Field(default=None, alias="any")

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        tests = [
            name
            for name in ("equals", "not_equals", "in_", "selected", "answered")
            if getattr(self, name) is not None
        ]
        groups = [name for name in ("all_", "any_") if getattr(self, name) is not None]
        if groups:
            if self.item is not None or tests or len(groups) > 1:
                raise ValueError("use either 'all', 'any' or one test on an item, not several")
        elif self.item is None or len(tests) != 1:
            raise ValueError(
                "a condition names one 'item' and exactly one test: "
                "equals, not_equals, in, selected or answered"
            )
        return self

    def referenced_items(self) -> Iterator[str]:
        """Every item id this condition reads, depth first."""
        if self.item is not None:
            yield self.item
        for sub in (self.all_ or []) + (self.any_ or []):
            yield from sub.referenced_items()

    def codes(self) -> list[str]:
        """The choice codes this (simple) condition compares against."""
        if self.equals is not None:
            return [self.equals]
        if self.not_equals is not None:
            return [self.not_equals]
        if self.selected is not None:
            return [self.selected]
        return list(self.in_ or [])

    def evaluate(self, answers: dict[str, Any]) -> bool:
        """Whether the condition holds for ``answers`` (item id to value).

        A multiple-choice answer is a list of codes; a missing answer is absent
        or ``None``. A test on an unanswered item is false.
        """
        if self.all_ is not None:
            return all(c.evaluate(answers) for c in self.all_)
        if self.any_ is not None:
            return any(c.evaluate(answers) for c in self.any_)
        assert self.item is not None
        value = answers.get(self.item)
        present = value not in (None, "", [])
        if self.answered is not None:
            return present is self.answered
        if not present:
            return False
        values = [str(v) for v in value] if isinstance(value, list) else [str(value)]
        if self.equals is not None:
            return values == [self.equals]
        if self.not_equals is not None:
            return values != [self.not_equals]
        if self.selected is not None:
            return self.selected in values
        return any(v in (self.in_ or []) for v in values)


class Item(_Frozen):
    """One question.

    ``choices`` lists the options inline; ``choice_list`` names a shared list in
    the questionnaire's ``choice_lists`` instead (loading resolves it into
    ``choices``). ``other`` adds an "Other — please specify" option with code
    ``other`` and a free-text field. ``practice`` marks an open item that asks
    for a practice the respondent recommends (it feeds the best practices).
    ``agree`` lists the Likert codes counted as agreeing.
    """

    id: Identifier
    type: ItemType
    label: Text
    help: Text | None = None
    required: bool = False
    choices: list[Choice] | None = None
    choice_list: Identifier | None = None
    other: bool = False
    relevant: Condition | None = None
    min: float | None = None
    max: float | None = None
    integer: bool = False
    max_length: Annotated[int, Field(ge=1, le=100_000)] = 4000
    practice: bool = False
    agree: list[str] | None = None

    def choice_codes(self) -> list[str]:
        """Every valid code, including ``other`` when the item allows it."""
        codes = [c.code for c in self.choices or []]
        return [*codes, OTHER_CODE] if self.other else codes

    def choice(self, code: str) -> Choice | None:
        """The choice with ``code``, or ``None``."""
        return next((c for c in self.choices or [] if c.code == code), None)


class Domain(_Frozen):
    """A section of the questionnaire (one page of the web form)."""

    id: Identifier
    title: Text
    intro: Text | None = None
    items: list[Item]


class Questionnaire(_Frozen):
    """A whole instrument: metadata, respondent profile and domains."""

    id: Identifier
    version: str
    title: Text
    languages: Annotated[list[Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]],
                         Field(min_length=1)]
    description: Text | None = None
    choice_lists: dict[Identifier, list[Choice]] = Field(default_factory=dict)
    profile: list[Item] = Field(default_factory=list)
    domains: list[Domain] = Field(default_factory=list)

    def items(self) -> list[Item]:
        """Every item in order: profile first, then each domain's items."""
        return [*self.profile, *(i for d in self.domains for i in d.items)]

    def item(self, item_id: str) -> Item:
        """The item with ``item_id``; ``KeyError`` when there is none."""
        for item in self.items():
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def domain_of(self, item_id: str) -> Domain | None:
        """The domain holding ``item_id``; ``None`` for profile items."""
        return next((d for d in self.domains if any(i.id == item_id for i in d.items)), None)

    def text(self, text: Text | None, language: str | None = None) -> str:
        """``text`` in ``language`` (default: the first declared language)."""
        if not text:
            return ""
        lang = language or self.languages[0]
        return text.get(lang) or text.get(self.languages[0]) or next(iter(text.values()))
