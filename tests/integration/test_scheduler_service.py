"""The sweep service as deployed: built by ``api.http.runtime.build_sweeps`` over a real store.

Restarts catch up on what fell due while nothing ran; on PostgreSQL only the holder of the
advisory lock sweeps, another instance takes over when the holder's session ends, and even
sweepers racing without the lock record one escalation per breach.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import psycopg
import pytest

from api.http.runtime import build_sweeps
from api.wiring.bootstrap import build_application
from api.wiring.settings import Settings, new_cipher_key
from api.wiring.views import build_views, split_schema
from domain.application import FengqiaoApplication
from domain.case import Registration
from domain.policy_document import policy_from_document
from domain.samples import sample_units
from domain.status import Channel
from projections.engine import TrackingConflictError
from projections.viewset import ViewSet
from scheduler.lock import AdvisoryLock, ProcessLock, lock_key
from scheduler.service import SweepService
from scheduler.sweep import Sweeper, SweepReport
from tests.support.backends import postgres_schema
from tests.support.backends import test_database_url as database_url
from tests.support.world import ADMIN, REPORTER, T0, TOWNSHIP, VILLAGE, Clock

T = TypeVar("T")


@dataclass
class Instance:
    """One scheduler process: its own application, views and sweep service."""

    app: FengqiaoApplication
    views: ViewSet
    sweeps: SweepService

    def catch_up(self) -> None:
        """Brings the views up to the log's head; another instance may be moving them too
        (one set of view tables per schema on PostgreSQL). Each attempt may stop at one view
        the other instance moved, so there are a few tries per view."""
        for _ in range(2 * len(self.views.runners)):
            try:
                self.views.catch_up()
                return
            except (TrackingConflictError, psycopg.IntegrityError, sqlite3.IntegrityError):
                # The other instance moved them first (a runner that had not seen that yet
                # may trip over a row it already wrote): rolled back; re-read and go on.
                continue
        raise AssertionError("the views kept moving")

    def run_once(self) -> SweepReport | None:
        self.catch_up()
        return self.sweeps.run_once()

    def close(self) -> None:
        self.sweeps.stop()
        self.views.close()
        self.app.close()


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    if request.param == "sqlite":
        yield Settings(data_dir=tmp_path, sweep_seconds=1)
        return
    with postgres_schema() as schema:
        url = f"{database_url()}?schema={schema}"
        yield Settings(tmp_path, url, sweep_seconds=1, cipher_key=new_cipher_key())


@pytest.fixture
def pg_settings(tmp_path: Path) -> Iterator[Settings]:
    with postgres_schema() as schema:
        url = f"{database_url()}?schema={schema}"
        yield Settings(tmp_path, url, sweep_seconds=1, cipher_key=new_cipher_key())


@contextmanager
def started(settings: Settings, clock: Clock) -> Iterator[Instance]:
    instance = start(settings, clock)
    try:
        yield instance
    finally:
        instance.close()


def start(settings: Settings, clock: Clock) -> Instance:
    app = build_application(settings, clock=clock)
    app.add_units(ADMIN, sample_units(), at=T0)
    views = build_views(settings, app)
    sweeps = build_sweeps(settings, app, views, clock)
    if settings.database_url is not None:
        # The lock build_sweeps takes is one for the whole database; tests (and deployments)
        # sharing the database in other schemas must not wait on it.
        assert isinstance(sweeps.lock, AdvisoryLock)
        conninfo, schema = split_schema(settings.database_url)
        sweeps.lock = AdvisoryLock(conninfo, lock_key(schema))
    else:
        assert isinstance(sweeps.lock, ProcessLock)
    return Instance(app, views, sweeps)


def register(app: FengqiaoApplication, count: int = 1) -> list[UUID]:
    details = Registration("邻里纠纷", "宅基地界址争议", VILLAGE, Channel.WALK_IN)
    return [app.register(REPORTER, "dispute", details, at=T0).case.id for _ in range(count)]


def resolve_due(app: FengqiaoApplication, case_id: UUID) -> Any:
    return app.get_case(case_id).deadlines["resolve"].due_at


def recorded(app: FengqiaoApplication, event: str) -> int:
    """How many events of this name the log holds (every case, every process)."""
    notifications = app.recorder.select_notifications(start=1, limit=1_000_000)
    return sum(1 for n in notifications if n.topic.rsplit(".", 1)[-1] == event)


def acted(report: SweepReport | None) -> list[tuple[str, str]]:
    assert report is not None
    return sorted((d.kind, events) for d, events in report.acted)


def in_parallel(*calls: Callable[[], T]) -> list[T]:
    """Runs the calls at once, each in its own thread; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], T]) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    return results


