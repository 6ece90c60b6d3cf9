"""The read models on SQLite and PostgreSQL: queues, deadlines, history; exactly once; rebuild."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from domain.actors import SYSTEM
from domain.application import FengqiaoApplication
from domain.case import Registration
from domain.case.commands import ActOnDeadline, AddNote, RejectCase, SignCase
from domain.clocks import DeadlineKind
from domain.levels import Level
from domain.status import Channel
from projections.history import HistoryView
from projections.queue import CaseFilter, get_queue, list_cases
from projections.viewset import VIEW_CLASSES, ViewSet
from tests.support.views import build_views, dump
from tests.support.world import (
    COUNTY,
    MEDIATOR,
    REPORTER,
    T0,
    TOWNSHIP,
    VILLAGE,
    Clock,
)

# Views live in SQLite or PostgreSQL: the in-memory store has no view databases.
pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def register(
    app: FengqiaoApplication, summary: str, level: Level = Level.YELLOW, **at: Any
) -> UUID:
    details = Registration("邻里纠纷", summary, VILLAGE, Channel.GRID_PATROL, level=level)
    return app.register(REPORTER, "dispute", details, at=T0 + timedelta(**at)).case.id


def test_the_county_queue_lists_red_then_orange_then_yellow_then_by_nearest_deadline(
    app: FengqiaoApplication, views: ViewSet
) -> None:
    yellow_late = register(app, "yellow registered later", minutes=30)
    yellow_early = register(app, "yellow registered first")
    orange = register(app, "orange", Level.ORANGE, minutes=10)
    red = register(app, "red case", Level.RED, minutes=20)
    views.catch_up()

    queue = get_queue(views.cases, COUNTY, now=T0 + timedelta(minutes=40))

    assert [item.id for item in queue] == [red, orange, yellow_early, yellow_late]
    assert [item.owner for item in queue] == [COUNTY, TOWNSHIP, VILLAGE, VILLAGE]
    assert [item.due_kind for item in queue] == ["sign"] * 4


def test_overdue_and_time_to_breach_follow_the_clock_asked_about(
    app: FengqiaoApplication, views: ViewSet
) -> None:
    red = register(app, "red case", Level.RED)  # sign within 1 h
    views.catch_up()

    before = get_queue(views.cases, COUNTY, now=T0 + timedelta(minutes=45))[0]
    after = get_queue(views.cases, COUNTY, now=T0 + timedelta(minutes=61))[0]

    assert (before.id, before.overdue, before.seconds_to_breach) == (red, False, 15 * 60)
    assert (after.overdue, after.seconds_to_breach) == (True, -60)


def test_a_case_escalated_from_village_leaves_its_queue_and_joins_the_townships(
    app: FengqiaoApplication, views: ViewSet
) -> None:
    case_id = register(app, "排水沟争执")
    views.catch_up()
    assert [i.id for i in get_queue(views.cases, VILLAGE, now=T0)] == [case_id]

    due = app.get_case(case_id).deadlines["resolve"].due_at
    app.execute(
        case_id, ActOnDeadline(DeadlineKind.RESOLVE, due), SYSTEM, at=due + timedelta(seconds=1)
    )
    views.catch_up()

    assert get_queue(views.cases, VILLAGE, now=due) == []
    township_queue = get_queue(views.cases, TOWNSHIP, now=due)
    assert [(i.id, i.owner, i.level, i.awaiting_signature) for i in township_queue] == [
        (case_id, TOWNSHIP, "orange", True)
    ]
    history = views.history.get_history(case_id)
    assert [h.event_type for h in history] == ["Registered", "Escalated"]
    assert history[-1].fields["cause"] == "overdue"


def test_closed_and_rejected_cases_leave_the_queue_but_stay_in_the_list(
    app: FengqiaoApplication, views: ViewSet
) -> None:
    kept = register(app, "kept case")
    rejected = register(app, "rejected", minutes=1)
    app.execute(rejected, RejectCase("不属于受理范围"), MEDIATOR, at=T0 + timedelta(minutes=5))
    views.catch_up()

    assert [i.id for i in get_queue(views.cases, VILLAGE, now=T0)] == [kept]
    listed = list_cases(views.cases, CaseFilter(unit=COUNTY), now=T0)
    assert {i.id: i.status for i in listed} == {kept: "registered", rejected: "rejected"}
    only_rejected = list_cases(views.cases, CaseFilter(unit=COUNTY, status="rejected"), now=T0)
    assert [i.id for i in only_rejected] == [rejected]
    assert [i.id for i in list_cases(views.cases, CaseFilter(unit=COUNTY, text="kep"), now=T0)] == [
        kept
    ]


def test_the_deadlines_view_holds_every_pending_clock_and_drops_stopped_ones(
    app: FengqiaoApplication, views: ViewSet
) -> None:
    case_id = register(app, "deadlines")
    views.catch_up()
    assert {d.kind for d in views.deadlines.list_for_case(case_id)} == {"sign", "resolve"}

    app.execute(case_id, SignCase(), MEDIATOR, at=T0 + timedelta(hours=1))
    views.catch_up()
    pending = views.deadlines.list_for_case(case_id)
    assert [d.kind for d in pending] == ["resolve"]
    assert views.deadlines.list_due(T0 + timedelta(hours=2)) == []
    assert [d.case_id for d in views.deadlines.list_due(pending[0].due_at)] == [case_id]


def drive_some_cases(app: FengqiaoApplication) -> list[UUID]:
    ids = [
        register(app, f"case {n}", [Level.YELLOW, Level.ORANGE, Level.RED][n % 3], minutes=n)
        for n in range(9)
    ]
    for n, case_id in enumerate(ids[:6]):
        at = T0 + timedelta(hours=1, minutes=n)
        app.execute(case_id, SignCase(), MEDIATOR, at=at)
        app.execute(case_id, AddNote(f"note {n}"), MEDIATOR, at=at)
    due = app.get_case(ids[6]).deadlines["resolve"].due_at
    app.execute(ids[6], ActOnDeadline(DeadlineKind.RESOLVE, due), SYSTEM, at=due)
    return ids


def test_a_rebuilt_view_equals_the_live_built_one_row_for_row(
    app: FengqiaoApplication, views: ViewSet
) -> None:
    drive_some_cases(app)
    views.catch_up()  # built as events arrive
    live = {name: dump(view) for name, view in views.views.items()}

    applied = views.rebuild()

    assert {name: dump(view) for name, view in views.views.items()} == live
    assert applied["history"] == app.recorder.max_notification_id()


def test_a_failure_mid_batch_loses_nothing_and_doubles_nothing(
    app: FengqiaoApplication,
    env: dict[str, str],
    backend: str,
    tmp_path: Path,
    views: ViewSet,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drive_some_cases(app)
    real_process = HistoryView.process

    def fail_after_writing(self: HistoryView, cursor: Any, batch: Any) -> None:
        real_process(self, cursor, batch)  # rows written inside the transaction...
        raise RuntimeError("power cut")  # ...then the process dies before commit

    monkeypatch.setattr(HistoryView, "process", fail_after_writing)
    with pytest.raises(RuntimeError, match="power cut"):
        views.runners["history"].catch_up()
    monkeypatch.setattr(HistoryView, "process", real_process)
    assert views.runners["history"].read_position() == 0
    assert dump(views.history)["history"] == []

    restarted = build_views(app, env, backend, tmp_path)  # a new process on the same stores
    try:
        restarted.catch_up()
        restarted.catch_up()  # a second pass applies nothing again
        rows = dump(restarted.history)["history"]
    finally:
        restarted.close()
    views.rebuild(["history"])
    assert rows == dump(views.history)["history"]
    assert len(rows) == len({(r[0], r[1]) for r in rows})  # one row per case version


def test_followers_make_a_write_visible_to_a_waiting_reader(
    app: FengqiaoApplication, views: ViewSet, backend: str, clock: Clock
) -> None:
    views.follow(subscribe=backend == "postgres")
    recorded = app.register(
        REPORTER, "dispute", Registration("邻里纠纷", "read your writes", VILLAGE, Channel.HOTLINE)
    )

    assert views.wait(recorded.position, timeout=5)

    assert [i.id for i in get_queue(views.cases, VILLAGE, now=clock())] == [recorded.case.id]
    assert views.lag() == dict.fromkeys(VIEW_CLASSES, 0)  # every view, each caught up
