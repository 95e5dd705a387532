"""Candidate best practices: per domain, with quotes, and ranked across domains.

The ranking comes from results.json's ``best_practices`` when it is written;
until then :func:`rank_themes` ranks the themes of the open "practice"
questions by the respondents citing them. Either way a practice cited by fewer
respondents than the small-cell threshold is left out: its support could not
be published.
"""

from __future__ import annotations

import re

from markupsafe import Markup

from consult.questionnaire import Questionnaire
from consult.report import formats
from consult.report.figures import Chart, Series
from consult.report.model import (
    Figure,
    Practice,
    Quote,
    Sentence,
    Support,
    Synthesis,
    Table,
    TableRow,
)
from consult.report.refs import Numbering, sentence
from consult.report.strings import region_name
from consult.results import Results
from consult.results.themes import (
    BestPractice,
    BestPractices,
    ItemThemes,
    best_practices,
    item_themes,
)

# Candidates drawn in the synthesis figure (the table lists them all).
FIGURE_TOP = 12


def candidate_practices(results: Results, questionnaire: Questionnaire) -> tuple[
        BestPractices | None, str]:
    """The ranked candidates and where they come from (``best_practices``, ``themes``, ``none``)."""
    ranked = best_practices(results.best_practices)
    if ranked is not None:
        return ranked, "best_practices"
    if not results.themes:
        return None, "none"
    return rank_themes(item_themes(results.themes), questionnaire), "themes"


def rank_themes(themes: dict[str, ItemThemes], questionnaire: Questionnaire) -> BestPractices:
    """The fallback ranking: every theme of a practice question, most respondents first.

    Ties go to the theme cited in more countries, then to the label.
    """
    found = []
    for item_id, fitted in themes.items():
        try:
            item = questionnaire.item(item_id)
        except KeyError:
            continue
        if not item.practice:
            continue
        domain = questionnaire.domain_of(item_id)
        found += [(theme, item_id, domain.id if domain else None) for theme in fitted.themes]
    found.sort(key=lambda f: (-f[0].n_respondents, -f[0].n_countries, f[0].label))
    return BestPractices(ranking="themes of the practice questions by respondents, then countries",
                         practices=[BestPractice(
                             rank=rank, item_id=item_id, domain=domain, theme_id=theme.id,
                             label=theme.label, n_respondents=theme.n_respondents,
                             n_countries=theme.n_countries,
                             n_regions=sum(1 for r in theme.by_region
                                           if r.group != "(not stated)" and r.count != 0),
                             by_region=theme.by_region, quotes=theme.quotes,
                             marked=theme.best_practice)
                             for rank, (theme, item_id, domain) in enumerate(found, start=1)])


def practices(results: Results, questionnaire: Questionnaire, lang: str, t: dict[str, str],
              threshold: int) -> tuple[list[Practice], str]:
    """Every candidate cited by at least ``threshold`` respondents, ranked, and the source."""
    ranked, source = candidate_practices(results, questionnaire)
    if ranked is None:
        return [], source
    roles = _role_words(results, lang)
    shown = [p for p in ranked.practices if p.n_respondents >= threshold]
    titles = {d.id: questionnaire.text(d.title, lang) for d in questionnaire.domains}
    return [_practice(rank, p, titles, roles, lang, t)
            for rank, p in enumerate(shown, start=1)], source


def domain_note(source: str, domain_practices: list[Practice], question: str, threshold: int,
                t: dict[str, str]) -> str:
    """The sentence above a domain's candidates, or the one saying why there are none."""
    if source == "none":
        return t["practices_no_themes"]
    if not domain_practices:
        return t["practices_none"].format(threshold=threshold)
    return t["practices_intro"].format(question=question, threshold=threshold)


def synthesis(numbering: Numbering, ranked: list[Practice], source: str, lang: str,
              t: dict[str, str], threshold: int, *, draw: bool) -> Synthesis:
    """The candidates across domains: a sentence on the most cited, a table and a figure."""
    ranking = t["synthesis_ranking"].format(threshold=threshold)
    if not ranked:
        note = t["practices_no_themes"] if source == "none" else \
            t["synthesis_none"].format(threshold=threshold)
        return Synthesis([], [Sentence(note, Markup.escape(note))], ranking, source, None, None)
    number = numbering.table()
    table = Table(number, f"table-{number}", t["synthesis_table"],
                  [t["rank"], t["practice"], t["domain"], t["respondents"], t["countries"],
                   t["regions"]],
                  [TableRow(formats.number(p.rank, lang),
                            [p.label, p.domain, formats.number(p.n_respondents, lang),
                             # 0 countries: results.json does not say (older themes).
                             formats.number(p.n_countries, lang) if p.n_countries else "–",
                             formats.number(p.n_regions, lang)]) for p in ranked])
    figure = _figure(numbering, ranked[:FIGURE_TOP], lang, t, draw=draw)
    top = ranked[0]
    findings = [sentence(t["synthesis_top"], t, lang, [table, figure], label=top.label,
                         domain=top.domain, n=formats.number(top.n_respondents, lang),
                         origin=practice_origin(top, lang, t))]
    following = [t["synthesis_item"].format(label=p.label, n=formats.number(p.n_respondents, lang))
                 for p in ranked[1:4]]
    if following:
        findings.append(sentence(t["synthesis_next"], t, lang,
                                 list=formats.join_list(following, lang)))
    return Synthesis(ranked, findings, ranking, source, table, figure)


