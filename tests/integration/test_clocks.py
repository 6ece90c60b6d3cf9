"""Deadlines: China's statutory working days (调休 included), local holidays, operating modes.

Pure unit tests on ``WorkingCalendar`` and ``Clocks`` (no store), then pause/resume and
extensions through the application on every backend.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from domain.application import FengqiaoApplication
from domain.calendar import SHANGHAI, WorkingCalendar
from domain.case.commands import ExtendDeadline, PauseCase, ResumeCase
from domain.clocks import Basis, DeadlineKind, Duration
from domain.errors import PolicyError
from domain.levels import Level, Tier
from domain.policy import Breach, Clocks, Mode, Policy
from tests.support.builders import drive, mediate
from tests.support.world import MEDIATOR, SUPERVISOR, T0, Clock


def shanghai(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def clocks(mode: Mode = Mode.NORMAL, policy: Policy | None = None) -> Clocks:
    policy = policy or Policy()
    return Clocks(policy, WorkingCalendar(policy.holidays), mode)


# --- the statutory calendar -----------------------------------------------------------------


def test_guoqing_2026_is_a_holiday_week_and_saturday_october_10_is_a_make_up_working_day() -> None:
    calendar = WorkingCalendar()
    assert calendar.is_working_day(date(2026, 9, 30))
    assert not any(calendar.is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert calendar.is_working_day(date(2026, 10, 8))
    assert calendar.is_working_day(date(2026, 10, 10))  # Saturday, 调休
    assert not calendar.is_working_day(date(2026, 10, 11))  # Sunday


def test_three_working_days_from_the_monday_before_guoqing_end_at_midnight_after_october_8() -> (
    None
):
    deadline = clocks().start(DeadlineKind.RESOLVE, Level.YELLOW, Tier.VILLAGE, T0)
    # Sep 29, Sep 30, (Oct 1-7 off), Oct 8: the period ends at 24:00 of Thursday Oct 8.
    assert deadline.due_at == shanghai(2026, 10, 9)
    assert deadline.due_at.tzinfo is UTC  # stored in UTC
    assert deadline.due_at == datetime(2026, 10, 8, 16, 0, tzinfo=UTC)
    assert (deadline.rule, deadline.calendar) == ("3wd", "cn-statutory")
    assert deadline.started_at == T0
    assert deadline.policy_version == "default-1"


def test_three_working_days_after_guoqing_count_the_make_up_saturday() -> None:
    start = shanghai(2026, 10, 8, 10)
    due = WorkingCalendar().add_working_days(start, 3)
    # Oct 9 (Fri), Oct 10 (Sat, 调休), Oct 12 (Mon): ends at 24:00 of Monday Oct 12.
    assert due == shanghai(2026, 10, 13)


def test_working_days_are_counted_by_the_shanghai_date_not_the_utc_date() -> None:
    # 01:00 on Wed Sep 30 in Shanghai is still Tue Sep 29 in UTC.
    start = datetime(2026, 9, 29, 17, 0, tzinfo=UTC)
    due = WorkingCalendar().add_working_days(start, 1)
    assert due == shanghai(2026, 10, 9)  # Sep 30 is the start day, Oct 8 the one working day


def test_a_period_starting_in_the_holiday_counts_from_the_first_working_day() -> None:
    due = WorkingCalendar().add_working_days(shanghai(2026, 10, 3, 15), 2)
    assert due == shanghai(2026, 10, 10)  # Oct 8, Oct 9


def test_a_year_chinese_calendar_does_not_know_falls_back_to_monday_to_friday_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calendar = WorkingCalendar()
    with caplog.at_level(logging.WARNING, logger="domain.calendar"):
        # Friday 2027-03-05 + 3 working days: Mon 8, Tue 9, Wed 10.
        due = calendar.add_working_days(shanghai(2027, 3, 5, 9), 3)
        assert calendar.is_working_day(date(2027, 2, 8))  # a Monday, whatever the festival
        assert not calendar.is_working_day(date(2027, 2, 6))  # a Saturday
    assert due == shanghai(2027, 3, 11)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, "warned once per year, not once per day"
    assert "2027" in warnings[0].getMessage()
    assert calendar.fallback_years == {2027}


def test_a_known_year_logs_no_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="domain.calendar"):
        WorkingCalendar().add_working_days(T0, 10)
    assert caplog.records == []


def test_local_holidays_are_not_working_days() -> None:
    policy = Policy(version="local-1", holidays=frozenset({date(2026, 9, 29)}))
    deadline = clocks(policy=policy).start(DeadlineKind.RESOLVE, Level.YELLOW, Tier.VILLAGE, T0)
    # Sep 29 is a local holiday: Sep 30, Oct 8, Oct 9.
    assert deadline.due_at == shanghai(2026, 10, 10)
    assert deadline.calendar == "cn-statutory+1-local"


def test_local_holidays_also_fill_a_year_chinese_calendar_does_not_know() -> None:
    spring_festival = frozenset(date(2027, 2, d) for d in range(8, 13))
    calendar = WorkingCalendar(spring_festival)
    assert calendar.add_working_days(shanghai(2027, 2, 5, 9), 1) == shanghai(2027, 2, 16)


# --- sign-for and resolve clocks in the normal mode -----------------------------------------


@pytest.mark.parametrize(
    ("level", "tier", "sign", "resolve"),
    [
        (Level.YELLOW, Tier.VILLAGE, T0 + timedelta(hours=24), shanghai(2026, 10, 9)),
        (Level.ORANGE, Tier.TOWNSHIP, T0 + timedelta(hours=4), shanghai(2026, 10, 11)),
        (Level.RED, Tier.COUNTY, T0 + timedelta(hours=1), T0 + timedelta(days=3)),
    ],
)
def test_default_clocks_per_level_at_its_tier(
    level: Level, tier: Tier, sign: datetime, resolve: datetime
) -> None:
    normal = clocks()
    assert normal.start(DeadlineKind.SIGN, level, tier, T0).due_at == sign
    assert normal.start(DeadlineKind.RESOLVE, level, tier, T0).due_at == resolve


def test_hour_clocks_run_on_calendar_time_through_the_holiday_in_the_normal_mode() -> None:
    start = shanghai(2026, 9, 30, 10)
    deadline = clocks().start(DeadlineKind.SIGN, Level.YELLOW, Tier.VILLAGE, start)
    assert deadline.due_at == shanghai(2026, 10, 1, 10)
    assert deadline.calendar == "calendar"


def test_a_case_above_its_levels_tier_runs_on_the_owning_tiers_clocks() -> None:
    policy = Policy()
    assert policy.rule_for(Level.YELLOW, Tier.TOWNSHIP) == policy.rule_for(
        Level.ORANGE, Tier.TOWNSHIP
    )
    assert policy.rule_for(Level.ORANGE, Tier.COUNTY).on_breach is Breach.FLAG


def test_the_other_clocks_follow_the_policy() -> None:
    normal = clocks()
    starts = {
        DeadlineKind.MEDIATION: timedelta(days=30),
        DeadlineKind.FOLLOW_UP: timedelta(days=7),
        DeadlineKind.JUDICIAL_REMINDER: timedelta(days=20),
        DeadlineKind.JUDICIAL_CONFIRMATION: timedelta(days=30),
        DeadlineKind.STATUS_REPORT: timedelta(days=1),
    }
    for kind, after in starts.items():
        assert normal.start(kind, Level.YELLOW, Tier.VILLAGE, T0).due_at == T0 + after, kind
    rework = normal.rework(Level.YELLOW, Tier.VILLAGE, T0)
    assert (rework.kind, rework.rule) == (DeadlineKind.RESOLVE, "15wd")


# --- operating modes ----------------------------------------------------------------------


def test_emergency_mode_halves_every_clock_and_red_signs_within_fifteen_minutes() -> None:
    emergency = clocks(Mode.EMERGENCY)
    red_sign = emergency.start(DeadlineKind.SIGN, Level.RED, Tier.COUNTY, T0)
    assert red_sign.due_at == T0 + timedelta(minutes=15)
    assert (red_sign.rule, red_sign.mode) == ("15m", "emergency")
    red_resolve = emergency.start(DeadlineKind.RESOLVE, Level.RED, Tier.COUNTY, T0)
    assert red_resolve.due_at == T0 + timedelta(hours=36)
    orange_sign = emergency.start(DeadlineKind.SIGN, Level.ORANGE, Tier.TOWNSHIP, T0)
    assert orange_sign.due_at == T0 + timedelta(hours=2)
    yellow_sign = emergency.start(DeadlineKind.SIGN, Level.YELLOW, Tier.VILLAGE, T0)
    assert yellow_sign.due_at == T0 + timedelta(hours=12)
    follow_up = emergency.start(DeadlineKind.FOLLOW_UP, Level.YELLOW, Tier.VILLAGE, T0)
    assert follow_up.due_at == T0 + timedelta(days=3, hours=12)


def test_emergency_mode_halves_working_day_clocks_into_working_time() -> None:
    emergency = clocks(Mode.EMERGENCY)
    # 3 working days halved = 36 h of working time: 14 h left on Mon Sep 28, 22 h of Sep 29.
    yellow = emergency.start(DeadlineKind.RESOLVE, Level.YELLOW, Tier.VILLAGE, T0)
    assert yellow.due_at == shanghai(2026, 9, 29, 22)
    # From Wed Sep 30 10:00: 14 h that day, 国庆 skipped, 22 h of Thu Oct 8.
    start = shanghai(2026, 9, 30, 10)
    late = emergency.start(DeadlineKind.RESOLVE, Level.YELLOW, Tier.VILLAGE, start)
    assert late.due_at == shanghai(2026, 10, 8, 22)
    assert late.calendar == "cn-statutory"


def test_holiday_mode_counts_non_red_clocks_on_working_days_only() -> None:
    holiday = clocks(Mode.HOLIDAY)
    start = shanghai(2026, 9, 30, 10)
    # 24 h to sign: 14 h of Sep 30, then 10 h of Oct 8.
    sign = holiday.start(DeadlineKind.SIGN, Level.YELLOW, Tier.VILLAGE, start)
    assert sign.due_at == shanghai(2026, 10, 8, 10)
    assert (sign.calendar, sign.mode) == ("cn-statutory", "holiday")
    orange_sign = holiday.start(DeadlineKind.SIGN, Level.ORANGE, Tier.TOWNSHIP, start)
    assert orange_sign.due_at == start + timedelta(hours=4)
    follow_up = holiday.start(DeadlineKind.FOLLOW_UP, Level.ORANGE, Tier.TOWNSHIP, start)
    # 7 × 24 h of working time from Sep 30 10:00: 14 h + Oct 8, 9, 10, 12, 13, 14 + 10 h.
    assert follow_up.due_at == shanghai(2026, 10, 15, 10)
    resolve = holiday.start(DeadlineKind.RESOLVE, Level.YELLOW, Tier.VILLAGE, start)
    assert resolve.due_at == shanghai(2026, 10, 11)  # working days as ever: Oct 8, 9, 10


def test_holiday_mode_keeps_red_on_calendar_time() -> None:
    holiday = clocks(Mode.HOLIDAY)
    start = shanghai(2026, 10, 2, 20)
    sign = holiday.start(DeadlineKind.SIGN, Level.RED, Tier.COUNTY, start)
    resolve = holiday.start(DeadlineKind.RESOLVE, Level.RED, Tier.COUNTY, start)
    report = holiday.start(DeadlineKind.STATUS_REPORT, Level.RED, Tier.COUNTY, start)
    assert sign.due_at == start + timedelta(hours=1)
    assert resolve.due_at == start + timedelta(days=3)
    assert report.due_at == start + timedelta(days=1)
    assert sign.calendar == resolve.calendar == "calendar"


# --- durations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "length", "basis"),
    [
        ("90s", timedelta(seconds=90), Basis.CALENDAR),
        ("30m", timedelta(minutes=30), Basis.CALENDAR),
        ("4h", timedelta(hours=4), Basis.CALENDAR),
        ("3d", timedelta(days=3), Basis.CALENDAR),
        ("3wd", timedelta(days=3), Basis.WORKING_DAYS),
        (" 15 wd ", timedelta(days=15), Basis.WORKING_DAYS),
    ],
)
def test_a_duration_is_parsed(text: str, length: timedelta, basis: Basis) -> None:
    duration = Duration.parse(text)
    assert duration.as_timedelta() == length
    assert duration.basis is basis
    assert Duration.parse(str(duration)) == duration


@pytest.mark.parametrize(
    "text", ["", "4", "h", "-3d", "0h", "1.5h", "3w", "3 weeks", "four hours", None, 4]
)
def test_a_bad_duration_is_refused_naming_the_key(text: object) -> None:
    with pytest.raises(PolicyError) as caught:
        Duration.parse(text, "clocks.red.county.sign")  # type: ignore[arg-type]
    assert caught.value.key == "clocks.red.county.sign"
    assert "clocks.red.county.sign" in str(caught.value)


# --- pausing and extending through the application ----------------------------------------


@pytest.mark.parametrize("status", ["registered", "in_mediation"])
def test_pausing_and_resuming_moves_every_deadline_by_the_paused_time(
    app: FengqiaoApplication, clock: Clock, status: str
) -> None:
    case = drive(app, status)
    before = {kind: d.due_at for kind, d in case.deadlines.items()}
    assert before
    clock.advance(hours=5)
    app.execute(case.id, PauseCase("等待司法鉴定", clock.now + timedelta(days=10)), MEDIATOR)
    paused_for = timedelta(days=2, hours=3, minutes=30)
    clock.advance(days=2, hours=3, minutes=30)
    app.execute(case.id, ResumeCase(), MEDIATOR)
    case = app.get_case(case.id)
    after = {kind: d.due_at for kind, d in case.deadlines.items()}
    assert after == {kind: due + paused_for for kind, due in before.items()}


def test_two_pauses_add_up(app: FengqiaoApplication, clock: Clock) -> None:
    case = drive(app, "signed", level=Level.RED)
    before = {kind: d.due_at for kind, d in case.deadlines.items()}
    for hours in (3, 7):
        app.execute(case.id, PauseCase("等待当事人到场", clock.now + timedelta(days=10)), MEDIATOR)
        clock.advance(hours=hours)
        app.execute(case.id, ResumeCase(), MEDIATOR)
        clock.advance(hours=1)
    after = {kind: d.due_at for kind, d in app.get_case(case.id).deadlines.items()}
    assert after == {kind: due + timedelta(hours=10) for kind, due in before.items()}


def test_extending_moves_the_resolve_deadline_only(app: FengqiaoApplication) -> None:
    case = drive(app, "signed")
    mediate(app, case.id)
    case = app.get_case(case.id)
    resolve = case.pending(DeadlineKind.RESOLVE)
    mediation = case.pending(DeadlineKind.MEDIATION)
    assert resolve is not None
    assert mediation is not None
    until = resolve.due_at + timedelta(days=4)
    app.execute(case.id, ExtendDeadline(until, "需等待村民代表大会"), SUPERVISOR)
    case = app.get_case(case.id)
    extended = case.pending(DeadlineKind.RESOLVE)
    assert extended is not None
    assert extended.due_at == until
    assert (extended.rule, extended.started_at) == (resolve.rule, resolve.started_at)
    assert case.pending(DeadlineKind.MEDIATION) == mediation


def test_cases_registered_in_an_emergency_run_on_emergency_clocks(
    app: FengqiaoApplication,
) -> None:
    app.switch_mode(SUPERVISOR, Mode.EMERGENCY, "汛期应急", at=T0)
    red = drive(app, "registered", level=Level.RED)
    sign = red.pending(DeadlineKind.SIGN)
    assert sign is not None
    assert (sign.due_at, sign.mode) == (T0 + timedelta(minutes=15), "emergency")
    app.switch_mode(SUPERVISOR, Mode.NORMAL, "应急结束", at=T0)
    later = drive(app, "registered", level=Level.RED)
    assert later.pending(DeadlineKind.SIGN) == replace(
        sign, due_at=T0 + timedelta(hours=1), rule="1h", mode="normal"
    )