# --- restarts -----------------------------------------------------------------------------


def test_after_a_stop_before_the_deadline_the_first_sweep_after_it_escalates_once(
    settings: Settings, clock: Clock
) -> None:
    with started(settings, clock) as first:
        [case_id] = register(first.app)
        deadline = resolve_due(first.app, case_id)
        clock.now = deadline - timedelta(hours=1)
        assert acted(first.run_once()) == [("sign", "SignOverdueFlagged")]
    # Down across the deadline; back two days later.
    clock.now = deadline + timedelta(days=2)
    with started(settings, clock) as second:
        assert acted(second.run_once()) == [("resolve", "Escalated")]
        assert acted(second.run_once()) == []
        case = second.app.get_case(case_id)
        assert case.owner == TOWNSHIP
        # The township's clocks start when the case arrived there, at the catch-up sweep.
        assert case.deadlines["sign"].due_at == clock.now + timedelta(hours=4)
        assert recorded(second.app, "Escalated") == 1
        assert [h.event_type for h in second.views.history.get_history(case_id)] == [
            "Registered",
            "SignOverdueFlagged",
            "Escalated",
        ]


def test_the_service_sweeps_at_once_when_started_then_on_its_interval(
    settings: Settings, clock: Clock
) -> None:
    with started(settings, clock) as instance:
        [case_id] = register(instance.app)
        clock.now = resolve_due(instance.app, case_id)
        instance.views.follow(subscribe=settings.database_url is not None)
        instance.sweeps.start()
        wait_for(lambda: instance.app.get_case(case_id).owner == TOWNSHIP, 5)
        wait_for(lambda: instance.sweeps.sweeps >= 2, 5)
        assert instance.sweeps.failure is None
        assert recorded(instance.app, "Escalated") == 1


def test_the_service_wakes_when_a_deadline_falls_due_before_its_next_tick(
    settings: Settings, clock: Clock
) -> None:
    with started(settings, clock) as instance:
        document = {"version": "seconds-1", "clocks": {"yellow": {"village": {"resolve": "2s"}}}}
        instance.app.adopt_policy(ADMIN, policy_from_document(document), at=T0)
        registered_at = datetime.now(UTC)
        details = Registration("邻里纠纷", "宅基地界址争议", VILLAGE, Channel.WALK_IN)
        case_id = instance.app.register(REPORTER, "dispute", details, at=registered_at).case.id
        due_at = resolve_due(instance.app, case_id)
        assert due_at == registered_at + timedelta(seconds=2)
        wall_clock = SweepService(
            Sweeper(instance.app, instance.views.deadlines, lambda: datetime.now(UTC)),
            instance.sweeps.lock,
            interval=60,
            refresh=instance.catch_up,
        )
        wall_clock.start()
        try:
            wait_for(lambda: instance.app.get_case(case_id).owner == TOWNSHIP, 10)
        finally:
            wall_clock.stop()
        instance.catch_up()
        [escalated] = [
            h for h in instance.views.history.get_history(case_id) if h.event_type == "Escalated"
        ]
        assert due_at <= escalated.at < due_at + timedelta(seconds=1)
        # At start, then at the deadline (not at the 60 s tick).
        assert 2 <= wall_clock.sweeps <= 3


def test_an_unexpected_error_stops_the_timer_loudly(settings: Settings, clock: Clock) -> None:
    with started(settings, clock) as instance:

        def broken(*_: Any) -> list[Any]:
            raise RuntimeError("the deadlines view is gone")

        instance.sweeps.sweeper.deadlines.list_due = broken  # type: ignore[method-assign,assignment]
        instance.sweeps.start()
        wait_for(lambda: instance.sweeps.failure is not None, 5)
        assert isinstance(instance.sweeps.failure, RuntimeError)
        scheduler = instance.sweeps._scheduler
        assert scheduler is not None
        assert scheduler.get_jobs() == []


