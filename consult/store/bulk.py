"""Reading and writing millions of rows: around SQLAlchemy Core's per-row work.

Core's executemany and its row objects spend more time per row than SQLite or
PostgreSQL take to store or read it. These helpers hand plain tuples to the
driver's cursor of the same connection (so, the same transaction), applying
each typed column's bind processor once per value.
"""

from __future__ import annotations

import gc
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import chain, islice
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from consult.store.schema import UTCDateTime

if TYPE_CHECKING:
    import pandas as pd

Execute = Callable[[str, Sequence[Any]], None]
"""Runs one SQL statement with its parameters (the driver's paramstyle)."""


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while millions of small objects are made.

    Rows, cells and answer records are in no reference cycle; with the
    collector on, each of its passes walks every one of them again, which
    made a 100,000-row ingest (and reading it back) several times slower than
    linear.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def insert_many(conn: sa.Connection, table: sa.Table, names: Sequence[str],
                rows: Iterable[tuple[Any, ...]], *, execute: Execute | None = None) -> None:
    """INSERT ``rows`` (tuples in the order of ``names``) straight through the driver.

    Core's own executemany spends more time per row than SQLite takes to store
    it; here each typed column's bind processor (dates as UTC, booleans) is
    applied once per value and nothing else is done per row. ``execute`` runs
    each statement (:func:`statements_in_background` gives one); by default a
    cursor of ``conn`` runs them.
    """
    insert = _Insert(conn, table, names)
    pending = iter(rows)
    with _executing(conn, execute) as run:
        for batch in iter(lambda: list(islice(pending, insert.rows)), []):
            insert.run(run, list(chain.from_iterable(batch)))


def insert_values(conn: sa.Connection, table: sa.Table, names: Sequence[str],
                  values: Sequence[Any], *, execute: Execute | None = None) -> None:
    """INSERT rows given as one flat sequence of values, row after row, in the order of
    ``names`` (as :func:`insert_many`, for callers that can lay rows out without a
    tuple per row)."""
    insert = _Insert(conn, table, names)
    size = insert.rows * len(names)
    with _executing(conn, execute) as run:
        for start in range(0, len(values), size):
            insert.run(run, list(values[start:start + size]))


class _Insert:
    """Many-row INSERT statements for one table and column list."""

    def __init__(self, conn: sa.Connection, table: sa.Table, names: Sequence[str]) -> None:
        dialect = conn.dialect
        self.width = len(names)
        self.processors = _processors(table, names, dialect)
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self.one = f"({', '.join([mark] * len(names))})"
        self.head = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES "
        # Many rows per statement: both SQLite and PostgreSQL then spend their
        # time storing rows rather than stepping one statement per row.
        self.rows = max(1, _PARAMETERS_PER_INSERT // len(names))
        self.full = self.head + ", ".join([self.one] * self.rows)

    def run(self, execute: Execute, values: list[Any]) -> None:
        """Store ``values`` (whole rows, at most :attr:`rows` of them); ``values`` is handed
        over and must not be changed afterwards."""
        width = self.width
        for i, processor in self.processors:  # a column at a time: no tuple per row
            values[i::width] = list(map(processor, values[i::width]))
        count = len(values) // width
        execute(self.full if count == self.rows
                else self.head + ", ".join([self.one] * count), values)


# Parameters per statement: below SQLite's limit of 32,766 (and PostgreSQL's
# 65,535). Few large statements rather than many small ones: with the
# statements run in a second thread, each statement is one hand-over of
# Python's interpreter lock between the threads.
_PARAMETERS_PER_INSERT = 30_000


@contextmanager
def statements_in_background(conn: sa.Connection, depth: int = 16) -> Iterator[Execute]:
    """A function that hands statements to a second thread, which runs them in order
    on ``conn``'s driver connection, so inside ``conn``'s transaction.

    While SQLite or PostgreSQL store one batch (the drivers release Python's
    interpreter lock meanwhile), this thread builds the next: the two cores
    work at once. At most ``depth`` statements wait. When the with block
    ends, every statement has run. If one fails, the rest are dropped and its
    error is raised here, from the next hand-over or from the end of the
    block, so the caller's transaction rolls back as it would have anyway;
    if the block fails, the second thread stops before the error leaves it.
    SQLite's connections must allow use from another thread (see
    ``consult.store.db``); only one thread uses the connection at a time.
    """
    cursor = conn.connection.cursor()
    waiting: queue.Queue[tuple[str, Sequence[Any]] | None] = queue.Queue(maxsize=depth)
    failed: list[BaseException] = []

    def run() -> None:
        while (statement := waiting.get()) is not None:
            if failed:
                continue  # keep taking statements so that the other side never waits forever
            try:
                cursor.execute(*statement)
            except BaseException as exc:  # raised again in the caller's thread
                failed.append(exc)

    def execute(sql: str, params: Sequence[Any]) -> None:
        if failed:
            raise failed[0]
        waiting.put((sql, params))

    writer = threading.Thread(target=run, name="consult-store-writer", daemon=True)
    writer.start()
    try:
        yield execute
    finally:
        waiting.put(None)
        writer.join()
        cursor.close()
    if failed:
        raise failed[0]


@contextmanager
def _executing(conn: sa.Connection, execute: Execute | None) -> Iterator[Execute]:
    if execute is not None:
        yield execute
        return
    cursor = conn.connection.cursor()
    try:
        yield cursor.execute
    finally:
        cursor.close()


def _processors(table: sa.Table, names: Sequence[str],
                dialect: sa.Dialect) -> list[tuple[int, Callable[[Any], Any]]]:
    """``(position, bind processor)`` of each column of ``names`` that has one.

    A UTC date-time on SQLite is written directly as the text SQLAlchemy
    itself writes (``2021-12-02 08:46:00.000000``), without its two
    processor layers: a third of the time of storing 100,000 respondents.
    """
    found: list[tuple[int, Callable[[Any], Any]]] = []
    for i, name in enumerate(names):
        column_type = table.c[name].type
        if dialect.name == "sqlite" and isinstance(column_type, UTCDateTime):
            found.append((i, _sqlite_utc_text))
        elif processor := column_type.dialect_impl(dialect).bind_processor(dialect):
            found.append((i, processor))
    return found


def _sqlite_utc_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")


def read_frame(conn: sa.Connection, query: sa.Select[Any], names: Sequence[str],
               integers: Sequence[str] = ()) -> pd.DataFrame:
    """The rows of ``query`` as a frame, read through the driver's cursor.

    Millions of answers: SQLAlchemy's row objects and pandas' record-by-record
    construction each cost more than the database takes to read them; the
    driver's tuples are turned into columns in one pass instead.
    """
    import numpy as np
    import pandas as pd

    sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    return pd.DataFrame({
        name: (np.fromiter(column, dtype=np.int64, count=len(column)) if name in integers
               else np.array(column, dtype=object))
        for name, column in zip(names, columns, strict=True)})
