"""Invitations, referral letters and reminders: planned, logged, delivered once.

Every message is first written to the ``messages`` log as *queued*, one row
per (code, kind, sequence), and only then delivered. A delivered message is
marked *sent*; a refused one *failed*, with the server's reason, and is tried
again on the next run until it has had ``max_attempts``. So re-running a
command never sends a message twice and never loses one.

One gap remains and is narrow: if the process dies after the server accepted
a message and before the log says so, the next run sends it again, with the
same Message-ID, which lets mail systems drop the copy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from consult.sampling.mailer import ConnectionLost, DeliveryError, Mailer
from consult.sampling.messages import (
    UnmailableAddress,
    build_email,
    draft_invitation,
    draft_referral,
    draft_reminder,
    template_environment,
)
from consult.sampling.referrals import issue_child_codes
from consult.sampling.setup import FieldingSetup
from consult.sampling.waves import require_open
from consult.store import fielding
from consult.store.db import Store
from consult.store.fielding import Invitee, MessageDraft, StoredMessage

DEFAULT_MAX_ATTEMPTS = 5
_Item = TypeVar("_Item")


@dataclass(frozen=True)
class Failure:
    """A message that was refused this run, and why."""

    message: StoredMessage
    reason: str
    final: bool  # it has had its last attempt and will not be tried again


@dataclass(frozen=True)
class Delivery:
    """What one run delivered."""

    transport: str
    sent: tuple[StoredMessage, ...] = ()
    failures: tuple[Failure, ...] = ()
    not_tried: int = 0  # left queued after a lost connection
    connection_lost: str | None = None

    @property
    def retryable(self) -> list[Failure]:
        """Failures that the next run will try again."""
        return [f for f in self.failures if not f.final]


@dataclass(frozen=True)
class Unsendable:
    """A message not written because its contact's address cannot be sent to."""

    contact_id: int
    kind: str
    reason: str


@dataclass(frozen=True)
class InviteResult:
    """What ``invite`` did."""

    waves: tuple[int, ...]
    issued: tuple[Invitee, ...]
    invitations_queued: int
    referrals_queued: int
    delivery: Delivery
    unsendable: tuple[Unsendable, ...] = ()


@dataclass(frozen=True)
class RemindResult:
    """What ``remind`` did."""

    waves: tuple[int, ...]
    reminders_queued: int
    delivery: Delivery
    unsendable: tuple[Unsendable, ...] = ()


def invite(store: Store, setup: FieldingSetup, mailer: Mailer, *, wave: int | None = None,
           max_attempts: int = DEFAULT_MAX_ATTEMPTS, now: datetime | None = None) -> InviteResult:
    """Invite everyone of the open waves (or of ``wave``) who was not invited yet.

    First tops up the child codes of the previous wave's respondents; then
    queues an invitation to each code holder with an e-mail address and, to each
    respondent with an e-mail address, one referral letter with the codes to pass
    on; then delivers every queued (or failed, retryable) invitation and letter
    of those waves, nominees' invitations included. A contact whose address
    cannot be sent to (accents before the ``@``, from an older version) is
    listed in ``unsendable`` and the others still go.

    Raises
    ------
    ConsultError
        When the wave is not open (or none is), a template is broken, or the
        mail server cannot be reached (then nothing was sent).
    """
    now = now or datetime.now(UTC)
    waves = require_open(store, wave)
    parents = [w - 1 for w in waves if w > 0]
    issued = (issue_child_codes(store, setup.child_codes, parent_waves=parents, now=now)
              if parents else [])
    env = template_environment(setup.templates_dir)
    unsendable: list[Unsendable] = []
    invitations = _drafts(fielding.invitation_candidates(store, waves),
                          lambda invitee: draft_invitation(env, setup, invitee), unsendable)
    letters = _drafts(_letters(store, waves),
                      lambda letter: draft_referral(env, setup, letter[0], letter[1],
                                                    wave=letter[2]), unsendable)
    queued_invitations = fielding.queue_messages(store, invitations, now)
    queued_letters = fielding.queue_messages(store, letters, now)
    delivery = deliver(store, mailer, setup, kinds=("invitation", "referral"), waves=waves,
                       max_attempts=max_attempts, now=now)
    return InviteResult(tuple(waves), tuple(issued), queued_invitations, queued_letters,
                        delivery, tuple(unsendable))


