"""Writing and reading responses: the only SQL for respondents, answers and exclusions.

Ingest and the web form write through :func:`write_ingest`; analysis reads
through :func:`load_responses`, which never touches ``contacts``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import sqlalchemy as sa

from consult.store import schema
from consult.store.bulk import (
    Execute,
    collector_paused,
    insert_many,
    insert_values,
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


@dataclass
class PreparedResponses:
    """Responses laid out as the store writes them, before they have ids.

    Made by :func:`prepare_responses` wherever the rows are converted (a large
    ingest converts in a second process and sends these over), written by
    :meth:`IngestWriter.write_prepared`. Plain tuples and one flat list of
    answer values: cheap to pickle, nothing per answer to build when written.
    """

    sources: tuple[str, ...]
    """The sources the responses come from (a ``replace`` deletes within these)."""
    respondents: list[tuple[Any, ...]]
    """Each response's fields in the order of ``_RESPONDENT_COLUMNS``."""
    answers: list[Any]
    """Every answer's fields one after the other, led by its response's position in
    :attr:`respondents` (replaced by the response's id when written)."""
    exclusions: list[tuple[int, str, str]]
    """``(position in respondents, reason, detail)``."""
    included: int


def prepare_responses(respondents: Sequence[RespondentRecord]) -> PreparedResponses:
    """Lay ``respondents`` out for :meth:`IngestWriter.write_prepared`."""
    # Millions of rows: answer records straight to the driver (answers have no
    # typed columns), laid out a response at a time, column by column, rather
    # than as a tuple per answer.
    width = 1 + len(_ANSWER_COLUMNS)
    values: list[Any] = []
    for position, resp in enumerate(respondents):
        if answers := resp.answers:
            flat = [position] * (width * len(answers))
            for column, field_values in enumerate(zip(*answers, strict=True), start=1):
                flat[column::width] = field_values
            values += flat
    return PreparedResponses(
        sources=tuple(dict.fromkeys(resp.source for resp in respondents)),
        respondents=[_respondent_row(resp) for resp in respondents],
        answers=values,
        exclusions=[(position, reason, detail) for position, resp in enumerate(respondents)
                    for reason, detail in resp.exclusions],
        included=sum(1 for resp in respondents if resp.included))


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


def codes_in_use(store: Store) -> dict[str, list[tuple[str, str]]]:
    """``referral code → [(source, source_id), ...]`` of the included responses that hold
    one, in the order they were stored."""
    r = schema.respondents
    held: dict[str, list[tuple[str, str]]] = {}
    with store.engine.connect() as conn:
        for row in conn.execute(sa.select(r.c.referral_code, r.c.source, r.c.source_id).where(
                r.c.included.is_(True), r.c.referral_code.is_not(None)).order_by(r.c.id)):
            held.setdefault(row.referral_code, []).append((row.source, row.source_id))
    return held


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
    with ingest_transaction(store, ingest, before_commit=before_commit) as writer:
        writer.write(respondents, replace=replace)
    return writer.ingest_id


@contextmanager
def ingest_transaction(store: Store, ingest: IngestRecord, *,
                       before_commit: Callable[[], None] | None = None
                       ) -> Iterator[IngestWriter]:
    """One transaction for an ingest whose responses come in parts: an :class:`IngestWriter`.

    The ingest is recorded first; each :meth:`IngestWriter.write` hands its
    rows to a second thread that stores them while the caller prepares the
    next part. When the block ends, everything is committed at once; if it
    fails, or :meth:`IngestWriter.abandon` was called, nothing is: the
    database is exactly as before. ``before_commit`` runs inside the
    transaction just before it commits (tests use it to kill an ingest
    mid-way).
    """
    with store.engine.connect() as conn, _foreign_keys_trusted(conn), conn.begin() as transaction:
        writer = IngestWriter(conn, ingest)
        with statements_in_background(conn) as execute:
            writer._execute = execute
            yield writer
        if writer.abandoned:
            transaction.rollback()
            return
        conn.execute(schema.ingests.update().where(schema.ingests.c.id == writer.ingest_id)
                     .values(rows_included=writer.included, finished_at=datetime.now(UTC)))
        if before_commit is not None:
            before_commit()


