"""A view that cannot apply a batch stops there and says so, instead of retrying forever.

A view's ``process`` raising (anything but a transient database error) fails the same way on
every retry; the runner stops at that batch, keeps where and why, applies nothing after it,
releases read-your-writes waiters at once, and ``/ready`` answers 503 naming the view. The
other views go on. A transient error (the database locked or gone) is still retried.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from typing import Any
from uuid import UUID

import psycopg
import pytest

from api.http.runtime import READ_YOUR_WRITES_TIMEOUT, Runtime
from domain.application import FengqiaoApplication
from domain.case import Registration
from domain.status import Channel
from projections.db import Cursor
from projections.engine import Batch, View, ViewFailedError
from projections.fanout import Fanout
from projections.queue import CaseFilter, list_cases
from projections.viewset import ViewSet
from tests.support.api import API, Client, auth, registration
from tests.support.views import failure_range, stopped_at
from tests.support.world import REPORTER, T0, VILLAGE

POISON = "a case the view cannot take"
BOOM = "the view cannot take this"


def poison(
    view: View,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception | None = None,
    times: int | None = None,
) -> None:
    """Makes ``view`` raise ``error`` (an OverflowError by default) on any batch holding the
    registration of a case summarised ``POISON``; ``times`` limits how often."""
    original = view.process
    left = [times]

    def process(cursor: Cursor, batch: Batch) -> None:
        if any(getattr(e, "summary", None) == POISON for _, e in batch) and left[0] != 0:
            if left[0] is not None:
                left[0] -= 1
            raise error or OverflowError(BOOM)
        original(cursor, batch)

    monkeypatch.setattr(view, "process", process)


def register(app: FengqiaoApplication, summary: str) -> tuple[UUID, int]:
    """A case registered; its id and the log position of its registration."""
    details = Registration("邻里纠纷", summary, VILLAGE, Channel.GRID_PATROL)
    case_id = app.register(REPORTER, "dispute", details, at=T0).case.id
    return case_id, app.recorder.max_notification_id() or 0


def listed(views: ViewSet) -> set[UUID]:
    return {item.id for item in list_cases(views.cases, CaseFilter(unit=VILLAGE), now=T0)}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_a_view_stops_at_the_batch_it_cannot_apply_and_applies_nothing_after_it(
    app: FengqiaoApplication, views: ViewSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    good, _ = register(app, "before the poison")
    views.catch_up()
    runner = views.runners["cases"]
    before = runner.read_position()
    poison(views.cases, monkeypatch)
    _, poisoned = register(app, POISON)
    _, last = register(app, "in the same batch")
    first = before + 1  # the batch starts at the poisoned case (or at the number it was issued)

    with pytest.raises(OverflowError):
        runner.catch_up()

    assert runner.failure is not None
    assert first <= poisoned < last
    assert (runner.failure.view, runner.failure.first, runner.failure.last) == (
        "cases",
        first,
        last,
    )
    assert views.failures() == {"cases": f"positions {first}-{last}: OverflowError: {BOOM}"}
    later, _ = register(app, "after the poison")
    with pytest.raises(ViewFailedError):
        runner.catch_up()
    assert runner.read_position() == before
    assert listed(views) == {good}
    # the other views go on
    views.runners["history"].catch_up()
    assert [e.event_type for e in views.history.get_history(later)] == ["Registered"]
    assert views.runners["history"].failure is None


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_a_follower_stops_once_says_so_once_and_waiters_are_not_kept_waiting(
    app: FengqiaoApplication,
    views: ViewSet,
    backend: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    poison(views.cases, monkeypatch)
    views.follow(subscribe=backend == "postgres")
    good, position = register(app, "before the poison")
    assert views.wait(position, timeout=10)

    _, bad = register(app, POISON)
    started = time.monotonic()
    assert not views.wait(bad, timeout=10)
    assert time.monotonic() - started < 5  # woken by the failure, not by the timeout
    failed = views.failures()
    assert set(failed) == {"cases"}
    assert stopped_at(failed["cases"], bad, f"OverflowError: {BOOM}")

    _, position = register(app, "after the poison")
    assert views.wait(position, timeout=10, names=["history", "deadlines", "statistics"])
    started = time.monotonic()
    assert not views.wait(position, timeout=10)
    assert time.monotonic() - started < 1
    assert views.runners["cases"].read_position() < bad
    assert listed(views) == {good}
    # one follower reads for every view: it gives the stopped view nothing more, goes on
    # for the others
    (follower,) = views.followers
    assert isinstance(follower.runner, Fanout)
    assert "cases" not in {runner.name for runner in follower.runner.active}
    assert follower.is_alive()
    stopped = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(stopped) == 1, stopped
    assert "cases" in stopped[0].getMessage()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
@pytest.mark.parametrize(
    "error",
    [sqlite3.OperationalError("database is locked"), psycopg.OperationalError("server closed")],
    ids=["sqlite-locked", "postgres-gone"],
)
def test_a_transient_database_error_is_retried_not_a_failure(
    app: FengqiaoApplication, views: ViewSet, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    poison(views.cases, monkeypatch, error, times=1)
    bad, position = register(app, POISON)
    runner = views.runners["cases"]

    with pytest.raises(type(error)):
        runner.catch_up()
    assert runner.failure is None
    runner.catch_up()

    assert runner.read_position() == position
    assert listed(views) == {bad}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_rebuild_after_the_fix_starts_afresh(
    app: FengqiaoApplication, views: ViewSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    poison(views.cases, monkeypatch)
    bad, _ = register(app, POISON)
    with pytest.raises(OverflowError):
        views.runners["cases"].catch_up()
    monkeypatch.undo()  # the fix

    views.rebuild(["cases"])

    assert views.failures() == {}
    assert listed(views) == {bad}


def test_ready_answers_503_naming_the_failed_view(
    client: tuple[Client, Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    http, runtime = client
    assert http.get("/ready").status_code == 200
    poison(runtime.views.cases, monkeypatch)

    started = time.monotonic()
    answer = http.post(
        f"{API}/cases", json=registration(summary=POISON), headers=auth("reporter", VILLAGE)
    )
    assert answer.status_code == 201, answer.text
    _await_failure(runtime)
    again = http.post(f"{API}/cases", json=registration(), headers=auth("reporter", VILLAGE))
    assert again.status_code == 201, again.text
    assert time.monotonic() - started < 2 * READ_YOUR_WRITES_TIMEOUT  # not a full wait each

    ready = http.get("/ready")
    assert ready.status_code == 503
    body: dict[str, Any] = ready.json()
    assert body["status"] == "view failed"
    assert set(body["failed"]) == {"cases"}
    assert failure_range(body["failed"]["cases"])[2] == f"OverflowError: {BOOM}"
    assert body["lag"]["cases"] >= 2


def _await_failure(runtime: Runtime, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not runtime.views.failures() and time.monotonic() < deadline:
        time.sleep(0.02)
