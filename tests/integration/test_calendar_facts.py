"""Holidays and 调休 are facts about the world: the latest adopted ones count for every case.

Adopting a policy whose ``holidays`` or ``workdays`` differ recomputes, once, the pending
working-calendar clocks of every running case whose span holds a changed day, and each such
case records one ``ClocksRecomputed`` event naming the days. chinese-calendar does not know
2027 (yet): Monday–Friday are its working days there, and the policy's facts come on top.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest

from domain.application import FengqiaoApplication
from domain.calendar import SHANGHAI
from domain.case import Case
from domain.clocks import Deadline, DeadlineKind, Duration
from domain.policy import Mode, Policy
from projections.viewset import ViewSet
from tests.support.builders import drive, event_names
from tests.support.world import ADMIN, SUPERVISOR, Clock

BEFORE = Policy(version="cal-2027.1")
MONDAY = datetime(2027, 3, 1, 10, 0, tzinfo=SHANGHAI)  # 2027-03-01 is a Monday
THURSDAY = MONDAY + timedelta(days=3)


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2027, 3, day, hour, 0, tzinfo=SHANGHAI).astimezone(UTC)


def facts(version: str, holidays: tuple[str, ...] = (), workdays: tuple[str, ...] = ()) -> Policy:
    return replace(
        BEFORE,
        version=version,
        holidays=frozenset(date.fromisoformat(d) for d in holidays),
        workdays=frozenset(date.fromisoformat(d) for d in workdays),
    )


@pytest.fixture
def world(app: FengqiaoApplication, clock: Clock) -> FengqiaoApplication:
    """The store adopted ``BEFORE`` (no local facts) on Monday 1 March 2027, 10:00."""
    clock.now = MONDAY.astimezone(UTC)
    app.adopt_policy(ADMIN, BEFORE)
    return app


def resolve_clock(app: FengqiaoApplication, case_id: UUID) -> Deadline:
    clock = app.get_case(case_id).pending(DeadlineKind.RESOLVE)
    assert clock is not None
    return clock


def recomputed(app: FengqiaoApplication, case_id: UUID) -> list[Case.ClocksRecomputed]:
    events = app.repository.event_store.get(case_id)
    return [e for e in events if isinstance(e, Case.ClocksRecomputed)]


def test_a_new_local_holiday_moves_a_running_resolve_clock_one_working_day_later(
    world: FengqiaoApplication, clock: Clock
) -> None:
    case = drive(world, "signed")  # yellow at the village: 3wd from Monday → Friday 00:00
    assert resolve_clock(world, case.id).due_at == at(5)
    assert case.policy_version == BEFORE.version
    clock.advance(hours=2)

    assert world.adopt_policy(ADMIN, facts("cal-2027.2", holidays=("2027-03-03",))) == 1

    moved = resolve_clock(world, case.id)
    assert moved.due_at == at(6)  # Tue, Thu, Fri: the end of Friday
    assert moved.started_at == MONDAY.astimezone(UTC)
    assert moved.rule == "3wd"
    assert moved.calendar == "cn-statutory+1-local"
    assert moved.policy_version == BEFORE.version  # the case keeps its rules
    [event] = recomputed(world, case.id)
    assert (event.cause, event.policy_version, event.days) == (
        "calendar",
        "cal-2027.2",
        ["2027-03-03"],
    )
    assert event_names(world, case.id)[-1] == "ClocksRecomputed"
    assert world.get_case(case.id).policy_version == BEFORE.version
    # the old case's new clocks count on the new facts, by its own version's rules
    clocks = world.clocks_for(world.get_case(case.id))
    assert clocks.policy.version == BEFORE.version
    assert clocks.calendar.local_holidays == {date(2027, 3, 3)}
    new_case = drive(world, "registered")
    assert resolve_clock(world, new_case.id).due_at == at(6)


def test_a_make_up_working_day_in_the_span_moves_a_clock_earlier(
    world: FengqiaoApplication, clock: Clock
) -> None:
    clock.now = THURSDAY.astimezone(UTC)
    case = drive(world, "registered")  # 3wd from Thursday: Fri, Mon, Tue → Wednesday 00:00
    assert resolve_clock(world, case.id).due_at == at(10)

    world.adopt_policy(ADMIN, facts("cal-2027.2", workdays=("2027-03-06",)))  # 调休 Saturday

    assert resolve_clock(world, case.id).due_at == at(9)  # Fri, Sat, Mon
    [event] = recomputed(world, case.id)
    assert event.days == ["2027-03-06"]


def test_a_clock_whose_span_misses_the_changed_day_and_a_closed_case_are_untouched(
    world: FengqiaoApplication, clock: Clock
) -> None:
    running = drive(world, "signed")  # resolve due Friday 5 March
    closed = drive(world, "closed")
    before = world.get_case(running.id).deadlines
    closed_version = world.get_case(closed.id).version

    assert world.adopt_policy(ADMIN, facts("cal-2027.2", holidays=("2027-03-10",))) == 0

    assert world.get_case(running.id).deadlines == before
    assert recomputed(world, running.id) == []
    assert world.get_case(closed.id).version == closed_version


def test_adopting_the_same_calendar_facts_again_records_nothing(
    world: FengqiaoApplication,
) -> None:
    case = drive(world, "signed")
    with_holiday = facts("cal-2027.2", holidays=("2027-03-03",))
    assert world.adopt_policy(ADMIN, with_holiday) == 1
    # other rules, the same facts
    later = replace(with_holiday, version="cal-2027.3", rework=Duration(10, "wd"))
    assert world.adopt_policy(ADMIN, later) == 0
    assert world.adopt_policy(ADMIN, later) == 0
    assert len(recomputed(world, case.id)) == 1
    assert resolve_clock(world, case.id).due_at == at(6)


def test_the_statutory_judicial_confirmation_window_is_untouched(
    world: FengqiaoApplication,
) -> None:
    case = drive(world, "resolved")  # 司法确认: 30 calendar days, whatever the mode
    before = world.get_case(case.id).deadlines
    assert DeadlineKind.JUDICIAL_CONFIRMATION.value in before

    assert world.adopt_policy(ADMIN, facts("cal-2027.2", holidays=("2027-03-15",))) == 0

    assert world.get_case(case.id).deadlines == before


def test_in_holiday_mode_calendar_time_counted_as_working_time_moves_but_the_law_does_not(
    world: FengqiaoApplication,
) -> None:
    world.switch_mode(SUPERVISOR, Mode.HOLIDAY, "春节假期")
    case = drive(world, "resolved")  # follow-up 7d of working time; 司法确认 calendar time
    before = world.get_case(case.id).deadlines
    follow_up = before[DeadlineKind.FOLLOW_UP.value]
    assert follow_up.mode == Mode.HOLIDAY.value
    assert follow_up.calendar != "calendar"

    assert world.adopt_policy(ADMIN, facts("cal-2027.2", holidays=("2027-03-04",))) == 1

    after = world.get_case(case.id).deadlines
    assert after[DeadlineKind.FOLLOW_UP.value].due_at == follow_up.due_at + timedelta(days=1)
    judicial = DeadlineKind.JUDICIAL_CONFIRMATION.value
    assert after[judicial] == before[judicial]


def test_the_deadlines_view_and_the_timeline_follow_the_recomputed_clock(
    world: FengqiaoApplication, views: ViewSet, clock: Clock
) -> None:
    case = drive(world, "signed")
    views.catch_up()
    clock.advance(hours=2)

    world.adopt_policy(ADMIN, facts("cal-2027.2", holidays=("2027-03-03",)))
    views.catch_up()

    pending = {d.kind: d.due_at for d in views.deadlines.list_for_case(case.id)}
    assert pending["resolve"] == at(6)
    last = views.history.get_history(case.id)[-1]
    assert last.event_type == "ClocksRecomputed"
    assert last.text == "因节假日调整（2027-03-03），期限重新计算"
    assert last.fields["days"] == ["2027-03-03"]


def test_a_paused_cases_stopped_clocks_move_and_its_review_date_does_not(
    world: FengqiaoApplication,
) -> None:
    case = drive(world, "paused")
    review = world.get_case(case.id).deadlines
    assert world.get_case(case.id).paused_deadlines["resolve"].due_at == at(5)

    assert world.adopt_policy(ADMIN, facts("cal-2027.2", holidays=("2027-03-03",))) == 1

    paused = world.get_case(case.id)
    assert paused.paused_deadlines["resolve"].due_at == at(6)
    assert paused.deadlines == review  # a date a person set
