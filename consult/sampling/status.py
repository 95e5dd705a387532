"""Fielding status: how each wave, each seed's tree and each region is doing.

Counted per referral code:

- *invited*: the code is in circulation: its holder's invitation was delivered,
  or it was handed out (its link written by ``consult links``, shown on the web
  form's thank-you page, or carried by a delivered referral letter; consult
  cannot see whether a respondent passed it on), or someone answered with it;
- *not handed out*: issued, and none of those: e.g. the child codes of a
  respondent ingested from a platform export, until ``consult links`` writes
  them;
- *started*: someone answered with the code; *completed*: a finished, included
  response carries it;
- *response rate*: completed ÷ invited;
- *referrals issued / used*: child codes given to the group's respondents, and
  how many of those someone answered with;
- *median days to respond*: from the invitation (or, for a code passed on by
  hand, the moment it was handed out, or else its issue) to the first completed
  response.

Regions are the respondents' (as ingested), so a region row counts responses,
not invitations.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from consult.sampling.codes import display
from consult.store import fielding
from consult.store.db import Store
from consult.store.fielding import CodeFacts

UNKNOWN_REGION = "(unknown)"


@dataclass(frozen=True)
class Counts:
    """The fielding figures of one group of codes."""

    invited: int | None
    not_handed_out: int | None
    started: int
    completed: int
    response_rate: float | None
    referrals_issued: int
    referrals_used: int
    median_days: float | None


@dataclass(frozen=True)
class WaveStatus:
    """One wave: when it opened and closed, and its figures."""

    wave: int
    opened_at: datetime | None
    closed_at: datetime | None
    counts: Counts


@dataclass(frozen=True)
class SeedStatus:
    """One seed's whole referral tree."""

    code: str
    name: str | None
    counts: Counts


@dataclass(frozen=True)
class RegionStatus:
    """The respondents of one region (regions as ingested)."""

    region: str
    counts: Counts


@dataclass(frozen=True)
class FieldingStatus:
    """Everything ``consult status`` shows."""

    waves: tuple[WaveStatus, ...]
    seeds: tuple[SeedStatus, ...]
    regions: tuple[RegionStatus, ...]
    totals: Counts
    messages: dict[str, dict[str, int]]
    unmatched_respondents: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (datetimes as ISO 8601 text)."""
        return {
            "waves": [{"wave": w.wave, "opened_at": _iso(w.opened_at),
                       "closed_at": _iso(w.closed_at), **asdict(w.counts)} for w in self.waves],
            "seeds": [{"code": s.code, "name": s.name, **asdict(s.counts)} for s in self.seeds],
            "regions": [{"region": r.region, **asdict(r.counts)} for r in self.regions],
            "totals": asdict(self.totals),
            "messages": self.messages,
            "unmatched_respondents": self.unmatched_respondents,
        }


def fielding_status(store: Store) -> FieldingStatus:
    """The current figures of the fielding, per wave, per seed and per region."""
    facts = fielding.code_facts(store)
    children: dict[str, list[CodeFacts]] = {}
    for fact in facts:
        if fact.parent_code is not None:
            children.setdefault(fact.parent_code, []).append(fact)
    seed_of = _seeds(facts)
    wave_records = {w.number: w for w in fielding.waves(store)}
    wave_numbers = sorted({f.wave for f in facts} | set(wave_records))
    waves = tuple(
        WaveStatus(n, getattr(wave_records.get(n), "opened_at", None),
                   getattr(wave_records.get(n), "closed_at", None),
                   _counts([f for f in facts if f.wave == n], children))
        for n in wave_numbers)
    seeds = tuple(
        SeedStatus(display(f.code), f.name,
                   _counts([g for g in facts if seed_of.get(g.code) == f.code], children))
        for f in facts if f.parent_code is None)
    regions = tuple(
        RegionStatus(region, _counts([f for f in facts if f.started
                                      and (f.region or UNKNOWN_REGION) == region], children,
                                     invited=False))
        for region in sorted({f.region or UNKNOWN_REGION for f in facts if f.started}))
    return FieldingStatus(waves, seeds, regions, _counts(facts, children),
                          fielding.message_counts(store), fielding.unmatched_respondents(store))


def _counts(group: Sequence[CodeFacts], children: dict[str, list[CodeFacts]],
            invited: bool = True) -> Counts:
    n_invited = sum(1 for f in group if _in_circulation(f))
    completed = sum(1 for f in group if f.completed)
    given = [child for f in group for child in children.get(f.code, [])]
    days = [d for d in (_days_to_respond(f) for f in group) if d is not None]
    return Counts(
        invited=n_invited if invited else None,
        not_handed_out=len(group) - n_invited if invited else None,
        started=sum(1 for f in group if f.started),
        completed=completed,
        response_rate=(completed / n_invited if invited and n_invited else None),
        referrals_issued=len(given),
        referrals_used=sum(1 for child in given if child.started),
        median_days=round(statistics.median(days), 1) if days else None,
    )


def _in_circulation(fact: CodeFacts) -> bool:
    return fact.invited_at is not None or fact.handed_at is not None or fact.started


def _days_to_respond(fact: CodeFacts) -> float | None:
    if fact.completed_at is None:
        return None
    start = fact.invited_at or fact.handed_at or fact.issued_at
    return max(0.0, (fact.completed_at - start).total_seconds() / 86400)


def _seeds(facts: Iterable[CodeFacts]) -> dict[str, str]:
    """Each code's root (seed) code, following parent codes."""
    parent = {f.code: f.parent_code for f in facts}
    root: dict[str, str] = {}
    for code in parent:
        path = []
        current: str | None = code
        while current is not None and current not in root and current not in path:
            path.append(current)
            current = parent.get(current)
        top = root[current] if current is not None and current in root else path[-1]
        for step in path:
            root[step] = top
    return root


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
