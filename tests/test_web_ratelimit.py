"""The limit on wrong codes, shared through the database by every worker.

Each limiter below stands for one worker process; they share nothing but the
database and the secret, as uvicorn's workers do. Both backends are real.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from consult.store import Store, migrations, open_store, schema
from consult.web.security import RateLimiter, Signer

SECRET = b"the web form's secret"
ADDRESS = "203.0.113.7"
OTHER = "198.51.100.2"
WINDOW = 600.0
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC).timestamp()


class Clock:
    """A clock the test moves by hand: no sleeping."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def worker(store: Store, clock: Clock, limit: int = 3) -> RateLimiter:
    return RateLimiter(limit, WINDOW, clock, store=store, signer=Signer(SECRET))


def stored_rows(store: Store) -> list[tuple[str, datetime]]:
    f = schema.code_failures
    with store.engine.connect() as conn:
        return [(row.client_key, row.failed_at)
                for row in conn.execute(sa.select(f.c.client_key, f.c.failed_at).order_by(f.c.id))]


def test_two_workers_block_a_client_after_the_limit_in_total(store: Store) -> None:
    clock = Clock()
    first, second = worker(store, clock), worker(store, clock)
    first.fail(ADDRESS)
    second.fail(ADDRESS)
    assert not first.blocked(ADDRESS) and not second.blocked(ADDRESS)
    first.fail(ADDRESS)
    # Each worker saw fewer than 3 failures itself; together they reached the limit.
    assert first.blocked(ADDRESS) and second.blocked(ADDRESS)
    assert not first.blocked(OTHER) and not second.blocked(OTHER)


def test_a_third_worker_started_later_sees_the_block(store: Store) -> None:
    clock = Clock()
    for _ in range(3):
        worker(store, clock).fail(ADDRESS)
    assert worker(store, clock).blocked(ADDRESS)


def test_failures_leave_the_window(store: Store) -> None:
    clock = Clock()
    first, second = worker(store, clock), worker(store, clock)
    first.fail(ADDRESS)
    clock.now += 100
    second.fail(ADDRESS)
    first.fail(ADDRESS)
    clock.now = T0 + WINDOW - 1
    assert second.blocked(ADDRESS)
    # The first failure is WINDOW seconds old: it no longer counts, the other two do.
    clock.now = T0 + WINDOW
    assert not first.blocked(ADDRESS) and not second.blocked(ADDRESS)
    second.fail(ADDRESS)
    assert first.blocked(ADDRESS)
    clock.now = T0 + 100 + WINDOW
    assert not first.blocked(ADDRESS)


def test_the_stored_key_is_a_keyed_hash_not_the_address(store: Store) -> None:
    worker(store, Clock()).fail(ADDRESS)
    [(key, failed_at)] = stored_rows(store)
    assert ADDRESS not in key
    # HMAC-SHA256 under the secret, computed here independently of Signer.
    assert key == hmac.new(SECRET, b"client|" + ADDRESS.encode(), hashlib.sha256).hexdigest()
    assert key != hashlib.sha256(ADDRESS.encode()).hexdigest()
    assert key != Signer(b"another secret").client_key(ADDRESS)
    assert failed_at == datetime.fromtimestamp(T0, UTC)
    with store.engine.connect() as conn:
        dumped = repr(conn.execute(sa.text("SELECT * FROM code_failures")).all())
    assert ADDRESS not in dumped


def test_old_failures_are_purged(store: Store) -> None:
    clock = Clock()
    limiter = worker(store, clock)
    limiter.fail(ADDRESS)
    limiter.fail(OTHER)
    clock.now += 30
    limiter.fail(OTHER)
    clock.now = T0 + WINDOW + 1
    limiter.fail(ADDRESS)
    # The two rows made at T0 are gone; the one 30 s later is still inside the window.
    assert stored_rows(store) == [
        (Signer(SECRET).client_key(OTHER), datetime.fromtimestamp(T0 + 30, UTC)),
        (Signer(SECRET).client_key(ADDRESS), datetime.fromtimestamp(T0 + WINDOW + 1, UTC)),
    ]


def test_a_store_needs_a_signer(store: Store) -> None:
    with pytest.raises(ValueError, match="both a store and a signer"):
        RateLimiter(3, WINDOW, store=store)


def test_a_version_4_database_gets_the_code_failures_table(db_url: str) -> None:
    # The database consult 4 left: no code_failures table, schema version 4.
    store = open_store(db_url)
    with store.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE code_failures"))
        conn.execute(sa.delete(schema.schema_version).where(schema.schema_version.c.version > 4))
    store.close()
    with open_store(db_url, migrate=False) as old:
        assert old.schema_version() == 4
        assert not sa.inspect(old.engine).has_table("code_failures")
    with open_store(db_url) as upgraded:
        assert upgraded.schema_version() == migrations.LATEST
        inspector = sa.inspect(upgraded.engine)
        assert {c["name"] for c in inspector.get_columns("code_failures")} == {
            "id", "client_key", "failed_at"}
        assert {i["name"] for i in inspector.get_indexes("code_failures")} == {
            "ix_code_failures_client", "ix_code_failures_failed_at"}
        clock = Clock()
        for _ in range(3):
            worker(upgraded, clock).fail(ADDRESS)
        assert worker(upgraded, clock).blocked(ADDRESS)
