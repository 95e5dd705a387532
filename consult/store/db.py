"""Opening the database and the queries every part of consult shares.

SQLite is the default (one file in the project, WAL mode so that the web form
and a command can work at once); any SQLAlchemy PostgreSQL URL works as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from consult.errors import StoreError
from consult.store import migrations, schema


@dataclass
class Store:
    """An open database, migrated to the current schema."""

    engine: sa.Engine

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    def schema_version(self) -> int:
        """The schema version recorded in the database."""
        with self.engine.connect() as conn:
            return migrations.current_version(conn)

    def counts(self) -> dict[str, int]:
        """Rows per table, for status displays and tests."""
        with self.engine.connect() as conn:
            return {
                table.name: int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
                                or 0)
                for table in schema.metadata.sorted_tables
                if table is not schema.schema_version
            }

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table, sorted: two dumps compare equal iff the data is equal."""
        with self.engine.connect() as conn:
            return {
                table.name: sorted(
                    (tuple(row) for row in conn.execute(sa.select(table))), key=repr
                )
                for table in schema.metadata.sorted_tables
            }

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open the database at ``url`` and bring its schema up to date.

    Raises
    ------
    StoreError
        When the URL is malformed or the database cannot be reached, with the
        URL (password hidden) and what to check.
    """
    shown = safe_url(url)
    try:
        engine = _engine(url)
    except (ArgumentError, ValueError) as exc:
        raise StoreError(
            f"database URL {shown!r} is not valid ({exc}); expected e.g. sqlite:///consult.db "
            "or postgresql+psycopg://user@host/dbname"
        ) from None
    except ModuleNotFoundError as exc:
        raise StoreError(f"database URL {shown!r} needs the Python package {exc.name!r}; "
                         f"install it with: pip install {exc.name}") from None
    try:
        if migrate:
            migrations.migrate(engine)
        else:
            with engine.connect():
                pass
    except OperationalError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise StoreError(f"cannot open database {shown!r}: {reason}; check [database] url in "
                         "consult.toml or CONSULT_DATABASE_URL") from None
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(f"database {shown!r}: {exc}") from None
    return Store(engine)


def safe_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return url


def _engine(url: str) -> sa.Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # An ingest runs its INSERTs in a second thread while the first makes
        # the next batch (consult.store.bulk.statements_in_background); the
        # pool still hands each connection to one user at a time.
        engine = sa.create_engine(url, connect_args={"check_same_thread": False})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            # psycopg 3 is the driver consult installs; plain postgresql:// means psycopg2.
            parsed = parsed.set(drivername="postgresql+psycopg")
        return sa.create_engine(parsed, pool_pre_ping=True)
    raise ValueError(f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    # Up to 64 MiB of pages per connection (SQLite's default is 2 MiB): an
    # ingest of 100,000 responses inserts into the respondents' indexes at
    # random places, and re-reading evicted pages cost a third of that step.
    # Pages are only taken as they are used.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()
