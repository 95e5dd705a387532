"""Waves: the depth of the referral tree, opened and closed by the coordinator.

Seeds are wave 0; whoever answers with a code passed on by a wave-``n``
respondent is wave ``n + 1``. Invitations and reminders go out only to open
waves. Opening wave ``n + 1`` gives every wave-``n`` respondent who completed
their child codes; closing a wave records the date.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from consult.errors import ConsultError
from consult.sampling.referrals import issue_child_codes
from consult.store import fielding
from consult.store.db import Store
from consult.store.fielding import Invitee, WaveRecord


@dataclass(frozen=True)
class WaveOpened:
    """The result of opening a wave: its record and the child codes issued for it."""

    wave: WaveRecord
    issued: tuple[Invitee, ...]
    reopened: bool = False


def open_wave(store: Store, number: int, *, child_codes: int, reopen: bool = False,
              now: datetime | None = None) -> WaveOpened:
    """Open wave ``number`` and issue child codes to the completed respondents of the wave before.

    Raises
    ------
    ConsultError
        When the wave is open already, was closed (unless ``reopen``), or the
        wave before it was never opened.
    """
    if number < 0:
        raise ConsultError(f"wave {number}: waves are numbered from 0 (the seeds)")
    now = now or datetime.now(UTC)
    known = {w.number: w for w in fielding.waves(store)}
    current = known.get(number)
    if current is not None and current.is_open:
        raise ConsultError(f"wave {number} is already open (since {_day(current.opened_at)})")
    if current is not None and current.closed_at is not None and not reopen:
        raise ConsultError(f"wave {number} was closed on {_day(current.closed_at)}; to reopen "
                           f"it: consult wave open {number} --reopen")
    if number > 0 and number - 1 not in known:
        raise ConsultError(f"wave {number} cannot open before wave {number - 1}; open that first: "
                           f"consult wave open {number - 1}")
    record = fielding.set_wave_opened(store, number, now)
    issued = (issue_child_codes(store, child_codes, parent_waves=[number - 1], now=now)
              if number > 0 else [])
    return WaveOpened(record, tuple(issued), reopened=current is not None)


def close_wave(store: Store, number: int, *, now: datetime | None = None) -> WaveRecord:
    """Close wave ``number``, recording the date; no message goes to it afterwards.

    Raises
    ------
    ConsultError
        When the wave is not open.
    """
    known = {w.number: w for w in fielding.waves(store)}
    current = known.get(number)
    if current is not None and current.closed_at is not None:
        raise ConsultError(f"wave {number} is already closed (on {_day(current.closed_at)})")
    if current is None or not current.is_open:
        raise ConsultError(f"wave {number} is not open ({_open_list(known.values())})")
    return fielding.set_wave_closed(store, number, now or datetime.now(UTC))


def list_waves(store: Store) -> list[WaveRecord]:
    """Every wave opened so far."""
    return fielding.waves(store)


def open_waves(store: Store) -> list[int]:
    """The numbers of the waves open now."""
    return [w.number for w in fielding.waves(store) if w.is_open]


def require_open(store: Store, wanted: int | None) -> list[int]:
    """``[wanted]`` if that wave is open, else every open wave when ``wanted`` is ``None``.

    Raises
    ------
    ConsultError
        When the wave asked for is not open, or no wave is.
    """
    known = fielding.waves(store)
    opened = [w.number for w in known if w.is_open]
    if wanted is not None:
        if wanted not in opened:
            raise ConsultError(f"wave {wanted} is not open ({_open_list(known)}); open it with: "
                               f"consult wave open {wanted}")
        return [wanted]
    if not opened:
        raise ConsultError("no wave is open; open the seeds' wave with: consult wave open 0")
    return opened


def _open_list(known: Collection[WaveRecord]) -> str:
    opened = [str(w.number) for w in sorted(known, key=lambda w: w.number) if w.is_open]
    return f"open waves: {', '.join(opened)}" if opened else "no wave is open"


def _day(moment: datetime | None) -> str:
    return moment.date().isoformat() if moment else "?"
