"""Statements run in a second thread: in order, inside the caller's transaction, and
an error on either side leaves the store as it was."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from consult.store import Store, schema
from consult.store.bulk import statements_in_background
from consult.store.responses import AnswerRecord, IngestRecord, RespondentRecord, write_ingest


def insert_wave(conn: sa.Connection) -> str:
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    return f"INSERT INTO waves (number) VALUES ({mark})"


def writer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "consult-store-writer"]


def test_statements_run_in_order_inside_the_callers_transaction(store: Store) -> None:
    with store.engine.connect() as conn, conn.begin() as transaction:
        with statements_in_background(conn, depth=2) as execute:
            for number in range(50):
                execute(insert_wave(conn), [number])
            execute("DELETE FROM waves WHERE number < 25", [])  # only right after the inserts
            execute(insert_wave(conn), [3])
        # Every statement has run when the block ends: the same transaction sees them.
        seen = conn.execute(sa.select(schema.waves.c.number).order_by("number")).scalars().all()
        transaction.rollback()
    assert seen == [3, *range(25, 50)]
    assert store.counts()["waves"] == 0
    assert writer_threads() == []


def test_a_statement_failing_in_the_writer_thread_is_raised_and_rolls_back(store: Store) -> None:
    # The duplicate fails in the second thread while the first keeps handing
    # over more statements than the queue holds: it must neither hang nor
    # lose the error.
    with pytest.raises(Exception, match=r"(?i)unique|duplicate") as raised, \
            store.engine.begin() as conn, statements_in_background(conn, depth=2) as execute:
        execute(insert_wave(conn), [1])
        execute(insert_wave(conn), [1])
        for number in range(2, 200):
            execute(insert_wave(conn), [number])
    assert isinstance(raised.value, Exception)
    assert store.counts()["waves"] == 0
    assert writer_threads() == []


def test_an_error_while_making_batches_stops_the_writer_and_rolls_back(store: Store) -> None:
    with pytest.raises(RuntimeError, match="made up"), store.engine.begin() as conn, \
            statements_in_background(conn, depth=2) as execute:
        for number in range(20):
            execute(insert_wave(conn), [number])
        raise RuntimeError("made up")
    assert writer_threads() == []
    assert store.counts()["waves"] == 0


def test_an_ingest_whose_answers_fail_to_store_leaves_nothing(store: Store) -> None:
    def response(source_id: str, answers: tuple[AnswerRecord, ...]) -> RespondentRecord:
        return RespondentRecord(source="qualtrics", source_id=source_id, answers=answers)

    fine = tuple(AnswerRecord(f"q{n}", "1", 0, None, f"Q{n}") for n in range(3))
    twice = AnswerRecord("q1", "2", 0, None, "Q1")  # the same answer key twice: refused
    ingest = IngestRecord(source_format="qualtrics", file_name="e.csv", sha256="e" * 64,
                          rows_read=3)
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        write_ingest(store, ingest, [response("R_1", fine), response("R_2", (twice, twice)),
                                     response("R_3", fine)])
    assert set(store.counts().values()) == {0}
    write_ingest(store, ingest, [response("R_1", fine), response("R_3", fine)])
    assert (store.counts()["respondents"], store.counts()["answers"]) == (2, 6)