def remind(store: Store, setup: FieldingSetup, mailer: Mailer, *, after_days: float,
           max_reminders: int, wave: int | None = None,
           max_attempts: int = DEFAULT_MAX_ATTEMPTS, now: datetime | None = None) -> RemindResult:
    """Remind invitees of open waves who have not completed, at most ``max_reminders`` each.

    An invitee gets reminder *n* + 1 when their last message (the invitation or
    reminder *n*) was delivered at least ``after_days`` ago. Someone with a
    completed response is never reminded; someone who started and stopped is.

    Raises
    ------
    ConsultError
        As :func:`invite`.
    """
    now = now or datetime.now(UTC)
    waves = require_open(store, wave)
    cutoff = now - timedelta(days=after_days)
    env = template_environment(setup.templates_dir)
    due = [c for c in fielding.reminder_candidates(store, waves)
           if c.reminders < max_reminders and c.last_status == "sent"
           and c.last_sent_at is not None and c.last_sent_at <= cutoff]
    unsendable: list[Unsendable] = []
    drafts = _drafts(due, lambda c: draft_reminder(env, setup, c.invitee,
                                                   sequence=c.reminders + 1,
                                                   invited_at=c.invited_at), unsendable)
    queued = fielding.queue_messages(store, drafts, now)
    delivery = deliver(store, mailer, setup, kinds=("reminder",), waves=waves,
                       max_attempts=max_attempts, now=now)
    return RemindResult(tuple(waves), queued, delivery, tuple(unsendable))


def deliver(store: Store, mailer: Mailer, setup: FieldingSetup, *, kinds: tuple[str, ...],
            waves: list[int], max_attempts: int = DEFAULT_MAX_ATTEMPTS,
            now: datetime | None = None) -> Delivery:
    """Deliver every pending message of ``kinds`` and ``waves``, logging each outcome."""
    pending = fielding.pending_messages(store, kinds, waves, max_attempts)
    sent: list[StoredMessage] = []
    failures: list[Failure] = []
    lost: str | None = None
    not_tried = 0
    try:
        for index, message in enumerate(pending):
            when = now or datetime.now(UTC)
            email = build_email(message, setup.sender, when)
            try:
                transport = mailer.deliver(email, f"{message.kind}-{message.code}-"
                                                  f"{message.sequence}")
            except DeliveryError as exc:
                fielding.record_failure(store, message.id, when, exc.reason, mailer.description)
                failures.append(Failure(message, exc.reason,
                                        final=message.attempts + 1 >= max_attempts))
                if isinstance(exc, ConnectionLost):
                    lost = exc.reason
                    not_tried = len(pending) - index - 1
                    break
            else:
                fielding.record_sent(store, message.id, when, transport)
                sent.append(message)
    finally:
        mailer.close()
    return Delivery(mailer.description, tuple(sent), tuple(failures), not_tried, lost)


def _drafts(items: Iterable[_Item], draft: Callable[[_Item], MessageDraft],
            unsendable: list[Unsendable]) -> list[MessageDraft]:
    """Draft a message for each item; one that cannot be sent is set aside, not fatal."""
    drafts: list[MessageDraft] = []
    for item in items:
        try:
            drafts.append(draft(item))
        except UnmailableAddress as exc:
            unsendable.append(Unsendable(exc.contact_id, exc.kind, str(exc)))
    return drafts


def _letters(store: Store, waves: list[int]) -> list[tuple[Invitee, list[str], int]]:
    return [(respondent, codes, respondent.wave + 1)
            for respondent, codes in fielding.referral_letter_candidates(store, waves)]
