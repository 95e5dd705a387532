"""Reading and writing millions of rows: around SQLAlchemy Core's per-row work.

Core's executemany and its row objects spend more time per row than SQLite or
PostgreSQL take to store or read it. These helpers hand plain tuples to the
driver's cursor of the same connection (so, the same transaction), applying
each typed column's bind processor once per value.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import chain, islice
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from consult.store.schema import UTCDateTime

if TYPE_CHECKING:
    import pandas as pd


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
                rows: Iterable[tuple[Any, ...]]) -> None:
    """INSERT ``rows`` (tuples in the order of ``names``) straight through the driver.

    Core's own executemany spends more time per row than SQLite takes to store
    it; here each typed column's bind processor (dates as UTC, booleans) is
    applied once per value and nothing else is done per row.
    """
    dialect = conn.dialect
    processors = _processors(table, names, dialect)
    if processors:
        def process(row: tuple[Any, ...]) -> tuple[Any, ...]:
            values = list(row)
            for i, processor in processors:
                values[i] = processor(values[i])
            return tuple(values)
        rows = map(process, rows)
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    one = f"({', '.join([mark] * len(names))})"
    insert = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES "
    # Many rows per statement: both SQLite and PostgreSQL then spend their time
    # storing rows rather than stepping one statement per row (about 40% less
    # time on SQLite for millions of answers). The DBAPI cursor of this
    # connection (so, this transaction) takes the batches as they are made.
    full = insert + ", ".join([one] * _ROWS_PER_INSERT)
    pending = iter(rows)
    batches = iter(lambda: list(islice(pending, _ROWS_PER_INSERT)), [])
    cursor = conn.connection.cursor()
    try:
        for batch in batches:
            flat = list(chain.from_iterable(batch))
            if len(batch) == _ROWS_PER_INSERT:
                cursor.execute(full, flat)
            else:
                cursor.execute(insert + ", ".join([one] * len(batch)), flat)
    finally:
        cursor.close()


_ROWS_PER_INSERT = 100  # x 16 columns at most: far below SQLite's 32,766 parameters


def insert_grouped(conn: sa.Connection, table: sa.Table, key: str, names: Sequence[str],
                   groups: Iterable[tuple[Any, Sequence[Sequence[Any]]]]) -> None:
    """INSERT rows that share their first column, one group of rows per statement.

    ``groups`` yields ``(key value, rows)``, each row a sequence in the order
    of ``names`` (an answer record as it is). On SQLite the key is bound once
    per group (``?1``) and the rows' values are passed as they are, so no
    tuple is made per row: millions of answers cost a third less Python time.
    Other databases, and columns with bind processors, go through
    :func:`insert_many`.
    """
    dialect = conn.dialect
    if dialect.paramstyle != "qmark" or _processors(table, (key, *names), dialect):
        insert_many(conn, table, (key, *names),
                    ((value, *row) for value, rows in groups for row in rows))
        return
    width = len(names)
    head = f"INSERT INTO {table.name} ({key}, {', '.join(names)}) VALUES "
    statements: dict[int, str] = {}

    def statement(count: int) -> str:
        rows = (", ".join(["?1", *(f"?{2 + width * r + c}" for c in range(width))])
                for r in range(count))
        statements[count] = head + ", ".join(f"({row})" for row in rows)
        return statements[count]

    cursor = conn.connection.cursor()
    try:
        for value, rows in groups:
            for start in range(0, len(rows), _ROWS_PER_GROUP):
                part = rows[start:start + _ROWS_PER_GROUP] if len(rows) > _ROWS_PER_GROUP else rows
                if not part:
                    continue
                params = [value]
                params.extend(chain.from_iterable(part))
                cursor.execute(statements.get(len(part)) or statement(len(part)), params)
    finally:
        cursor.close()


_ROWS_PER_GROUP = 500  # x 5 values + 1: far below SQLite's 32,766 parameters


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
