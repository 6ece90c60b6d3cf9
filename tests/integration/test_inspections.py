"""督查抽查 through the store and the views, on SQLite and PostgreSQL: a township's draw takes
its population from the cases view (closed in the month, in Shanghai, located in its subtree),
is saved with the sampled cases' callback clocks in one transaction, re-derives from its seed,
and is made once whoever asks again; the sizes the policy gives (45 → 5, 12 → 3, 2 → 2, none
→ an empty draw); the scheduler's nightly job draws only while it holds the lock; the views
rebuild to the same samples.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from uuid import UUID

import pytest

from domain.actors import SYSTEM, Actor, Role
from domain.application import FengqiaoApplication
from domain.case.commands import RecordInspection, ReopenCase
from domain.clocks import DeadlineKind
from domain.inspection import Month, derive_sample, draw_id
from domain.policy import Policy
from projections.inspections import closed_in, list_inspections
from projections.viewset import ViewSet
from scheduler.inspections import MonthlyDraw
from scheduler.lock import ProcessLock
from scheduler.service import SweepService
from scheduler.sweep import Sweeper
from tests.support import builders
from tests.support.views import dump
from tests.support.world import (
    NEIGHBOUR_VILLAGE,
    OTHER_TOWNSHIP,
    SUPERVISOR,
    T0,
    TOWNSHIP,
    VILLAGE,
    Clock,
)

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)

AUGUST = Month(2026, 8)
AUGUST_DAY = datetime(2026, 8, 12, 2, 0, tzinfo=UTC)
LAST_MINUTE_OF_AUGUST = datetime(2026, 8, 31, 15, 59, tzinfo=UTC)  # 23:59 in Shanghai
FIRST_MINUTE_OF_SEPTEMBER = datetime(2026, 8, 31, 16, 0, tzinfo=UTC)
OTHER_TOWNSHIP_VILLAGE = "511123002001"
SEED = "0123456789abcdef0123456789abcdef"
INSPECTOR = Actor("inspector-511123", Role.INSPECTOR, "511123")


def closed(app: FengqiaoApplication, clock: Clock, at: datetime, unit: str = VILLAGE) -> UUID:
    clock.now = at
    return builders.drive(app, "closed", unit=unit).id


def test_a_township_draw_takes_the_cases_closed_in_its_month_and_is_made_once(
    app: FengqiaoApplication, views: ViewSet, clock: Clock
) -> None:
    inside = [closed(app, clock, AUGUST_DAY, v) for v in [VILLAGE] * 8 + [NEIGHBOUR_VILLAGE] * 3]
    inside.append(closed(app, clock, LAST_MINUTE_OF_AUGUST))
    outside = [
        closed(app, clock, FIRST_MINUTE_OF_SEPTEMBER),  # closed in September (Shanghai)
        closed(app, clock, AUGUST_DAY, OTHER_TOWNSHIP_VILLAGE),  # another township
        closed(app, clock, AUGUST_DAY),  # closed in August, reopened since
        builders.drive(app, "followed_up").id,  # not closed
    ]
    app.execute(outside[2], ReopenCase("当事人反映协议未履行"), SUPERVISOR)
    clock.now = T0
    views.catch_up()
    assert closed_in(views.cases, TOWNSHIP, AUGUST.start, AUGUST.end) == sorted(inside)

    seeds = iter([SEED, "f" * 32])
    draws = MonthlyDraw(app, views.cases, clock, seed=lambda: next(seeds))
    (report,) = draws.run(townships=[TOWNSHIP])

    draw = report.answer.draw
    assert report.answer.new
    assert draw.id == draw_id(TOWNSHIP, AUGUST)
    assert draw.population == sorted(str(c) for c in inside)
    assert draw.sample == derive_sample(draw.population, SEED, 3)
    stored = app.inspection_draw(TOWNSHIP, AUGUST)
    assert stored is not None
    assert (stored.seed, stored.sample, stored.verified) == (SEED, draw.sample, True)
    # the sampled cases' clocks were saved in the same transaction as the draw
    position = report.answer.position
    for case_id in draw.sample:
        case = app.get_case(UUID(case_id))
        assert builders.event_names(app, case.id)[-1] == "InspectionSampled"
        assert case.pending(DeadlineKind.INSPECTION) is not None
    assert position == app.recorder.max_notification_id()

    head = app.recorder.max_notification_id()
    (again,) = draws.run(AUGUST, [TOWNSHIP])  # another seed would draw another sample
    assert not again.answer.new
    assert again.answer.draw.seed == SEED
    assert app.recorder.max_notification_id() == head
    views.catch_up()
    listed = list_inspections(views.cases, TOWNSHIP, T0)
    assert sorted(str(item.case_id) for item in listed) == draw.sample


@pytest.mark.parametrize(("count", "drawn"), [(45, 5), (12, 3), (2, 2)])
def test_the_application_samples_the_share_the_policy_gives(
    app: FengqiaoApplication, count: int, drawn: int
) -> None:
    population = [builders.register(app).id for _ in range(count)]

    answer = app.draw_inspection(SYSTEM, TOWNSHIP, AUGUST, population, SEED)

    assert len(answer.draw.sample) == drawn
    assert answer.draw.sample == derive_sample([str(c) for c in population], SEED, drawn)
    sampled = [UUID(c) for c in answer.draw.sample]
    assert all(app.get_case(c).inspection is not None for c in sampled)
    assert all(app.get_case(c).inspection is None for c in set(population) - set(sampled))


def test_a_township_with_nothing_closed_records_an_empty_draw(
    app: FengqiaoApplication, views: ViewSet, clock: Clock
) -> None:
    (report,) = MonthlyDraw(app, views.cases, clock).run(AUGUST, [OTHER_TOWNSHIP])

    assert report.answer.new
    assert (report.answer.draw.population, report.answer.draw.sample) == ([], [])
    assert app.inspection_draw(OTHER_TOWNSHIP, AUGUST) is not None


def test_the_nightly_job_draws_the_month_before_only_while_it_holds_the_lock(
    app: FengqiaoApplication, views: ViewSet, clock: Clock
) -> None:
    case_id = closed(app, clock, AUGUST_DAY)
    clock.now = datetime(2026, 9, 30, 17, 0, tzinfo=UTC)  # Thu Oct 1, 01:00 in Shanghai
    views.catch_up()
    draws = MonthlyDraw(app, views.cases, clock)

    class Elsewhere(ProcessLock):
        def acquire(self) -> bool:
            return False

    def service(lock: ProcessLock) -> SweepService:
        sweeper = Sweeper(app, views.deadlines, clock)
        return SweepService(sweeper, lock, 60.0, monthly=draws.run)

    assert not service(Elsewhere()).draw_monthly()
    assert app.inspection_draw(TOWNSHIP, Month(2026, 9)) is None
    assert service(ProcessLock()).draw_monthly()
    september = app.inspection_draw(TOWNSHIP, Month(2026, 9))
    assert september is not None
    assert september.sample == []  # the case was closed in August
    assert app.inspection_draw(TOWNSHIP, AUGUST) is None
    assert app.get_case(case_id).inspection is None


def test_a_holiday_declared_after_the_draw_moves_a_callback_still_running(
    app: FengqiaoApplication, views: ViewSet, clock: Clock
) -> None:
    clock.now = AUGUST_DAY
    app.adopt_policy(SUPERVISOR, Policy())  # the policy book's first version
    case_id = closed(app, clock, AUGUST_DAY)
    clock.now = T0
    views.catch_up()
    MonthlyDraw(app, views.cases, clock).run(AUGUST, [TOWNSHIP])
    app.execute(case_id, ReopenCase("当事人反映协议未履行"), SUPERVISOR)  # its clocks run on
    holiday = replace(Policy(), version="insp-holiday", holidays=frozenset({date(2026, 10, 12)}))

    assert app.adopt_policy(SUPERVISOR, holiday) == 1

    moved = datetime(2026, 10, 19, 16, 0, tzinfo=UTC)  # a working day later: the end of Oct 19
    assert app.get_case(case_id).deadlines["inspection"].due_at == moved
    views.catch_up()
    (item,) = list_inspections(views.cases, TOWNSHIP, T0)
    assert item.due_at == moved
    app.execute(case_id, RecordInspection(reached=True, satisfied=True), INSPECTOR)
    assert builders.last_event(app, case_id).due_at == moved


def test_the_views_rebuild_to_the_same_samples_and_callbacks(
    app: FengqiaoApplication, views: ViewSet, clock: Clock
) -> None:
    for village in (VILLAGE, VILLAGE, NEIGHBOUR_VILLAGE, VILLAGE):
        closed(app, clock, AUGUST_DAY, village)
    clock.now = T0
    views.catch_up()
    MonthlyDraw(app, views.cases, clock).run(AUGUST, [TOWNSHIP])
    views.catch_up()
    before = {name: dump(views.views[name]) for name in ("cases", "statistics")}

    views.rebuild(["cases", "statistics"])

    assert {name: dump(views.views[name]) for name in ("cases", "statistics")} == before
