"""The breaker in front of PostgreSQL connections: fails fast while the store cannot be
reached, lets one probe through per interval, closes on the first connection handed out, and
leaves a connection that broke under a statement to the library's retry."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import OperationalError

from projections.store_breaker import PROBE_EVERY, PROBE_WAIT, StoreBreaker, StoreUnreachableError


class Store:
    """A pool stand-in: up or down, counting who asked."""

    def __init__(self) -> None:
        self.up = True
        self.asked = 0
        self.pool = SimpleNamespace(timeout=3.0)

    @contextmanager
    def connection(self) -> Iterator[Any]:
        self.asked += 1
        if not self.up:
            raise OperationalError("couldn't get a connection after 3.00 sec")
        yield "connection"


@pytest.fixture
def now() -> list[float]:
    return [100.0]


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def breaker(store: Store, now: list[float]) -> StoreBreaker:
    return StoreBreaker(store.connection, store.pool, clock=lambda: now[0])


def use(breaker: StoreBreaker) -> str:
    with breaker.get_connection() as connection:
        return str(connection)


def test_while_the_store_is_down_only_one_caller_per_interval_reaches_the_pool(
    store: Store, breaker: StoreBreaker, now: list[float]
) -> None:
    assert use(breaker) == "connection"
    store.up = False
    with pytest.raises(OperationalError):
        use(breaker)
    assert breaker.down_since == 100.0
    assert store.pool.timeout == PROBE_WAIT  # a probe is not held for the pool's full wait
    for _ in range(5):
        with pytest.raises(StoreUnreachableError):
            use(breaker)
    assert store.asked == 2  # the fast failures never reached the pool
    now[0] += PROBE_EVERY
    with pytest.raises(OperationalError):
        use(breaker)  # the probe: still down
    assert store.asked == 3
    store.up = True
    with pytest.raises(StoreUnreachableError):
        use(breaker)  # not yet due
    now[0] += PROBE_EVERY
    assert use(breaker) == "connection"
    assert breaker.down_since is None
    assert store.pool.timeout == 3.0
    assert use(breaker) == "connection"


def test_a_fast_failure_is_what_the_api_answers_503_and_the_library_does_not_retry() -> None:
    assert issubclass(StoreUnreachableError, psycopg.OperationalError)
    assert not issubclass(StoreUnreachableError, OperationalError)


def test_a_connection_broken_under_a_statement_is_left_to_the_retry(
    breaker: StoreBreaker,
) -> None:
    with pytest.raises(OperationalError), breaker.get_connection():
        raise OperationalError("server closed the connection unexpectedly")
    assert breaker.down_since is None
    assert use(breaker) == "connection"
