"""Child referral codes for the thank-you page, issued once per respondent whatever the load.

``issue_child_codes`` tops up every completed respondent of a wave: it reads
who lacks codes, then inserts theirs. Two requests doing that at the same
moment (two threads of a worker, or two workers) both read the same gaps and
both fill them, and respondents end up holding twice their codes. So here the
top-up runs one at a time: a thread lock within a worker, a file lock between
the workers of one machine (SQLite allows no more), and on PostgreSQL a
SERIALIZABLE transaction, retried when the server reports a conflict, between
machines.

The first time the thank-you page shows a respondent their codes, they are
recorded as handed out (status counts them as invited from then on).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from consult.sampling.referrals import issue_child_codes
from consult.store import fielding
from consult.store.db import Store
from consult.store.fielding import Invitee

SERIALIZATION_FAILURES = ("40001", "40P01")  # serialization failure, deadlock detected
ATTEMPTS = 20


class ChildCodes:
    """Hands each completed respondent its own child codes, issued on first request."""

    def __init__(self, store: Store, per_respondent: int, lock_file: Path) -> None:
        self.per_respondent = per_respondent
        self._store = store
        self._writer = store
        if store.dialect == "postgresql":
            self._writer = Store(store.engine.execution_options(isolation_level="SERIALIZABLE"))
        self._lock_file = lock_file
        self._thread_lock = threading.Lock()

    def of(self, code: str) -> list[Invitee]:
        """The codes the respondent with ``code`` passes on (none if it never completed),
        recorded as handed out: the thank-you page shows them."""
        invitee = fielding.find_code(self._store, code)
        if invitee is None:
            return []
        children = self._children(invitee)
        if len(children) < self.per_respondent:
            with self._thread_lock, _file_lock(self._lock_file):
                self._top_up(invitee.wave)
            children = self._children(invitee)
        new = [child.code for child in children if child.handed_at is None]
        if new:  # only the first showing writes: a reload is a read
            fielding.record_handed_out(self._store, new, datetime.now(UTC))
        return children

    def _children(self, parent: Invitee) -> list[Invitee]:
        return [child for child in fielding.invitees(self._store, waves=[parent.wave + 1])
                if child.parent_code == parent.code and child.contact_id is None]

    def _top_up(self, wave: int) -> None:
        for attempt in range(ATTEMPTS):
            try:
                issue_child_codes(self._writer, self.per_respondent, parent_waves=[wave],
                                  now=datetime.now(UTC))
                return
            except DBAPIError as exc:
                conflict = getattr(exc.orig, "sqlstate", None) in SERIALIZATION_FAILURES
                if not conflict or attempt == ATTEMPTS - 1:
                    raise


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (made when missing) for the block."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # blocks until the other worker's top-up is done
        yield
    finally:
        os.close(fd)  # closing releases the lock
