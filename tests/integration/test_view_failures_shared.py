"""A stopped view is seen by every process, not only by the one that followed it.

Under ``serve --workers`` one process follows the views and others answer ``/ready``. A runner
that stops records where and why beside the view's position, in the views' database; any other
ViewSet over the same databases (another process, here a second application and ViewSet) reports
it, and a rebuild, or a restart with the fix that applies that position, clears it. A record the
mapper cannot decode stops a view like any other failure, at its position, instead of being
retried forever; a transient store error is still retried.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.persistence import (
    InterfaceError,
    MapperDeserialisationError,
    OperationalError,
)
from eventsourcing.utils import TopicError
from litestar.testing import TestClient

from api.http.app import create_app
from domain.application import FengqiaoApplication
from domain.case import Registration
from domain.status import Channel
from projections.db import Cursor
from projections.engine import Batch, View, ViewRunner
from projections.queue import CaseFilter, list_cases
from projections.viewset import ViewSet
from tests.support.api import Store, build_test_runtime
from tests.support.undecodable import RETIRED_TOPIC, UNDECODABLE, write_undecodable
from tests.support.views import build_views, failure_range, stopped_at
from tests.support.world import REPORTER, T0, VILLAGE, Clock

POISON = "a case the view cannot take"
BOOM = "the view cannot take this"
BAD = ("view raises", *UNDECODABLE)
STOPS = (OverflowError, TopicError, MapperDeserialisationError)


@contextmanager
def another_process(env: dict[str, str], backend: str, tmp_path: Path) -> Iterator[ViewSet]:
    """The views as another process opens them: its own application and connections over the
    same event store and view databases, and nothing of this process's memory."""
    app = FengqiaoApplication(env=env)
    views = build_views(app, env, backend, tmp_path)
    try:
        yield views
    finally:
        views.close()
        app.close()


def poison(view: View, monkeypatch: pytest.MonkeyPatch) -> None:
    """Makes ``view`` raise on any batch holding the registration of a case summarised
    ``POISON`` (a bug in the view; ``monkeypatch.undo()`` is the fix)."""
    original = view.process

    def process(cursor: Cursor, batch: Batch) -> None:
        if any(getattr(event, "summary", None) == POISON for _, event in batch):
            raise OverflowError(BOOM)
        original(cursor, batch)

    monkeypatch.setattr(view, "process", process)


def register(app: FengqiaoApplication, summary: str) -> tuple[UUID, int]:
    """A case registered; its id and the log position of its registration."""
    details = Registration("邻里纠纷", summary, VILLAGE, Channel.GRID_PATROL)
    case_id = app.register(REPORTER, "dispute", details, at=T0).case.id
    return case_id, app.recorder.max_notification_id() or 0


def make_bad(
    app: FengqiaoApplication, views: ViewSet, monkeypatch: pytest.MonkeyPatch, how: str
) -> int:
    """A position the cases view stops at; ``how`` it cannot take it."""
    if how == "view raises":
        poison(views.cases, monkeypatch)
        return register(app, POISON)[1]
    return write_undecodable(app, how)


def listed(views: ViewSet) -> set[UUID]:
    return {item.id for item in list_cases(views.cases, CaseFilter(unit=VILLAGE), now=T0)}


