"""排查 through the store, the screening view and the watch, on SQLite and PostgreSQL: one
township's three villages in October 2026 — one reports a clue, one files a 零报告, one files
nothing. Swept a minute before the due time nothing is flagged; at the due instant exactly the
silent village is, once; the completion grid and statistics read the same; a report filed
after the miss is a late one; a village files once; the view rebuilt equals the live one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from domain.actors import Actor, Role
from domain.application import FengqiaoApplication
from domain.clue import ClueReport, Source
from domain.errors import InvalidInputError, NotPermittedError
from domain.screening import Period
from projections.screening import completion, missed_under, statistics
from projections.viewset import ViewSet
from scheduler.screening import ScreeningWatch
from tests.support.views import dump
from tests.support.world import COUNTY, NEIGHBOUR_VILLAGE, TOWNSHIP, VILLAGE, Clock

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)

OCTOBER = Period(2026, 10)
SEPTEMBER = Period(2026, 9)
DUE = datetime(2026, 10, 25, 16, 0, tzinfo=UTC)  # the end of 25 October in Beijing time
FILING_DAY = datetime(2026, 10, 20, 2, 0, tzinfo=UTC)
THIRD_VILLAGE = "511123001003"
WORKER = Actor("grid-worker-1", Role.REPORTER, VILLAGE)
NEIGHBOUR_WORKER = Actor("grid-worker-2", Role.REPORTER, NEIGHBOUR_VILLAGE)
THIRD_WORKER = Actor("grid-worker-3", Role.REPORTER, THIRD_VILLAGE)
DECLARATION = "本期经排查未发现矛盾纠纷"


def a_clue(app: FengqiaoApplication, unit: str = VILLAGE) -> str:
    report = ClueReport(unit, "其他", "两户因宅基地边界争执，已多次口角", Source.GRID)
    clue, _ = app.record_clue(Actor("grid-worker-1", Role.REPORTER, unit), report)
    return str(clue.id)


def october_filed(app: FengqiaoApplication, clock: Clock) -> str:
    """The village reports a clue, the neighbour a 零报告, the third village nothing."""
    clock.now = FILING_DAY
    clue = a_clue(app)
    app.file_screening_report(WORKER, VILLAGE, OCTOBER, [clue])
    app.file_screening_report(NEIGHBOUR_WORKER, NEIGHBOUR_VILLAGE, OCTOBER, zero=True,
                              declaration=DECLARATION)  # fmt: skip
    return clue


def watch(app: FengqiaoApplication, views: ViewSet) -> ScreeningWatch:
    return ScreeningWatch(app, views.screening, views.catch_up)


def test_the_township_queue_flags_exactly_the_silent_village_at_the_due_instant(
    app: FengqiaoApplication, views: ViewSet, clock: Clock
) -> None:
    october_filed(app, clock)
    watching = watch(app, views)

    before = watching.sweep(DUE - timedelta(minutes=1))
    views.catch_up()
    assert not [r for r in missed_under(views.screening, TOWNSHIP) if r.period == OCTOBER.id]
    assert OCTOBER.id not in {period for _, period in before}
    assert watching.next_due(DUE - timedelta(minutes=1)) == DUE

    marked = watching.sweep(DUE)
    views.catch_up()
    in_township = [(v, p) for v, p in marked if p == OCTOBER.id and v.startswith(TOWNSHIP)]
    assert in_township == [(THIRD_VILLAGE, OCTOBER.id)]
    queue = [r for r in missed_under(views.screening, TOWNSHIP) if r.period == OCTOBER.id]
    assert [(r.village, r.missed_at) for r in queue] == [(THIRD_VILLAGE, DUE)]
    head = app.recorder.max_notification_id()
    assert watching.sweep(DUE + timedelta(hours=1)) == []  # once
    assert app.recorder.max_notification_id() == head

    numbers = statistics(views.screening, app.units(), TOWNSHIP, OCTOBER, DUE, due_at(app))
    assert (numbers.villages, numbers.on_time, numbers.late, numbers.missing) == (3, 2, 0, 1)
    assert (numbers.zero, numbers.clues, numbers.on_time_share) == (1, 1, 0.6667)
    grid = completion(views.screening, app.units(), TOWNSHIP, [OCTOBER], DUE, due_at(app))
    states = {row.village: row.cells[0].state for row in grid.rows}
    assert states == {VILLAGE: "filed", NEIGHBOUR_VILLAGE: "zero", THIRD_VILLAGE: "missed"}


def test_before_the_due_time_nothing_is_missing_and_the_grid_reads_pending(
    app: FengqiaoApplication, views: ViewSet, clock: Clock
) -> None:
    october_filed(app, clock)
    views.catch_up()
    now = DUE - timedelta(seconds=1)

    numbers = statistics(views.screening, app.units(), TOWNSHIP, OCTOBER, now, due_at(app))
    grid = completion(views.screening, app.units(), COUNTY, [SEPTEMBER, OCTOBER], now, due_at(app))

    assert (numbers.on_time, numbers.missing, numbers.pending) == (2, 0, 1)
    assert grid.periods == [SEPTEMBER.id, OCTOBER.id]
    assert len(grid.rows) == 6  # both townships' villages
    third = next(row for row in grid.rows if row.village == THIRD_VILLAGE)
    assert [cell.state for cell in third.cells] == ["missed", "pending"]


def test_a_report_filed_after_the_miss_is_late_and_leaves_the_queue(
    app: FengqiaoApplication, views: ViewSet, clock: Clock
) -> None:
    october_filed(app, clock)
    watch(app, views).sweep(DUE)

    late_at = DUE + timedelta(days=2)
    answer = app.file_screening_report(
        THIRD_WORKER, THIRD_VILLAGE, OCTOBER, zero=True, declaration=DECLARATION, at=late_at
    )
    views.catch_up()

    assert answer.report.late
    assert answer.report.state == "late"
    assert [
        r.village for r in missed_under(views.screening, TOWNSHIP) if r.period == "2026-10"
    ] == []
    numbers = statistics(views.screening, app.units(), TOWNSHIP, OCTOBER, late_at, due_at(app))
    assert (numbers.on_time, numbers.late, numbers.missing, numbers.zero) == (2, 1, 0, 2)


def test_a_village_files_once_per_period(
    app: FengqiaoApplication, views: ViewSet, clock: Clock
) -> None:
    october_filed(app, clock)
    head = app.recorder.max_notification_id()

    with pytest.raises(InvalidInputError) as refused:
        app.file_screening_report(WORKER, VILLAGE, OCTOBER, zero=True, declaration=DECLARATION)

    assert refused.value.rule == "screening_filed"
    assert app.recorder.max_notification_id() == head


@pytest.mark.parametrize(
    ("actor", "unit", "period", "clues", "zero", "declaration", "refusal"),
    [
        (WORKER, TOWNSHIP, OCTOBER, None, True, DECLARATION, "village"),
        (WORKER, VILLAGE, Period(2026, 11), None, True, DECLARATION, "period_future"),
        (WORKER, VILLAGE, OCTOBER, None, True, "  ", "required"),
        (WORKER, VILLAGE, OCTOBER, None, False, "", "screening_empty"),
        (WORKER, VILLAGE, OCTOBER, "elsewhere", False, "", "clue_in_village"),
        (WORKER, VILLAGE, OCTOBER, "unknown", False, "", "clue_in_village"),
        (WORKER, VILLAGE, OCTOBER, "here", True, DECLARATION, "zero_with_clues"),
        (NEIGHBOUR_WORKER, VILLAGE, OCTOBER, None, True, DECLARATION, "not permitted"),
    ],
)
def test_bad_filings_are_refused_and_store_nothing(
    app: FengqiaoApplication,
    clock: Clock,
    actor: Actor,
    unit: str,
    period: Period,
    clues: str | None,
    zero: bool,
    declaration: str,
    refusal: str,
) -> None:
    clock.now = FILING_DAY
    ids = {
        None: [],
        "here": [a_clue(app)],
        "elsewhere": [a_clue(app, NEIGHBOUR_VILLAGE)],
        "unknown": ["6f1c7a52-0d4e-4c0b-9a57-1b2f3c4d5e6f"],
    }[clues]
    head = app.recorder.max_notification_id()

    with pytest.raises((InvalidInputError, NotPermittedError)) as refused:
        app.file_screening_report(actor, unit, period, ids, zero, declaration)

    rule = getattr(refused.value, "rule", "not permitted")
    assert rule == refusal
    assert app.recorder.max_notification_id() == head


def test_only_periods_begun_since_the_jurisdiction_was_recorded_are_owed(
    app: FengqiaoApplication, views: ViewSet, clock: Clock
) -> None:
    """The sample jurisdiction was recorded on 28 September (T0): September is owed nothing,
    October is; a policy adopted later changes neither."""
    clock.now = datetime(2026, 10, 5, 2, 0, tzinfo=UTC)
    app.adopt_policy(Actor("admin-1", Role.ADMIN, "511100"), app.policy)

    assert watch(app, views).due_periods(datetime(2026, 9, 30, tzinfo=UTC)) == []
    assert watch(app, views).due_periods(DUE) == [OCTOBER]
    assert watch(app, views).due_periods(datetime(2026, 11, 26, tzinfo=UTC)) == [
        Period(2026, 11),
        OCTOBER,
    ]


def test_the_screening_view_rebuilt_equals_the_live_one(
    app: FengqiaoApplication, views: ViewSet, clock: Clock
) -> None:
    october_filed(app, clock)
    watch(app, views).sweep(DUE)
    app.file_screening_report(THIRD_WORKER, THIRD_VILLAGE, OCTOBER, zero=True,
                              declaration=DECLARATION, at=DUE + timedelta(hours=3))  # fmt: skip
    views.catch_up()
    live = dump(views.screening)

    views.rebuild(["screening"])

    assert dump(views.screening) == live
    assert any(row for row in live["reports"])


def due_at(app: FengqiaoApplication) -> Callable[[Period], datetime]:
    return app.policy.screening.due_at
