"""The stores every behavioural test runs against: in memory, SQLite, and real PostgreSQL.

PostgreSQL tests use a fresh schema each, dropped afterwards. Where PostgreSQL cannot be
reached they are skipped, except in CI (``CI`` or ``FENGQIAO_REQUIRE_POSTGRES`` set), where
they fail: CI must prove the PostgreSQL path, not quietly skip it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from api.wiring.settings import postgres_env

DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
BACKENDS = ("memory", "sqlite", "postgres")


def test_database_url() -> str:
    return os.environ.get("FENGQIAO_TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)


def postgres_required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("FENGQIAO_REQUIRE_POSTGRES"))


def postgres_reachable() -> str | None:
    """None when reachable, else why not."""
    try:
        with psycopg.connect(test_database_url(), connect_timeout=3) as conn:
            conn.execute("select 1")
    except psycopg.Error as error:
        return str(error).strip() or type(error).__name__
    return None


def require_postgres() -> None:
    problem = postgres_reachable()
    if problem is None:
        return
    message = f"PostgreSQL at {test_database_url()} is not reachable: {problem}"
    if postgres_required():
        pytest.fail(message + " (required in CI)")
    pytest.skip(message)


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A new, empty schema; dropped with everything in it afterwards."""
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(test_database_url(), autocommit=True) as conn:
        conn.execute(f'create schema "{schema}"')
    try:
        yield schema
    finally:
        with psycopg.connect(test_database_url(), autocommit=True) as conn:
            conn.execute(f'drop schema "{schema}" cascade')


@contextmanager
def store_env(backend: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Library settings for one fresh store of the given backend."""
    if backend == "memory":
        yield {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    elif backend == "sqlite":
        yield {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(tmp_path / "events.sqlite3"),
        }
    elif backend == "postgres":
        with postgres_schema() as schema:
            env = postgres_env(test_database_url())
            env["POSTGRES_SCHEMA"] = schema
            yield env
    else:  # pragma: no cover - a typo in a parametrisation
        raise ValueError(backend)