def records(runner: ViewRunner) -> int:
    """Failure rows kept for the view, whether or not the view has moved past them."""
    with runner.view.db.transaction(write=False) as cursor:
        cursor.execute(f"SELECT count(*) FROM {runner.view.t('failure')}")
        row = cursor.fetchone()
    return int(row[0]) if row else 0


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
@pytest.mark.parametrize("how", BAD)
def test_a_view_stopped_in_one_process_is_reported_by_another(
    app: FengqiaoApplication,
    views: ViewSet,
    env: dict[str, str],
    backend: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    register(app, "before")
    views.catch_up()
    bad = make_bad(app, views, monkeypatch, how)
    _, after = register(app, "after")
    runner = views.runners["cases"]

    with pytest.raises(STOPS):
        runner.catch_up()

    assert runner.failure is not None
    assert runner.failure.first <= bad <= runner.failure.last
    stopped = runner.failure.first - 1  # where the view stands: before the batch it stopped at
    with another_process(env, backend, tmp_path) as elsewhere:
        assert elsewhere.runners["cases"].failure is None  # nothing in its own memory
        assert elsewhere.failures() == {"cases": str(runner.failure)}
        status = {view.name: view for view in elsewhere.status()}
        assert status["cases"].failure == runner.failure
        assert (status["cases"].position, status["cases"].head) == (stopped, after)
        assert status["cases"].lag == after - stopped
        assert all(status[name].failure is None for name in ("deadlines", "statistics", "history"))


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_a_rebuild_in_another_process_after_the_fix_clears_the_failure_for_all(
    app: FengqiaoApplication,
    views: ViewSet,
    env: dict[str, str],
    backend: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    views.catch_up()
    bad = make_bad(app, views, monkeypatch, "view raises")
    with pytest.raises(OverflowError):
        views.runners["cases"].catch_up()
    monkeypatch.undo()  # the fix

    with another_process(env, backend, tmp_path) as operator:
        failed = operator.failures()
        assert set(failed) == {"cases"}
        assert stopped_at(failed["cases"], bad, f"OverflowError: {BOOM}")
        operator.rebuild(["cases"])
        assert operator.failures() == {}
    with another_process(env, backend, tmp_path) as worker:
        assert worker.failures() == {}
        assert records(worker.runners["cases"]) == 0


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_a_restart_with_the_fix_clears_the_failure_once_it_applies_that_position(
    app: FengqiaoApplication,
    views: ViewSet,
    env: dict[str, str],
    backend: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    register(app, "before the poison")
    views.catch_up()
    poisoned = make_bad(app, views, monkeypatch, "view raises")
    with pytest.raises(OverflowError):
        views.runners["cases"].catch_up()
    monkeypatch.undo()  # the fix

    with another_process(env, backend, tmp_path) as worker:
        assert set(worker.failures()) == {"cases"}
        with another_process(env, backend, tmp_path) as restarted:
            restarted.catch_up()
            assert restarted.failures() == {}
            assert records(restarted.runners["cases"]) == 0
            assert restarted.runners["cases"].read_position() >= poisoned
        assert worker.failures() == {}  # the view moved past it, whoever moved it
        assert len(listed(worker)) == 2


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
@pytest.mark.parametrize("how", UNDECODABLE)
def test_an_undecodable_record_stops_the_view_right_before_it(
    app: FengqiaoApplication, views: ViewSet, how: str
) -> None:
    views.catch_up()
    good, _ = register(app, "before, in the same batch")
    bad = write_undecodable(app, how)
    register(app, "after")
    runner = views.runners["cases"]

    with pytest.raises((TopicError, MapperDeserialisationError)):
        runner.catch_up()

    assert runner.failure is not None
    assert (runner.failure.first, runner.failure.last) == (bad, bad)
    expected = "TopicError" if how == "unknown topic" else "MapperDeserialisationError"
    assert str(runner.failure).startswith(f"position {bad}: {expected}: ")
    if how == "unknown topic":
        assert RETIRED_TOPIC in runner.failure.message
    assert runner.read_position() == bad - 1  # what came before it was applied
    assert good in listed(views)
    assert len(listed(views)) == 1


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_followers_stop_at_an_undecodable_record_once_instead_of_retrying_it(
    app: FengqiaoApplication, views: ViewSet, backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    views.follow(subscribe=backend == "postgres")
    _, position = register(app, "before")
    assert views.wait(position, timeout=10)

    bad = write_undecodable(app)
    _, after = register(app, "after")
    started = time.monotonic()
    # the Merkle tree takes records raw: an undecodable one is still a leaf (of its stored
    # bytes, with no export digest), so the tree goes on; every other view decodes every event
    decoding = {name for name, runner in views.runners.items() if not runner.view.raw}
    assert decoding == set(views.runners) - {"merkle"}
    assert not views.wait(after, timeout=10, names=decoding)
    assert views.wait(after, timeout=10, names=["merkle"])
    for follower in views.followers:
        if follower.name.removeprefix("view-") in decoding:
            follower.join(timeout=5)
            assert not follower.is_alive(), follower.name
    assert time.monotonic() - started < 5  # stopped by the failure, not by a timeout

    failed = views.failures()
    assert set(failed) == decoding
    assert all(text.startswith(f"position {bad}: TopicError: ") for text in failed.values())
    assert all(views.runners[name].read_position() == bad - 1 for name in decoding)
    time.sleep(1.5)  # a retrying follower would have logged again by now
    said = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(said) == len(decoding), said


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "error",
    [
        OperationalError("the store went away"),
        InterfaceError("connection closed"),
        psycopg.OperationalError("server closed"),
        sqlite3.OperationalError("database is locked"),
    ],
    ids=["es-operational", "es-interface", "postgres-gone", "sqlite-locked"],
)
@pytest.mark.parametrize("where", ["reading", "decoding"])
def test_a_transient_store_error_while_reading_or_decoding_is_retried_not_a_failure(
    app: FengqiaoApplication,
    views: ViewSet,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    where: str,
) -> None:
    """A guard for the change above: only what the record itself causes stops a view."""
    case_id, position = register(app, "a case")
    runner = views.runners["cases"]
    target: Any = app.recorder if where == "reading" else app.mapper
    name = "select_notifications" if where == "reading" else "to_domain_event"
    original = getattr(target, name)
    left = [1]

    def flaky(*args: Any, **kwargs: Any) -> Any:
        if left[0]:
            left[0] -= 1
            raise error
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, flaky)

    with pytest.raises(type(error)):
        runner.catch_up()
    assert runner.failure is None
    assert runner.recorded_failure() is None
    runner.catch_up()

    assert runner.read_position() == position
    assert listed(views) == {case_id}


def test_ready_of_a_process_that_does_not_follow_the_views_names_a_view_stopped_elsewhere(
    store: Store, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As an API worker under ``serve --workers``: the views are followed by another process."""
    runtime = build_test_runtime(store, clock)
    runtime.follow = False
    with (
        TestClient(app=create_app(runtime), raise_server_exceptions=False) as http,
        another_process(store.env, store.backend, store.path) as scheduler,
    ):
        scheduler.catch_up()
        assert http.get("/ready").status_code == 200
        bad = make_bad(runtime.app, scheduler, monkeypatch, "view raises")
        with pytest.raises(OverflowError):
            scheduler.catch_up()

        ready = http.get("/ready")
        assert ready.status_code == 503
        body: dict[str, Any] = ready.json()
        assert body["status"] == "view failed"
        assert set(body["failed"]) == {"cases"}
        first, last, error = failure_range(body["failed"]["cases"])
        assert (first <= bad == last, error) == (True, f"OverflowError: {BOOM}")
        assert body["lag"]["cases"] == bad - first + 1

        monkeypatch.undo()  # the fix
        scheduler.rebuild()
        assert http.get("/ready").status_code == 200
