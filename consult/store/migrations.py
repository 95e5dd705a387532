"""Numbered schema migrations.

A new database is created from the current metadata in one transaction and
stamped with every version. An existing database gets the steps it lacks, each
in its own transaction and recorded in ``schema_version``. A step after the
first writes its own DDL (rather than relying on the current metadata), so that
old databases upgrade the same way every time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from consult.errors import StoreError
from consult.store import schema


@dataclass(frozen=True)
class Migration:
    """One step from ``version - 1`` to ``version``."""

    version: int
    description: str
    apply: Callable[[sa.Connection], None]


def _initial(conn: sa.Connection) -> None:
    # Only ever run on an empty database, which gets the current schema at once
    # (see migrate): later steps upgrade databases made by older versions.
    schema.metadata.create_all(conn)


def _fingerprints(conn: sa.Connection) -> None:
    conn.execute(sa.text("ALTER TABLE respondents ADD COLUMN fingerprint VARCHAR(64)"))
    conn.execute(sa.text("ALTER TABLE ingests ADD COLUMN raw_path TEXT"))


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "contacts, waves, referral codes, ingests, respondents, answers, exclusions",
              _initial),
    Migration(2, "respondents.fingerprint and ingests.raw_path, for idempotent ingest",
              _fingerprints),
)

LATEST = MIGRATIONS[-1].version


def current_version(conn: sa.Connection) -> int:
    """The schema version of the database (0 when it is empty)."""
    if not sa.inspect(conn).has_table("schema_version"):
        return 0
    version = conn.execute(sa.select(sa.func.max(schema.schema_version.c.version))).scalar()
    return int(version or 0)


def migrate(engine: sa.Engine) -> list[Migration]:
    """Apply every missing migration in order; return those applied."""
    applied: list[Migration] = []
    with engine.begin() as conn:
        schema.schema_version.create(conn, checkfirst=True)
        found = current_version(conn)
    if found > LATEST:
        raise StoreError(
            f"the database has schema version {found}, newer than this consult knows "
            f"({LATEST}); upgrade consult (pip install -U consult) before using it"
        )
    if found == 0:
        # A new database gets the current schema in one step, stamped with every version.
        with engine.begin() as conn:
            _initial(conn)
            for migration in MIGRATIONS:
                conn.execute(schema.schema_version.insert().values(
                    version=migration.version, description=migration.description,
                    applied_at=datetime.now(UTC)))
        return list(MIGRATIONS)
    for migration in MIGRATIONS:
        with engine.begin() as conn:
            if current_version(conn) >= migration.version:
                continue
            migration.apply(conn)
            conn.execute(
                schema.schema_version.insert().values(
                    version=migration.version,
                    description=migration.description,
                    applied_at=datetime.now(UTC),
                )
            )
        applied.append(migration)
    return applied
