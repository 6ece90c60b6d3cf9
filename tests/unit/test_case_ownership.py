"""Warning levels and ownership of the case aggregate, with no event store: assessment,
raising and lowering a level, escalation by hand and across areas, and returning a case to
its sender (小事不出村、大事不出镇、矛盾不上交).

A raised level moves the case up at once; lowering moves it down but never below where an
overdue escalation put it; a case handed up by hand may be returned within the sign window.
A missed resolve deadline (the scheduler's) is in ``test_case_deadlines.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.actors import SYSTEM
from domain.case import Case
from domain.case.commands import (
    ActOnDeadline,
    AssessCase,
    AssignCase,
    EscalateCase,
    LowerLevel,
    RaiseLevel,
    RecordMediationSession,
    ReturnCase,
    SignCase,
)
from domain.clocks import DeadlineKind
from domain.errors import CommandNotAllowedError, InvalidInputError, NotPermittedError
from domain.levels import Level, Tier
from domain.status import Status
from tests.support.decider import (
    YELLOW_RESOLVE_DUE,
    drive,
    due,
    later,
    names,
    refused,
    run,
)
from tests.support.world import (
    COUNTY,
    MEDIATOR,
    NEIGHBOUR_VILLAGE,
    OTHER_COUNTY,
    OTHER_TOWNSHIP,
    SUPERVISOR,
    TOWNSHIP,
    TOWNSHIP_MEDIATOR,
    TOWNSHIP_SUPERVISOR,
    VILLAGE,
)

# Five working days from Mon Sep 28: Sep 29, 30, Oct 8, 9 and the 调休 Saturday Oct 10.
ORANGE_RESOLVE_DUE_FROM_T0 = datetime(2026, 10, 10, 16, 0, tzinfo=UTC)


def escalated_by_hand(status: str = "signed") -> Case:
    """A yellow village case a supervisor handed up to the township a minute after ``status``."""
    case = drive(status)
    run(case, EscalateCase("村级无法调处，请镇里协调"), SUPERVISOR, later(case))
    return case


def assert_owner_never_below_level(case: Case) -> None:
    assert case.tier.height >= case.level.owner_tier.height


# --- assessment -----------------------------------------------------------------------------


def test_an_assessment_at_the_same_level_records_triggers_and_moves_nothing() -> None:
    case = drive("registered")

    events = run(
        case, AssessCase(Level.YELLOW, ["3-9人", "有摩擦"], "普通邻里纠纷"), MEDIATOR, later(case)
    )

    assert names(events) == ["Assessed"]
    assert (events[0].level, events[0].triggers, events[0].reason) == (
        "yellow",
        ["3-9人", "有摩擦"],
        "普通邻里纠纷",
    )
    assert (case.status, case.owner, case.level) == (Status.REGISTERED, VILLAGE, Level.YELLOW)
    assert case.triggers == ["3-9人", "有摩擦"]


def test_assessing_a_signed_dispute_in_shixi_as_orange_moves_it_to_luocheng_at_once() -> None:
    case = drive("signed")
    assessed_at = later(case, timedelta(hours=3))

    events = run(case, AssessCase(Level.ORANGE, ["10-29人"], "涉及十二户"), MEDIATOR, assessed_at)

    assert names(events) == ["Assessed", "Escalated"]
    moved = events[1]
    assert moved.cause == "level_raised"
    assert (moved.from_unit, moved.to_unit) == (VILLAGE, TOWNSHIP)
    assert (moved.from_tier, moved.to_tier) == ("village", "township")
    assert moved.to_level == "orange"
    assert (case.owner, case.tier, case.level) == (TOWNSHIP, Tier.TOWNSHIP, Level.ORANGE)
    assert case.status is Status.SIGNED  # the status is kept; the new owner must sign
    assert case.awaiting_signature
    assert due(case, DeadlineKind.SIGN) == assessed_at + timedelta(hours=4)
    assert due(case, DeadlineKind.RESOLVE) == ORANGE_RESOLVE_DUE_FROM_T0
    assert_owner_never_below_level(case)


def test_an_assessment_cannot_lower_the_level() -> None:
    case = drive("registered", level=Level.ORANGE)

    error = refused(case, CommandNotAllowedError, AssessCase(Level.YELLOW, [], "缓和"), MEDIATOR)

    assert error.command == "assess"
    assert "lower" in error.detail


@pytest.mark.parametrize(("triggers", "field"), [(["ok", " "], "triggers"), ([], "reason")])
def test_an_assessment_with_a_blank_trigger_or_reason_is_refused(
    triggers: list[str], field: str
) -> None:
    case = drive("registered")
    reason = "研判" if field == "triggers" else ""

    error = refused(case, InvalidInputError, AssessCase(Level.ORANGE, triggers, reason), MEDIATOR)

    assert error.field == field


# --- raising a level ------------------------------------------------------------------------


def test_raising_a_yellow_case_in_mediation_to_red_moves_it_straight_to_the_county() -> None:
    case = drive("in_mediation")

    events = run(case, RaiseLevel(Level.RED, "扬言持刀报复"), MEDIATOR, later(case))

    assert names(events) == ["LevelRaised", "Escalated"]
    assert (events[1].cause, events[1].to_unit) == ("level_raised", COUNTY)
    assert (case.owner, case.tier, case.level) == (COUNTY, Tier.COUNTY, Level.RED)
    assert case.status is Status.IN_MEDIATION
    assert "status_report" in case.deadlines


def test_raising_the_level_of_a_case_already_high_enough_does_not_move_it() -> None:
    case = drive("signed")
    run(case, EscalateCase("跨镇用水纠纷", other_unit=OTHER_TOWNSHIP), SUPERVISOR, later(case))
    run(case, SignCase(), MEDIATOR, later(case))
    deadlines = dict(case.deadlines)

    events = run(case, RaiseLevel(Level.ORANGE, "人数增加"), MEDIATOR, later(case))

    assert names(events) == ["LevelRaised"]
    assert (case.owner, case.level) == (COUNTY, Level.ORANGE)
    assert not case.awaiting_signature
    assert case.deadlines == deadlines


@pytest.mark.parametrize("level", [Level.ORANGE, Level.YELLOW])
def test_raising_to_the_same_or_a_lower_level_is_refused_naming_the_level(level: Level) -> None:
    case = drive("signed", level=Level.ORANGE)

    assert refused(case, InvalidInputError, RaiseLevel(level, "x"), MEDIATOR).field == "level"


# --- lowering a level -----------------------------------------------------------------------


def test_a_supervisor_lowering_a_red_case_to_yellow_moves_it_down_to_the_village() -> None:
    case = drive("signed", level=Level.RED)
    lowered_at = later(case, timedelta(hours=5))

    events = run(case, LowerLevel(Level.YELLOW, "经核实仅两户"), SUPERVISOR, lowered_at)

    assert names(events) == ["LevelLowered"]
    event = events[0]
    assert (event.owner, event.tier, event.level, event.reason) == (
        VILLAGE,
        "village",
        "yellow",
        "经核实仅两户",
    )
    assert (case.owner, case.tier, case.level) == (VILLAGE, Tier.VILLAGE, Level.YELLOW)
    assert case.awaiting_signature
    assert due(case, DeadlineKind.SIGN) == lowered_at + timedelta(hours=24)
    assert "status_report" not in case.deadlines


def test_lowering_a_red_case_to_orange_moves_it_to_the_township() -> None:
    case = drive("registered", level=Level.RED)

    run(case, LowerLevel(Level.ORANGE, "人数不足三十"), SUPERVISOR, later(case))

    assert (case.owner, case.level) == (TOWNSHIP, Level.ORANGE)
    assert_owner_never_below_level(case)


def test_lowering_never_moves_a_case_below_where_an_overdue_escalation_put_it() -> None:
    case = drive("signed")
    run(case, ActOnDeadline(DeadlineKind.RESOLVE, YELLOW_RESOLVE_DUE), SYSTEM, YELLOW_RESOLVE_DUE)
    assert (case.owner, case.level, case.overdue_floor) == (TOWNSHIP, Level.ORANGE, Tier.TOWNSHIP)
    deadlines = dict(case.deadlines)

    events = run(case, LowerLevel(Level.YELLOW, "矛盾已缓和"), SUPERVISOR, later(case))

    assert names(events) == ["LevelLowered"]
    assert events[0].owner == TOWNSHIP
    assert (case.owner, case.tier, case.level) == (TOWNSHIP, Tier.TOWNSHIP, Level.YELLOW)
    assert case.deadlines == deadlines  # staying put keeps the clocks


def test_a_case_raised_by_hand_may_be_lowered_back_down_to_the_village() -> None:
    case = drive("signed")
    run(case, RaiseLevel(Level.ORANGE, "人数增加"), MEDIATOR, later(case))

    run(case, LowerLevel(Level.YELLOW, "核实后仅三户"), SUPERVISOR, later(case))

    assert (case.owner, case.level) == (VILLAGE, Level.YELLOW)


def test_a_mediator_cannot_lower_a_level() -> None:
    case = drive("signed", level=Level.ORANGE)

    error = refused(case, NotPermittedError, LowerLevel(Level.YELLOW, "双方已冷静"), MEDIATOR)

    assert (error.command, error.needs) == ("lower", "a supervisor")


@pytest.mark.parametrize(
    ("level", "reason", "field"),
    [(Level.YELLOW, "", "reason"), (Level.RED, "x", "level"), (Level.ORANGE, "x", "level")],
)
def test_lowering_needs_a_reason_and_a_lower_level(level: Level, reason: str, field: str) -> None:
    case = drive("signed", level=Level.ORANGE)

    assert refused(case, InvalidInputError, LowerLevel(level, reason), SUPERVISOR).field == field


# --- escalation by hand ---------------------------------------------------------------------


def test_a_supervisor_escalates_a_case_one_tier_up_and_the_township_must_sign_again() -> None:
    case = drive("in_mediation")
    escalated_at = later(case, timedelta(hours=3))

    events = run(case, EscalateCase("村级无法调处"), SUPERVISOR, escalated_at)

    assert names(events) == ["Escalated"]
    event = events[0]
    assert (event.cause, event.from_unit, event.to_unit, event.reason) == (
        "manual",
        VILLAGE,
        TOWNSHIP,
        "村级无法调处",
    )
    assert (event.from_level, event.to_level) == ("yellow", "yellow")
    assert (case.owner, case.tier, case.level) == (TOWNSHIP, Tier.TOWNSHIP, Level.YELLOW)
    assert case.status is Status.IN_MEDIATION
    assert case.awaiting_signature
    assert due(case, DeadlineKind.SIGN) == escalated_at + timedelta(hours=4)
    session = RecordMediationSession(later(case), "镇级调解", ["张三"])
    error = refused(case, CommandNotAllowedError, session, TOWNSHIP_MEDIATOR)
    assert TOWNSHIP in error.detail


@pytest.mark.parametrize(
    ("other_unit", "owner"), [(NEIGHBOUR_VILLAGE, TOWNSHIP), (OTHER_TOWNSHIP, COUNTY)]
)
def test_a_dispute_spanning_two_areas_goes_to_their_lowest_common_unit(
    other_unit: str, owner: str
) -> None:
    case = drive("signed")

    events = run(case, EscalateCase("跨区域纠纷", other_unit=other_unit), SUPERVISOR, later(case))

    assert names(events) == ["Escalated"]
    assert (events[0].cause, events[0].to_unit) == ("cross_area", owner)
    assert case.owner == owner


def test_no_case_is_escalated_above_the_county() -> None:
    across_counties = drive("signed")
    at_county = drive("signed", level=Level.RED)

    refused(across_counties, CommandNotAllowedError, EscalateCase("跨县", OTHER_COUNTY), SUPERVISOR)
    error = refused(at_county, CommandNotAllowedError, EscalateCase("上交市里"), SUPERVISOR)

    assert (error.command, error.status) == ("escalate", "signed")
    assert "矛盾不上交" in error.detail


def test_escalation_needs_a_supervisor_a_reason_and_a_known_unit() -> None:
    case = drive("signed")

    assert refused(case, NotPermittedError, EscalateCase("请镇里处理"), MEDIATOR).needs == (
        "a supervisor"
    )
    assert refused(case, InvalidInputError, EscalateCase(" "), SUPERVISOR).field == "reason"
    unknown = EscalateCase("跨区域", other_unit="999999")
    assert refused(case, InvalidInputError, unknown, SUPERVISOR).field == "other_unit"


# --- returning a case to its sender ---------------------------------------------------------


def test_a_township_handed_a_case_by_hand_returns_it_to_the_village_in_the_sign_window() -> None:
    case = escalated_by_hand()
    returned_at = later(case, timedelta(hours=1))

    events = run(case, ReturnCase("属村内邻里纠纷，退回村调委会"), TOWNSHIP_SUPERVISOR, returned_at)

    assert names(events) == ["Returned"]
    assert (events[0].from_unit, events[0].to_unit, events[0].to_tier) == (
        TOWNSHIP,
        VILLAGE,
        "village",
    )
    assert (case.owner, case.tier) == (VILLAGE, Tier.VILLAGE)
    assert case.awaiting_signature
    assert due(case, DeadlineKind.SIGN) == returned_at + timedelta(hours=24)
    # Once returned, it cannot bounce back.
    refused(case, CommandNotAllowedError, ReturnCase("退回镇里"), MEDIATOR)


def test_a_case_cannot_be_returned_after_the_sign_window() -> None:
    case = escalated_by_hand()
    too_late = later(case, timedelta(hours=4))  # orange-at-township clocks: 4 h to sign

    error = refused(
        case, CommandNotAllowedError, ReturnCase("不属本镇"), TOWNSHIP_SUPERVISOR, too_late
    )

    assert error.command == "return"
    assert "window" in error.detail


def test_a_case_cannot_be_returned_once_signed_for() -> None:
    case = escalated_by_hand()
    run(case, SignCase(), TOWNSHIP_MEDIATOR, later(case))

    refused(case, CommandNotAllowedError, ReturnCase("不属本镇"), TOWNSHIP_SUPERVISOR)


def test_a_case_moved_up_by_a_raised_level_cannot_be_returned() -> None:
    case = drive("signed")
    run(case, RaiseLevel(Level.ORANGE, "涉及十余户"), MEDIATOR, later(case))

    error = refused(case, CommandNotAllowedError, ReturnCase("退回"), TOWNSHIP_SUPERVISOR)

    assert "by hand" in error.detail


def test_a_case_handed_up_and_then_raised_cannot_go_back_below_its_levels_tier() -> None:
    case = escalated_by_hand()
    raised = run(case, RaiseLevel(Level.ORANGE, "人数增加"), TOWNSHIP_MEDIATOR, later(case))
    assert names(raised) == ["LevelRaised"]  # already at the township: no move

    error = refused(case, CommandNotAllowedError, ReturnCase("退回村里"), TOWNSHIP_SUPERVISOR)

    assert "orange" in error.detail


def test_lowering_a_case_handed_up_by_hand_keeps_it_where_it_was_handed() -> None:
    """A lower level is a judgement of risk, not a way back down: the county took the case by
    hand, and only a 退回 (with its own rules) sends it back."""
    case = drive("signed", level=Level.ORANGE)
    run(case, EscalateCase("镇里无法调处"), SUPERVISOR, later(case))
    assert case.owner == COUNTY

    events = run(case, LowerLevel(Level.YELLOW, "仅两户"), SUPERVISOR, later(case))

    assert names(events) == ["LevelLowered"]
    assert (case.level, case.owner, case.tier) == (Level.YELLOW, COUNTY, Tier.COUNTY)
    returned = run(case, ReturnCase("属镇内纠纷，退回镇里"), SUPERVISOR, later(case))
    assert names(returned) == ["Returned"]
    assert (case.owner, case.handed_to) == (TOWNSHIP, None)  # the move by hand is undone


def test_lowering_a_case_spanning_two_areas_keeps_it_with_their_common_unit() -> None:
    case = drive("signed", level=Level.ORANGE)
    run(case, EscalateCase("跨镇用水纠纷", other_unit=OTHER_TOWNSHIP), SUPERVISOR, later(case))
    assert case.owner == COUNTY

    run(case, LowerLevel(Level.YELLOW, "仅两户"), SUPERVISOR, later(case))

    assert (case.level, case.owner) == (Level.YELLOW, COUNTY)


def test_a_move_to_a_new_owner_clears_the_assignee() -> None:
    """ "The assigned mediator" is always the current owner's: a case handed up, returned or
    moved by a lowered level waits for its new owner to assign one."""
    case = drive("signed")
    run(case, AssignCase("mediator-village"), SUPERVISOR, later(case))
    run(case, EscalateCase("村级无法调处"), SUPERVISOR, later(case))
    assert (case.owner, case.assignee) == (TOWNSHIP, None)

    run(case, AssignCase("mediator-township"), SUPERVISOR, later(case))
    run(case, ReturnCase("属村内纠纷"), TOWNSHIP_SUPERVISOR, later(case))
    assert (case.owner, case.assignee) == (VILLAGE, None)


def test_lowering_clears_the_assignee_only_when_it_moves_the_case() -> None:
    case = drive("signed", level=Level.ORANGE)
    run(case, AssignCase("mediator-township"), SUPERVISOR, later(case))

    run(case, LowerLevel(Level.YELLOW, "仅两户"), SUPERVISOR, later(case))
    assert (case.owner, case.assignee) == (VILLAGE, None)  # moved down: the village assigns

    moved = drive("signed", level=Level.ORANGE)
    run(moved, EscalateCase("镇里无法调处"), SUPERVISOR, later(moved))
    run(moved, AssignCase("mediator-county"), SUPERVISOR, later(moved))
    run(moved, LowerLevel(Level.YELLOW, "仅两户"), SUPERVISOR, later(moved))
    assert (moved.owner, moved.assignee) == (COUNTY, "mediator-county")  # handed: stays