class IngestWriter:
    """Writes the responses of one ingest, part by part, inside :func:`ingest_transaction`."""

    def __init__(self, conn: sa.Connection, ingest: IngestRecord) -> None:
        self._conn = conn
        self._execute: Execute | None = None
        self._mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        self.abandoned = False
        self.included = 0
        self.ingest_id = int(conn.execute(
            schema.ingests.insert().values(
                source_format=ingest.source_format, file_name=ingest.file_name,
                sha256=ingest.sha256, mapping=ingest.mapping, rows_read=ingest.rows_read,
                rows_included=0, started_at=ingest.started_at, raw_path=ingest.raw_path,
            ).returning(schema.ingests.c.id)
        ).scalar_one())
        # On SQLite the transaction holds the database's write lock from the
        # insert above: the ids after the largest are this ingest's to give.
        self._next_id = 1 + int(conn.execute(sa.select(sa.func.coalesce(
            sa.func.max(schema.respondents.c.id), 0))).scalar_one())

    def write(self, respondents: Sequence[RespondentRecord], *,
              replace: Sequence[str] = ()) -> None:
        """Store ``respondents`` with their answers and exclusions.

        ``replace`` lists source ids (of the same source) whose stored
        responses are deleted first, with their answers and exclusions.
        """
        self.write_prepared(prepare_responses(respondents), replace=replace)

    def write_prepared(self, prepared: PreparedResponses, *,
                       replace: Sequence[str] = ()) -> None:
        """Store responses laid out by :func:`prepare_responses` (possibly in another
        process), giving them their ids; ``prepared`` is handed over and changed.

        ``replace`` lists source ids (of the same source) whose stored
        responses are deleted first, with their answers and exclusions.
        Deletions do not rely on cascades (see :func:`_foreign_keys_trusted`).
        """
        execute = self._execute
        assert execute is not None, "write inside ingest_transaction"
        conn, mark = self._conn, self._mark
        ids = list(replace)
        for source in prepared.sources if ids else ():
            for start in range(0, len(ids), 500):
                part = ids[start:start + 500]
                gone = (f"SELECT id FROM respondents WHERE source = {mark} "
                        f"AND source_id IN ({', '.join([mark] * len(part))})")
                for table in ("answers", "exclusions"):
                    execute(f"DELETE FROM {table} WHERE respondent_id IN ({gone})",
                            [source, *part])
                execute(f"DELETE FROM respondents WHERE id IN ({gone})", [source, *part])
        if not prepared.respondents:
            return
        keys = self._new_ids(len(prepared.respondents))
        ingest_id = self.ingest_id
        insert_many(conn, schema.respondents, ("id", "ingest_id", *_RESPONDENT_COLUMNS),
                    ((rid, ingest_id, *row)
                     for rid, row in zip(keys, prepared.respondents, strict=True)),
                    execute=execute)
        values = prepared.answers
        width = 1 + len(_ANSWER_COLUMNS)
        values[0::width] = [keys[i] for i in values[0::width]]
        insert_values(conn, schema.answers, ("respondent_id", *_ANSWER_COLUMNS), values,
                      execute=execute)
        if prepared.exclusions:
            insert_many(conn, schema.exclusions, ("respondent_id", "reason", "detail"),
                        [(keys[i], reason, detail) for i, reason, detail in prepared.exclusions],
                        execute=execute)
        self.included += prepared.included

    def abandon(self) -> None:
        """Roll everything back when the transaction ends: nothing of this ingest is kept."""
        self.abandoned = True

    def _new_ids(self, count: int) -> list[int]:
        if self._conn.dialect.name == "sqlite":
            first, self._next_id = self._next_id, self._next_id + count
            return list(range(first, first + count))
        # PostgreSQL: ids from the column's own sequence, so that concurrent
        # writers never take the same. The driver's connection is shared with
        # the writing thread; psycopg serialises its use.
        cursor = self._conn.connection.cursor()
        try:
            cursor.execute("SELECT nextval(pg_get_serial_sequence('respondents', 'id')) "
                           "FROM generate_series(1, %s)", [count])
            return [int(row[0]) for row in cursor.fetchall()]
        finally:
            cursor.close()


