"""Nominations: respondents name colleagues instead of forwarding a link.

A nomination waits for the coordinator. Approving it makes the nominee a
contact holding a new child code of the nominator (one wave deeper) and queues
their invitation, which ``consult invite`` delivers once that wave is open.
Nominations do not use up the nominator's ``child_codes``.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from consult.errors import ConsultError
from consult.sampling.codes import display, is_valid, new_code, normalise
from consult.sampling.contacts import check_contact
from consult.sampling.messages import UnmailableAddress, draft_invitation, template_environment
from consult.sampling.setup import FieldingSetup
from consult.store import fielding
from consult.store.db import Store
from consult.store.fielding import Invitee, NominationRecord

STATUSES = ("pending", "approved", "rejected")


def add_nomination(store: Store, setup: FieldingSetup, nominator_code: str, name: str,
                   email: str, organisation: str = "", country: str = "", language: str = "",
                   *, now: datetime | None = None) -> NominationRecord:
    """Record a respondent's nomination of a colleague, pending approval.

    Raises
    ------
    ConsultError
        When the nominator's code is mistyped or unknown, or a detail is invalid
        (each bad field named).
    """
    code = normalise(nominator_code)
    if not is_valid(code):
        raise ConsultError(f"nominator code {nominator_code!r} is mistyped (its check character "
                           "does not match); copy it from the invitation")
    if fielding.find_code(store, code) is None:
        raise ConsultError(f"nominator code {display(code)} was never issued")
    contact, problems = check_contact(name, email, organisation, country, language,
                                      languages=setup.languages)
    if contact is None:
        raise ConsultError("; ".join(f"{field}: {message}" for field, message in problems))
    return fielding.add_nomination(store, code, contact, now or datetime.now(UTC))


def list_nominations(store: Store, status: str | None = None) -> list[NominationRecord]:
    """Nominations, oldest first, optionally of one status."""
    if status is not None and status not in STATUSES:
        raise ConsultError(f"status {status!r}: use one of {', '.join(STATUSES)}")
    return fielding.nominations(store, status)


def approve_nomination(store: Store, setup: FieldingSetup, nomination_id: int, *,
                       now: datetime | None = None) -> tuple[NominationRecord, Invitee]:
    """Approve a pending nomination: contact, child code of the nominator, queued invitation.

    Raises
    ------
    ConsultError
        When there is no such nomination, it was decided already, the nominee
        is already a contact, or their address cannot be sent to.
    """
    now = now or datetime.now(UTC)
    record = _pending(store, nomination_id)
    if fielding.emails_in_use(store, [record.email]):
        raise ConsultError(f"nomination {nomination_id}: {record.email} is already a contact; "
                           f"reject it with: consult nominations reject {nomination_id}")
    nominator = fielding.find_code(store, record.nominator_code)
    if nominator is None:  # the foreign key makes this impossible; say so plainly if it happens
        raise ConsultError(f"nomination {nomination_id}: nominator code "
                           f"{display(record.nominator_code)} is unknown")
    contact = fielding.NewContact(name=record.name, email=record.email,
                                  organisation=record.organisation,
                                  country_iso3=record.country_iso3, language=record.language)
    code = new_code()
    while fielding.code_is_taken(store, code):
        code = new_code()
    invitee = Invitee(code=code, wave=nominator.wave + 1, parent_code=nominator.code,
                      issued_at=now, contact_id=0, name=contact.name, email=contact.email,
                      organisation=contact.organisation, country_iso3=contact.country_iso3,
                      language=contact.language)
    try:
        draft = draft_invitation(template_environment(setup.templates_dir), setup, invitee,
                                 nominated=True)
    except UnmailableAddress:  # recorded by an older version, which did not check this
        raise ConsultError(f"nomination {nomination_id}: the nominee's address has accents "
                           "before the @, which consult's mailer cannot deliver; it stays "
                           "pending; reject it with: consult nominations reject "
                           f"{nomination_id}") from None
    approved = fielding.approve_nomination(store, nomination_id, contact, code,
                                           invitee.wave, draft, now)
    return approved, dataclasses.replace(invitee, contact_id=approved.contact_id)


def reject_nomination(store: Store, nomination_id: int, *,
                      now: datetime | None = None) -> NominationRecord:
    """Reject a pending nomination; the nominee is never contacted.

    Raises
    ------
    ConsultError
        When there is no such nomination or it was decided already.
    """
    _pending(store, nomination_id)
    return fielding.reject_nomination(store, nomination_id, now or datetime.now(UTC))


def _pending(store: Store, nomination_id: int) -> NominationRecord:
    record = fielding.nomination(store, nomination_id)
    if record is None:
        raise ConsultError(f"no nomination {nomination_id}; list them with: "
                           "consult nominations list")
    if record.status != "pending":
        raise ConsultError(f"nomination {nomination_id} is already {record.status} "
                           f"(on {record.decided_at.date().isoformat() if record.decided_at else '?'})")
    return record
