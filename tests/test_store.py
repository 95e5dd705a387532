"""The store on both backends: a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from consult.errors import StoreError
from consult.store import Store, migrations, open_store, schema

# Every table the schema defines, apart from the migration log.
DATA_TABLES = [t.name for t in schema.metadata.sorted_tables if t.name != "schema_version"]
T0 = datetime(2014, 9, 8, 8, 30, tzinfo=UTC)

# 10,000 characters a respondent might type, or paste to break things: quotes,
# emoji, SQL and LIKE metacharacters, backslashes, line breaks, edge whitespace.
_PIECE = (" It's \"vital\" — 'quotes' `ticks` 🧕🏽👍🌍 é ß 中文 عربى; DROP TABLE answers; -- "
          "%_\\ \\n \r\n\t$1 ?; /* */ OR 1=1 ")
FREE_TEXT = (_PIECE * (10_000 // len(_PIECE) + 1))[:10_000]


def test_new_database_is_migrated_and_empty(store: Store) -> None:
    assert store.schema_version() == migrations.LATEST
    assert store.counts() == dict.fromkeys(DATA_TABLES, 0)
    tables = set(sa.inspect(store.engine).get_table_names())
    assert tables == {*DATA_TABLES, "schema_version"}


def test_opening_twice_is_idempotent(db_url: str) -> None:
    open_store(db_url).close()
    with open_store(db_url) as store:
        assert migrations.migrate(store.engine) == []
        versions = store.dump()["schema_version"]
        assert store.schema_version() == migrations.LATEST
    assert [row[0] for row in versions] == [m.version for m in migrations.MIGRATIONS]


def test_round_trip(store: Store) -> None:
    issued = datetime(2014, 9, 8, 10, 30, tzinfo=timezone(timedelta(hours=2)))
    with store.engine.begin() as conn:
        contact_id = conn.execute(schema.contacts.insert().values(
            name="Zoë O'Brien-Ñúñez", email="zoe@example.org", organisation="Ministère « X »",
            country_iso3="FRA", language="fr", created_at=T0,
        ).returning(schema.contacts.c.id)).scalar_one()
        conn.execute(schema.waves.insert().values(number=0, opened_at=T0))
        conn.execute(schema.referral_codes.insert(), [
            {"code": "SEED01", "parent_code": None, "contact_id": contact_id, "wave": 0,
             "issued_at": issued, "used_at": None},
            {"code": "CHILD1", "parent_code": "SEED01", "contact_id": None, "wave": 1,
             "issued_at": T0, "used_at": T0 + timedelta(days=3)},
        ])
        ingest_id = conn.execute(schema.ingests.insert().values(
            source_format="qualtrics", file_name="export.csv", sha256="ab" * 32, mapping=None,
            rows_read=3, rows_included=1, started_at=T0, finished_at=T0,
        ).returning(schema.ingests.c.id)).scalar_one()
        respondent_id = conn.execute(schema.respondents.insert().values(
            source="qualtrics", source_id="R_1abc", ingest_id=ingest_id, source_row=2,
            referral_code="CHILD1", referred_by="SEED01", wave=1, language="fr",
            country_iso3="FRA", region="Europe", started_at=T0, submitted_at=T0,
            finished=True, progress=100,
        ).returning(schema.respondents.c.id)).scalar_one()
        answers = [
            {"item_id": "q1", "ordinal": 0, "value": "4", "other_text": None,
             "source_column": "Q1"},
            {"item_id": "q2", "ordinal": 0, "value": "police", "other_text": None,
             "source_column": "Q2_1"},
            {"item_id": "q2", "ordinal": 1, "value": "schools", "other_text": None,
             "source_column": "Q2_3"},
            {"item_id": "q2", "ordinal": 2, "value": "other", "other_text": "imams' council",
             "source_column": "Q2_9"},
            {"item_id": "q3", "ordinal": 0, "value": FREE_TEXT, "other_text": None,
             "source_column": "Q3"},
        ]
        conn.execute(schema.answers.insert(),
                     [{"respondent_id": respondent_id, **a} for a in answers])
        conn.execute(schema.exclusions.insert().values(
            respondent_id=respondent_id, reason="speeder", detail="finished in 40 s"))

    with store.engine.connect() as conn:
        contact = conn.execute(sa.select(schema.contacts)).one()._asdict()
        codes = conn.execute(
            sa.select(schema.referral_codes).order_by(schema.referral_codes.c.wave)).all()
        respondent = conn.execute(sa.select(schema.respondents)).one()._asdict()
        read_answers = conn.execute(
            sa.select(schema.answers.c.item_id, schema.answers.c.ordinal, schema.answers.c.value,
                      schema.answers.c.other_text, schema.answers.c.source_column)
            .order_by(schema.answers.c.item_id, schema.answers.c.ordinal)).mappings().all()
        exclusion = conn.execute(sa.select(schema.exclusions)).one()._asdict()
        multiple = conn.execute(
            sa.select(schema.answers.c.value).where(schema.answers.c.item_id == "q2")
            .order_by(schema.answers.c.ordinal)).scalars().all()

    assert contact == {"id": contact_id, "name": "Zoë O'Brien-Ñúñez", "email": "zoe@example.org",
                       "organisation": "Ministère « X »", "country_iso3": "FRA",
                       "language": "fr", "created_at": T0}
    assert [(c.code, c.parent_code, c.contact_id) for c in codes] == [
        ("SEED01", None, contact_id), ("CHILD1", "SEED01", None)]
    # Written with a +02:00 offset, read back as the same instant in UTC on both backends.
    assert codes[0].issued_at == issued
    assert codes[0].issued_at.utcoffset() == timedelta(0)
    assert codes[1].used_at == datetime(2014, 9, 11, 8, 30, tzinfo=UTC)
    assert respondent == {
        "id": respondent_id, "source": "qualtrics", "source_id": "R_1abc",
        "ingest_id": ingest_id, "source_row": 2, "referral_code": "CHILD1",
        "referred_by": "SEED01", "wave": 1, "language": "fr", "country_iso3": "FRA",
        "region": "Europe", "started_at": T0, "submitted_at": T0, "finished": True,
        "progress": 100, "included": True, "fingerprint": None,
    }
    assert [dict(a) for a in read_answers] == answers
    assert multiple == ["police", "schools", "other"]
    assert len(FREE_TEXT) == 10_000
    assert read_answers[-1]["value"] == FREE_TEXT
    assert exclusion == {"id": exclusion["id"], "respondent_id": respondent_id,
                         "reason": "speeder", "detail": "finished in 40 s"}
    assert store.counts() == {**dict.fromkeys(DATA_TABLES, 0), "contacts": 1, "waves": 1,
                              "referral_codes": 2, "ingests": 1, "respondents": 1, "answers": 5,
                              "exclusions": 1}


def test_failed_transaction_leaves_nothing_behind(store: Store) -> None:
    respondent_id = _add_respondent(store, "R_1")
    before = store.dump()
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(schema.respondents.insert().values(source="web", source_id="R_2"))
        conn.execute(schema.answers.insert(), [
            {"respondent_id": respondent_id, "item_id": "q1", "ordinal": 0, "value": "1"},
            {"respondent_id": respondent_id, "item_id": "q1", "ordinal": 0, "value": "2"},
        ])
    assert store.dump() == before


def test_foreign_keys_are_enforced(store: Store) -> None:
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(schema.answers.insert().values(
            respondent_id=999, item_id="q1", ordinal=0, value="1"))
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(schema.referral_codes.insert().values(
            code="ORPHAN", parent_code="NOSUCH", wave=1, issued_at=T0))
    assert store.counts() == dict.fromkeys(DATA_TABLES, 0)


def test_sqlite_uses_wal(sqlite_url: str) -> None:
    with open_store(sqlite_url) as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_respondent_source_and_id_are_unique(store: Store) -> None:
    _add_respondent(store, "R_1", source="qualtrics")
    _add_respondent(store, "R_1", source="limesurvey")  # same id on another platform is fine
    with pytest.raises(IntegrityError):
        _add_respondent(store, "R_1", source="qualtrics")
    assert store.counts()["respondents"] == 2


def test_deleting_a_respondent_cascades(store: Store) -> None:
    gone = _add_respondent(store, "R_1")
    kept = _add_respondent(store, "R_2")
    with store.engine.begin() as conn:
        for respondent_id in (gone, kept):
            conn.execute(schema.answers.insert(), [
                {"respondent_id": respondent_id, "item_id": "q2", "ordinal": n, "value": v}
                for n, v in enumerate(["a", "b"])
            ])
            conn.execute(schema.exclusions.insert().values(
                respondent_id=respondent_id, reason="duplicate"))
        conn.execute(schema.respondents.delete().where(schema.respondents.c.id == gone))
    dump = store.dump()
    assert [row[0] for row in dump["respondents"]] == [kept]
    assert {row[0] for row in dump["answers"]} == {kept}
    assert [row[1] for row in dump["exclusions"]] == [kept]


def test_unknown_database_kind_is_refused() -> None:
    with pytest.raises(StoreError) as caught:
        open_store("nonsense://x")
    assert str(caught.value) == (
        "database URL 'nonsense://x' is not valid (unsupported database 'nonsense': use sqlite "
        "or postgresql); expected e.g. sqlite:///consult.db or "
        "postgresql+psycopg://user@host/dbname"
    )


def test_unreachable_server_names_url_and_setting() -> None:
    url = "postgresql+psycopg://consult@127.0.0.1:1/none"
    with pytest.raises(StoreError) as caught:
        open_store(url)
    message = str(caught.value)
    assert message.startswith(f"cannot open database '{url}': connection failed: ")
    assert "Connection refused" in message
    assert message.endswith("; check [database] url in consult.toml or CONSULT_DATABASE_URL")


def test_error_message_hides_the_password() -> None:
    with pytest.raises(StoreError) as caught:
        open_store("postgresql+psycopg://u:secretpw@127.0.0.1:1/x")
    message = str(caught.value)
    assert message.startswith("cannot open database 'postgresql+psycopg://u:***@127.0.0.1:1/x': ")
    assert "secretpw" not in message


CONTACT_LIKE = re.compile(r"name|e_?mail|organi[sz]ation|org$|phone|address|contact", re.I)


def test_analysis_tables_hold_no_contact_details(store: Store) -> None:
    """Names, e-mails and organisations live in ``contacts`` only (privacy by structure)."""
    inspector = sa.inspect(store.engine)
    for table in ("respondents", "answers", "exclusions"):
        columns = [c["name"] for c in inspector.get_columns(table)]
        assert columns == [c.name for c in schema.metadata.tables[table].columns]
        assert [c for c in columns if CONTACT_LIKE.search(c)] == [], table
        referred = {fk["referred_table"] for fk in inspector.get_foreign_keys(table)}
        assert "contacts" not in referred, table
    assert CONTACT_LIKE.search("organisation")  # the pattern catches what it must


def _add_respondent(store: Store, source_id: str, source: str = "web") -> int:
    with store.engine.begin() as conn:
        return int(conn.execute(schema.respondents.insert().values(
            source=source, source_id=source_id, finished=True,
        ).returning(schema.respondents.c.id)).scalar_one())


def test_a_newer_database_is_refused_untouched(sqlite_url: str) -> None:
    LATEST = migrations.LATEST
    store = open_store(sqlite_url)
    with store.engine.begin() as conn:
        conn.execute(sa.insert(schema.schema_version).values(
            version=LATEST + 1, description="from the future", applied_at=datetime.now(UTC)))
    before = store.dump()
    store.close()
    with pytest.raises(StoreError) as caught:
        open_store(sqlite_url)
    assert str(caught.value) == (
        f"the database has schema version {LATEST + 1}, newer than this consult knows "
        f"({LATEST}); upgrade consult (pip install -U consult) before using it"
    )
    with open_store(sqlite_url, migrate=False) as again:
        assert again.dump() == before


def test_a_version_1_database_is_upgraded_in_place(sqlite_url: str) -> None:
    # Make the database an older consult would have left: schema 1, rows in it.
    store = open_store(sqlite_url)
    with store.engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE respondents DROP COLUMN fingerprint"))
        conn.execute(sa.text("ALTER TABLE ingests DROP COLUMN raw_path"))
        conn.execute(sa.delete(schema.schema_version).where(schema.schema_version.c.version > 1))
        conn.execute(sa.text("INSERT INTO respondents (source, source_id, finished, included) "
                             "VALUES ('web', 'old-1', 1, 1)"))
    store.close()
    with open_store(sqlite_url) as upgraded:
        assert upgraded.schema_version() == migrations.LATEST
        columns = {c["name"] for c in sa.inspect(upgraded.engine).get_columns("respondents")}
        assert "fingerprint" in columns
        assert upgraded.counts()["respondents"] == 1


def test_a_version_3_database_gets_lean_answers_and_keeps_them(sqlite_url: str) -> None:
    # Answers as versions 1-3 made them: a rowid table with an item index.
    store = open_store(sqlite_url)
    with store.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE answers"))
        conn.execute(sa.text(
            "CREATE TABLE answers (respondent_id INTEGER NOT NULL REFERENCES respondents (id) "
            "ON DELETE CASCADE, item_id VARCHAR(64) NOT NULL, ordinal INTEGER NOT NULL, "
            "value TEXT NOT NULL, other_text TEXT, source_column TEXT, "
            "PRIMARY KEY (respondent_id, item_id, ordinal))"))
        conn.execute(sa.text("CREATE INDEX ix_answers_item ON answers (item_id)"))
        conn.execute(sa.delete(schema.schema_version).where(schema.schema_version.c.version > 3))
        conn.execute(sa.text("INSERT INTO respondents (id, source, source_id, finished, included) "
                             "VALUES (7, 'web', 'old-1', 1, 1)"))
        conn.execute(sa.text("INSERT INTO answers VALUES (7, 'q1', 0, 'yes', NULL, 'Q1'), "
                             "(7, 'q2', 1, 'other', 'Probation', 'Q2_4')"))
        before = conn.execute(sa.text("SELECT * FROM answers ORDER BY item_id")).all()
    store.close()
    with open_store(sqlite_url) as upgraded:
        assert upgraded.schema_version() == migrations.LATEST
        with upgraded.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT * FROM answers ORDER BY item_id")).all() == before
            table_sql = conn.execute(sa.text(
                "SELECT sql FROM sqlite_master WHERE name = 'answers'")).scalar_one()
            indexes = {i["name"] for i in sa.inspect(conn).get_indexes("answers")}
        assert "WITHOUT ROWID" in table_sql
        assert "ix_answers_item" not in indexes
        # The foreign key still cascades.
        with upgraded.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM respondents WHERE id = 7"))
        assert upgraded.counts()["answers"] == 0


def test_write_ingest_round_trips_every_field(store: Store) -> None:
    from consult.store.responses import (
        AnswerRecord,
        IngestRecord,
        RespondentRecord,
        load_responses,
        write_ingest,
    )

    paris = timezone(timedelta(hours=2))
    kept = RespondentRecord(
        source="qualtrics", source_id="R_1", source_row=4, referral_code="CHILD1",
        referred_by="SEED01", wave=1, language="fr", country_iso3="FRA", region="Europe",
        started_at=datetime(2014, 9, 8, 10, 0, tzinfo=paris),
        submitted_at=datetime(2014, 9, 8, 10, 30, tzinfo=paris), finished=True, progress=100,
        fingerprint="f" * 64,
        answers=(AnswerRecord("q1", "4", 0, None, "Q1"),
                 AnswerRecord("q2", "police", 0, None, "Q2_1"),
                 AnswerRecord("q2", "other", 3, "imams' council", "Q2_9_TEXT"),
                 AnswerRecord("q3", FREE_TEXT, 0, None, "Q3")))
    dropped = RespondentRecord(source="qualtrics", source_id="R_2", source_row=5, finished=False,
                               progress=40, answers=(AnswerRecord("q1", "2", 0, None, "Q1"),),
                               exclusions=(("incomplete", "not finished"),))
    write_ingest(store, IngestRecord(source_format="qualtrics", file_name="export.csv",
                                     sha256="cd" * 32, rows_read=2), [kept, dropped])

    respondents, answers = load_responses(store, included_only=False)
    first = respondents.set_index("source_id").loc["R_1"]
    assert first["started_at"] == datetime(2014, 9, 8, 8, 0, tzinfo=UTC)
    assert first["submitted_at"] == datetime(2014, 9, 8, 8, 30, tzinfo=UTC)
    assert (first["finished"], first["included"], first["progress"]) == (True, True, 100)
    assert (first["referral_code"], first["referred_by"], first["region"]) == (
        "CHILD1", "SEED01", "Europe")
    second = respondents.set_index("source_id").loc["R_2"]
    assert (second["finished"], second["included"]) == (False, False)
    mine = answers[answers["respondent_id"] == first["id"]]
    assert list(mine.itertuples(index=False, name=None)) == [
        (first["id"], a.item_id, a.ordinal, a.value, a.other_text) for a in kept.answers]
    with store.engine.connect() as conn:
        columns = conn.execute(sa.select(schema.answers.c.source_column).order_by(
            schema.answers.c.respondent_id, schema.answers.c.item_id,
            schema.answers.c.ordinal)).scalars().all()
        reasons = conn.execute(sa.select(schema.exclusions.c.reason)).scalars().all()
    assert columns == ["Q1", "Q2_1", "Q2_9_TEXT", "Q3", "Q1"]
    assert reasons == ["incomplete"]


def test_a_failed_first_web_save_leaves_no_draft_behind(store: Store) -> None:
    from consult.store.responses import AnswerRecord
    from consult.store.web import PageSave, save_web_page

    twice = AnswerRecord("q1", "yes", 0, None, None)  # the same answer key twice: refused
    page = PageSave(code="ABCD2345", wave=1, referred_by=None, language="en",
                    answers=[twice, twice], clear_items={"q1"}, progress=10, finished=False,
                    now=T0)
    with pytest.raises(IntegrityError):
        save_web_page(store, page)
    # The respondent row made for the first save went with the rest of the transaction.
    assert store.counts()["respondents"] == 0
    save_web_page(store, PageSave(**{**page.__dict__, "answers": [twice]}))
    assert (store.counts()["respondents"], store.counts()["answers"]) == (1, 1)


def test_bulk_writes_match_what_sqlalchemy_itself_writes(store: Store) -> None:
    """The bulk path (dates written directly, many rows per statement) stores exactly
    what SQLAlchemy Core's own INSERT stores, over the statement size limit too."""
    from consult.store import bulk

    paris = timezone(timedelta(hours=2))
    moments = [datetime(2014, 9, 8, 10, 0, tzinfo=paris), datetime(2021, 12, 2, 8, 46, 1, 250),
               datetime(1999, 1, 1, tzinfo=UTC), None]
    r, a = schema.respondents, schema.answers
    columns = ("source", "source_id", "started_at", "submitted_at", "finished", "included")
    per_statement = bulk._PARAMETERS_PER_INSERT // 6
    many = [("q1", str(n % 7), n, None, f"Q{n}") for n in range(per_statement * 2 + 3)]
    with store.engine.begin() as conn:
        ingest = conn.execute(schema.ingests.insert().values(
            source_format="t", file_name="f", sha256="ab" * 32, rows_read=8, rows_included=4,
            started_at=T0).returning(schema.ingests.c.id)).scalar_one()
        for n, moment in enumerate(moments):
            row = {"source": "core", "source_id": str(n), "started_at": moment or T0,
                   "submitted_at": moment, "finished": True, "included": n % 2 == 0,
                   "ingest_id": ingest}
            conn.execute(r.insert().values(**row))
        bulk.insert_many(conn, r, (*columns, "ingest_id"), [
            ("bulk", str(n), moment or T0, moment, True, n % 2 == 0, ingest)
            for n, moment in enumerate(moments)])
        ids = dict(conn.execute(sa.select(r.c.source_id, r.c.id).where(r.c.source == "bulk")).all())
        bulk.insert_many(conn, a, ("respondent_id", "item_id", "value", "ordinal",
                                   "other_text", "source_column"),
                         [(ids["0"], *answer) for answer in many] + [(ids["2"], *many[0])])
    with store.engine.connect() as conn:
        raw = conn.execute(sa.text(
            "SELECT source, source_id, started_at, submitted_at, finished, included "
            "FROM respondents ORDER BY source, source_id")).all()
        stored = conn.execute(sa.select(a.c.respondent_id, a.c.item_id, a.c.value, a.c.ordinal,
                                        a.c.other_text, a.c.source_column)
                              .order_by(a.c.respondent_id, a.c.ordinal, a.c.value)).all()
    by_source = {"bulk": [row[1:] for row in raw if row[0] == "bulk"],
                 "core": [row[1:] for row in raw if row[0] == "core"]}
    assert by_source["bulk"] == by_source["core"]
    assert len(by_source["bulk"]) == len(moments)
    expected = sorted([(ids["0"], *answer) for answer in many] + [(ids["2"], *many[0])],
                      key=lambda row: (row[0], row[3], row[2]))
    assert [tuple(row) for row in stored] == expected


