"""When the store cannot be reached the API says so: 503 with Retry-After (never a 500) for
commands and reads alike, and ``/ready`` answers within a second even while the store hangs.

The outage is simulated where the store's errors surface (the event store's own
``OperationalError``, psycopg's from a view's pool), on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import OperationalError

from api.http.routes import health, reads
from api.http.runtime import Runtime
from tests.support.api import API, COUNTY, VILLAGE, Client, assert_problem, auth, register, send


def unreachable(*_: Any, **__: Any) -> Any:
    raise OperationalError("server closed the connection unexpectedly")


def test_a_command_while_the_store_is_down_is_503_with_retry_after(
    client: tuple[Client, Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    http, runtime = client
    case = register(http)
    monkeypatch.setattr(runtime.app, "get_case", unreachable)

    answer = send(http, case["id"], "sign")

    assert_problem(answer, 503)
    assert answer.headers["retry-after"] == "5"


def test_a_read_while_the_store_is_down_is_503_with_retry_after(
    client: tuple[Client, Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    http, runtime = client
    case = register(http)
    monkeypatch.setattr(runtime.app, "get_case", unreachable)

    answer = http.get(f"{API}/cases/{case['id']}", headers=auth("supervisor", COUNTY))

    assert_problem(answer, 503)
    assert answer.headers["retry-after"] == "5"


def test_a_queue_read_while_the_views_database_is_down_is_503(
    client: tuple[Client, Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    http, _ = client

    def pool_gone(*_: Any, **__: Any) -> Any:
        raise psycopg.OperationalError("couldn't get a connection after 30.00 sec")

    monkeypatch.setattr(reads, "get_queue", pool_gone)
    answer = http.get(f"{API}/queues/{VILLAGE}", headers=auth("supervisor", COUNTY))

    assert_problem(answer, 503)
    assert "retry-after" in answer.headers


def test_ready_answers_within_a_second_while_the_store_hangs(
    client: tuple[Client, Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    http, runtime = client

    def hanging() -> dict[str, int]:
        time.sleep(5)
        return {}

    monkeypatch.setattr(runtime.views, "lag", hanging)
    started = time.monotonic()
    answer = http.get("/ready")
    took = time.monotonic() - started

    problem = assert_problem(answer, 503)
    assert "within" in problem["detail"]
    assert took < health.READY_WITHIN_SECONDS + 1.0


def test_ready_says_when_deadlines_have_not_been_swept_for_two_intervals(
    client: tuple[Client, Runtime],
) -> None:
    """Whichever process sweeps (this one, or the one beside the API workers), its heartbeat
    is in the store: none for two intervals and a grace is 503, a fresh one is 200."""
    http, runtime = client
    assert runtime.heartbeat is not None
    runtime.sweep_every = 1.0
    runtime.started = datetime.now(UTC) - timedelta(minutes=5)

    late = http.get("/ready")
    assert (late.status_code, late.json()["status"]) == (503, "sweeps stopped")

    runtime.heartbeat.beat()
    assert http.get("/ready").status_code == 200
