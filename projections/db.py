"""One small database interface over SQLite and PostgreSQL for the read models.

Views write plain SQL with ``?`` placeholders and integer times (microseconds since the
epoch, UTC), which read and sort the same on both engines; this module turns ``?`` into
``%s`` for psycopg and gives each engine's connection the same few methods.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import psycopg
from psycopg_pool import ConnectionPool

from projections.store_breaker import StoreBreaker

Row = tuple[Any, ...]

# Errors that say nothing about what was being written (the database went away, was locked,
# or rolled the transaction back to break a conflict): worth retrying as they are.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    sqlite3.OperationalError,
    psycopg.OperationalError,  # also a pool timeout, a serialization failure, a shutdown
    psycopg.InterfaceError,  # a connection found closed
)


def to_us(moment: datetime) -> int:
    """An aware datetime as integer microseconds since the epoch."""
    delta = moment.astimezone(UTC) - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1_000_000, UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...
    def fetchall(self) -> list[Row]: ...
    def fetchone(self) -> Row | None: ...
    @property
    def rowcount(self) -> int: ...


class ViewDatabase(Protocol):
    """Where a view keeps its tables."""

    engine: str

    def transaction(self, write: bool = True) -> AbstractContextManager[Cursor]: ...
    def batch(self) -> AbstractContextManager[object]: ...
    def after_commit(self, action: Callable[[], None]) -> None: ...
    def table(self, name: str) -> str: ...
    def index(self, name: str) -> str: ...
    def analyze(self, tables: Sequence[str]) -> None: ...
    def close(self) -> None: ...


class _PgCursor:
    def __init__(self, cursor: psycopg.Cursor[Row]) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(sql.replace("?", "%s"), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._cursor.executemany(sql.replace("?", "%s"), rows)

    def fetchall(self) -> list[Row]:
        return self._cursor.fetchall()

    def fetchone(self) -> Row | None:
        return self._cursor.fetchone()

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount


# seconds a read or a view's batch waits for a pooled connection before it is a 503 / a retry
POOL_WAIT = 3.0


class PostgresViews:
    """Views in a PostgreSQL schema; table names are prefixed with the view's name."""

    engine = "postgres"

    def __init__(self, conninfo: str, schema: str, prefix: str, pool_size: int = 4) -> None:
        self.schema = schema
        self.prefix = prefix
        # Checked before use, so a restarted server costs one reconnect, not one error per
        # pooled connection.
        self._pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=pool_size,
            open=True,
            kwargs={"autocommit": False},
            check=ConnectionPool.check_connection,
            timeout=POOL_WAIT,
        )
        self._breaker = StoreBreaker(self._pool.connection, self._pool)

    def table(self, name: str) -> str:
        return f'"{self.schema}"."{self.prefix}_{name}"'

    def index(self, name: str) -> str:
        """Index names are schema-wide in PostgreSQL (and created in the table's schema)."""
        return f'"{self.prefix}_{name}"'

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[Cursor]:
        with self._breaker.get_connection() as conn, conn.transaction(), conn.cursor() as cursor:
            yield _PgCursor(cursor)

    def batch(self) -> AbstractContextManager[object]:
        """Each view's transaction commits on its own here (a pooled connection per view)."""
        return nullcontext()

    def after_commit(self, action: Callable[[], None]) -> None:
        action()  # every transaction here has committed by the time it is asked

    def analyze(self, tables: Sequence[str]) -> None:
        """Gathers the planner's statistics of ``tables`` after a bulk load. Autovacuum gets
        there in its own time (never, where it is off), and until then the planner guesses:
        at 1,000,000 cases it scanned 2.5 million clock rows for the 500 pending ones, and a
        county's townships took 118 ms to count instead of 9 (``benchmarks/scale.py``)."""
        with self.transaction() as cursor:
            cursor.execute(f"ANALYZE {', '.join(tables)}")

    def close(self) -> None:
        self._pool.close()


class _SqliteCursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cursor.executemany(sql, rows)

    def fetchall(self) -> list[Row]:
        return self._cursor.fetchall()

    def fetchone(self) -> Row | None:
        row: Row | None = self._cursor.fetchone()
        return row

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount


class SqliteFile:
    """One SQLite file (WAL: readers never block the writer), a connection per thread.

    Transactions nest: one begun inside another of the same thread is a savepoint, so the
    views sharing the file can apply a batch each in one outer transaction (``batch``) that
    commits once, while a view that fails rolls back its own part alone. What must wait for
    the commit (a view's new position, its waiters) is handed to ``after_commit``."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            if self.path != ":memory:":
                conn.execute("pragma journal_mode=wal")
            conn.execute("pragma synchronous=normal")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[Cursor]:
        conn = self._connection()
        depth: int = getattr(self._local, "depth", 0)
        if depth:
            with self._savepoint(conn, depth) as nested:
                yield nested
            return
        cursor = conn.cursor()
        cursor.execute("begin immediate" if write else "begin")
        self._local.depth, self._local.pending = 1, []
        try:
            yield _SqliteCursor(cursor)
        except BaseException:
            self._local.depth, self._local.pending = 0, []
            cursor.execute("rollback")
            raise
        else:
            self._local.depth = 0
            try:
                cursor.execute("commit")
            except BaseException:
                self._local.pending = []
                if conn.in_transaction:  # a commit that failed (busy) leaves it open
                    cursor.execute("rollback")
                raise
            pending, self._local.pending = self._local.pending, []
            for action in pending:
                action()
        finally:
            cursor.close()

    @contextmanager
    def _savepoint(self, conn: sqlite3.Connection, depth: int) -> Iterator[Cursor]:
        name = f"nested_{depth}"
        cursor = conn.cursor()
        cursor.execute(f"savepoint {name}")
        self._local.depth = depth + 1
        try:
            yield _SqliteCursor(cursor)
        except BaseException:
            cursor.execute(f"rollback to {name}")
            cursor.execute(f"release {name}")
            raise
        else:
            cursor.execute(f"release {name}")
        finally:
            self._local.depth = depth
            cursor.close()

    def after_commit(self, action: Callable[[], None]) -> None:
        """Runs ``action`` once this thread's outer transaction has committed (now, when there
        is none); never, when it rolls back."""
        if getattr(self._local, "depth", 0):
            self._local.pending.append(action)
        else:
            action()

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


class SqliteViews:
    """A view's tables in a SQLite file, their names prefixed with the view's name when the
    file is shared with other views (``ViewSet.sqlite``: all of them, so a batch commits once
    for every view)."""

    engine = "sqlite"

    def __init__(self, file: SqliteFile | Path | str, prefix: str = "") -> None:
        self.file = file if isinstance(file, SqliteFile) else SqliteFile(file)
        self.path = self.file.path
        self.prefix = prefix

    def table(self, name: str) -> str:
        return f"{self.prefix}_{name}" if self.prefix else name

    def index(self, name: str) -> str:
        return self.table(name)

    def transaction(self, write: bool = True) -> AbstractContextManager[Cursor]:
        return self.file.transaction(write)

    def batch(self) -> AbstractContextManager[Cursor]:
        """One transaction for the batches of every view in the file, committed once."""
        return self.file.transaction()

    def after_commit(self, action: Callable[[], None]) -> None:
        self.file.after_commit(action)

    def analyze(self, tables: Sequence[str]) -> None:
        """Nothing: SQLite planned the statistics and the queues of a 100,000-case store the
        same with and without ``ANALYZE`` (measured), and once taken its statistics would
        have to be kept up as the tables grow."""

    def close(self) -> None:
        self.file.close()