# --- more than one sweeper ----------------------------------------------------------------


def test_sweepers_racing_without_a_lock_record_one_escalation_per_breach(
    settings: Settings, clock: Clock
) -> None:
    with started(settings, clock) as one, started(settings, clock) as other:
        cases = register(one.app, 8)
        clock.now = resolve_due(one.app, cases[0]) + timedelta(minutes=1)
        one.catch_up()
        other.catch_up()
        sweepers = [Sweeper(i.app, i.views.deadlines, clock) for i in (one, other)]

        reports = in_parallel(sweepers[0].sweep, sweepers[1].sweep)

        assert sum(len(r.refused) for r in reports) == 0
        assert sum(len(r.acted) for r in reports) == 16  # a flag and an escalation each
        assert sum(r.unchanged for r in reports) == 16
        assert recorded(one.app, "Escalated") == 8
        assert recorded(one.app, "SignOverdueFlagged") == 8


def lock_holders(key: int) -> list[int]:
    """Backends holding the advisory lock ``key``."""
    with psycopg.connect(database_url(), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid = %s AND objid = %s AND objsubid = 1",
            (key >> 32, key & 0xFFFF_FFFF),
        ).fetchall()
    return [row[0] for row in rows]


def terminate(pid: int) -> None:
    with psycopg.connect(database_url(), autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
    wait_for(lambda: pid not in backends(), 5)


def backends() -> list[int]:
    with psycopg.connect(database_url(), autocommit=True) as conn:
        return [row[0] for row in conn.execute("SELECT pid FROM pg_stat_activity").fetchall()]


@pytest.mark.postgres
def test_one_instance_holds_the_lock_and_another_takes_over_when_its_session_ends(
    pg_settings: Settings, clock: Clock
) -> None:
    with started(pg_settings, clock) as one, started(pg_settings, clock) as other:
        assert isinstance(one.sweeps.lock, AdvisoryLock)
        key = one.sweeps.lock.key
        cases = register(one.app, 5)
        clock.now = resolve_due(one.app, cases[0]) + timedelta(minutes=1)
        one.catch_up()
        other.catch_up()

        reports = in_parallel(one.sweeps.run_once, other.sweeps.run_once)

        assert sorted(r is None for r in reports) == [False, True]
        holder, standby = (one, other) if reports[0] is not None else (other, one)
        assert acted(reports[0] or reports[1]) == [
            *[("resolve", "Escalated")] * 5,
            *[("sign", "SignOverdueFlagged")] * 5,
        ]
        assert recorded(one.app, "Escalated") == 5
        assert len(lock_holders(key)) == 1
        assert standby.run_once() is None
        assert holder.run_once() is not None

        # The holder's session dies (its process, or the network): the standby takes over
        # at its next run, and the old holder, now without its session, does not sweep.
        [pid] = lock_holders(key)
        terminate(pid)
        more = register(holder.app, 3)
        clock.now = resolve_due(holder.app, more[0]) + timedelta(minutes=1)
        assert holder.run_once() is None
        assert acted(standby.run_once()) == [
            *[("resolve", "Escalated")] * 3,
            *[("sign", "SignOverdueFlagged")] * 3,
        ]
        assert holder.run_once() is None
        assert lock_holders(key) != [pid]
        assert len(lock_holders(key)) == 1

        # Released on stop: the first instance takes it back.
        standby.sweeps.lock.release()
        assert lock_holders(key) == []
        assert acted(holder.run_once()) == []
        assert len(lock_holders(key)) == 1
        assert standby.run_once() is None

        assert recorded(one.app, "Escalated") == 8
        assert recorded(one.app, "SignOverdueFlagged") == 8


def wait_for(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s")
        time.sleep(0.05)


# --- the heartbeat every process reads ----------------------------------------------------


def test_each_completed_sweep_is_recorded_for_every_process_to_read(
    settings: Settings, clock: Clock
) -> None:
    with started(settings, clock) as instance:
        beat = instance.sweeps.heartbeat
        assert beat is not None
        assert beat.last() is None
        before = datetime.now(UTC)

        assert instance.run_once() is not None

        last = beat.last()
        assert last is not None
        assert before <= last <= datetime.now(UTC)
