"""Fielding records: the only SQL for contacts, referral codes, waves, messages, nominations.

Sampling (seeds, codes, waves, invitations, reminders, nominations, status)
reads and writes through these functions. Analysis calls only
:func:`code_parents`, which reads no contact detail, so no name or e-mail
address can reach an analysis result.

A *completed* response to a code is a ``respondents`` row with that
``referral_code``, ``finished`` and ``included``; a *started* one is any row
with that code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from consult.errors import StoreError
from consult.store import schema
from consult.store.db import Store

MESSAGE_KINDS = ("invitation", "reminder", "referral")
NewCode = Callable[[], str]
"""Makes a fresh referral code (``consult.sampling.codes.new_code``)."""


@dataclass(frozen=True)
class NewContact:
    """A person to add to ``contacts`` (e-mail already normalised to lower case)."""

    name: str
    email: str | None
    organisation: str | None = None
    country_iso3: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class Invitee:
    """A referral code with its holder's contact details, when the holder is known.

    Child codes passed on by hand have no contact: every contact field is ``None``.
    ``handed_at`` is when the code was first handed out (``None``: not yet).
    """

    code: str
    wave: int
    parent_code: str | None
    issued_at: datetime
    contact_id: int | None = None
    name: str | None = None
    email: str | None = None
    organisation: str | None = None
    country_iso3: str | None = None
    language: str | None = None
    handed_at: datetime | None = None


@dataclass(frozen=True)
class WaveRecord:
    """One wave of the referral tree and when it was opened and closed."""

    number: int
    opened_at: datetime | None
    closed_at: datetime | None

    @property
    def is_open(self) -> bool:
        """Opened and not closed since."""
        return self.opened_at is not None and self.closed_at is None


@dataclass(frozen=True)
class MessageDraft:
    """A message ready to queue: rendered text, recipient and the code it is about."""

    contact_id: int
    code: str
    kind: str
    sequence: int
    wave: int
    language: str
    recipient: str
    subject: str
    body: str
    message_id: str


@dataclass(frozen=True)
class StoredMessage:
    """A row of ``messages``."""

    id: int
    contact_id: int
    code: str
    kind: str
    sequence: int
    wave: int
    language: str
    recipient: str
    subject: str
    body: str
    message_id: str
    status: str
    attempts: int
    error: str | None
    transport: str | None
    created_at: datetime
    last_attempt_at: datetime | None
    sent_at: datetime | None


@dataclass(frozen=True)
class ReminderCandidate:
    """An invitee who may need a reminder: invited, no completed response yet."""

    invitee: Invitee
    invited_at: datetime
    reminders: int  # reminders queued so far, whatever their status
    last_status: str  # status of the latest invitation or reminder
    last_sent_at: datetime | None


@dataclass(frozen=True)
class NominationRecord:
    """A row of ``nominations``."""

    id: int
    nominator_code: str
    name: str
    email: str
    organisation: str | None
    country_iso3: str | None
    language: str | None
    status: str
    created_at: datetime
    decided_at: datetime | None
    contact_id: int | None
    code: str | None


@dataclass(frozen=True)
class CodeFacts:
    """What fielding status needs to know about one code."""

    code: str
    parent_code: str | None
    wave: int
    issued_at: datetime
    contact_id: int | None
    name: str | None
    invited_at: datetime | None  # first invitation sent (or written to an outbox)
    handed_at: datetime | None  # first handed out: links, thank-you page, referral letter
    started: bool
    completed: bool
    completed_at: datetime | None  # first completed response's submission
    region: str | None  # region of the responding respondent


# --------------------------------------------------------------------------- contacts and codes


def emails_in_use(store: Store, emails: Iterable[str]) -> set[str]:
    """Which of ``emails`` (lower case) already belong to a contact."""
    wanted = sorted({e for e in emails if e})
    c = schema.contacts
    found: set[str] = set()
    with store.engine.connect() as conn:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            found |= set(conn.execute(sa.select(c.c.email).where(c.c.email.in_(chunk))).scalars())
    return found


def add_seeds(store: Store, contacts: Sequence[NewContact], new_code: NewCode,
              now: datetime) -> list[Invitee]:
    """Add contacts with a personal wave-0 code each, all in ONE transaction."""
    added: list[Invitee] = []
    with store.engine.begin() as conn:
        codes = _fresh_codes(conn, len(contacts), new_code)
        for contact, code in zip(contacts, codes, strict=True):
            contact_id = _insert_contact(conn, contact, now)
            conn.execute(schema.referral_codes.insert().values(
                code=code, parent_code=None, contact_id=contact_id, wave=0, issued_at=now))
            added.append(_invitee(code, 0, None, now, contact_id, contact))
    return added


def issue_child_codes(store: Store, per_respondent: int, new_code: NewCode, now: datetime,
                      parent_waves: Collection[int] | None = None) -> list[Invitee]:
    """Top up every completed respondent's child codes to ``per_respondent``.

    Only codes passed on by hand count (nominees' codes, which have a contact,
    do not). A child's wave is its parent's plus one. Returns the new codes.
    """
    rc = schema.referral_codes
    child = rc.alias("child")
    handed_out = (sa.select(sa.func.count()).select_from(child)
                  .where(child.c.parent_code == rc.c.code, child.c.contact_id.is_(None))
                  .scalar_subquery())
    query = (sa.select(rc.c.code, rc.c.wave, handed_out.label("children"))
             .where(_completed(rc.c.code)).order_by(rc.c.wave, rc.c.code))
    if parent_waves is not None:
        query = query.where(rc.c.wave.in_(sorted(parent_waves)))
    issued: list[Invitee] = []
    with store.engine.begin() as conn:
        wanted = [(row.code, row.wave, per_respondent - int(row.children))
                  for row in conn.execute(query) if int(row.children) < per_respondent]
        codes = iter(_fresh_codes(conn, sum(n for _, _, n in wanted), new_code))
        rows = []
        for parent, wave, missing in wanted:
            for _ in range(missing):
                code = next(codes)
                rows.append({"code": code, "parent_code": parent, "contact_id": None,
                             "wave": wave + 1, "issued_at": now})
                issued.append(Invitee(code=code, wave=wave + 1, parent_code=parent, issued_at=now))
        if rows:
            conn.execute(rc.insert(), rows)
    return issued


def invitees(store: Store, waves: Collection[int] | None = None) -> list[Invitee]:
    """Every code (of ``waves``, if given) with its holder, by wave then issue order."""
    query = _invitee_query().order_by(schema.referral_codes.c.wave,
                                      schema.referral_codes.c.issued_at,
                                      schema.referral_codes.c.code)
    if waves is not None:
        query = query.where(schema.referral_codes.c.wave.in_(sorted(waves)))
    with store.engine.connect() as conn:
        return [_invitee_of(row) for row in conn.execute(query)]


def find_code(store: Store, code: str) -> Invitee | None:
    """The code with its holder, or ``None`` when no such code was issued."""
    query = _invitee_query().where(schema.referral_codes.c.code == code)
    with store.engine.connect() as conn:
        row = conn.execute(query).first()
    return _invitee_of(row) if row is not None else None


def record_handed_out(store: Store, codes: Iterable[str], when: datetime) -> int:
    """Record that ``codes`` were handed out at ``when``; a code handed out before keeps
    its first moment. Returns how many codes were handed out for the first time."""
    rc = schema.referral_codes
    wanted = sorted(set(codes))
    changed = 0
    with store.engine.begin() as conn:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            changed += conn.execute(rc.update()
                                    .where(rc.c.code.in_(chunk), rc.c.handed_at.is_(None))
                                    .values(handed_at=when)).rowcount
    return changed


def code_parents(store: Store) -> dict[str, str | None]:
    """``code → parent code`` of every issued code (``None`` for seeds' codes).

    For rebuilding referral chains from platforms that carry only the
    respondent's own code in the link. Reads no contact detail.
    """
    rc = schema.referral_codes
    with store.engine.connect() as conn:
        return {row.code: row.parent_code
                for row in conn.execute(sa.select(rc.c.code, rc.c.parent_code))}


def completed_codes(store: Store) -> set[str]:
    """Codes with a completed response."""
    r = schema.respondents
    query = (sa.select(r.c.referral_code).distinct()
             .where(r.c.referral_code.is_not(None), r.c.finished.is_(True),
                    r.c.included.is_(True)))
    with store.engine.connect() as conn:
        return set(conn.execute(query).scalars())


# --------------------------------------------------------------------------- waves


def waves(store: Store) -> list[WaveRecord]:
    """Every wave opened so far, in order."""
    w = schema.waves
    with store.engine.connect() as conn:
        return [WaveRecord(row.number, row.opened_at, row.closed_at)
                for row in conn.execute(sa.select(w).order_by(w.c.number))]


def set_wave_opened(store: Store, number: int, when: datetime) -> WaveRecord:
    """Record that wave ``number`` is open from ``when``, clearing any closing date; a
    reopened wave keeps the date it first opened."""
    w = schema.waves
    with store.engine.begin() as conn:
        updated = conn.execute(w.update().where(w.c.number == number).values(
            opened_at=sa.func.coalesce(w.c.opened_at, when), closed_at=None)).rowcount
        if not updated:
            conn.execute(w.insert().values(number=number, opened_at=when, closed_at=None))
        row = conn.execute(sa.select(w).where(w.c.number == number)).one()
    return WaveRecord(row.number, row.opened_at, row.closed_at)


def set_wave_closed(store: Store, number: int, when: datetime) -> WaveRecord:
    """Record that wave ``number`` closed at ``when``."""
    w = schema.waves
    with store.engine.begin() as conn:
        conn.execute(w.update().where(w.c.number == number).values(closed_at=when))
        row = conn.execute(sa.select(w).where(w.c.number == number)).one()
    return WaveRecord(row.number, row.opened_at, row.closed_at)


# --------------------------------------------------------------------------- messages


def invitation_candidates(store: Store, waves: Collection[int]) -> list[Invitee]:
    """Codes of ``waves`` whose holder has an e-mail address and no invitation yet."""
    rc, c, m = schema.referral_codes, schema.contacts, schema.messages
    invited = sa.exists().where(m.c.code == rc.c.code, m.c.kind == "invitation")
    query = (_invitee_query()
             .where(rc.c.wave.in_(sorted(waves)), c.c.email.is_not(None), ~invited)
             .order_by(rc.c.wave, rc.c.issued_at, rc.c.code))
    with store.engine.connect() as conn:
        return [_invitee_of(row) for row in conn.execute(query)]


def referral_letter_candidates(store: Store,
                               waves: Collection[int]) -> list[tuple[Invitee, list[str]]]:
    """Respondents with an e-mail address whose child codes of ``waves`` were never sent.

    Each comes with the child codes to pass on (those without a holder of their own).
    """
    rc, c, m = schema.referral_codes, schema.contacts, schema.messages
    child = rc.alias("child")
    sent = sa.exists().where(m.c.code == rc.c.code, m.c.kind == "referral")
    query = (_invitee_query()
             .add_columns(child.c.code.label("child_code"))
             .join(child, child.c.parent_code == rc.c.code)
             .where(child.c.wave.in_(sorted(waves)), child.c.contact_id.is_(None),
                    c.c.email.is_not(None), ~sent)
             .order_by(rc.c.wave, rc.c.code, child.c.issued_at, child.c.code))
    letters: dict[str, tuple[Invitee, list[str]]] = {}
    with store.engine.connect() as conn:
        for row in conn.execute(query):
            letters.setdefault(row.code, (_invitee_of(row), []))[1].append(row.child_code)
    return list(letters.values())


def reminder_candidates(store: Store, waves: Collection[int]) -> list[ReminderCandidate]:
    """Invitees of ``waves`` with an e-mail address (none once forgotten) whose invitation
    went out and who have not completed."""
    rc, c, m = schema.referral_codes, schema.contacts, schema.messages
    query = (_invitee_query()
             .add_columns(m.c.kind, m.c.sequence, m.c.status, m.c.sent_at)
             .join(m, m.c.code == rc.c.code)
             .where(rc.c.wave.in_(sorted(waves)), m.c.kind.in_(("invitation", "reminder")),
                    c.c.email.is_not(None), ~_completed(rc.c.code))
             .order_by(rc.c.code, m.c.kind, m.c.sequence))
    found: dict[str, list[Any]] = {}
    with store.engine.connect() as conn:
        for row in conn.execute(query):
            found.setdefault(row.code, []).append(row)
    candidates = []
    for rows in found.values():
        invitation = next((r for r in rows if r.kind == "invitation"), None)
        if invitation is None or invitation.sent_at is None:
            continue
        reminders = [r for r in rows if r.kind == "reminder"]
        last = max(reminders, key=lambda r: r.sequence) if reminders else invitation
        candidates.append(ReminderCandidate(
            invitee=_invitee_of(rows[0]), invited_at=invitation.sent_at,
            reminders=len(reminders), last_status=last.status, last_sent_at=last.sent_at))
    return candidates


def queue_messages(store: Store, drafts: Sequence[MessageDraft], now: datetime) -> int:
    """Queue ``drafts``; one already queued for the same code, kind and sequence is skipped.

    Returns how many were new. The unique key makes this safe to repeat, even
    from two processes at once.
    """
    if not drafts:
        return 0
    rows = [{**dataclasses.asdict(d), "status": "queued", "attempts": 0, "created_at": now}
            for d in drafts]
    with store.engine.begin() as conn:
        insert = _insert_ignoring_duplicates(conn, schema.messages)
        before = _count(conn, schema.messages)
        conn.execute(insert, rows)
        return _count(conn, schema.messages) - before


def pending_messages(store: Store, kinds: Collection[str], waves: Collection[int],
                     max_attempts: int) -> list[StoredMessage]:
    """Messages of ``kinds`` and ``waves`` still to deliver: queued, or failed and retryable."""
    m = schema.messages
    query = (sa.select(m)
             .where(m.c.kind.in_(sorted(kinds)), m.c.wave.in_(sorted(waves)),
                    sa.or_(m.c.status == "queued",
                           sa.and_(m.c.status == "failed", m.c.attempts < max_attempts)))
             .order_by(m.c.id))
    with store.engine.connect() as conn:
        return [StoredMessage(**row._asdict()) for row in conn.execute(query)]


def messages(store: Store, kinds: Collection[str] | None = None,
             status: str | None = None) -> list[StoredMessage]:
    """Logged messages, oldest first, optionally of some kinds or one status."""
    m = schema.messages
    query = sa.select(m).order_by(m.c.id)
    if kinds is not None:
        query = query.where(m.c.kind.in_(sorted(kinds)))
    if status is not None:
        query = query.where(m.c.status == status)
    with store.engine.connect() as conn:
        return [StoredMessage(**row._asdict()) for row in conn.execute(query)]


def record_sent(store: Store, message_id: int, when: datetime, transport: str) -> None:
    """Mark a message delivered (to the SMTP server or the outbox).

    A referral letter hands out the child codes it carries: those its respondent
    held, without a holder of their own, when it was queued.
    """
    m, rc = schema.messages, schema.referral_codes
    with store.engine.begin() as conn:
        conn.execute(m.update().where(m.c.id == message_id).values(
            status="sent", attempts=m.c.attempts + 1, error=None, transport=transport,
            last_attempt_at=when, sent_at=when))
        letter = conn.execute(sa.select(m.c.kind, m.c.code, m.c.created_at)
                              .where(m.c.id == message_id)).one()
        if letter.kind == "referral":
            conn.execute(rc.update().where(
                rc.c.parent_code == letter.code, rc.c.contact_id.is_(None),
                rc.c.issued_at <= letter.created_at, rc.c.handed_at.is_(None),
            ).values(handed_at=when))


def record_failure(store: Store, message_id: int, when: datetime, error: str,
                   transport: str) -> None:
    """Mark a delivery attempt failed, keeping the reason; the message stays retryable."""
    m = schema.messages
    with store.engine.begin() as conn:
        conn.execute(m.update().where(m.c.id == message_id).values(
            status="failed", attempts=m.c.attempts + 1, error=error, transport=transport,
            last_attempt_at=when))


def message_counts(store: Store) -> dict[str, dict[str, int]]:
    """``{kind: {status: count}}`` over the message log."""
    m = schema.messages
    query = sa.select(m.c.kind, m.c.status, sa.func.count()).group_by(m.c.kind, m.c.status)
    counts: dict[str, dict[str, int]] = {}
    with store.engine.connect() as conn:
        for kind, status, n in conn.execute(query):
            counts.setdefault(kind, {})[status] = int(n)
    return counts


# --------------------------------------------------------------------------- nominations


def add_nomination(store: Store, nominator_code: str, nominee: NewContact,
                   now: datetime) -> NominationRecord:
    """Record a pending nomination."""
    n = schema.nominations
    with store.engine.begin() as conn:
        nomination_id = conn.execute(n.insert().values(
            nominator_code=nominator_code, name=nominee.name, email=nominee.email,
            organisation=nominee.organisation, country_iso3=nominee.country_iso3,
            language=nominee.language, status="pending", created_at=now,
        ).returning(n.c.id)).scalar_one()
        row = conn.execute(sa.select(n).where(n.c.id == nomination_id)).one()
    return NominationRecord(**row._asdict())


def nominations(store: Store, status: str | None = None) -> list[NominationRecord]:
    """Nominations, oldest first, optionally of one status."""
    n = schema.nominations
    query = sa.select(n).order_by(n.c.id)
    if status is not None:
        query = query.where(n.c.status == status)
    with store.engine.connect() as conn:
        return [NominationRecord(**row._asdict()) for row in conn.execute(query)]


def nomination(store: Store, nomination_id: int) -> NominationRecord | None:
    """One nomination, or ``None``."""
    n = schema.nominations
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(n).where(n.c.id == nomination_id)).first()
    return NominationRecord(**row._asdict()) if row is not None else None


def approve_nomination(store: Store, nomination_id: int, contact: NewContact, code: str,
                       wave: int, invitation: MessageDraft, now: datetime) -> NominationRecord:
    """In ONE transaction: the nominee's contact, a child code of the nominator, a
    queued invitation, and the nomination marked approved.

    ``invitation.contact_id`` is replaced by the new contact's id. Raises
    :class:`StoreError` when the nomination was decided meanwhile.
    """
    n = schema.nominations
    with store.engine.begin() as conn:
        row = conn.execute(sa.select(n).where(n.c.id == nomination_id)).one()
        if row.status != "pending":
            raise StoreError(f"nomination {nomination_id} is already {row.status}")
        contact_id = _insert_contact(conn, contact, now)
        conn.execute(schema.referral_codes.insert().values(
            code=code, parent_code=row.nominator_code, contact_id=contact_id, wave=wave,
            issued_at=now))
        draft = dataclasses.replace(invitation, contact_id=contact_id)
        conn.execute(schema.messages.insert().values(
            **dataclasses.asdict(draft), status="queued", attempts=0, created_at=now))
        conn.execute(n.update().where(n.c.id == nomination_id).values(
            status="approved", decided_at=now, contact_id=contact_id, code=code))
        updated = conn.execute(sa.select(n).where(n.c.id == nomination_id)).one()
    return NominationRecord(**updated._asdict())


def reject_nomination(store: Store, nomination_id: int, now: datetime) -> NominationRecord:
    """Mark a pending nomination rejected."""
    n = schema.nominations
    with store.engine.begin() as conn:
        conn.execute(n.update().where(n.c.id == nomination_id, n.c.status == "pending")
                     .values(status="rejected", decided_at=now))
        row = conn.execute(sa.select(n).where(n.c.id == nomination_id)).one()
    return NominationRecord(**row._asdict())


def code_is_taken(store: Store, code: str) -> bool:
    """Whether ``code`` was issued already."""
    rc = schema.referral_codes
    with store.engine.connect() as conn:
        return conn.execute(sa.select(rc.c.code).where(rc.c.code == code)).first() is not None


# --------------------------------------------------------------------------- status


def code_facts(store: Store) -> list[CodeFacts]:
    """One record per issued code, for fielding status."""
    rc, c, m, r = (schema.referral_codes, schema.contacts, schema.messages,
                   schema.respondents)
    invited = (sa.select(sa.func.min(m.c.sent_at))
               .where(m.c.code == rc.c.code, m.c.kind == "invitation", m.c.status == "sent")
               .scalar_subquery())
    started = sa.exists().where(r.c.referral_code == rc.c.code)
    done = sa.and_(r.c.referral_code == rc.c.code, r.c.finished.is_(True),
                   r.c.included.is_(True))
    completed_at = sa.select(sa.func.min(r.c.submitted_at)).where(done).scalar_subquery()
    region = (sa.select(sa.func.min(r.c.region))
              .where(r.c.referral_code == rc.c.code, r.c.region.is_not(None))
              .scalar_subquery())
    query = (sa.select(rc.c.code, rc.c.parent_code, rc.c.wave, rc.c.issued_at, rc.c.contact_id,
                       c.c.name, invited.label("invited_at"), rc.c.handed_at,
                       started.label("started"),
                       sa.exists().where(done).label("completed"),
                       completed_at.label("completed_at"), region.label("region"))
             .select_from(rc.outerjoin(c, c.c.id == rc.c.contact_id))
             .order_by(rc.c.wave, rc.c.issued_at, rc.c.code))
    with store.engine.connect() as conn:
        return [CodeFacts(code=row.code, parent_code=row.parent_code, wave=row.wave,
                          issued_at=row.issued_at, contact_id=row.contact_id, name=row.name,
                          invited_at=row.invited_at, handed_at=row.handed_at,
                          started=bool(row.started),
                          completed=bool(row.completed), completed_at=row.completed_at,
                          region=row.region)
                for row in conn.execute(query)]


def unmatched_respondents(store: Store) -> int:
    """Included respondents whose referral code is missing or was never issued here."""
    r, rc = schema.respondents, schema.referral_codes
    known = sa.exists().where(rc.c.code == r.c.referral_code)
    query = (sa.select(sa.func.count()).select_from(r)
             .where(r.c.included.is_(True), sa.or_(r.c.referral_code.is_(None), ~known)))
    with store.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


# --------------------------------------------------------------------------- helpers


def _completed(code: Any) -> Any:
    r = schema.respondents
    return sa.exists().where(r.c.referral_code == code, r.c.finished.is_(True),
                             r.c.included.is_(True))


def _invitee_query() -> sa.Select[Any]:
    rc, c = schema.referral_codes, schema.contacts
    return (sa.select(rc.c.code, rc.c.wave, rc.c.parent_code, rc.c.issued_at, rc.c.contact_id,
                      c.c.name, c.c.email, c.c.organisation, c.c.country_iso3, c.c.language,
                      rc.c.handed_at)
            .select_from(rc.outerjoin(c, c.c.id == rc.c.contact_id)))


def _invitee_of(row: Any) -> Invitee:
    return Invitee(code=row.code, wave=row.wave, parent_code=row.parent_code,
                   issued_at=row.issued_at, contact_id=row.contact_id, name=row.name,
                   email=row.email, organisation=row.organisation,
                   country_iso3=row.country_iso3, language=row.language,
                   handed_at=row.handed_at)


def _invitee(code: str, wave: int, parent: str | None, now: datetime, contact_id: int,
             contact: NewContact) -> Invitee:
    return Invitee(code=code, wave=wave, parent_code=parent, issued_at=now,
                   contact_id=contact_id, name=contact.name, email=contact.email,
                   organisation=contact.organisation, country_iso3=contact.country_iso3,
                   language=contact.language)


def _insert_contact(conn: sa.Connection, contact: NewContact, now: datetime) -> int:
    return int(conn.execute(schema.contacts.insert().values(
        name=contact.name, email=contact.email, organisation=contact.organisation,
        country_iso3=contact.country_iso3, language=contact.language, created_at=now,
    ).returning(schema.contacts.c.id)).scalar_one())


def _fresh_codes(conn: sa.Connection, count: int, new_code: NewCode) -> list[str]:
    """``count`` new codes, distinct from each other and from every code issued."""
    rc = schema.referral_codes
    codes: list[str] = []
    chosen: set[str] = set()
    fruitless = 0
    while len(codes) < count:
        batch = [new_code() for _ in range(min(500, count - len(codes)))]
        taken = set(conn.execute(sa.select(rc.c.code).where(rc.c.code.in_(batch))).scalars())
        fresh = [code for code in dict.fromkeys(batch) if code not in taken | chosen]
        chosen.update(fresh)
        codes += fresh
        fruitless = 0 if fresh else fruitless + 1
        if fruitless > 20:  # only a broken code generator gets here (2^40 codes)
            raise StoreError("cannot find unused referral codes: the code generator repeats itself")
    return codes


def _insert_ignoring_duplicates(conn: sa.Connection, table: sa.Table) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def _count(conn: sa.Connection, table: sa.Table) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
