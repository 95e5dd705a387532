"""Correcting and forgetting a contact: the only SQL that changes a person's details.

A contact's details reach three tables: ``contacts`` itself, the messages
rendered for them (``messages.recipient`` and ``body``, rendered once when
queued) and an approved nomination (``nominations``). Correcting a contact
withdraws the messages not yet delivered, so that the next ``invite`` or
``remind`` renders them again with the new details; forgetting one erases the
details everywhere and keeps only what the fielding figures count (codes, when
a message was sent). Each is one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from consult.errors import StoreError
from consult.store import schema
from consult.store.db import Store
from consult.store.fielding import NewContact

FORGOTTEN = "(forgotten)"
"""What replaces a forgotten contact's name, and the address of the messages sent to them."""


@dataclass(frozen=True)
class ContactRecord:
    """One contact as the coordinator sees it, with the codes they hold."""

    id: int
    name: str
    email: str | None
    organisation: str | None
    country_iso3: str | None
    language: str | None
    codes: tuple[str, ...]

    @property
    def forgotten(self) -> bool:
        """Whether the contact's details were erased (``consult contacts forget``)."""
        return self.name == FORGOTTEN and self.email is None


@dataclass(frozen=True)
class Withdrawn:
    """What a correction or an erasure did to the contact's messages."""

    unsent: int
    """Messages not yet delivered, deleted (the next invite or remind renders them anew)."""
    erased: int = 0
    """Delivered messages whose address and text were erased."""


def contacts(store: Store) -> list[ContactRecord]:
    """Every contact, by id."""
    return _contacts(store)


def contact(store: Store, contact_id: int) -> ContactRecord | None:
    """The contact with this id, if any."""
    found = _contacts(store, contact_id)
    return found[0] if found else None


def correct_contact(store: Store, contact_id: int, details: NewContact) -> Withdrawn:
    """Replace a contact's details; withdraw their messages not yet delivered.

    Raises
    ------
    StoreError
        When there is no such contact, it was forgotten, or another contact
        has the address.
    """
    c, m = schema.contacts, schema.messages
    with store.engine.begin() as conn:
        _existing(conn, contact_id)
        other = conn.execute(sa.select(c.c.id).where(
            c.c.email == details.email, c.c.id != contact_id)).scalar()
        if other is not None:
            raise StoreError(f"contact {other} already has the address {details.email}; "
                             "one person is one contact")
        conn.execute(c.update().where(c.c.id == contact_id).values(
            name=details.name, email=details.email, organisation=details.organisation,
            country_iso3=details.country_iso3, language=details.language))
        unsent = conn.execute(m.delete().where(m.c.contact_id == contact_id,
                                               m.c.status != "sent")).rowcount
    return Withdrawn(unsent=int(unsent))


def forget_contact(store: Store, contact_id: int) -> Withdrawn:
    """Erase a contact's name, address and organisation wherever consult keeps them.

    Their codes stay (a response carries no contact detail), and so do the
    dates their messages were sent, which the fielding figures count; the
    messages' address and text are erased, and those not yet delivered are
    deleted. Country and language stay: the status tables count by them.

    Raises
    ------
    StoreError
        When there is no such contact.
    """
    c, m, n = schema.contacts, schema.messages, schema.nominations
    with store.engine.begin() as conn:
        _existing(conn, contact_id, forgotten_ok=True)
        conn.execute(c.update().where(c.c.id == contact_id).values(
            name=FORGOTTEN, email=None, organisation=None))
        unsent = conn.execute(m.delete().where(m.c.contact_id == contact_id,
                                               m.c.status != "sent")).rowcount
        erased = conn.execute(m.update().where(m.c.contact_id == contact_id).values(
            recipient=FORGOTTEN, body="")).rowcount
        conn.execute(n.update().where(n.c.contact_id == contact_id).values(
            name=FORGOTTEN, email=FORGOTTEN, organisation=None))
    return Withdrawn(unsent=int(unsent), erased=int(erased))


def _existing(conn: sa.Connection, contact_id: int, *, forgotten_ok: bool = False) -> None:
    c = schema.contacts
    row = conn.execute(sa.select(c.c.name, c.c.email).where(c.c.id == contact_id)).first()
    if row is None:
        raise StoreError(f"no contact {contact_id}; consult contacts list shows their ids")
    if not forgotten_ok and row.name == FORGOTTEN and row.email is None:
        raise StoreError(f"contact {contact_id} was forgotten; their details cannot come back")


def _contacts(store: Store, contact_id: int | None = None) -> list[ContactRecord]:
    c, rc = schema.contacts, schema.referral_codes
    query = (sa.select(c.c.id, c.c.name, c.c.email, c.c.organisation, c.c.country_iso3,
                       c.c.language, rc.c.code)
             .select_from(c.outerjoin(rc, rc.c.contact_id == c.c.id))
             .order_by(c.c.id, rc.c.issued_at, rc.c.code))
    if contact_id is not None:
        query = query.where(c.c.id == contact_id)
    found: dict[int, ContactRecord] = {}
    with store.engine.connect() as conn:
        for row in conn.execute(query):
            known = found.get(row.id)
            codes = known.codes if known else ()
            if row.code:
                codes = (*codes, row.code)
            found[row.id] = ContactRecord(row.id, row.name, row.email, row.organisation,
                                          row.country_iso3, row.language, codes)
    return list(found.values())
