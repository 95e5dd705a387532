"""The database tables, as SQLAlchemy Core metadata.

Contact details (names, e-mail addresses, organisations) live in ``contacts``
only. Answers refer to respondents, respondents refer to referral codes, and a
referral code refers to a contact only through ``referral_codes.contact_id``;
analysis reads ``respondents`` and ``answers`` and never joins ``contacts``.

This module describes the current schema. :mod:`consult.store.migrations`
brings an existing database up to it, one numbered step at a time.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A moment in time, written as UTC and read back as an aware UTC datetime.

    SQLite keeps no UTC offset: plain ``DateTime(timezone=True)`` would store
    12:00+02:00 as 12:00 and read back a naive value, where PostgreSQL reads
    back an aware one in the session's time zone. A naive value is taken as UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = sa.MetaData()

schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("applied_at", UTCDateTime(), nullable=False),
)

contacts = sa.Table(
    "contacts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("email", sa.Text, nullable=True),
    sa.Column("organisation", sa.Text, nullable=True),
    sa.Column("country_iso3", sa.String(3), nullable=True),
    sa.Column("language", sa.String(8), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("email", name="uq_contacts_email"),
)

waves = sa.Table(
    "waves",
    metadata,
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("opened_at", UTCDateTime(), nullable=True),
    sa.Column("closed_at", UTCDateTime(), nullable=True),
)

referral_codes = sa.Table(
    "referral_codes",
    metadata,
    sa.Column("code", sa.String(32), primary_key=True),
    # The code of the respondent who was given this code to pass on; NULL for seeds.
    sa.Column("parent_code", sa.String(32), sa.ForeignKey("referral_codes.code"), nullable=True),
    sa.Column("contact_id", sa.Integer, sa.ForeignKey("contacts.id"), nullable=True),
    sa.Column("wave", sa.Integer, nullable=False),
    sa.Column("issued_at", UTCDateTime(), nullable=False),
    sa.Column("used_at", UTCDateTime(), nullable=True),
)

ingests = sa.Table(
    "ingests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source_format", sa.String(32), nullable=False),
    sa.Column("file_name", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("mapping", sa.Text, nullable=True),
    sa.Column("rows_read", sa.Integer, nullable=False),
    sa.Column("raw_path", sa.Text, nullable=True),  # the kept copy under .consult/raw (migration 2)
    sa.Column("rows_included", sa.Integer, nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
)

respondents = sa.Table(
    "respondents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source", sa.String(32), nullable=False),  # web, qualtrics, limesurvey, ...
    sa.Column("source_id", sa.Text, nullable=False),  # the platform's response id
    sa.Column("ingest_id", sa.Integer, sa.ForeignKey("ingests.id"), nullable=True),
    sa.Column("source_row", sa.Integer, nullable=True),
    sa.Column("referral_code", sa.String(32), nullable=True),
    sa.Column("referred_by", sa.String(32), nullable=True),
    sa.Column("wave", sa.Integer, nullable=True),
    sa.Column("language", sa.String(8), nullable=True),
    sa.Column("country_iso3", sa.String(3), nullable=True),
    sa.Column("region", sa.Text, nullable=True),
    sa.Column("started_at", UTCDateTime(), nullable=True),
    sa.Column("submitted_at", UTCDateTime(), nullable=True),
    sa.Column("finished", sa.Boolean, nullable=False, default=False),
    sa.Column("progress", sa.Integer, nullable=True),
    sa.Column("included", sa.Boolean, nullable=False, default=True),
    # SHA-256 of the response's canonical answers: tells a changed re-export (migration 2).
    sa.Column("fingerprint", sa.String(64), nullable=True),
    sa.UniqueConstraint("source", "source_id", name="uq_respondents_source"),
)

answers = sa.Table(
    "answers",
    metadata,
    sa.Column("respondent_id", sa.Integer, sa.ForeignKey("respondents.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("item_id", sa.String(64), primary_key=True),
    # 0 for a single answer; a multiple-choice answer is one row per selected
    # code, numbered in the order of the choices.
    sa.Column("ordinal", sa.Integer, primary_key=True, autoincrement=False),
    # A choice code, a number written as text, or free text (verbatim).
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("other_text", sa.Text, nullable=True),
    sa.Column("source_column", sa.Text, nullable=True),
)

exclusions = sa.Table(
    "exclusions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("respondent_id", sa.Integer, sa.ForeignKey("respondents.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("detail", sa.Text, nullable=True),
)

sa.Index("ix_answers_item", answers.c.item_id)
sa.Index("ix_respondents_code", respondents.c.referral_code)
sa.Index("ix_exclusions_respondent", exclusions.c.respondent_id)
