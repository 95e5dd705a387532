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
    # When the code first left the database (migration 6): its link written by
    # ``consult links``, shown on the web form's thank-you page, or carried by a
    # delivered referral letter. NULL: issued but never handed out (an invitation
    # delivered is in ``messages``).
    sa.Column("handed_at", UTCDateTime(), nullable=True),
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
    # SQLite keeps the rows in the primary key's B-tree itself (migration 4):
    # one tree to write instead of a table and its key index. Nothing looks
    # answers up by item alone, so there is no item index to maintain either.
    sqlite_with_rowid=False,
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

sa.Index("ix_respondents_code", respondents.c.referral_code)
sa.Index("ix_exclusions_respondent", exclusions.c.respondent_id)

# Fielding (migration 3). Both tables hold contact details or personal links, so
# like ``contacts`` they are read by sampling and never by analysis.

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("contact_id", sa.Integer, sa.ForeignKey("contacts.id"), nullable=False),
    # The code the message is about: the invitee's own code, or for a referral
    # letter the respondent's code whose child codes it carries.
    sa.Column("code", sa.String(32), sa.ForeignKey("referral_codes.code"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    # 0 for an invitation or a referral letter; n for the n-th reminder.
    sa.Column("sequence", sa.Integer, nullable=False),
    sa.Column("wave", sa.Integer, nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("recipient", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    # Rendered once, when queued: a retry sends exactly the same text and Message-ID.
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("message_id", sa.Text, nullable=False),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("transport", sa.Text, nullable=True),  # smtp://host:port, or the .eml file written
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("last_attempt_at", UTCDateTime(), nullable=True),
    sa.Column("sent_at", UTCDateTime(), nullable=True),
    # What makes re-running a command safe: one row, hence one delivery, per message.
    sa.UniqueConstraint("code", "kind", "sequence", name="uq_messages_code_kind_sequence"),
    sa.CheckConstraint("kind IN ('invitation', 'reminder', 'referral')", name="ck_messages_kind"),
    sa.CheckConstraint("status IN ('queued', 'sent', 'failed')", name="ck_messages_status"),
)

nominations = sa.Table(
    "nominations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("nominator_code", sa.String(32), sa.ForeignKey("referral_codes.code"),
              nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("organisation", sa.Text, nullable=True),
    sa.Column("country_iso3", sa.String(3), nullable=True),
    sa.Column("language", sa.String(8), nullable=True),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("decided_at", UTCDateTime(), nullable=True),
    # Set on approval: the nominee's contact and the child code they were invited with.
    sa.Column("contact_id", sa.Integer, sa.ForeignKey("contacts.id"), nullable=True),
    sa.Column("code", sa.String(32), sa.ForeignKey("referral_codes.code"), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')",
                       name="ck_nominations_status"),
)

sa.Index("ix_messages_status", messages.c.status)
sa.Index("ix_referral_codes_parent", referral_codes.c.parent_code)

# The web form's wrong code entries (migration 5), shared by every worker so that
# the limit on code guessing holds across workers and machines. ``client_key`` is
# an HMAC-SHA256 of the client's address under the web form's secret, never the
# address itself; rows older than the limiter's window are deleted.
code_failures = sa.Table(
    "code_failures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("client_key", sa.String(64), nullable=False),
    sa.Column("failed_at", UTCDateTime(), nullable=False),
)

sa.Index("ix_code_failures_client", code_failures.c.client_key, code_failures.c.failed_at)
sa.Index("ix_code_failures_failed_at", code_failures.c.failed_at)
