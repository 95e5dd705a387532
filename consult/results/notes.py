"""The notes results.json carries beside its tables, in every report language.

Analysis writes each note as an English sentence (results.json stays plain
text, readable by anyone) made from one of :data:`TEMPLATES` by :func:`note`;
a report in another language reads the sentence back against the same
templates and writes it again in its own language with :func:`translate`.
One catalogue for both directions, so a note analysis adds without a
translation is caught by a test rather than printed in English in a French
report.

Fields named in :data:`NAMES` hold group names (regions, profile answers,
"Other regions", a grouping's name), joined by ", ": the report translates each
name with the function it passes. ``where`` is one of :data:`WHERE`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

NAMES = frozenset({"other", "names", "small", "regions", "grouping"})
WHERE = {"here": {"fr": "pour cette question"}, "in the chains": {"fr": "dans les chaînes"}}


@dataclass(frozen=True)
class Template:
    """One kind of note: its English sentence and its translations, with ``{field}`` slots."""

    en: str
    fr: str


TEMPLATES: dict[str, Template] = {
    "merged_groups": Template(
        "{other} = {names}: {small} had fewer than {threshold} respondents {where}, and no "
        "group that small is shown on its own.",
        "{other} = {names} ({small} : moins de {threshold} répondants {where}) ; aucun groupe "
        "aussi petit n’est présenté seul."),
    "not_crossed": Template(
        "not crossed by {grouping}: fewer than two groups of at least {threshold} respondents",
        "pas de croisement par {grouping} : moins de deux groupes d’au moins {threshold} "
        "répondants"),
    "unprotectable": Template(
        "{n} suppressed cell(s) follow from published totals whatever is suppressed.",
        "{n} cellule(s) masquée(s) se déduisent des totaux publiés, quoi qu’on masque."),
    "suppressed": Template(
        "{primary} count(s) below {threshold} shown as <{threshold}, {secondary} more shown as x "
        "so that they cannot be worked out from the published totals.",
        "{primary} effectif(s) inférieur(s) à {threshold} indiqué(s) par <{threshold}, et "
        "{secondary} autre(s) par x, pour qu’ils ne puissent pas être déduits des totaux "
        "publiés."),
    "countries_suppressed": Template(
        "Countries: {primary} count(s) below {threshold} shown as <{threshold}, {secondary} more "
        "shown as x so that they cannot be worked out from the region totals.",
        "Pays : {primary} effectif(s) inférieur(s) à {threshold} indiqué(s) par <{threshold}, et "
        "{secondary} autre(s) par x, pour qu’ils ne puissent pas être déduits des totaux des "
        "régions."),
    "one_country": Template(
        "{regions}: one country only, so its count is the region's count in by_region.",
        "{regions} : un seul pays, dont l’effectif est donc celui de la région."),
    "countries_unnamed": Template(
        "{regions}: the countries whose counts are suppressed are not named, as their counts "
        "would follow from the region's total.",
        "{regions} : les pays dont l’effectif est masqué ne sont pas nommés, car leurs "
        "effectifs se déduiraient du total de la région."),
    "sample_groups": Template(
        "Regions and profile groups are described in full; groups below {threshold} respondents "
        "are flagged and merged in crossed tables.",
        "Les régions et les groupes de profil sont décrits en entier ; les groupes de moins de "
        "{threshold} répondants sont signalés et regroupés dans les tableaux croisés."),
    "waves_merged": Template(
        "Waves {first} and later are shown together ({last}): the deepest had fewer than "
        "{threshold} respondents on its own.",
        "Les vagues {first} et suivantes sont présentées ensemble ({last}) : la plus profonde "
        "comptait à elle seule moins de {threshold} répondants."),
    "no_regions_crossed": Template(
        "Recruitments between regions and the regional mix by wave are not shown: fewer than two "
        "regions have {threshold} respondents or more in the chains.",
        "Les recrutements entre régions et la composition régionale par vague ne sont pas "
        "présentés : moins de deux régions comptent {threshold} répondants ou plus dans les "
        "chaînes."),
    "one_region": Template(
        "Recruitments between regions are not shown: only one region has {threshold} "
        "respondents or more in the chains.",
        "Les recrutements entre régions ne sont pas présentés : une seule région compte "
        "{threshold} répondants ou plus dans les chaînes."),
    "no_homophily": Template(
        "No homophily index: no recruitment has both regions known.",
        "Pas d’indice d’homophilie : aucun recrutement dont les deux régions sont connues."),
    "homophily_withheld": Template(
        "The homophily index is withheld: with it, the suppressed recruitments between regions "
        "could be worked out.",
        "L’indice d’homophilie n’est pas publié : il permettrait de déduire les recrutements "
        "masqués entre régions."),
    "homophily_merged": Template(
        "Computed on the regions as shown: recruitments between two merged regions count as "
        "within a region.",
        "Calculé sur les régions telles que présentées : un recrutement entre deux régions "
        "regroupées compte comme interne à une région."),
    "unknown_referrer": Template(
        "{n} respondent(s) gave a referrer's code that matches no respondent: they are kept, "
        "each as the root of a tree.",
        "{n} répondant(s) ont donné un code de parrain qui ne correspond à aucun répondant : "
        "ils sont gardés, chacun comme racine d’un arbre."),
    "loops": Template(
        "{n} recruitment loop(s) ({members} respondents) were broken at one point each.",
        "{n} boucle(s) de recrutement ({members} répondants) ont été rompues en un point "
        "chacune."),
    "shared_codes": Template(
        "{n} respondents used a code another respondent also used; the earliest of them counts "
        "as the recruiter.",
        "{n} répondants ont utilisé un code qu’un autre répondant a aussi utilisé ; le premier "
        "d’entre eux compte comme recruteur."),
    "wave_mismatch": Template(
        "{n} respondent(s) were recorded in another wave than their depth in the rebuilt trees; "
        "the depth is used.",
        "{n} répondant(s) ont été enregistrés dans une autre vague que leur profondeur dans les "
        "arbres reconstruits ; la profondeur est retenue."),
    "no_code": Template(
        "{n} included respondent(s) carry no referral code and are not in the chains.",
        "{n} répondant(s) retenus n’ont pas de code de recommandation et ne figurent pas dans "
        "les chaînes."),
    "not_applicable": Template(
        "{n} answer(s) from respondents the item did not apply to were left out.",
        "{n} réponse(s) de répondants à qui la question ne s’appliquait pas ont été écartées."),
    "not_numbers": Template(
        "{n} answer(s) that are not numbers were left out.",
        "{n} réponse(s) qui ne sont pas des nombres ont été écartées."),
    "not_choices": Template(
        "{n} answer(s) with codes that are not choices of the item were left out.",
        "{n} réponse(s) dont le code n’est pas un choix de la question ont été écartées."),
}
LANGUAGES = ("en", "fr")


def note(kind: str, **fields: object) -> str:
    """The English note of ``kind`` (a key of :data:`TEMPLATES`) with ``fields`` filled in."""
    return TEMPLATES[kind].en.format(**fields)


def translate(text: str, lang: str, name: Callable[[str], str] = lambda s: s) -> str:
    """``text`` (a note as results.json has it) in ``lang``.

    ``name`` translates one group name (a region, a profile answer, "Other
    regions", a grouping's name). A text that is no known note, and any text
    when ``lang`` is English or has no translations, is returned unchanged.
    """
    if lang == "en" or lang not in LANGUAGES:
        return text
    for kind, template in TEMPLATES.items():
        found = _pattern(kind).fullmatch(text)
        if found is None:
            continue
        fields = dict(found.groupdict())
        for key, value in fields.items():
            if key in NAMES:
                fields[key] = ", ".join(name(part) for part in value.split(", "))
            elif key == "where":
                fields[key] = WHERE[value][lang]
        return str(getattr(template, lang)).format(**fields)
    return text


@cache
def _pattern(kind: str) -> re.Pattern[str]:
    """The English template of ``kind`` as a regular expression, a named group per field."""
    parts = []
    seen: set[str] = set()
    for literal, field, _, _ in string.Formatter().parse(TEMPLATES[kind].en):
        parts.append(re.escape(literal))
        if field is None:
            continue
        if field in seen:
            parts.append(f"(?P={field})")
        elif field == "where":
            parts.append(f"(?P<where>{'|'.join(re.escape(w) for w in WHERE)})")
        else:
            parts.append(f"(?P<{field}>.+?)")
        seen.add(field)
    return re.compile("".join(parts), re.S)
