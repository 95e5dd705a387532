"""Candidate best practices: the themes of the practice questions ranked by their support.

Candidates are the published themes (authors' exclusions already left out) of
every free-text item marked ``practice: true``: in R-361, each domain's
"Which ... practice would you recommend" and the closing "best practice"
question. They are ranked by the respondents citing the theme, then the
countries those respondents come from, then their regions, most first; ties
keep the questionnaire's item order and, within an item, the theme order of
results.json. Themes the authors marked ``best_practice: true`` are flagged
(``marked``), not moved. Support by region is the theme's, already protected
below the [disclosure] threshold; quotes are the theme's (redacted, pinned
first), at most three.
"""

from __future__ import annotations

from collections.abc import Mapping

from consult.questionnaire import Questionnaire
from consult.results.themes import BestPractice, BestPractices, ItemThemes

RANKING = ("respondents citing the theme, then the countries and then the regions they come "
           "from (most first); ties in questionnaire order")
MAX_QUOTES = 3


def rank_best_practices(themes: Mapping[str, ItemThemes],
                        questionnaire: Questionnaire) -> BestPractices:
    """Every theme of the questionnaire's practice items in ``themes``, most widely cited first."""
    order = {item.id: n for n, item in enumerate(questionnaire.items())}
    found = []
    for item_id, fitted in themes.items():
        if item_id not in order or not questionnaire.item(item_id).practice:
            continue
        domain = questionnaire.domain_of(item_id)
        for position, theme in enumerate(fitted.themes):
            key = (-theme.n_respondents, -theme.n_countries, -theme.n_regions, order[item_id],
                   position)
            found.append((key, item_id, domain.id if domain else None, theme))
    found.sort(key=lambda f: f[0])
    return BestPractices(ranking=RANKING, practices=[
        BestPractice(rank=rank, item_id=item_id, domain=domain, theme_id=theme.id,
                     label=theme.label, n_respondents=theme.n_respondents,
                     n_countries=theme.n_countries, n_regions=theme.n_regions,
                     by_region=theme.by_region, quotes=theme.quotes[:MAX_QUOTES],
                     marked=theme.best_practice)
        for rank, (_, item_id, domain, theme) in enumerate(found, start=1)])
