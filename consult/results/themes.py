"""The themes of free-text answers as results.json holds them (``Results.themes``).

``Results.themes`` maps an item id to an :class:`ItemThemes` dumped as JSON
(``model_dump(mode="json")``): ``consult results show themes`` prints that
section as plain JSON, and :func:`item_themes` reads it back typed.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Count = Annotated[int, Field(ge=0)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ThemeSupport(_Model):
    """Respondents citing a theme in one region or role; small counts are suppressed."""

    group: str = Field(description="Region name or role code; `(not stated)` for no answer.")
    label: str
    count: Count | None = Field(description="`null` when suppressed.")
    display: str = Field(description="The count as printed: a number, `<5` or `x`.")
    suppressed: Literal["primary", "secondary"] | None


class Quote(_Model):
    """A representative answer, redacted, attributed only by region and role."""

    text: str = Field(description="Redacted: e-mail addresses, phone numbers, titled names, "
                                  "named institutions and places are `[redacted]`.")
    attribution: str = Field(description=(
        "`Region, role` (e.g. `Oceania, custodial`); small groups merged as in the tables "
        "(`Other regions`, `other roles`), the role left out where a region holds a small "
        "role, `Respondent` when nothing can be named."))


class ThemeResult(_Model):
    """One theme of one item."""

    id: str = Field(description="`T1, T2 ...` discovered; a code id from the codebook; `N1 ...` "
                                "new themes beside a codebook.")
    label: str
    source: Literal["discovered", "codebook"]
    keywords: list[str] = Field(description="Top c-TF-IDF keywords, best first.")
    n_answers: Count
    n_respondents: Count
    by_region: list[ThemeSupport]
    by_role: list[ThemeSupport]
    quotes: list[Quote] = Field(description="Up to 3, closest to the theme's centre first.")
    n_countries: Count = Field(0, description="Countries of the respondents citing the theme.")
    best_practice: bool = Field(False, description="Marked as a best practice by the authors "
                                                   "in themes.yaml.")
    curated: bool = Field(False, description="Matched to a theme curated in themes.yaml.")
    n_regions: Count = Field(0, description="Regions of the respondents citing the theme "
                                            "(`(not stated)` not counted).")


class ItemThemes(_Model):
    """The themes of one free-text item, with what was set aside and how they were found."""

    item_id: str
    method: Literal["discovery", "codebook"]
    model: str = Field(description="The embedding model.")
    settings: dict[str, Any] = Field(description="threshold, margin (and codebook settings).")
    n_answers: Count = Field(description="Answers modelled (non-answers left out).")
    n_non_answers: Count = Field(description="Blank, `N/A`, `no comment` ... set aside.")
    languages: dict[str, Count] = Field(description="Answers by detected language (`unknown` "
                                                    "for very short ones).")
    themes: list[ThemeResult] = Field(description="Most respondents first.")
    excluded: list[str] = Field(default_factory=list, description="Ids of the themes the "
                                "authors excluded in themes.yaml (left out of `themes`).")


class BestPractice(_Model):
    """A candidate best practice: a theme ranked by the support it has across the consultation."""

    rank: Count = Field(description="1 for the most widely cited.")
    item_id: str = Field(description="The free-text item the theme comes from.")
    domain: str | None = Field(description="The item's domain id; `null` outside a domain.")
    theme_id: str
    label: str
    n_respondents: Count = Field(description="Respondents citing the theme.")
    n_countries: Count = Field(description="Countries they come from.")
    n_regions: Count = Field(description="Regions they come from.")
    by_region: list[ThemeSupport] = Field(description="Suppressed as in the theme.")
    quotes: list[Quote] = Field(description="2-3 redacted quotes, attributed by region and role.")
    marked: bool = Field(description="The authors marked it as a best practice in themes.yaml; "
                                     "otherwise a candidate by support alone.")


class BestPractices(_Model):
    """``Results.best_practices``: every candidate, most widely cited first."""

    ranking: str = Field(description="How candidates are ordered, in words.")
    practices: list[BestPractice]


def best_practices(section: dict[str, Any]) -> BestPractices | None:
    """``Results.best_practices`` read back typed; ``None`` while it is empty."""
    return BestPractices.model_validate(section) if section else None


def item_themes(section: dict[str, Any]) -> dict[str, ItemThemes]:
    """``Results.themes`` read back as typed models."""
    return {item_id: ItemThemes.model_validate(value) for item_id, value in section.items()}
