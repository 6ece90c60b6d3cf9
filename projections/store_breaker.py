"""Fail fast while PostgreSQL is unreachable, instead of holding every request for a minute.

With the server stopped, asking the pool for a connection waits out the pool's timeout (its
workers' failed reconnects wake nobody), and the event store's library tries each call ten
times: a request would be held for many timeouts before its 503, and every worker thread with
it. The breaker remembers that the store could not be reached: until the next probe is due,
asking for a connection fails at once with ``StoreUnreachableError`` (a psycopg
``OperationalError``, which the library does not retry and the API answers 503 with
Retry-After). One caller per ``PROBE_EVERY`` seconds goes through to the pool and finds out
whether the store is back, waiting at most ``PROBE_WAIT`` (the pool's own wait is for a busy
pool, not a dead server); the first connection handed out closes the breaker.

Only a failure to get a connection opens it. A connection that breaks under a statement (the
server went away mid-transaction, or a proxy dropped it) is retried by the library as before:
the next try finds out, from the pool, whether the server is there; a lone dropped
connection must stay an ambiguous commit that the retry resolves, not become a 503.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg
from eventsourcing.persistence import OperationalError

PROBE_EVERY = 1.0  # seconds between tries of an unreachable store
PROBE_WAIT = 0.5  # seconds a try waits for a connection while the store is unreachable


class StoreUnreachableError(psycopg.OperationalError):
    """The store could not be reached a moment ago, and is not tried again yet."""


class StoreBreaker:
    """Wraps a datastore's ``get_connection``: fails fast while the store is unreachable."""

    def __init__(
        self,
        get_connection: Callable[[], AbstractContextManager[Any]],
        pool: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._get_connection = get_connection
        self._pool = pool  # a psycopg_pool pool, whose wait is shortened while down
        self._pool_wait = getattr(pool, "timeout", None)
        self._clock = clock
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._next_probe = 0.0

    @property
    def down_since(self) -> float | None:
        """When the store was first found unreachable (monotonic), or None when it is not."""
        return self._down_since

    def _may_try(self) -> bool:
        """Whether this caller may reach for the pool: always when the store is up; while it
        is down, one caller per PROBE_EVERY."""
        with self._lock:
            if self._down_since is None:
                return True
            now = self._clock()
            if now < self._next_probe:
                return False
            self._next_probe = now + PROBE_EVERY
            return True

    def _opened(self) -> None:
        with self._lock:
            now = self._clock()
            if self._down_since is None:
                self._down_since = now
                if self._pool is not None:
                    self._pool.timeout = PROBE_WAIT
            self._next_probe = now + PROBE_EVERY

    def _closed(self) -> None:
        if self._down_since is not None:
            with self._lock:
                self._down_since = None
                if self._pool is not None:
                    self._pool.timeout = self._pool_wait

    @contextmanager
    def get_connection(self) -> Iterator[Any]:
        if not self._may_try():
            raise StoreUnreachableError("the store is unreachable (failing fast until it answers)")
        connection = None
        try:
            with self._get_connection() as connection:
                self._closed()
                yield connection
        except (OperationalError, psycopg.OperationalError):
            if connection is None:  # none was handed out: the pool timed out, or no server
                self._opened()
            raise


def install(datastore: Any) -> StoreBreaker:
    """Puts a breaker in front of a library datastore's connections (every recorder of the
    application shares the datastore, and its transactions ask for connections through the
    same method)."""
    breaker = StoreBreaker(datastore.get_connection, datastore.pool)
    datastore.get_connection = breaker.get_connection
    return breaker