@contextmanager
def _foreign_keys_trusted(conn: sa.Connection) -> Iterator[None]:
    """On SQLite, leave the foreign keys of an ingest's own rows unchecked.

    Every answer and exclusion written by :class:`IngestWriter` refers to a
    respondent id the same transaction has just given and stored, so
    checking them again is redundant; on SQLite it is a lookup per answer (a
    tenth of the time of storing millions of them). SQLite only switches the
    checks between transactions; they are switched back on even if the
    ingest fails. Deletions do not rely on cascades here:
    :meth:`IngestWriter.write` removes a replaced response's answers and
    exclusions itself.
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


def load_responses(store: Store, *, included_only: bool = True,
                   withdrawn: Collection[str] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Respondents and answers as two tidy frames, for analysis.

    ``respondents``: id, source, source_id, referral_code, referred_by, wave,
    language, country_iso3, region, started_at, submitted_at, finished,
    progress, included. ``answers``: respondent_id, item_id, ordinal, value,
    other_text. No contact detail is read.

    ``withdrawn`` lists response ids or referral codes (``[ingest] withdrawn``)
    of respondents who withdrew: they count as not included from the moment
    they are listed, whatever their source (a web-form response has no ingest
    to exclude it at).
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
    gone = _withdrawn(respondents, withdrawn)
    if gone.any():
        if included_only:
            respondents = respondents[~gone].reset_index(drop=True)
            answers = answers[answers["respondent_id"].isin(respondents["id"])].reset_index(
                drop=True)
        else:
            respondents.loc[gone, "included"] = False
    return respondents, answers


def exclusion_counts(store: Store, *, withdrawn: Collection[str] = ()) -> dict[str, int]:
    """Excluded responses by reason (a response may have several reasons).

    Beside the reasons an ingest recorded: responses listed in ``withdrawn``
    since (``withdrawn``), and unfinished responses with no reason recorded
    (a web-form draft never submitted) as ``incomplete``, as an export's
    unfinished rows are.
    """
    import pandas as pd

    r, x = schema.respondents, schema.exclusions
    with store.engine.connect() as conn:
        counts = {row[0]: int(row[1]) for row in conn.execute(
            sa.select(x.c.reason, sa.func.count()).group_by(x.c.reason))}
        unfinished = int(conn.execute(
            sa.select(sa.func.count()).select_from(r).where(
                r.c.included.is_(False), r.c.finished.is_(False),
                ~sa.exists().where(x.c.respondent_id == r.c.id))).scalar_one())
        if withdrawn:
            kept = pd.DataFrame.from_records(
                conn.execute(sa.select(r.c.source_id, r.c.referral_code)
                             .where(r.c.included.is_(True))).all(),
                columns=["source_id", "referral_code"])
            if (since := int(_withdrawn(kept, withdrawn).sum())):
                counts["withdrawn"] = counts.get("withdrawn", 0) + since
    if unfinished:
        counts["incomplete"] = counts.get("incomplete", 0) + unfinished
    return counts


def normal_code(text: str | None) -> str | None:
    """A referral code as stored: spaces and dashes dropped, upper case (``abcd-efg`` →
    ``ABCDEFG``); ``None`` for an empty one."""
    if not text:
        return None
    return "".join(text.split()).replace("-", "").upper() or None


def _withdrawn(respondents: pd.DataFrame, withdrawn: Collection[str]) -> pd.Series:
    """Which ``respondents`` (frame with source_id and referral_code) are listed in
    ``withdrawn``, by response id as written or by referral code however spelled."""
    import pandas as pd

    if not withdrawn or respondents.empty:
        return pd.Series(False, index=respondents.index, dtype=bool)
    ids = set(withdrawn)
    codes = {code for code in map(normal_code, withdrawn) if code}
    return respondents["source_id"].isin(ids) | respondents["referral_code"].isin(codes)


# Besides ``id`` and ``ingest_id``, which are given when the rows are written.
_RESPONDENT_COLUMNS = ("source", "source_id", "source_row", "referral_code",
                       "referred_by", "wave", "language", "country_iso3", "region", "started_at",
                       "submitted_at", "finished", "progress", "included", "fingerprint")
# In the order of AnswerRecord's fields.
_ANSWER_COLUMNS = ("item_id", "value", "ordinal", "other_text", "source_column")


def _respondent_row(resp: RespondentRecord) -> tuple[Any, ...]:
    return (resp.source, resp.source_id, resp.source_row, resp.referral_code,
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