def test_ingest_writes_keep_every_foreign_key_and_switch_checks_back_on(store: Store) -> None:
    """write_ingest leaves SQLite's foreign-key checks off for its own rows: the
    rows it writes must still satisfy them, a replacement must take the old
    answers and exclusions with it, and the checks must be on again afterwards."""
    from consult.store.responses import AnswerRecord, IngestRecord, RespondentRecord, write_ingest

    def response(source_id: str, value: str, excluded: bool = False) -> RespondentRecord:
        return RespondentRecord(
            source="qualtrics", source_id=source_id, answers=(AnswerRecord("q1", value, 0),),
            exclusions=(("incomplete", "not finished"),) if excluded else ())

    def ingest(sha: str) -> IngestRecord:
        return IngestRecord(source_format="qualtrics", file_name="e.csv", sha256=sha * 64,
                            rows_read=2)

    write_ingest(store, ingest("a"), [response("R_1", "1", excluded=True), response("R_2", "2")])
    write_ingest(store, ingest("b"), [response("R_1", "3")], replace=["R_1"])
    with store.engine.connect() as conn:
        answers = conn.execute(sa.text(
            "SELECT r.source_id, a.value FROM answers a JOIN respondents r "
            "ON r.id = a.respondent_id ORDER BY r.source_id")).all()
        orphans = conn.execute(sa.text(
            "SELECT count(*) FROM answers WHERE respondent_id NOT IN (SELECT id FROM respondents)"
        )).scalar_one()
        orphans += conn.execute(sa.text(
            "SELECT count(*) FROM exclusions WHERE respondent_id NOT IN "
            "(SELECT id FROM respondents)")).scalar_one()
        excluded = conn.execute(sa.select(sa.func.count()).select_from(schema.exclusions)
                                ).scalar_one()
    assert [tuple(row) for row in answers] == [("R_1", "3"), ("R_2", "2")]
    assert (orphans, excluded) == (0, 0)
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(schema.answers.insert().values(respondent_id=999_999, item_id="q1",
                                                   value="x", ordinal=0))