def practice_origin(found: BestPractice | Practice, lang: str, t: dict[str, str]) -> str:
    """" from 9 countries and 4 regions"; countries left out while results.json lacks them."""
    regions = (t["region_1"] if found.n_regions == 1
               else t["regions_n"].format(n=formats.number(found.n_regions, lang)))
    if not found.n_countries:
        return t["origin_regions"].format(regions=regions) if found.n_regions else ""
    countries = (t["country_1"] if found.n_countries == 1
                 else t["countries_n"].format(n=formats.number(found.n_countries, lang)))
    return t["origin_both"].format(countries=countries, regions=regions)


# --------------------------------------------------------------------------- helpers


def _practice(rank: int, found: BestPractice, titles: dict[str, str], roles: dict[str, str],
              lang: str, t: dict[str, str]) -> Practice:
    support = t["practice_support"].format(n=formats.number(found.n_respondents, lang),
                                           origin=practice_origin(found, lang, t))
    return Practice(
        rank=rank, label=found.label, domain_id=found.domain or "",
        domain=titles.get(found.domain or "", ""), item_id=found.item_id,
        n_respondents=found.n_respondents, n_countries=found.n_countries,
        n_regions=found.n_regions, support=support,
        by_region=[Support(_region(r.label, lang, t), r.display) for r in found.by_region],
        quotes=[Quote(q.text, _attribution(q.attribution, roles, lang)) for q in found.quotes[:3]],
        marked=found.marked)


def _region(label: str, lang: str, t: dict[str, str]) -> str:
    if label == "Other regions":
        return t["other_regions"]
    return t["not_stated"] if label == "(not stated)" else region_name(label, lang)


def _role_words(results: Results, lang: str) -> dict[str, str]:
    """Role code → the role as a word in ``lang`` ("custodial" → "carcéral")."""
    try:
        role = results.item("role")
    except KeyError:
        return {}
    words = {}
    for choice in role.choices:
        label = choice.label.get(lang) or choice.code
        short = re.sub(r"\s*\(.*\)\s*$", "", label)
        words[choice.code] = short[:1].lower() + short[1:]
    return words


# The words results.json's attributions use for merged or unnamed groups, per language.
ATTRIBUTION_WORDS = {
    "fr": {"Other regions": "Autres régions", "other roles": "autres rôles",
           "Respondent": "Répondant", "Region not stated": "Région non précisée",
           "role not stated": "rôle non précisé"},
}


def _attribution(attribution: str, roles: dict[str, str], lang: str) -> str:
    """"Region, role", "Region", "Role" or "Respondent" with every part in ``lang``."""
    words = ATTRIBUTION_WORDS.get(lang, {})
    region, sep, role = attribution.rpartition(", ")
    if not sep:
        alone = attribution[:1].lower() + attribution[1:]
        if alone in roles or alone in words:
            word = roles.get(alone) or words[alone]
            return word[:1].upper() + word[1:]
        return words.get(attribution) or region_name(attribution, lang)
    return (f"{words.get(region) or region_name(region, lang)}, "
            f"{roles.get(role) or words.get(role, role)}")


def _figure(numbering: Numbering, shown: list[Practice], lang: str, t: dict[str, str], *,
            draw: bool) -> Figure:
    number = numbering.figure()
    domains = list(dict.fromkeys(p.domain for p in shown))
    series = [Series(domain, [float(p.n_respondents) if p.domain == domain else None
                              for p in shown],
                     [formats.number(p.n_respondents, lang) if p.domain == domain else ""
                      for p in shown]) for domain in domains]
    chart = Chart("bars", [p.label for p in shown], series, axis=t["respondents"])
    title = t["figure_practices"]
    alt = t["figure_practices_alt"].format(list=formats.join_list(
        [f"{p.label} ({p.domain}) {formats.number(p.n_respondents, lang)}" for p in shown], lang))
    drawn = Markup("")
    if draw:
        from consult.report.figures import svg

        drawn = svg(chart, title, alt, salt=f"figure-{number}")
    return Figure(number, f"figure-{number}", title, alt, drawn, [p.label for p in shown],
                  [float(p.n_respondents) for p in shown], chart)
