"""Checking a person's details before they become a contact (a seed or a nominee), and
correcting them afterwards."""

from __future__ import annotations

import re
from collections.abc import Sequence

from consult.errors import ConsultError
from consult.regions import to_iso3
from consult.store.contacts import ContactRecord, Withdrawn
from consult.store.db import Store
from consult.store.fielding import NewContact

LIMITS = {"name": 200, "email": 254, "organisation": 200}
"""The longest name, address and organisation a contact may have, in characters.

An e-mail's ``To:`` line carries the name; a name of thousands of characters
makes a line that mail servers refuse ("500 Line too long"), and consult
would retry it every run. 254 is the longest address SMTP carries (RFC 5321).
"""
NOT_ASCII = ("write the address in plain ASCII letters: addresses with accents in the part "
             "before @ cannot be delivered by consult's mailer")
_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>.]+$")
_LANGUAGE_NAMES = {
    "english": "en", "anglais": "en", "inglés": "en", "ingles": "en",
    "french": "fr", "français": "fr", "francais": "fr", "francés": "fr", "frances": "fr",
    "spanish": "es", "espagnol": "es", "español": "es", "espanol": "es",
}


def check_contact(
    name: str,
    email: str,
    organisation: str = "",
    country: str = "",
    language: str = "",
    *,
    languages: Sequence[str],
) -> tuple[NewContact | None, list[tuple[str, str]]]:
    """Clean one person's details; return the contact, or ``None`` and the problems.

    Each problem is ``(field, message)``. A name, address or organisation
    longer than :data:`LIMITS` is refused. The e-mail address is lower-cased (so
    that one person is one contact), must be ASCII before the ``@`` and has its
    domain written in IDNA (see :func:`mailable_address`); the country becomes its ISO3 code; an empty
    language becomes the consultation's first, and any other must be one of
    ``languages`` (a code, ``en-CA``, or a name such as ``French``).
    """
    problems: list[tuple[str, str]] = []
    clean_name = " ".join(name.split())
    clean_organisation = " ".join(organisation.split())
    clean_email = email.strip().lower()
    if not clean_name:
        problems.append(("name", "empty; every contact needs a name"))
    if not clean_email:
        problems.append(("email", "empty; every contact needs an e-mail address"))
    problems += [(field, f"{len(value)} characters long; shorten it to at most "
                         f"{LIMITS[field]}: mail servers refuse an e-mail whose header "
                         "lines are that long")
                 for field, value in (("name", clean_name), ("email", clean_email),
                                      ("organisation", clean_organisation))
                 if len(value) > LIMITS[field]]
    if clean_email and len(clean_email) <= LIMITS["email"]:
        address = mailable_address(clean_email)
        if not _EMAIL.match(clean_email):
            problems.append(("email", f"{email.strip()!r} is not an e-mail address"))
        elif has_accents_before_at(clean_email):
            problems.append(("email", f"{email.strip()!r}: {NOT_ASCII}"))
        elif address is None:
            problems.append(("email", f"{email.strip()!r}: the part after @ is not a domain "
                                      "name mail can be sent to"))
        else:
            clean_email = address
    iso3: str | None = None
    if country.strip():
        iso3 = to_iso3(country)
        if iso3 is None:
            problems.append(("country", f"{country.strip()!r} is not a country consult "
                                        "recognises; write its name or ISO code, e.g. France "
                                        "or FRA"))
    clean_language = _language(language)
    if clean_language is None:
        clean_language = languages[0]
    elif clean_language not in languages:
        problems.append(("language", f"{language.strip()!r} is not a language of this "
                                     f"consultation ({', '.join(languages)})"))
    if problems:
        return None, problems
    return NewContact(name=clean_name, email=clean_email,
                      organisation=clean_organisation or None,
                      country_iso3=iso3, language=clean_language), []


def mailable_address(email: str) -> str | None:
    """``email`` as consult's mailer can send to it, or ``None`` when it cannot.

    A domain with accents is written in IDNA (``bücher.example.org`` becomes
    ``xn--bcher-kva.example.org``), which every mail server reads. The part
    before the ``@`` must be ASCII already: anything else needs SMTPUTF8, which
    consult's mailer does not speak (and ``email.utils.formataddr`` refuses).
    """
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain or not local.isascii():
        return None
    if domain.isascii():
        return email
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:  # a label too long, empty or not allowed in a domain name
        return None


def has_accents_before_at(email: str) -> bool:
    """Whether the part of ``email`` before the ``@`` has any character outside ASCII."""
    return not email.rpartition("@")[0].isascii()


def _language(text: str) -> str | None:
    value = text.strip().lower()
    if not value:
        return None
    if value in _LANGUAGE_NAMES:
        return _LANGUAGE_NAMES[value]
    return re.split(r"[-_]", value, maxsplit=1)[0]


def correct(store: Store, contact_id: int, *, name: str | None = None,
            email: str | None = None, organisation: str | None = None,
            country: str | None = None, language: str | None = None,
            languages: Sequence[str]) -> tuple[ContactRecord, Withdrawn]:
    """Correct the given details of a contact (the others stay), checked as a seed's are.

    Their messages not yet delivered are withdrawn, so that the next ``invite``
    or ``remind`` renders them with the new details.

    Raises
    ------
    ConsultError
        Naming each bad field, or when there is no such contact, it was
        forgotten, or another contact has the address.
    """
    from consult.store import contacts

    now = contacts.contact(store, contact_id)
    if now is None:
        raise ConsultError(f"no contact {contact_id}; consult contacts list shows their ids")
    if now.forgotten:
        raise ConsultError(f"contact {contact_id} was forgotten; their details cannot come back")
    details, problems = check_contact(
        now.name if name is None else name, (now.email or "") if email is None else email,
        (now.organisation or "") if organisation is None else organisation,
        (now.country_iso3 or "") if country is None else country,
        (now.language or "") if language is None else language, languages=languages)
    if details is None:
        raise ConsultError("; ".join(f"{field}: {message}" for field, message in problems))
    withdrawn = contacts.correct_contact(store, contact_id, details)
    found = contacts.contact(store, contact_id)
    assert found is not None
    return found, withdrawn
