"""results.json's notes in the report's language (:mod:`consult.results.notes`).

Group names inside a note (regions, profile answers, "Other regions", a
grouping's name) are printed as the report's tables print them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from consult.report.strings import region_name
from consult.results import Results
from consult.results.notes import translate


def namer(results: Results, lang: str, t: dict[str, str]) -> Callable[[str], str]:
    """A function giving a group name of a note in ``lang``, as the tables give it."""
    names = {"Other regions": t["other_regions"], "Other groups": t["other"],
             "Other countries": t["other_countries"], "region": t["grouping_region"],
             "role": t["grouping_role"]}
    groupings = {g for item in results.items for g in item.by} - {"region", "country"}
    for item in results.items:
        if item.item_id not in groupings:
            continue
        for choice in item.choices:
            english, there = choice.label.get("en"), choice.label.get(lang)
            if english and there:
                names.setdefault(english, there)
    return lambda name: names.get(name) or region_name(name, lang)


def in_language(notes: Sequence[str], lang: str, name: Callable[[str], str]) -> list[str]:
    """``notes`` in ``lang``; a note that is no known kind stays as written."""
    return [translate(text, lang, name) for text in notes]
