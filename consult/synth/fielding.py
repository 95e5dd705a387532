"""A simulated fielding: fictional seed contacts, and responses to the codes a fielding issued.

``consult synth --seed-contacts N`` writes contacts for ``consult seeds
import``; ``consult synth --respond-wave W`` answers, for a share of the codes
issued for wave W, as the holders of those codes would. With ``consult wave
open`` between waves, this rehearses a whole snowball fielding: every response
carries the code the fielding issued, so status, reminders and referral chains
work on it as on real data. Contacts are fictional and use example.org.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, timedelta

from consult.questionnaire import Questionnaire
from consult.regions import region_of
from consult.store.fielding import Invitee
from consult.synth.generate import (
    DEFAULT_COUNTRIES,
    FRENCH_SHARE,
    Association,
    SynthConsultation,
    SynthResponse,
    _answer_all,
    _bank_for,
    _Priors,
    _response_id,
    _weighted,
)

GIVEN = ["Alex", "Sam", "Robin", "Jordan", "Casey", "Morgan", "Taylor", "Jamie", "Dominique",
         "Camille", "Noa", "Kim", "Ari", "Sasha", "Lou", "Charlie"]
FAMILY = ["Example", "Sample", "Placeholder", "Fictive", "Demo", "Testcase", "Mock", "Specimen"]
ORGANISATIONS = ["Correctional Service (fictional)", "Department of Corrections (fictional)",
                 "Probation Service (fictional)", "Prison Service (fictional)"]


def seed_contacts(count: int, *, seed: int = 2014,
                  countries: dict[str, float] | None = None) -> list[dict[str, str]]:
    """``count`` fictional seed contacts (name, email at example.org, organisation, country, language)."""
    rng = random.Random(seed)
    weights = countries or DEFAULT_COUNTRIES
    contacts = []
    for index in range(count):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        country = _weighted(rng, weights)
        contacts.append({
            "name": f"{given} {family}",
            "email": f"{given.lower()}.{family.lower()}{index + 1}@example.org",
            "organisation": rng.choice(ORGANISATIONS),
            "country": country,
            "language": "fr" if rng.random() < FRENCH_SHARE.get(country, 0.0) else "en",
        })
    return contacts


def respond(questionnaire: Questionnaire, invitees: Sequence[Invitee], *,
            regions_of_codes: dict[str, str], seed: int = 2014, rate: float = 0.8,
            max_days: float = 14.0, homophily: float = 0.7,
            associations: Sequence[Association] = ()) -> SynthConsultation:
    """Responses from a share ``rate`` of ``invitees``, each with the invitee's own code.

    A holder's country is the contact's when known; a code passed on by hand
    gets a country in its recruiter's region (``regions_of_codes``: recruiter
    code → region) with chance ``homophily``. Answers come within ``max_days``
    of the code's issue, so response times in ``consult status`` are meaningful.
    """
    rng = random.Random(seed)
    priors = _Priors(questionnaire, rng, _bank_for(questionnaire).get("closed", {}))
    bank = _bank_for(questionnaire)
    rows: list[SynthResponse] = []
    for invitee in invitees:
        if rng.random() >= rate:
            continue
        country = invitee.country_iso3 or _country_near(
            rng, regions_of_codes.get(invitee.parent_code or ""), homophily)
        # Holders answer within ``max_days`` of receiving their code, most of them early.
        issued = invitee.issued_at if invitee.issued_at.tzinfo else invitee.issued_at.replace(
            tzinfo=UTC)
        submitted = issued + timedelta(days=min(max_days, rng.expovariate(1 / 3) + 0.05))
        language = invitee.language or ("fr" if rng.random() < FRENCH_SHARE.get(country, 0.0)
                                        else "en")
        if language not in questionnaire.languages:
            language = questionnaire.languages[0]
        response = SynthResponse(
            response_id=_response_id(rng), kind="complete", status="complete", finished=True,
            progress=100, started_at=submitted - timedelta(minutes=rng.randrange(6, 75)),
            submitted_at=submitted, language=language, referral_code=invitee.code,
            referred_by=invitee.parent_code, wave=invitee.wave, country_iso3=country,
            region=region_of(country) or "Unknown")
        _answer_all(questionnaire, response, rng, priors, bank, associations)
        rows.append(response)
    rows.sort(key=lambda r: r.submitted_at)
    return SynthConsultation(questionnaire=questionnaire, responses=rows, seed=seed)


def _country_near(rng: random.Random, region: str | None, homophily: float) -> str:
    if region and rng.random() < homophily:
        same = {c: w for c, w in DEFAULT_COUNTRIES.items() if region_of(c) == region}
        if same:
            return _weighted(rng, same)
    return _weighted(rng, DEFAULT_COUNTRIES)
