"""Writing and reading responses: the only SQL for respondents, answers and exclusions.

Ingest and the web form write through :func:`write_ingest`; analysis reads
through :func:`load_responses`, which never touches ``contacts``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import sqlalchemy as sa

from consult.store import schema
from consult.store.bulk import (
    collector_paused,
    insert_many,
    read_frame,
    statements_in_background,
)
from consult.store.db import Store

if TYPE_CHECKING:
    import pandas as pd


class AnswerRecord(NamedTuple):
    """One stored answer value (a multiple choice is several, numbered by ``ordinal``).

    A named tuple rather than a dataclass: ingest makes millions of them.
    """

    item_id: str
    value: str
    ordinal: int = 0
    other_text: str | None = None
    source_column: str | None = None


@dataclass(frozen=True)
class RespondentRecord:
    """One response as stored, with its answers and any reasons to exclude it."""

    source: str
    source_id: str
    source_row: int | None = None
    referral_code: str | None = None
    referred_by: str | None = None
    wave: int | None = None
    language: str | None = None
    country_iso3: str | None = None
    region: str | None = None
    started_at: datetime | None = None
    submitted_at: datetime | None = None
    finished: bool = True
    progress: int | None = None
    fingerprint: str | None = None
    answers: tuple[AnswerRecord, ...] = ()
    exclusions: tuple[tuple[str, str], ...] = ()

    @property
    def included(self) -> bool:
        """Whether the response counts (no exclusion reason)."""
        return not self.exclusions


@dataclass(frozen=True)
class IngestRecord:
    """One imported file."""

    source_format: str
    file_name: str
    sha256: str
    rows_read: int
    mapping: str | None = None
    raw_path: str | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def find_ingest(store: Store, sha256: str) -> int | None:
    """The id of an earlier ingest of the file with this SHA-256, if any."""
    with store.engine.connect() as conn:
        found = conn.execute(
            sa.select(schema.ingests.c.id).where(schema.ingests.c.sha256 == sha256)
        ).scalar()
    return int(found) if found is not None else None


def stored_fingerprints(store: Store, source: str) -> dict[str, str | None]:
    """``source_id → fingerprint`` of every response already stored from ``source``."""
    r = schema.respondents
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(r.c.source_id, r.c.fingerprint).where(r.c.source == source))
        return {row.source_id: row.fingerprint for row in rows}


def stored_codes(store: Store) -> set[str]:
    """Every referral code known to the store: respondents' codes and issued codes."""
    r, c = schema.respondents, schema.referral_codes
    with store.engine.connect() as conn:
        codes = {row[0] for row in conn.execute(sa.select(r.c.referral_code)) if row[0]}
        codes |= {row[0] for row in conn.execute(sa.select(c.c.code))}
    return codes


def write_ingest(store: Store, ingest: IngestRecord, respondents: Sequence[RespondentRecord],
                 *, replace: Sequence[str] = (),
                 before_commit: Callable[[], None] | None = None) -> int:
    """Store an ingest and its responses in ONE transaction; return the ingest id.

    ``replace`` lists source ids (of the same source) whose stored responses are
    deleted first, with their answers and exclusions. On any error nothing is
    written: the database is exactly as before. ``before_commit`` runs inside
    the transaction just before it commits (tests use it to kill an ingest
    mid-way).
    """
    with store.engine.connect() as conn, _foreign_keys_trusted(conn), conn.begin():
        ingest_id = _write_ingest(conn, ingest, respondents, replace)
        if before_commit is not None:
            before_commit()
    return ingest_id


