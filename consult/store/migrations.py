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


def _fielding(conn: sa.Connection) -> None:
    # The two tables as version 3 made them, frozen here rather than taken from
    # schema.py, so that a later change to them gets its own step. The stub
    # tables only let the foreign keys resolve; they are not created.
    frozen = sa.MetaData()
    sa.Table("contacts", frozen, sa.Column("id", sa.Integer, primary_key=True))
    codes = sa.Table("referral_codes", frozen, sa.Column("code", sa.String(32), primary_key=True),
                     sa.Column("parent_code", sa.String(32)))
    messages = sa.Table(
        "messages", frozen,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("contact_id", sa.Integer, sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column("code", sa.String(32), sa.ForeignKey("referral_codes.code"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("wave", sa.Integer, nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("recipient", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("message_id", sa.Text, nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("transport", sa.Text, nullable=True),
        sa.Column("created_at", schema.UTCDateTime(), nullable=False),
        sa.Column("last_attempt_at", schema.UTCDateTime(), nullable=True),
        sa.Column("sent_at", schema.UTCDateTime(), nullable=True),
        sa.UniqueConstraint("code", "kind", "sequence", name="uq_messages_code_kind_sequence"),
        sa.CheckConstraint("kind IN ('invitation', 'reminder', 'referral')",
                           name="ck_messages_kind"),
        sa.CheckConstraint("status IN ('queued', 'sent', 'failed')", name="ck_messages_status"),
    )
    nominations = sa.Table(
        "nominations", frozen,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("nominator_code", sa.String(32), sa.ForeignKey("referral_codes.code"),
                  nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("organisation", sa.Text, nullable=True),
        sa.Column("country_iso3", sa.String(3), nullable=True),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("created_at", schema.UTCDateTime(), nullable=False),
        sa.Column("decided_at", schema.UTCDateTime(), nullable=True),
        sa.Column("contact_id", sa.Integer, sa.ForeignKey("contacts.id"), nullable=True),
        sa.Column("code", sa.String(32), sa.ForeignKey("referral_codes.code"), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')",
                           name="ck_nominations_status"),
    )
    indexes = [sa.Index("ix_messages_status", messages.c.status),
               sa.Index("ix_referral_codes_parent", codes.c.parent_code)]
    messages.create(conn, checkfirst=True)
    nominations.create(conn, checkfirst=True)
    existing = {ix["name"] for table in ("messages", "referral_codes")
                for ix in sa.inspect(conn).get_indexes(table)}
    for index in indexes:
        if index.name not in existing:
            index.create(conn)


def _lean_answers(conn: sa.Connection) -> None:
    # Ingest writes millions of answers: drop the item index nothing queries,
    # and on SQLite keep the rows in the primary key's tree (WITHOUT ROWID).
    conn.execute(sa.text("DROP INDEX IF EXISTS ix_answers_item"))
    if conn.dialect.name != "sqlite":
        return
    conn.execute(sa.text(
        "CREATE TABLE answers_v4 ("
        "respondent_id INTEGER NOT NULL REFERENCES respondents (id) ON DELETE CASCADE, "
        "item_id VARCHAR(64) NOT NULL, ordinal INTEGER NOT NULL, value TEXT NOT NULL, "
        "other_text TEXT, source_column TEXT, "
        "PRIMARY KEY (respondent_id, item_id, ordinal)) WITHOUT ROWID"))
    conn.execute(sa.text(
        "INSERT INTO answers_v4 (respondent_id, item_id, ordinal, value, other_text, "
        "source_column) SELECT respondent_id, item_id, ordinal, value, other_text, "
        "source_column FROM answers"))
    conn.execute(sa.text("DROP TABLE answers"))
    conn.execute(sa.text("ALTER TABLE answers_v4 RENAME TO answers"))


def _code_failures(conn: sa.Connection) -> None:
    # The table as version 5 made it, frozen here rather than taken from schema.py.
    frozen = sa.MetaData()
    failures = sa.Table(
        "code_failures", frozen,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("client_key", sa.String(64), nullable=False),
        sa.Column("failed_at", schema.UTCDateTime(), nullable=False),
    )
    sa.Index("ix_code_failures_client", failures.c.client_key, failures.c.failed_at)
    sa.Index("ix_code_failures_failed_at", failures.c.failed_at)
    failures.create(conn, checkfirst=True)  # with its indexes


def _handed_at(conn: sa.Connection) -> None:
    # Until now status took every child code without a contact as handed out;
    # the backfill keeps that assumption for the codes issued so far, so that
    # an upgrade leaves every status figure as it was.
    if "handed_at" in {c["name"] for c in sa.inspect(conn).get_columns("referral_codes")}:
        return  # made by a newer schema already (create_all), nothing to fill in
    column_type = schema.UTCDateTime().compile(dialect=conn.dialect)
    conn.execute(sa.text(f"ALTER TABLE referral_codes ADD COLUMN handed_at {column_type}"))
    conn.execute(sa.text("UPDATE referral_codes SET handed_at = issued_at "
                         "WHERE parent_code IS NOT NULL AND contact_id IS NULL"))


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "contacts, waves, referral codes, ingests, respondents, answers, exclusions",
              _initial),
    Migration(2, "respondents.fingerprint and ingests.raw_path, for idempotent ingest",
              _fingerprints),
    Migration(3, "messages and nominations, for fielding", _fielding),
    Migration(4, "answers without the item index (and WITHOUT ROWID on SQLite), for fast ingest",
              _lean_answers),
    Migration(5, "code_failures, so that the web form's limit on wrong codes holds across "
              "workers", _code_failures),
    Migration(6, "referral_codes.handed_at, so that status counts only codes handed out",
              _handed_at),
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
