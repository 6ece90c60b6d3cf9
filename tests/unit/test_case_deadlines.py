"""The scheduler's ``ActOnDeadline`` on the case aggregate, with no event store.

A missed sign-for deadline is flagged once; a missed resolve deadline moves the case up one
tier with the level raised to that tier's (village → township orange, township → county red)
and is flagged at the county; any other clock records ``ClockFired`` (a red case's daily
status report starts its next day). A clock not yet due, or no longer the case's own (moved,
extended, stopped), records nothing, so a repeated or late sweep is harmless.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.actors import SYSTEM
from domain.case import Case
from domain.case.commands import (
    ActOnDeadline,
    EscalateCase,
    ExtendDeadline,
    LowerLevel,
    RecordFollowUp,
    RecordMediationSession,
    SignCase,
)
from domain.clocks import DeadlineKind
from domain.errors import CommandNotAllowedError, PolicyError
from domain.levels import Level, Tier
from domain.policy import Mode, Policy
from domain.policy_document import policy_from_document, policy_to_document
from domain.status import Flag, Status
from tests.support.decider import (
    YELLOW_RESOLVE_DUE,
    clocks,
    drive,
    due,
    later,
    names,
    refused,
    run,
)
from tests.support.world import (
    CITY,
    COUNTY,
    MEDIATOR,
    SUPERVISOR,
    T0,
    TOWNSHIP,
    TOWNSHIP_MEDIATOR,
    VILLAGE,
)

SIGN, RESOLVE = DeadlineKind.SIGN, DeadlineKind.RESOLVE
# Orange at the township, arriving at YELLOW_RESOLVE_DUE (00:00 Fri Oct 9 in Shanghai): five
# working days, counting the 调休 Saturday Oct 10 → end of Thu Oct 15.
TOWNSHIP_RESOLVE_DUE = datetime(2026, 10, 15, 16, 0, tzinfo=UTC)


def sweep(
    case: Case, kind: DeadlineKind, due_at: datetime, at: datetime | None = None
) -> list[Any]:
    """The scheduler acting on a clock of ``kind`` due at ``due_at`` (at that moment, unless
    told); returns what the case recorded."""
    return run(case, ActOnDeadline(kind, due_at), SYSTEM, at or due_at)


# --- sign-for ---------------------------------------------------------------------------


def test_a_yellow_dispute_left_unsigned_for_a_day_is_flagged_once() -> None:
    case = drive("registered")
    sign_due = due(case, SIGN)
    assert sign_due == T0 + timedelta(hours=24)

    assert sweep(case, SIGN, sign_due, sign_due - timedelta(seconds=1)) == []
    events = sweep(case, SIGN, sign_due)

    assert names(events) == ["SignOverdueFlagged"]
    assert (events[0].due_at, events[0].actor, events[0].role) == (sign_due, SYSTEM.user, "system")
    assert Flag.SIGN_OVERDUE in case.flags
    assert case.status is Status.REGISTERED
    assert sweep(case, SIGN, sign_due, later(case)) == []
    assert sweep(case, SIGN, sign_due - timedelta(hours=1), later(case)) == []

    run(case, SignCase(), MEDIATOR, later(case))

    assert Flag.SIGN_OVERDUE not in case.flags


def test_a_missed_sign_deadline_given_more_time_is_flagged_again_when_that_passes() -> None:
    case = drive("registered")
    first_due = due(case, SIGN)
    sweep(case, SIGN, first_due)
    until = first_due + timedelta(hours=12)
    run(case, ExtendDeadline(until, "村调委会主任外出", kind="sign"), SUPERVISOR, later(case))

    assert sweep(case, SIGN, first_due, until) == []
    assert names(sweep(case, SIGN, until)) == ["SignOverdueFlagged"]


def test_an_escalated_case_runs_a_new_sign_clock_and_only_that_one_is_flagged() -> None:
    case = drive("registered")
    old_due = due(case, SIGN)
    run(case, EscalateCase("村调委会无人值守"), SUPERVISOR, T0 + timedelta(hours=2))
    new_due = due(case, SIGN)
    assert new_due == T0 + timedelta(hours=6)

    assert sweep(case, SIGN, old_due) == []
    assert names(sweep(case, SIGN, new_due, old_due)) == ["SignOverdueFlagged"]


# --- resolve ----------------------------------------------------------------------------


def test_a_yellow_village_case_unresolved_for_three_working_days_moves_up_as_orange() -> None:
    """A yellow dispute in 石溪村 left unresolved for three working days (across 国庆) moves
    to 罗城镇 as orange."""
    case = drive("in_mediation")
    mediation = case.pending(DeadlineKind.MEDIATION)
    assert due(case, RESOLVE) == YELLOW_RESOLVE_DUE

    events = sweep(case, RESOLVE, YELLOW_RESOLVE_DUE)

    assert names(events) == ["Escalated"]
    moved = events[0]
    assert (moved.cause, moved.actor) == ("overdue", SYSTEM.user)
    assert (moved.from_unit, moved.to_unit) == (VILLAGE, TOWNSHIP)
    assert (moved.from_level, moved.to_level) == ("yellow", "orange")
    assert (case.owner, case.tier, case.level) == (TOWNSHIP, Tier.TOWNSHIP, Level.ORANGE)
    assert case.overdue_floor is Tier.TOWNSHIP
    assert case.status is Status.IN_MEDIATION
    # The township must sign for it: new sign-for and resolve clocks; mediation travels on.
    assert case.awaiting_signature
    assert due(case, SIGN) == YELLOW_RESOLVE_DUE + timedelta(hours=4)
    assert due(case, RESOLVE) == TOWNSHIP_RESOLVE_DUE
    assert case.pending(DeadlineKind.MEDIATION) == mediation
    session = RecordMediationSession(later(case), "镇级调解", [])
    assert TOWNSHIP in refused(case, CommandNotAllowedError, session, TOWNSHIP_MEDIATOR).detail


def test_an_orange_township_case_unresolved_for_five_working_days_moves_up_as_red() -> None:
    """An orange dispute at 罗城镇 left unresolved for five working days moves to 犍为县 as red."""
    case = drive("signed")
    sweep(case, RESOLVE, YELLOW_RESOLVE_DUE)
    run(case, SignCase(), TOWNSHIP_MEDIATOR, later(case))

    events = sweep(case, RESOLVE, TOWNSHIP_RESOLVE_DUE)

    assert names(events) == ["Escalated"]
    assert (events[0].cause, events[0].from_unit, events[0].to_unit) == (
        "overdue",
        TOWNSHIP,
        COUNTY,
    )
    assert (case.owner, case.tier, case.level) == (COUNTY, Tier.COUNTY, Level.RED)
    assert case.overdue_floor is Tier.COUNTY
    assert due(case, RESOLVE) == TOWNSHIP_RESOLVE_DUE + timedelta(days=3)
    assert due(case, DeadlineKind.STATUS_REPORT) == TOWNSHIP_RESOLVE_DUE + timedelta(days=1)


def test_a_red_dispute_at_the_county_that_misses_its_deadline_is_flagged_and_supervised() -> None:
    """At the top a missed deadline cannot climb: it is flagged once, and the city orders 督办,
    whose answer clock is flagged again each working day until the county answers."""
    case = drive("in_mediation", level=Level.RED)
    resolve_due = due(case, RESOLVE)
    assert resolve_due == T0 + timedelta(days=3)

    events = sweep(case, RESOLVE, resolve_due)

    assert names(events) == ["ResolveOverdueFlagged", "SupervisionOrdered"]
    assert events[0].due_at == resolve_due
    assert (events[1].by_unit, events[1].order) == (CITY, 1)
    assert events[1].instruction.startswith("化解期限已过")
    assert (case.owner, case.level) == (COUNTY, Level.RED)
    assert {Flag.RESOLVE_OVERDUE, Flag.SUPERVISED} <= case.flags
    assert sweep(case, RESOLVE, resolve_due, later(case)) == []
    answer_due = due(case, DeadlineKind.SUPERVISION)
    assert names(sweep(case, DeadlineKind.SUPERVISION, answer_due)) == ["SupervisionReminded"]


def test_a_flagged_red_case_given_more_time_is_flagged_again_when_that_passes() -> None:
    case = drive("signed", level=Level.RED)
    first_due = due(case, RESOLVE)
    sweep(case, RESOLVE, first_due)
    until = first_due + timedelta(days=2)
    run(case, ExtendDeadline(until, "等待公安调查结论"), SUPERVISOR, later(case))
    assert Flag.RESOLVE_OVERDUE not in case.flags

    assert names(sweep(case, RESOLVE, until)) == ["ResolveOverdueFlagged"]


def test_a_flagged_red_case_lowered_to_the_township_moves_up_again_when_late() -> None:
    case = drive("signed", level=Level.RED)
    sweep(case, RESOLVE, due(case, RESOLVE))
    run(case, LowerLevel(Level.ORANGE, "事态平息"), SUPERVISOR, later(case))
    run(case, SignCase(), TOWNSHIP_MEDIATOR, later(case))
    # the breach went with the county; the city's 督办 on it stays open for the new owner
    assert (case.owner, case.flags) == (TOWNSHIP, {Flag.SUPERVISED})

    events = sweep(case, RESOLVE, due(case, RESOLVE))

    assert names(events) == ["Escalated"]
    assert events[0].cause == "overdue"
    assert (case.owner, case.level) == (COUNTY, Level.RED)


def test_a_resolve_deadline_not_yet_due_records_nothing() -> None:
    case = drive("signed")

    assert sweep(case, RESOLVE, YELLOW_RESOLVE_DUE, YELLOW_RESOLVE_DUE - timedelta(seconds=1)) == []
    assert case.owner == VILLAGE


def test_a_repeated_sweep_of_the_same_resolve_deadline_acts_once() -> None:
    case = drive("signed")

    first = sweep(case, RESOLVE, YELLOW_RESOLVE_DUE)
    second = sweep(case, RESOLVE, YELLOW_RESOLVE_DUE, YELLOW_RESOLVE_DUE + timedelta(minutes=1))

    assert (names(first), second) == (["Escalated"], [])
    assert case.owner == TOWNSHIP


def test_a_sweep_for_a_resolve_deadline_extended_since_does_nothing() -> None:
    case = drive("signed")
    until = YELLOW_RESOLVE_DUE + timedelta(days=2)
    run(case, ExtendDeadline(until, "等待村民代表会议"), SUPERVISOR, later(case))

    assert sweep(case, RESOLVE, YELLOW_RESOLVE_DUE, YELLOW_RESOLVE_DUE + timedelta(hours=1)) == []
    assert case.owner == VILLAGE


@pytest.mark.parametrize("status", ["paused", "resolved", "terminated", "closed"])
def test_a_paused_or_concluded_case_is_not_moved_for_lateness(status: str) -> None:
    case = drive(status)

    assert sweep(case, RESOLVE, YELLOW_RESOLVE_DUE, YELLOW_RESOLVE_DUE + timedelta(days=1)) == []
    assert case.owner == VILLAGE


# --- other clocks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("in_mediation", DeadlineKind.MEDIATION),
        ("resolved", DeadlineKind.FOLLOW_UP),
        ("resolved", DeadlineKind.JUDICIAL_REMINDER),
        ("resolved", DeadlineKind.JUDICIAL_CONFIRMATION),
        ("terminated", DeadlineKind.FOLLOW_UP),
        ("answered", DeadlineKind.FOLLOW_UP),
    ],
)
def test_another_clock_coming_due_is_recorded_once_and_is_done(
    status: str, kind: DeadlineKind
) -> None:
    case = drive(status)
    due_at = due(case, kind)
    others = {k: d for k, d in case.deadlines.items() if k != kind.value}

    assert sweep(case, kind, due_at, due_at - timedelta(seconds=1)) == []
    events = sweep(case, kind, due_at)

    assert names(events) == ["ClockFired"]
    assert (events[0].kind, events[0].due_at) == (kind.value, due_at)
    assert case.deadlines == others
    assert case.status.value == (status if status != "answered" else "referred")
    assert sweep(case, kind, due_at, later(case)) == []


def test_a_red_cases_daily_status_report_starts_its_next_day_from_the_due_time() -> None:
    case = drive("registered", level=Level.RED)
    report_due = T0 + timedelta(days=1)

    events = sweep(case, DeadlineKind.STATUS_REPORT, report_due, report_due + timedelta(hours=1))

    assert names(events) == ["ClockFired"]
    assert events[0].kind == "status_report"
    assert due(case, DeadlineKind.STATUS_REPORT) == report_due + timedelta(days=1)
    assert sweep(case, DeadlineKind.STATUS_REPORT, report_due, later(case)) == []


def test_in_an_emergency_a_red_cases_next_status_report_is_due_in_half_a_day() -> None:
    case = drive("registered", level=Level.RED)
    report_due = T0 + timedelta(days=1)

    run(
        case,
        ActOnDeadline(DeadlineKind.STATUS_REPORT, report_due),
        SYSTEM,
        report_due,
        Mode.EMERGENCY,
    )

    assert due(case, DeadlineKind.STATUS_REPORT) == report_due + timedelta(hours=12)


def test_a_follow_up_clock_stopped_by_the_visit_records_nothing_when_its_time_comes() -> None:
    case = drive("resolved")
    follow_up_due = due(case, DeadlineKind.FOLLOW_UP)
    run(case, RecordFollowUp(satisfied=True), MEDIATOR, later(case))

    assert sweep(case, DeadlineKind.FOLLOW_UP, follow_up_due) == []


@pytest.mark.parametrize("mode", list(Mode))
def test_the_judicial_window_is_thirty_days_in_every_mode(mode: Mode) -> None:
    """人民调解法 §33 fixes 30 days for 司法确认: no operating mode halves or stretches it, and
    the clock says it ran as in normal mode; the mode's own clocks still change."""
    rules = clocks(mode)
    judicial = rules.start(DeadlineKind.JUDICIAL_CONFIRMATION, Level.YELLOW, Tier.VILLAGE, T0)
    reminder = rules.start(DeadlineKind.JUDICIAL_REMINDER, Level.YELLOW, Tier.VILLAGE, T0)
    follow_up = rules.start(DeadlineKind.FOLLOW_UP, Level.YELLOW, Tier.VILLAGE, T0)

    assert judicial.due_at == T0 + timedelta(days=30)
    assert reminder.due_at == T0 + timedelta(days=20)
    assert judicial.mode == reminder.mode == Mode.NORMAL.value
    assert (follow_up.due_at == T0 + timedelta(days=7)) is (mode is Mode.NORMAL)
    assert follow_up.mode == mode.value


def test_a_policy_may_name_other_statutory_clocks() -> None:
    policy = policy_from_document(
        {"version": "statutory-1", "statutory": ["judicial_confirmation", "follow_up"]}
    )
    assert policy.statutory == {DeadlineKind.JUDICIAL_CONFIRMATION, DeadlineKind.FOLLOW_UP}
    assert policy_to_document(policy)["statutory"] == ["follow_up", "judicial_confirmation"]
    assert "statutory" not in policy_to_document(Policy())
    follow_up = clocks(Mode.EMERGENCY, policy).start(
        DeadlineKind.FOLLOW_UP, Level.YELLOW, Tier.VILLAGE, T0
    )
    assert follow_up.due_at == T0 + timedelta(days=7)
    with pytest.raises(PolicyError, match="unknown clock kinds"):
        policy_from_document({"version": "statutory-2", "statutory": ["weekly"]})
