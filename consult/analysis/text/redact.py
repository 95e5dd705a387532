"""Redaction of quotes before they reach any output: contacts, names and identifying places.

Patterns and word lists, not a trained model: spaCy's small models tag e-mail
addresses as organisations and phone numbers as dates (../shared/STACK.md),
and no trained pipeline is installed. What is replaced by ``[redacted]``:

- **e-mail addresses**, also written ``name [at] host [dot] org``, ``name at host.org``
  or ``name dot surname at host dot org``;
- **web addresses** (``https://…``, ``www.…``, ``host.org/path``, ``office.gov``) and
  **handles** (``@name``);
- **phone numbers**: seven or more digits grouped by spaces, dots, dashes or
  brackets, with an optional ``+`` (a year range such as ``2010-2015`` is kept);
- **names after a title** ("Officer Smith", "Dr J. Okafor", "Mme Tremblay"): the title stays;
- **named institutions**: capitalised words before an institution word
  ("Kingston Penitentiary", "Fleury-Mérogis prison", "Regina Correctional
  Centre") or after one ("HMP Belmarsh", "Centre pénitentiaire de Fresnes",
  "Maison d'arrêt de la Santé", "Centro Penitenciario de Soto del Real"): the
  institution word stays, it says what kind of place, not which;
- **places near an institution word**: a capitalised name after "in", "at",
  "near", "à", "en" ... within a few words of one ("the penitentiary in Kingston");
- **known places anywhere**: countries (country_converter's short names),
  the cities of the IANA time-zone database (``zoneinfo``, ~470 names) and the
  states and provinces of :data:`SUBDIVISIONS`, matched as capitalised whole
  words, accents ignored.

Attribution is by region only: a country or city in a quote would say more.
What patterns cannot see: a bare person name without a title ("John Smith
said"), a town nowhere near an institution word and absent from the lists.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

REDACTED = "[redacted]"

# --------------------------------------------------------------------------- contacts

_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
_OPEN, _CLOSE = r"[\[({<]", r"[\])}>]"
_OBFUSCATED_EMAIL = re.compile(
    rf"[\w.+-]+\s*{_OPEN}\s*(?:at|@|arobase)\s*{_CLOSE}\s*[\w-]+"
    rf"(?:\s*(?:\.|{_OPEN}\s*(?:dot|point)\s*{_CLOSE})\s*[\w-]+)+"
    r"|[\w.+-]+\s+at\s+[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}(?![\w@-])(?!\.\w)",
    re.IGNORECASE)
# Spelled out with words alone: "moshe dot cohen at ips dot gov dot il", "jdoe at example
# dot org". The address must end in a generic top-level domain, or in a country code after
# two dots, so that "looked at it dot by dot" stays.
_DOT = r"\s+(?:dot|point)\s+"
_GENERIC_TLD = r"(?:com|org|net|gov|edu|int|mil|info)"
_SPELLED_EMAIL = re.compile(
    rf"\b[\w.+-]+(?:{_DOT}[\w+-]+)*\s+(?:at|arobase)\s+[\w-]+"
    rf"(?:(?:{_DOT}[\w-]+)*{_DOT}{_GENERIC_TLD}(?:{_DOT}[a-z]{{2}})?|(?:{_DOT}[\w-]+)+{_DOT}[a-z]{{2}})"
    r"\b", re.IGNORECASE)
# Web addresses (with a scheme, "www.", or a domain with a path or a common top-level
# domain): a profile or a page names a person or an office.
_URL = re.compile(
    r"\b(?:https?://|www\.)[^\s<>\"]+[^\s<>\".,;:!?)\]]"
    r"|\b(?:[a-z0-9-]+\.)+(?:com|org|net|gov|edu|int|mil|info|io|[a-z]{2})/[^\s<>\"]*[\w/]"
    r"|\b(?:[a-z0-9-]+\.)+(?:com|org|net|gov|edu|int|mil|info)(?:\.[a-z]{2})?\b",
    re.IGNORECASE)
# Social-media handles ("@jdoe_corr"), not the "@" of an e-mail address.
_HANDLE = re.compile(r"(?<![\w.@])@[A-Za-z0-9_]{2,}\b")
# Seven or more digits, possibly grouped by spaces, dots, dashes or brackets, with an optional +.
# Letters right after the number do not protect it ("5550142ext").
_PHONE = re.compile(r"(?<![\d+])\+?\(?\d[\d \t().-]{5,}\d(?!\d)")
_YEAR_RANGE = re.compile(r"(?:19|20)\d\d\s*[-–]\s*(?:19|20)\d\d")

# --------------------------------------------------------------------------- names

# After an honorific the next capitalised words are a name, whatever they are ("Mr Brown").
_HONORIFICS = (r"Dr\.?|Doctor|Docteur|Doctora?|Prof\.?|Professor|Professeur|Mr\.?|Mrs\.?|"
               r"Ms\.?|Mx\.?|Miss|M\.|Mme\.?|Mlle\.?|Monsieur|Madame|Mademoiselle|Sr\.?|"
               r"Sra\.?|Señor|Señora")
# After a role, only when they are not ordinary words ("Director General" stays).
_ROLES = (r"Officer|Constable|Sergeant|Sgt\.?|Warden|Governor|Superintendent|Director|"
          r"Commissioner|Deputy|Inspector|Chaplain|Imam|Rabbi|Pastor|Father|Sister|Brother")
_UPPER = "A-ZÀ-ÖØ-Þ"
_WORD = rf"[{_UPPER}][\w'’-]+"
_INITIAL = rf"[{_UPPER}]\."
_NAME = rf"(?:{_INITIAL}\s*)*{_WORD}"
# A space after the title, or none after a dotted one ("Dr.Smith").
_TITLED_NAME = re.compile(rf"\b({_HONORIFICS}|{_ROLES})(\s+|(?<=\.))({_NAME}(?:\s+{_WORD})?)")
_ROLE = re.compile(rf"(?:{_ROLES})")

# --------------------------------------------------------------------------- institutions

# Words that name a kind of place where people are held (English, French, Spanish, German).
_INSTITUTION = (
    r"prisons?|penitentiar(?:y|ies)|institutions?|jails?|gaols?|reformator(?:y|ies)|"
    r"correctional\s+(?:centres?|centers?|facilit(?:y|ies)|institutions?|complex(?:es)?)|"
    r"(?:detention|remand|custody|treatment)\s+(?:centres?|centers?|facilit(?:y|ies))|"
    r"penal\s+colon(?:y|ies)|"
    r"centres?\s+p[ée]nitentiaires?|centres?\s+de\s+d[ée]tention|maisons?\s+d['’]arr[êe]t|"
    r"maisons?\s+centrales?|[ée]tablissements?\s+p[ée]nitentiaires?|p[ée]nitenciers?|"
    r"centros?\s+penitenciarios?|c[áa]rcel(?:es)?|prisi[óo]n(?:es)?|penitenciar[íi]as?|"
    r"justizvollzugsanstalt|JVA"
)
# Prefixes that are themselves a prison's title: "HMP Belmarsh", "HM Prison Wakefield".
_PRISON_TITLE = r"HMP|HMYOI|HMIPS|HM\s+Prison|HM\s+Young\s+Offender\s+Institution"
_LINK = r"(?:de\s+la|de\s+los|de\s+las|of\s+the|de|du|des|del|of|d['’])"
# A place or institution name: capitalised words, possibly joined by "of", "de", "du" ...
_PROPER = rf"{_WORD}(?:(?:\s+|\s+{_LINK}\s*|-){_WORD}){{0,4}}"
_NAME_BEFORE = re.compile(rf"(?<![\w'’-])(?P<name>{_PROPER})\s+(?P<word>(?i:{_INSTITUTION}))\b")
_NAME_AFTER = re.compile(rf"\b(?:(?P<word>(?i:{_INSTITUTION}))\s+(?:{_LINK}\s*)?|"
                         rf"(?P<title>{_PRISON_TITLE})\s+)(?P<name>{_PROPER})")
_LOCATIVE = r"in|at|near|outside|à|en|près\s+de|cerca\s+de"
_PLACE_NEAR = re.compile(rf"\b(?i:{_INSTITUTION})\b(?:[ \t]+[\w'’-]+){{0,5}}?[ \t]+"
                         rf"(?:{_LOCATIVE})[ \t]+(?P<name>{_PROPER})")

# Capitalised words that describe an institution rather than name it: kept as they are
# ("Federal Penitentiary", "Maximum Security Prison", "The Institution").
_GENERIC_TEXT = """
a an the this that these those our their its my your each every any some all no one another
in at on of for by from to with near outside inside across between within and or but
federal provincial state national central regional local county municipal territorial
maximum medium minimum high low security secure special dispersal women women's womens
men men's mens youth young juvenile adult adults open closed remand private public military
new old main north south east west northern southern eastern western upper lower
offender offenders inmate inmates prisoner prisoners prison prisons category cat
le la les un une des du de ce cette ces notre nos leur leurs chaque tout toute tous toutes
el los las una uno unos unas este esta estos estas nuestro nuestra cada todo toda
we they it he she i you many most several such other both either neither
hm hmp hmyoi
"""
GENERIC_WORDS = frozenset(_GENERIC_TEXT.split())

# First-level divisions that are often a consultation's jurisdictions (no package lists them).
SUBDIVISIONS = (
    "Alberta", "British Columbia", "Manitoba", "New Brunswick", "Newfoundland", "Labrador",
    "Nova Scotia", "Ontario", "Prince Edward Island", "Quebec", "Québec", "Saskatchewan",
    "Yukon", "Nunavut", "Northwest Territories",
    "New South Wales", "Victoria", "Queensland", "Western Australia", "South Australia",
    "Tasmania", "Northern Territory", "Australian Capital Territory",
    "England", "Scotland", "Wales", "Northern Ireland",
    "Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado", "Connecticut",
    "Delaware", "Florida", "Hawaii", "Idaho", "Illinois", "Indiana", "Iowa", "Kansas",
    "Kentucky", "Louisiana", "Maine", "Maryland", "Massachusetts", "Michigan", "Minnesota",
    "Mississippi", "Missouri", "Montana", "Nebraska", "Nevada", "New Hampshire", "New Jersey",
    "New Mexico", "New York", "North Carolina", "North Dakota", "Ohio", "Oklahoma", "Oregon",
    "Pennsylvania", "Rhode Island", "South Carolina", "South Dakota", "Tennessee", "Texas",
    "Utah", "Vermont", "Virginia", "West Virginia", "Wisconsin", "Wyoming",
    "Bavaria", "Bayern", "Catalonia", "Catalunya", "Cataluña", "Flanders", "Wallonia",
    "Île-de-France",
)
# Other names of countries: common English variants, French and Spanish names, abbreviations.
COUNTRY_VARIANTS = (
    "Turkey", "Czech Republic", "Britain", "Great Britain", "Holland", "Burma", "Ivory Coast",
    "Swaziland", "Macedonia", "East Timor", "Russian Federation", "Korea", "Congo", "Viet Nam",
    "USA", "UK", "U.S.", "U.K.", "U.S.A.",
    "Allemagne", "Angleterre", "Autriche", "Belgique", "Brésil", "Danemark", "Écosse",
    "Espagne", "États-Unis", "Irlande", "Italie", "Norvège", "Nouvelle-Zélande", "Pays-Bas",
    "Pays de Galles", "Royaume-Uni", "Suède", "Suisse", "Tunisie", "Maroc", "Algérie",
    "Alemania", "Bélgica", "Dinamarca", "España", "Estados Unidos", "Francia", "Inglaterra",
    "Italia", "Noruega", "Países Bajos", "Reino Unido", "Suecia", "Suiza", "Marruecos",
)
# Time-zone cities that are also ordinary words, abbreviations or people's first names.
_NOT_PLACES = frozenset({"ACT", "LHI", "NSW", "Center", "North", "South", "West", "Christmas",
                         "Easter", "Wake", "Midway", "Virgin", "Resolute", "Oral", "Troll",
                         "Casey", "Davis", "Palmer", "Knox", "Currie", "Johnston", "Stanley",
                         "Dawson", "Universal", "Zulu", "Factory", "Vostok", "Mawson", "Syowa",
                         "Rothera", "McMurdo", "Macquarie", "DumontDUrville", "Chagos",
                         "Reunion", "Comoro", "Canary"})
_LINK_WORDS = frozenset({"of", "de", "du", "des", "del", "la", "los", "las", "the", "d'", "d’"})
_COMMON_LOGPROB = -15.0
_COMMON_MARGIN = 1.0
_TZ_AREAS = ("Africa", "America", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")


@dataclass(frozen=True)
class Span:
    """A stretch of a text to redact: ``text[start:end]`` and what it is."""

    start: int
    end: int
    kind: str
    """``email``, ``address``, ``handle``, ``phone``, ``name``, ``institution`` or ``place``."""


def redact(text: str) -> str:
    """``text`` with contacts, titled names and identifying places replaced by ``[redacted]``.

    Titles and institution words stay ("Officer [redacted]", "[redacted]
    Penitentiary"): they say a role or a kind of place, not who or where.
    """
    spans = redaction_spans(text)
    pieces, last = [], 0
    for span in spans:
        pieces += [text[last:span.start], REDACTED]
        last = span.end
    pieces.append(text[last:])
    return "".join(pieces)


def redaction_spans(text: str) -> list[Span]:
    """The spans :func:`redact` replaces, in order; overlapping or adjacent ones joined."""
    found: list[Span] = []
    found += [Span(m.start(), m.end(), "email") for m in _EMAIL.finditer(text)]
    found += [Span(m.start(), m.end(), "email") for m in _OBFUSCATED_EMAIL.finditer(text)]
    found += [Span(m.start(), m.end(), "email") for m in _SPELLED_EMAIL.finditer(text)]
    found += [Span(m.start(), m.end(), "address") for m in _URL.finditer(text)]
    found += [Span(m.start(), m.end(), "handle") for m in _HANDLE.finditer(text)]
    found += [Span(m.start(), m.end(), "phone") for m in _PHONE.finditer(text)
              if sum(c.isdigit() for c in m.group()) >= 7
              and not _YEAR_RANGE.fullmatch(m.group().strip())]
    for m in _TITLED_NAME.finditer(text):
        if _ROLE.fullmatch(m.group(1)) and not _names_something(m.group(3)):
            continue
        found.append(Span(m.start(3), m.end(3), "name"))
    for pattern, kind in ((_NAME_BEFORE, "institution"), (_NAME_AFTER, "institution"),
                          (_PLACE_NEAR, "place")):
        for m in pattern.finditer(text):
            # "Cook County Jail", "HMP Reading": a capitalised institution word makes the
            # words beside it a name even when they are ordinary words.
            titled = bool(m.groupdict().get("title")) or (m.groupdict().get("word") or "")[:1].isupper()
            span = _specific(text, m.start("name"), m.end("name"), titled=titled)
            if span is not None:
                found.append(Span(*span, kind))
    found += [Span(m.start(), m.end(), "place") for m in _places().finditer(_fold(text))]
    return _join(found, text)


def redacted_words(texts: Iterable[str]) -> frozenset[str]:
    """The words (lower case) that redaction removes from ``texts``.

    Keywords and labels computed from the raw answers must not bring back what
    the quotes hide ("belmarsh", "smith"): leave out any that contains one.
    """
    words: set[str] = set()
    for text in texts:
        for span in redaction_spans(text):
            words.update(w.lower() for w in re.findall(r"[^\W_]+", text[span.start:span.end]))
    return frozenset(words)


# --------------------------------------------------------------------------- helpers


def _specific(text: str, start: int, end: int, *, titled: bool) -> tuple[int, int] | None:
    """The part of a capitalised run that names something, or ``None`` when nothing does.

    Descriptors and articles are trimmed at both ends ("The [Kingston] Federal
    Penitentiary"). Unless ``titled`` (the institution word is capitalised too),
    a run made only of ordinary words ("Staff Training prison") names nothing.
    """
    tokens = list(re.finditer(r"[^\s-]+", text[start:end]))
    while tokens and _clean(tokens[0].group()) in GENERIC_WORDS:
        tokens.pop(0)
    while tokens and _clean(tokens[-1].group()) in GENERIC_WORDS | _LINK_WORDS:
        tokens.pop()
    if not tokens or (not titled and not _names_something(" ".join(t.group() for t in tokens))):
        return None
    return start + tokens[0].start(), start + tokens[-1].end()


def _names_something(run: str) -> bool:
    """Whether some capitalised word of ``run`` is not an ordinary word written in capitals.

    An ordinary word is frequent in lower case (log-probability -15 or more in
    spaCy's English lexeme table) and clearly more frequent so than capitalised
    (by 1 in log-probability, a factor e): "Training" and "Staff" are ordinary;
    "Kingston", "Regina", "Santé", "Brown" and "Green" are not.
    """
    common = _common_words()
    words = [_clean(w) for w in re.split(r"[\s-]+", run) if w[:1].isupper()]
    return any(w not in common and w not in GENERIC_WORDS for w in words)


def _clean(token: str) -> str:
    return token.strip(".,;:'’()").lower()


def _join(spans: list[Span], text: str) -> list[Span]:
    """Spans sorted; overlapping ones, and ones with only spaces between them, merged."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and (span.start <= merged[-1].end
                       or not text[merged[-1].end:span.start].strip()):
            last = merged[-1]
            merged[-1] = Span(last.start, max(last.end, span.end), last.kind)
        else:
            merged.append(span)
    return merged


def _fold(text: str) -> str:
    """``text`` with accents stripped, one character for one, so that spans stay in place."""
    out = []
    for char in text:
        base = unicodedata.normalize("NFKD", char)[:1]
        out.append(base if base.isascii() and base else char)
    return "".join(out)


@lru_cache(maxsize=1)
def _places() -> re.Pattern[str]:
    """Countries, time-zone cities and :data:`SUBDIVISIONS` as one case-sensitive pattern."""
    import zoneinfo

    names = {zone.split("/")[-1].replace("_", " ") for zone in zoneinfo.available_timezones()
             if zone.split("/")[0] in _TZ_AREAS}
    names -= _NOT_PLACES
    names |= set(SUBDIVISIONS) | set(_countries())
    names = {n for n in names if len(n) > 2} | set(COUNTRY_VARIANTS)
    folded = sorted({_fold(n) for n in names}, key=lambda n: (-len(n), n))
    alternatives = "|".join(re.escape(n).replace(r"\ ", r"\s+") for n in folded)
    return re.compile(rf"(?<![\w'’-])(?:{alternatives})(?![\w'’-])")


def _countries() -> list[str]:
    try:
        import country_converter as coco
    except ImportError:  # pragma: no cover - a dependency of consult
        return []
    data = coco.CountryConverter().data
    names = [str(n) for n in data["name_short"]]
    # "Bonaire, Saint Eustatius and Saba", "Micronesia, Fed. Sts.": the part before the comma.
    return [n.split(",")[0].split(" (")[0] for n in names]


@lru_cache(maxsize=1)
def _common_words() -> frozenset[str]:
    """Lower-case words more frequent so than capitalised, from spacy-lookups-data (English)."""
    try:
        import spacy_lookups_data  # type: ignore[import-untyped]
        import srsly  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - installed with spaCy's lookups
        return frozenset()
    from pathlib import Path

    table = Path(spacy_lookups_data.__file__).parent / "data" / "en_lexeme_prob.json.gz"
    prob: dict[str, float] = srsly.read_gzip_json(table)
    return frozenset(word for word, p in prob.items()
                     if p >= _COMMON_LOGPROB and word.islower()
                     and p >= prob.get(word.capitalize(), -100.0) + _COMMON_MARGIN)
