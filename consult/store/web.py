"""Web form drafts and wrong code entries: the only SQL the web form runs.

A web response is a ``respondents`` row with ``source = 'web'`` and
``source_id`` = the referral code, so the store's unique key on
``(source, source_id)`` allows one web response per code. The row is written
on the first saved page with ``finished = false`` and its answers; every later
page replaces that page's answers; the last page sets ``finished`` and
``submitted_at`` and marks the code used. Analysis reads it like any other.

Wrong code entries are rows of ``code_failures`` keyed by a keyed hash of the
client's address (made by the web form; the store never sees the address), so
that every worker counts the same failures.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from consult.errors import StoreError
from consult.store import schema
from consult.store.db import Store
from consult.store.responses import AnswerRecord

SOURCE = "web"


class SubmissionClosed(StoreError):
    """The code's response was submitted already: it cannot be changed or submitted again."""


@dataclass(frozen=True)
class WebDraft:
    """A code's web response as stored: how far it got and its answers."""

    respondent_id: int
    finished: bool
    progress: int | None
    language: str | None
    answers: tuple[AnswerRecord, ...]


@dataclass(frozen=True)
class PageSave:
    """One saved page: the answers of its items and the items whose answers it replaces.

    ``clear_items`` holds the page's own items and any item hidden now by a
    ``relevant`` condition, whose earlier answer is stale.
    """

    code: str
    wave: int
    referred_by: str | None
    language: str
    answers: Sequence[AnswerRecord]
    clear_items: Collection[str]
    progress: int
    finished: bool
    now: datetime
    country_iso3: str | None = None
    region: str | None = None


def code_completed(store: Store, code: str) -> bool:
    """Whether ``code`` has a finished response from any source (web or an import)."""
    r = schema.respondents
    query = (sa.select(sa.func.count()).select_from(r)
             .where(r.c.referral_code == code, r.c.finished.is_(True)))
    with store.engine.connect() as conn:
        return bool(conn.execute(query).scalar())


def web_draft(store: Store, code: str) -> WebDraft | None:
    """The web response of ``code`` with its answers, or ``None`` before the first save."""
    r, a = schema.respondents, schema.answers
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(r.c.id, r.c.finished, r.c.progress, r.c.language)
                           .where(r.c.source == SOURCE, r.c.source_id == code)).first()
        if row is None:
            return None
        answers = tuple(
            AnswerRecord(item_id=ans.item_id, value=ans.value, ordinal=ans.ordinal,
                         other_text=ans.other_text)
            for ans in conn.execute(
                sa.select(a.c.item_id, a.c.value, a.c.ordinal, a.c.other_text)
                .where(a.c.respondent_id == row.id).order_by(a.c.item_id, a.c.ordinal)))
    return WebDraft(int(row.id), bool(row.finished), row.progress, row.language, answers)


def save_web_page(store: Store, page: PageSave) -> None:
    """Write one page of a code's web response in ONE transaction.

    Raises
    ------
    SubmissionClosed
        When the response was submitted already (from this or another device).
    """
    r, a = schema.respondents, schema.answers
    with store.engine.begin() as conn:
        rid = conn.execute(sa.select(r.c.id).where(
            r.c.source == SOURCE, r.c.source_id == page.code)).scalar()
        if rid is None:
            # Another device may save its first page at the same moment: then its row
            # is used. No SAVEPOINT to catch the clash: with Python's sqlite3 driver a
            # savepoint before the first write would commit on its own.
            first = _insert_ignoring_conflict(conn, r).values(
                source=SOURCE, source_id=page.code, referral_code=page.code,
                referred_by=page.referred_by, wave=page.wave, language=page.language,
                started_at=page.now, finished=False, included=False, progress=0,
            ).on_conflict_do_nothing(index_elements=["source", "source_id"])
            conn.execute(first)
            rid = conn.execute(sa.select(r.c.id).where(
                r.c.source == SOURCE, r.c.source_id == page.code)).scalar_one()
        values: dict[str, object] = {"language": page.language, "progress": page.progress}
        if page.country_iso3 is not None:
            values |= {"country_iso3": page.country_iso3, "region": page.region}
        if page.finished:
            # A draft counts for nothing until it is submitted: analysis reads included rows.
            values |= {"finished": True, "submitted_at": page.now, "included": True}
        # The guard on ``finished`` makes a second submission (a race between two
        # devices included) change nothing.
        updated = conn.execute(r.update().where(r.c.id == rid, r.c.finished.is_(False))
                               .values(**values)).rowcount
        if not updated:
            raise SubmissionClosed(f"the response to code {page.code} was submitted already")
        if page.clear_items:
            conn.execute(a.delete().where(a.c.respondent_id == rid,
                                          a.c.item_id.in_(sorted(page.clear_items))))
        if page.answers:
            conn.execute(a.insert(), [
                {"respondent_id": rid, "item_id": ans.item_id, "ordinal": ans.ordinal,
                 "value": ans.value, "other_text": ans.other_text, "source_column": None}
                for ans in page.answers])
        if page.finished:
            rc = schema.referral_codes
            conn.execute(rc.update().where(rc.c.code == page.code, rc.c.used_at.is_(None))
                         .values(used_at=page.now))


def record_code_failure(store: Store, client_key: str, at: datetime) -> None:
    """Record one wrong code entered by the client whose hashed address is ``client_key``."""
    with store.engine.begin() as conn:
        conn.execute(schema.code_failures.insert().values(client_key=client_key, failed_at=at))


def code_failures_since(store: Store, client_key: str, since: datetime) -> int:
    """How many wrong codes ``client_key`` entered after ``since`` (by any worker)."""
    f = schema.code_failures
    query = (sa.select(sa.func.count()).select_from(f)
             .where(f.c.client_key == client_key, f.c.failed_at > since))
    with store.engine.connect() as conn:
        return int(conn.execute(query).scalar() or 0)


def purge_code_failures(store: Store, before: datetime) -> int:
    """Delete the wrong code entries made at or before ``before``; return how many."""
    f = schema.code_failures
    with store.engine.begin() as conn:
        return int(conn.execute(f.delete().where(f.c.failed_at <= before)).rowcount)


def _insert_ignoring_conflict(conn: sa.Connection, table: sa.Table) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` in the connection's dialect."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)
