"""Generate a synthetic consultation from any questionnaire.

The generator builds referral trees from seeds over several waves (with
regional homophily), gives each respondent a country, role and profile, answers
every closed item (independently of region and role unless an
:class:`Association` plants a dependence), writes free-text answers from a bank
of phrasings per theme (several languages, one to three themes an answer,
blanks and "N/A"), and adds the junk real exports contain: previews, spam,
partial responses and duplicates. Everything follows from ``seed``.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from typing import Any

import yaml

from consult.errors import ConsultError
from consult.questionnaire import Item, ItemType, Questionnaire
from consult.regions import region_of
from consult.sampling.codes import new_code

Answer = str | int | list[str]

# Countries and their weights: R-361's regional mix (North America 45.6%,
# Oceania 41.9%, Europe 8.6%, Asia 3.7%) over 15 countries.
DEFAULT_COUNTRIES: dict[str, float] = {
    "USA": 0.30, "CAN": 0.156,
    "AUS": 0.30, "NZL": 0.119,
    "GBR": 0.02, "FRA": 0.015, "ESP": 0.01, "NLD": 0.01, "BEL": 0.008, "DEU": 0.008,
    "SWE": 0.006, "NOR": 0.005, "DNK": 0.004,
    "ISR": 0.02, "SGP": 0.017,
}
# Share of respondents answering the form in French, by country.
FRENCH_SHARE = {"FRA": 1.0, "BEL": 0.5, "CAN": 0.25}
# Share of free-text answers written in Spanish, by country.
SPANISH_TEXT_SHARE = {"ESP": 0.6}
ROLE_WEIGHTS = {"administrative": 0.3, "custodial": 0.45, "community": 0.25}


@dataclass(frozen=True)
class Association:
    """A planted dependence of ``item`` on a grouping (``region``, ``role`` or a profile item).

    ``strength`` 0 means independence; 1 means every group always gives its own
    preferred answer.
    """

    item: str
    by: str
    strength: float

    @classmethod
    def parse(cls, text: str) -> Association:
        """Read ``ITEM:GROUP:STRENGTH``, e.g. ``int_same_procedures:region:0.6``."""
        parts = text.split(":")
        try:
            item, by, strength = parts
            value = float(strength)
        except ValueError:
            raise ConsultError(f"--associate {text!r}: write ITEM:GROUP:STRENGTH, e.g. "
                               "int_same_procedures:region:0.6") from None
        if not 0 <= value <= 1:
            raise ConsultError(f"--associate {text!r}: strength must be between 0 and 1")
        return cls(item, by, value)


@dataclass
class SynthResponse:
    """One row of a synthetic export.

    ``kind`` is ``complete`` for a respondent who counts; junk rows are
    ``preview``, ``spam``, ``partial``, ``duplicate_id`` (same response id as
    another row) or ``duplicate_code`` (same code and answers, new response id).
    """

    response_id: str
    kind: str
    status: str
    finished: bool
    progress: int
    started_at: datetime
    submitted_at: datetime
    language: str
    referral_code: str
    referred_by: str | None
    wave: int
    country_iso3: str
    region: str
    answers: dict[str, Answer] = field(default_factory=dict)
    other_text: dict[str, str] = field(default_factory=dict)
    text_language: dict[str, str] = field(default_factory=dict)
    themes: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class SynthConsultation:
    """A generated consultation: the questionnaire and every row, junk included."""

    questionnaire: Questionnaire
    responses: list[SynthResponse]
    seed: int

    @property
    def complete(self) -> list[SynthResponse]:
        """The rows that count as respondents."""
        return [r for r in self.responses if r.kind == "complete"]


def generate(
    questionnaire: Questionnaire,
    respondents: int = 81,
    *,
    seed: int = 2014,
    seeds: int | None = None,
    waves: int = 3,
    junk: float = 0.1,
    associations: Sequence[Association] = (),
    start: date = date(2014, 9, 8),
    end: date = date(2014, 11, 28),
    countries: dict[str, float] | None = None,
    homophily: float = 0.7,
) -> SynthConsultation:
    """Generate ``respondents`` complete responses plus ``junk`` × that many junk rows.

    Parameters
    ----------
    seeds
        Respondents in wave 0 (default: about one in seven).
    waves
        The deepest wave; respondents are spread over waves 0..``waves``.
    homophily
        Chance that a recruit works in the recruiter's region.
    """
    if respondents < 1:
        raise ConsultError("--respondents must be at least 1")
    if waves < 0:
        raise ConsultError("--waves must be 0 or more")
    if not 0 <= junk <= 5:
        raise ConsultError("--junk must be between 0 and 5 (a share of the respondents)")
    if end < start:
        raise ConsultError("the fielding end date comes before its start")
    for assoc in associations:
        _check_association(questionnaire, assoc)
    rng = random.Random(seed)
    weights = countries or DEFAULT_COUNTRIES
    n_seeds = max(1, min(respondents, seeds or math.ceil(respondents / 7)))
    sizes = _wave_sizes(respondents, n_seeds, waves)
    bank = _bank_for(questionnaire)
    priors = _Priors(questionnaire, rng, bank.get("closed", {}))

    slots = _country_slots(respondents, weights, rng, n_seeds)
    rows: list[SynthResponse] = []
    previous: list[SynthResponse] = []
    span = (end - start).days + 1
    next_slot = iter(slots)
    for wave, size in enumerate(sizes):
        current: list[SynthResponse] = []
        by_region: dict[str, list[SynthResponse]] = {}
        for parent_candidate in previous:
            by_region.setdefault(parent_candidate.region, []).append(parent_candidate)
        for _ in range(size):
            country = next(next_slot)
            region = region_of(country) or "Unknown"
            parent = _pick_parent(previous, by_region.get(region, []), homophily, rng)
            day = start + timedelta(days=min(span - 1, int((wave + rng.random()) * span / len(sizes))))
            submitted = datetime.combine(day, time(8), tzinfo=UTC) + timedelta(
                minutes=rng.randrange(0, 10 * 60))
            language = "fr" if rng.random() < FRENCH_SHARE.get(country, 0.0) else "en"
            if language not in questionnaire.languages:
                language = questionnaire.languages[0]
            response = SynthResponse(
                response_id=_response_id(rng),
                kind="complete",
                status="complete",
                finished=True,
                progress=100,
                started_at=submitted - timedelta(minutes=rng.randrange(6, 75)),
                submitted_at=submitted,
                language=language,
                referral_code=new_code(rng),
                referred_by=parent.referral_code if parent else None,
                wave=wave,
                country_iso3=country,
                region=region,
            )
            _answer_all(questionnaire, response, rng, priors, bank, associations)
            current.append(response)
        rows.extend(current)
        previous = current
    rows.extend(_junk_rows(questionnaire, rows, junk, rng))
    rng.shuffle(rows)
    rows.sort(key=lambda r: r.submitted_at)
    return SynthConsultation(questionnaire=questionnaire, responses=rows, seed=seed)


# --------------------------------------------------------------------------- the tree


def _wave_sizes(total: int, seeds: int, waves: int) -> list[int]:
    """Seeds in wave 0, the rest growing geometrically over the later waves."""
    if waves == 0 or total == seeds:
        return [total] if waves == 0 else [seeds]
    rest = total - seeds
    growth = [1.6**w for w in range(1, waves + 1)]
    sizes = [max(1, round(rest * g / sum(growth))) for g in growth]
    while sum(sizes) > rest:
        sizes[sizes.index(max(sizes))] -= 1
    sizes[-1] += rest - sum(sizes)
    return [seeds, *(s for s in sizes if s > 0)]


def _country_slots(total: int, weights: dict[str, float], rng: random.Random,
                   seeds: int) -> list[str]:
    """Countries for every respondent, in the order of recruitment.

    Counts follow ``weights`` by largest remainder (every country at least once
    when there are enough respondents), so the regional mix is what was asked
    for; the seeds come first and cover as many regions as they can.
    """
    norm = sum(weights.values())
    shares = {c: total * w / norm for c, w in weights.items()}
    floor = 1 if total >= 3 * len(weights) else 0
    counts = {c: max(floor, int(s)) for c, s in shares.items()}
    by_remainder = sorted(shares, key=lambda c: shares[c] - int(shares[c]), reverse=True)
    while sum(counts.values()) < total:
        for country in by_remainder:
            if sum(counts.values()) < total:
                counts[country] += 1
    while sum(counts.values()) > total:
        largest = max(counts, key=lambda c: counts[c])
        counts[largest] -= 1
    slots = [c for c, n in counts.items() for _ in range(n)]
    rng.shuffle(slots)
    first_of_region: dict[str | None, int] = {}
    for index, country in enumerate(slots):
        first_of_region.setdefault(region_of(country), index)
    seed_indexes = sorted(first_of_region.values())[:seeds]
    chosen = set(seed_indexes)
    rest = [i for i in range(len(slots)) if i not in chosen]
    order = seed_indexes + rest[: seeds - len(seed_indexes)] + rest[seeds - len(seed_indexes):]
    return [slots[i] for i in order]


def _pick_parent(previous: list[SynthResponse], same: list[SynthResponse], homophily: float,
                 rng: random.Random) -> SynthResponse | None:
    """A recruiter from the previous wave, of the same region with chance ``homophily``."""
    if not previous:
        return None
    if same and rng.random() < homophily:
        return rng.choice(same)
    return rng.choice(previous)


def _response_id(rng: random.Random) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "R_" + "".join(rng.choice(alphabet) for _ in range(15))


# --------------------------------------------------------------------------- answers


class _Priors:
    """The answer distributions of each item, fixed once per consultation."""

    def __init__(self, q: Questionnaire, rng: random.Random, given: dict[str, Any]) -> None:
        self.single: dict[str, dict[str, float]] = {}
        self.multi: dict[str, dict[str, float]] = {}
        for item in q.items():
            if item.type in (ItemType.SINGLE_CHOICE, ItemType.LIKERT):
                self.single[item.id] = self._single(item, rng, given.get(item.id))
            elif item.type is ItemType.MULTIPLE_CHOICE:
                self.multi[item.id] = self._multi(item, rng, given.get(item.id))

    @staticmethod
    def _single(item: Item, rng: random.Random, given: dict[str, float] | None) -> dict[str, float]:
        if given:
            return {str(k): float(v) for k, v in given.items()}
        weights: dict[str, float] = {}
        for index, choice in enumerate(item.choices or []):
            if choice.dont_know:
                weights[choice.code] = 0.04
            elif item.type is ItemType.LIKERT:
                weights[choice.code] = 0.5 + index  # officials lean towards agreeing
            else:
                weights[choice.code] = rng.uniform(0.3, 1.0)
        if item.other:
            weights["other"] = 0.05
        if item.id == "role":
            weights = {c: ROLE_WEIGHTS.get(c, w) for c, w in weights.items()}
        return weights

    @staticmethod
    def _multi(item: Item, rng: random.Random, given: dict[str, float] | None) -> dict[str, float]:
        if given:
            return {str(k): float(v) for k, v in given.items()}
        chances = {c.code: (0.04 if c.exclusive or c.dont_know else rng.uniform(0.15, 0.6))
                   for c in item.choices or []}
        if item.other:
            chances["other"] = 0.05
        return chances


def _answer_all(q: Questionnaire, r: SynthResponse, rng: random.Random, priors: _Priors,
                bank: dict[str, Any], associations: Sequence[Association]) -> None:
    groups: dict[str, str] = {"region": r.region}
    for item in q.items():
        if item.relevant is not None and not item.relevant.evaluate(r.answers):
            continue
        if item.type is ItemType.COUNTRY:
            r.answers[item.id] = r.country_iso3
            continue
        if item.type is ItemType.FREE_TEXT:
            _free_text(item, r, rng, bank)
            continue
        if not item.required and rng.random() < 0.04:
            continue
        value = _closed_answer(item, r, rng, priors, groups, associations)
        if value in (None, []):
            continue
        r.answers[item.id] = value
        if isinstance(value, str):
            groups[item.id] = value
            if item.id == "role":
                groups["role"] = value
        if item.other and (value == "other" or (isinstance(value, list) and "other" in value)):
            r.other_text[item.id] = rng.choice(OTHER_TEXTS)


def _closed_answer(item: Item, r: SynthResponse, rng: random.Random, priors: _Priors,
                   groups: dict[str, str], associations: Sequence[Association]) -> Answer | None:
    if item.type is ItemType.NUMBER:
        low = int(item.min if item.min is not None else 0)
        high = int(item.max if item.max is not None else 100)
        if item.id.startswith("experience"):
            return max(low, min(high, int(rng.gauss(15, 8))))
        return rng.randint(low, high)
    if item.type is ItemType.MULTIPLE_CHOICE:
        chances = priors.multi[item.id]
        exclusive = {c.code for c in item.choices or [] if c.exclusive}
        picked = [c for c, p in chances.items() if c not in exclusive and rng.random() < p]
        if not picked:
            options = [c for c in chances if c not in exclusive and c != "other"]
            if exclusive and rng.random() < 0.5:
                return [sorted(exclusive)[0]]
            picked = [rng.choice(options)] if options else sorted(exclusive)[:1]
        order = item.choice_codes()
        return sorted(picked, key=order.index)
    weights = dict(priors.single[item.id])
    for assoc in associations:
        if assoc.item == item.id and assoc.by in groups:
            weights = _tilt(weights, item, groups[assoc.by], assoc.strength)
    return _weighted(rng, weights)


def _tilt(weights: dict[str, float], item: Item, group: str, strength: float) -> dict[str, float]:
    """Move ``strength`` of the probability onto the group's own preferred answer."""
    substantive = [c.code for c in item.choices or [] if not c.dont_know]
    preferred = substantive[_stable_hash(group) % len(substantive)]
    total = sum(weights.values())
    return {c: (1 - strength) * w / total + (strength if c == preferred else 0.0)
            for c, w in weights.items()}


