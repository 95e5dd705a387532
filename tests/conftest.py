"""Fixtures shared by every test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pg import PgServer, postgres_server

from consult.analysis.text.embed import MiniLMEmbedder
from consult.project import DATABASE_ENV, init_project
from consult.store import open_store
from consult.store.db import Store


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One throwaway PostgreSQL server for the whole test session."""
    with postgres_server() as server:
        yield server


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """The URL of a fresh, empty PostgreSQL database."""
    return pg_server.create_database()


@pytest.fixture
def fielding_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh project folder titled "Test consultation", its SQLite database inside it
    (any CONSULT_DATABASE_URL of the environment set aside)."""
    monkeypatch.delenv(DATABASE_ENV, raising=False)
    root = tmp_path / "consultation"
    init_project(root, title="Test consultation")
    return root


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """The URL of a fresh SQLite file (not yet created)."""
    return f"sqlite:///{tmp_path / 'consult.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh database on each backend in turn: the test runs once per backend."""
    fixture = {"sqlite": "sqlite_url", "postgresql": "pg_url"}[request.param]
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """The fresh database of :func:`db_url`, opened (migrated to the current schema)."""
    with open_store(db_url) as opened:
        yield opened


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One embedding cache for the session: MiniLM loads once per process anyway."""
    return tmp_path_factory.mktemp("embeddings")


@pytest.fixture(scope="session")
def embedder(model_cache: Path) -> MiniLMEmbedder:
    """The shipped MiniLM with the session's embedding cache."""
    return MiniLMEmbedder(cache_dir=model_cache)