@contextmanager
def _foreign_keys_trusted(conn: sa.Connection) -> Iterator[None]:
    """On SQLite, leave the foreign keys of an ingest's own rows unchecked.

    Every answer and exclusion written by :func:`write_ingest` refers to a
    respondent id the same transaction has just read back, so checking them
    again is redundant; on SQLite it is a lookup per answer (a tenth of the
    time of storing millions of them). SQLite only switches the checks
    between transactions; they are switched back on even if the ingest fails.
    Deletions do not rely on cascades here: :func:`_write_ingest` removes a
    replaced response's answers and exclusions itself.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
    conn.commit()
    try:
        yield
    finally:
        if conn.in_transaction():
            conn.rollback()
        conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        conn.commit()


def _write_ingest(conn: sa.Connection, ingest: IngestRecord,
                  respondents: Sequence[RespondentRecord], replace: Sequence[str]) -> int:
    r, x = schema.respondents, schema.exclusions
    included = sum(1 for resp in respondents if resp.included)
    ingest_id = conn.execute(
        schema.ingests.insert().values(
            source_format=ingest.source_format, file_name=ingest.file_name,
            sha256=ingest.sha256, mapping=ingest.mapping, rows_read=ingest.rows_read,
            rows_included=included, started_at=ingest.started_at, raw_path=ingest.raw_path,
        ).returning(schema.ingests.c.id)
    ).scalar_one()
    sources = {resp.source for resp in respondents}
    for source in sources:
        ids = list(replace)
        for start in range(0, len(ids), 500):
            gone = sa.select(r.c.id).where(r.c.source == source,
                                           r.c.source_id.in_(ids[start:start + 500]))
            conn.execute(schema.answers.delete().where(
                schema.answers.c.respondent_id.in_(gone)))
            conn.execute(x.delete().where(x.c.respondent_id.in_(gone)))
            conn.execute(r.delete().where(r.c.id.in_(gone)))
    if respondents:
        # The database stores each batch while the next is made (two cores).
        with statements_in_background(conn) as execute:
            insert_many(conn, r, _RESPONDENT_COLUMNS,
                        (_respondent_row(resp, ingest_id) for resp in respondents),
                        execute=execute)
        keys = conn.execute(
            sa.select(r.c.id, r.c.source, r.c.source_id).where(r.c.ingest_id == ingest_id)
        ).all()
        id_of = {(row.source, row.source_id): row.id for row in keys}
        exclusion_rows: list[dict[str, Any]] = []
        for resp in respondents:
            if resp.exclusions:
                rid = id_of[(resp.source, resp.source_id)]
                exclusion_rows += [{"respondent_id": rid, "reason": reason, "detail": detail}
                                   for reason, detail in resp.exclusions]
        # Millions of rows: answer records straight to the driver (answers
        # have no typed columns), stored while the next batch is made.
        with statements_in_background(conn) as execute:
            insert_many(conn, schema.answers, ("respondent_id", *_ANSWER_COLUMNS),
                        ((rid, *answer) for resp in respondents
                         for rid in (id_of[(resp.source, resp.source_id)],)
                         for answer in resp.answers),
                        execute=execute)
        if exclusion_rows:
            conn.execute(x.insert(), exclusion_rows)
    conn.execute(schema.ingests.update().where(schema.ingests.c.id == ingest_id)
                 .values(finished_at=datetime.now(UTC)))
    return int(ingest_id)


def load_responses(store: Store, *, included_only: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Respondents and answers as two tidy frames, for analysis.

    ``respondents``: id, source, source_id, referral_code, referred_by, wave,
    language, country_iso3, region, started_at, submitted_at, finished,
    progress, included. ``answers``: respondent_id, item_id, ordinal, value,
    other_text. No contact detail is read.
    """
    import pandas as pd

    r, a = schema.respondents, schema.answers
    columns = [r.c.id, r.c.source, r.c.source_id, r.c.referral_code, r.c.referred_by, r.c.wave,
               r.c.language, r.c.country_iso3, r.c.region, r.c.started_at, r.c.submitted_at,
               r.c.finished, r.c.progress, r.c.included]
    query = sa.select(*columns).order_by(r.c.id)
    answers_query = (sa.select(a.c.respondent_id, a.c.item_id, a.c.ordinal, a.c.value,
                               a.c.other_text)
                     .order_by(a.c.respondent_id, a.c.item_id, a.c.ordinal))
    if included_only:
        query = query.where(r.c.included.is_(True))
        answers_query = answers_query.join(r, r.c.id == a.c.respondent_id).where(
            r.c.included.is_(True))
    with store.engine.connect() as conn, collector_paused():
        respondents = pd.DataFrame.from_records(conn.execute(query).all(),
                                                columns=[c.name for c in columns])
        answers = read_frame(conn, answers_query,
                             ("respondent_id", "item_id", "ordinal", "value", "other_text"),
                             integers=("respondent_id", "ordinal"))
    return respondents, answers


def exclusion_counts(store: Store) -> dict[str, int]:
    """Excluded responses by reason (a response may have several reasons)."""
    x = schema.exclusions
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(x.c.reason, sa.func.count()).group_by(x.c.reason))
        return {row[0]: int(row[1]) for row in rows}


_RESPONDENT_COLUMNS = ("source", "source_id", "ingest_id", "source_row", "referral_code",
                       "referred_by", "wave", "language", "country_iso3", "region", "started_at",
                       "submitted_at", "finished", "progress", "included", "fingerprint")
# In the order of AnswerRecord's fields.
_ANSWER_COLUMNS = ("item_id", "value", "ordinal", "other_text", "source_column")


def _respondent_row(resp: RespondentRecord, ingest_id: int) -> tuple[Any, ...]:
    return (resp.source, resp.source_id, ingest_id, resp.source_row, resp.referral_code,
            resp.referred_by, resp.wave, resp.language, resp.country_iso3, resp.region,
            resp.started_at, resp.submitted_at, resp.finished, resp.progress, resp.included,
            resp.fingerprint)


def regions_by_code(store: Store) -> dict[str, str]:
    """``referral code → region`` of every stored respondent with both."""
    r = schema.respondents
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(r.c.referral_code, r.c.region).where(
            r.c.referral_code.is_not(None), r.c.region.is_not(None)))
        return {row.referral_code: row.region for row in rows}