def _free_text(item: Item, r: SynthResponse, rng: random.Random, bank: dict[str, Any]) -> None:
    roll = rng.random()
    if roll < 0.10:
        return  # left blank
    lang = "es" if rng.random() < SPANISH_TEXT_SHARE.get(r.country_iso3, 0.0) else r.language
    if roll < 0.16:
        pool = bank["nonanswers"].get(lang) or bank["nonanswers"]["en"]
        r.answers[item.id] = rng.choice(pool)
        r.text_language[item.id] = lang
        r.themes[item.id] = []
        return
    themes: dict[str, Any] = bank["items"].get(item.id) or bank["generic"]
    ids = list(themes)
    # Zipf-like support: the first theme of each item is cited most often.
    weights = {t: 1.0 / (rank + 1) ** 0.8 for rank, t in enumerate(ids)}
    count = min(len(ids), int(_weighted(rng, {"1": 0.55, "2": 0.3, "3": 0.15})))
    chosen: list[str] = []
    while len(chosen) < count:
        theme = _weighted(rng, {t: w for t, w in weights.items() if t not in chosen})
        chosen.append(theme)
    parts = []
    for theme in chosen:
        phrasings = themes[theme].get(lang) or themes[theme]["en"]
        parts.append(rng.choice(phrasings).strip())
    text = _join(parts, rng)
    openers = bank.get("openers", {}).get(lang) or []
    if openers and rng.random() < 0.25:
        text = rng.choice(openers) + text[:1].lower() + text[1:]
    closers = bank.get("closers", {}).get(lang) or []
    if closers and rng.random() < 0.1:
        text = text.rstrip(".") + ". " + rng.choice(closers)
    r.answers[item.id] = text
    r.text_language[item.id] = lang
    r.themes[item.id] = chosen


def _join(parts: list[str], rng: random.Random) -> str:
    if len(parts) == 1:
        return parts[0]
    style = rng.random()
    if style < 0.4:
        return " ".join(p if p.endswith((".", "!", "?")) else p + "." for p in parts)
    if style < 0.7:
        return "; ".join(p.rstrip(".") for p in parts)
    if style < 0.85:
        return "\n".join(f"- {p.rstrip('.')}" for p in parts)
    first = [p.rstrip(".") for p in parts]
    return ", ".join(first[:-1]) + " and " + first[-1][:1].lower() + first[-1][1:]


# --------------------------------------------------------------------------- junk


def _junk_rows(q: Questionnaire, rows: list[SynthResponse], share: float,
               rng: random.Random) -> list[SynthResponse]:
    count = round(len(rows) * share)
    if count == 0 or not rows:
        return []
    kinds = ["preview", "spam", "partial", "partial", "duplicate_id", "duplicate_code"]
    junk: list[SynthResponse] = []
    items = q.items()
    for index in range(count):
        kind = kinds[index % len(kinds)]
        source = rng.choice(rows)
        clone = replace(source, answers=dict(source.answers), other_text=dict(source.other_text),
                        themes=dict(source.themes), text_language=dict(source.text_language),
                        kind=kind, response_id=_response_id(rng))
        clone.submitted_at = source.submitted_at + timedelta(hours=rng.randrange(1, 48))
        clone.started_at = clone.submitted_at - timedelta(minutes=rng.randrange(3, 40))
        if kind in ("preview", "spam"):
            clone.status = kind
            clone.referral_code = new_code(rng)
            clone.referred_by = None
        elif kind == "partial":
            clone.finished = False
            clone.progress = rng.randrange(5, 90)
            clone.referral_code = new_code(rng)
            keep = {i.id for i in items[: max(1, len(items) * clone.progress // 100)]}
            clone.answers = {k: v for k, v in clone.answers.items() if k in keep}
            clone.themes = {k: v for k, v in clone.themes.items() if k in keep}
        elif kind == "duplicate_id":
            clone.response_id = source.response_id
        junk.append(clone)
    return junk


# --------------------------------------------------------------------------- helpers


OTHER_TEXTS = [
    "Depends on the institution",
    "Decided by the regional committee",
    "Under review",
    "Varies by security level",
    "Selon l'établissement",
]


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _stable_hash(text: str) -> int:
    return sum((i + 1) * ord(c) for i, c in enumerate(text))


def _check_association(q: Questionnaire, assoc: Association) -> None:
    try:
        item = q.item(assoc.item)
    except KeyError:
        raise ConsultError(f"--associate: no item {assoc.item!r} in the questionnaire") from None
    if item.type not in (ItemType.SINGLE_CHOICE, ItemType.LIKERT):
        raise ConsultError(f"--associate: {assoc.item!r} is {item.type.value}; only single_choice "
                           "and likert items can carry a planted association")
    groups = {"region", "role", *(i.id for i in q.profile)}
    if assoc.by not in groups:
        raise ConsultError(f"--associate: group {assoc.by!r} unknown; use one of "
                           f"{', '.join(sorted(groups))}")


@functools.cache
def _load_bank(name: str) -> dict[str, Any]:
    text = resources.files("consult.synth").joinpath(name).read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _bank_for(q: Questionnaire) -> dict[str, Any]:
    generic = _load_bank("bank_generic.yaml")
    try:
        specific = _load_bank(f"bank_{q.id}.yaml")
    except FileNotFoundError:
        specific = {}
    items = {item_id: spec["themes"] for item_id, spec in (specific.get("items") or {}).items()}
    return {
        "items": items,
        "generic": generic["themes"],
        "nonanswers": specific.get("nonanswers") or generic["nonanswers"],
        "openers": specific.get("openers") or generic.get("openers", {}),
        "closers": specific.get("closers") or {},
        "closed": specific.get("closed") or {},
    }
