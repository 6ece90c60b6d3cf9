"""Warning levels decide who owns a case (三色预警), and missed deadlines move it up.

小事不出村、大事不出镇、矛盾不上交: yellow belongs to the village, orange to the township, red to
the county; a raised level moves the case up at once; a missed resolve deadline escalates one
tier, except at the county, where it is flagged to supervisors.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.actors import SYSTEM
from domain.application import FengqiaoApplication
from domain.case import Case
from domain.case.commands import (
    ActOnDeadline,
    AssessCase,
    EscalateCase,
    ExtendDeadline,
    LowerLevel,
    RaiseLevel,
    ReturnCase,
    SignCase,
)
from domain.clocks import DeadlineKind
from domain.errors import CommandNotAllowedError
from domain.levels import Level, Tier
from domain.status import Status
from tests.support.builders import drive, event_names, last_event, mediate, refused
from tests.support.world import (
    COUNTY,
    MEDIATOR,
    OTHER_TOWNSHIP,
    SUPERVISOR,
    T0,
    TOWNSHIP,
    TOWNSHIP_MEDIATOR,
    VILLAGE,
    Clock,
)

# Yellow at the village: 3 working days from Mon Sep 28 across 国庆 → end of Thu Oct 8.
VILLAGE_DUE = datetime(2026, 10, 8, 16, 0, tzinfo=UTC)
# Orange at the township, arriving at VILLAGE_DUE (00:00 Fri Oct 9 in Shanghai): 5 working
# days, counting the 调休 Saturday Oct 10 → end of Thu Oct 15.
TOWNSHIP_DUE = datetime(2026, 10, 15, 16, 0, tzinfo=UTC)


def resolve_due(case: Case) -> datetime:
    deadline = case.pending(DeadlineKind.RESOLVE)
    assert deadline is not None
    return deadline.due_at


def sign_due(case: Case) -> datetime:
    deadline = case.pending(DeadlineKind.SIGN)
    assert deadline is not None
    return deadline.due_at


def miss_resolve(app: FengqiaoApplication, clock: Clock, case_id: object) -> Case:
    """The scheduler's sweep at the moment the case's resolve deadline passes."""
    case = app.get_case(case_id)  # type: ignore[arg-type]
    clock.now = resolve_due(case)
    return app.execute(case.id, ActOnDeadline(DeadlineKind.RESOLVE, clock.now), SYSTEM).case


def assert_owner_never_below_level(case: Case) -> None:
    assert case.tier.height >= case.level.owner_tier.height


# --- who owns a case ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "owner", "tier"),
    [
        (Level.YELLOW, VILLAGE, Tier.VILLAGE),
        (Level.ORANGE, TOWNSHIP, Tier.TOWNSHIP),
        (Level.RED, COUNTY, Tier.COUNTY),
    ],
)
def test_a_case_in_shixi_village_is_owned_by_its_levels_tier(
    app: FengqiaoApplication, level: Level, owner: str, tier: Tier
) -> None:
    case = drive(app, "registered", level=level)
    assert (case.owner, case.tier, case.unit) == (owner, tier, VILLAGE)


def test_a_yellow_case_at_the_township_office_is_owned_by_the_township(
    app: FengqiaoApplication,
) -> None:
    case = drive(app, "registered", unit=TOWNSHIP)
    assert (case.owner, case.tier) == (TOWNSHIP, Tier.TOWNSHIP)
    # It runs on the township's own clocks (orange at township: 4 h to sign).
    assert sign_due(case) == T0 + timedelta(hours=4)


def test_a_red_case_starts_a_daily_status_report_at_the_county(
    app: FengqiaoApplication,
) -> None:
    case = drive(app, "registered", level=Level.RED)
    assert set(case.deadlines) == {"sign", "resolve", "status_report"}
    assert sign_due(case) == T0 + timedelta(hours=1)
    assert resolve_due(case) == T0 + timedelta(days=3)  # calendar days for red
    report = case.pending(DeadlineKind.STATUS_REPORT)
    assert report is not None
    assert report.due_at == T0 + timedelta(days=1)


# --- raising a level moves the case up at once ----------------------------------------------


def test_assessing_a_dispute_in_shixi_as_orange_moves_it_to_luocheng_at_once(
    app: FengqiaoApplication, clock: Clock
) -> None:
    """Assessing a dispute in 石溪村 as orange moves it to 罗城镇 at once (cause level_raised)."""
    case = drive(app, "signed")
    assessed_at = clock.advance(hours=3)
    app.execute(
        case.id, AssessCase(Level.ORANGE, ["10-29人", "村调解失败"], "涉及十二户"), MEDIATOR
    )
    case = app.get_case(case.id)
    assert (case.owner, case.tier, case.level) == (TOWNSHIP, Tier.TOWNSHIP, Level.ORANGE)
    assert case.status is Status.SIGNED  # the status is kept, the new owner must sign
    assert case.awaiting_signature
    assert event_names(app, case.id)[-2:] == ["Assessed", "Escalated"]
    moved = last_event(app, case.id)
    assert moved.cause == "level_raised"
    assert (moved.from_unit, moved.to_unit) == (VILLAGE, TOWNSHIP)
    assert (moved.from_tier, moved.to_tier) == ("village", "township")
    assert moved.to_level == "orange"
    # Both clocks start anew at the township.
    assert sign_due(case) == assessed_at + timedelta(hours=4)
    # Five working days from Mon Sep 28: Sep 29, 30, Oct 8, 9 and the 调休 Saturday Oct 10.
    assert resolve_due(case) == datetime(2026, 10, 10, 16, 0, tzinfo=UTC)
    assert_owner_never_below_level(case)


def test_raising_a_yellow_case_to_red_moves_it_straight_to_the_county(
    app: FengqiaoApplication,
) -> None:
    case = drive(app, "in_mediation")
    app.execute(case.id, RaiseLevel(Level.RED, "扬言持刀报复"), MEDIATOR)
    case = app.get_case(case.id)
    assert (case.owner, case.tier, case.level) == (COUNTY, Tier.COUNTY, Level.RED)
    assert event_names(app, case.id)[-2:] == ["LevelRaised", "Escalated"]
    assert last_event(app, case.id).cause == "level_raised"
    assert "status_report" in case.deadlines
    assert_owner_never_below_level(case)


def test_raising_an_orange_case_at_the_township_to_red_moves_it_to_the_county(
    app: FengqiaoApplication,
) -> None:
    case = drive(app, "signed", level=Level.ORANGE)
    app.execute(case.id, RaiseLevel(Level.RED, "第三次出警"), TOWNSHIP_MEDIATOR)
    case = app.get_case(case.id)
    assert (case.owner, case.level) == (COUNTY, Level.RED)
    moved = last_event(app, case.id)
    assert (moved.cause, moved.from_unit, moved.to_unit) == ("level_raised", TOWNSHIP, COUNTY)


def test_raising_the_level_of_a_case_already_high_enough_does_not_move_it(
    app: FengqiaoApplication,
) -> None:
    case = drive(app, "signed")
    app.execute(case.id, EscalateCase("跨镇用水纠纷", other_unit=OTHER_TOWNSHIP), SUPERVISOR)
    app.execute(case.id, SignCase(), MEDIATOR)
    before = app.get_case(case.id)
    assert (before.owner, before.level) == (COUNTY, Level.YELLOW)
    app.execute(case.id, RaiseLevel(Level.ORANGE, "人数增加"), MEDIATOR)
    case = app.get_case(case.id)
    assert (case.owner, case.level) == (COUNTY, Level.ORANGE)
    assert event_names(app, case.id)[-1] == "LevelRaised"
    assert not case.awaiting_signature
    assert case.deadlines == before.deadlines


# --- lowering ---------------------------------------------------------------------------


def test_a_supervisor_lowering_a_red_case_to_yellow_moves_it_down_to_the_village(
    app: FengqiaoApplication, clock: Clock
) -> None:
    case = drive(app, "signed", level=Level.RED)
    lowered_at = clock.advance(hours=5)
    app.execute(case.id, LowerLevel(Level.YELLOW, "经核实未发生肢体冲突，仅两户"), SUPERVISOR)
    case = app.get_case(case.id)
    assert (case.owner, case.tier, case.level) == (VILLAGE, Tier.VILLAGE, Level.YELLOW)
    assert case.awaiting_signature
    assert sign_due(case) == lowered_at + timedelta(hours=24)
    assert "status_report" not in case.deadlines
    event = last_event(app, case.id)
    assert type(event).__name__ == "LevelLowered"
    assert (event.owner, event.tier, event.level) == (VILLAGE, "village", "yellow")


def test_lowering_a_red_case_to_orange_moves_it_to_the_township(
    app: FengqiaoApplication,
) -> None:
    case = drive(app, "registered", level=Level.RED)
    app.execute(case.id, LowerLevel(Level.ORANGE, "人数不足三十"), SUPERVISOR)
    case = app.get_case(case.id)
    assert (case.owner, case.level) == (TOWNSHIP, Level.ORANGE)
    assert_owner_never_below_level(case)


def test_lowering_never_moves_a_case_below_where_an_overdue_escalation_put_it(
    app: FengqiaoApplication, clock: Clock
) -> None:
    case = drive(app, "signed")
    case = miss_resolve(app, clock, case.id)
    assert (case.owner, case.level) == (TOWNSHIP, Level.ORANGE)
    deadlines = case.deadlines
    app.execute(case.id, LowerLevel(Level.YELLOW, "矛盾已缓和"), SUPERVISOR)
    case = app.get_case(case.id)
    assert (case.owner, case.tier, case.level) == (TOWNSHIP, Tier.TOWNSHIP, Level.YELLOW)
    assert case.deadlines == deadlines  # staying put keeps the clocks
    assert last_event(app, case.id).owner == TOWNSHIP


def test_a_case_escalated_to_the_county_for_lateness_stays_there_when_lowered(
    app: FengqiaoApplication, clock: Clock
) -> None:
    case = drive(app, "signed")
    miss_resolve(app, clock, case.id)
    app.execute(case.id, SignCase(), TOWNSHIP_MEDIATOR)
    case = miss_resolve(app, clock, case.id)
    assert (case.owner, case.level) == (COUNTY, Level.RED)
    app.execute(case.id, LowerLevel(Level.YELLOW, "已稳控"), SUPERVISOR)
    case = app.get_case(case.id)
    assert (case.owner, case.level) == (COUNTY, Level.YELLOW)


def test_a_case_raised_by_hand_may_be_lowered_back_down(app: FengqiaoApplication) -> None:
    case = drive(app, "signed")
    app.execute(case.id, RaiseLevel(Level.ORANGE, "人数增加"), MEDIATOR)
    app.execute(case.id, LowerLevel(Level.YELLOW, "核实后仅三户"), SUPERVISOR)
    case = app.get_case(case.id)
    assert (case.owner, case.level) == (VILLAGE, Level.YELLOW)


def test_lowering_a_case_handed_up_by_hand_keeps_it_where_it_was_handed(
    app: FengqiaoApplication,
) -> None:
    """A lower level does not undo a move by hand; a 退回 does."""
    case = drive(app, "signed", level=Level.ORANGE)
    app.execute(case.id, EscalateCase("镇里无法调处"), SUPERVISOR)
    app.execute(case.id, LowerLevel(Level.YELLOW, "仅两户"), SUPERVISOR)
    lowered = app.get_case(case.id)
    assert (lowered.level, lowered.owner) == (Level.YELLOW, COUNTY)

    app.execute(case.id, ReturnCase("属镇内纠纷，退回镇里"), SUPERVISOR)

    assert app.get_case(case.id).owner == TOWNSHIP


# --- missed resolve deadlines -------------------------------------------------------------


def test_a_yellow_dispute_in_shixi_left_unresolved_for_three_working_days_moves_to_luocheng_as_orange(  # noqa: E501
    app: FengqiaoApplication, clock: Clock
) -> None:
    """A yellow dispute in 石溪村 left unresolved for three working days moves to 罗城镇 as
    orange."""
    case = drive(app, "in_mediation")
    assert resolve_due(case) == VILLAGE_DUE
    clock.now = VILLAGE_DUE
    recorded = app.execute(case.id, ActOnDeadline(DeadlineKind.RESOLVE, VILLAGE_DUE), SYSTEM)
    assert recorded.position is not None
    case = app.get_case(case.id)
    assert (case.owner, case.tier, case.level) == (TOWNSHIP, Tier.TOWNSHIP, Level.ORANGE)
    assert case.status is Status.IN_MEDIATION
    assert case.overdue_floor is Tier.TOWNSHIP
    moved = last_event(app, case.id)
    assert type(moved).__name__ == "Escalated"
    assert moved.cause == "overdue"
    assert (moved.from_unit, moved.to_unit) == (VILLAGE, TOWNSHIP)
    assert (moved.from_level, moved.to_level) == ("yellow", "orange")
    assert moved.actor == SYSTEM.user
    # The township must sign for it again: a new sign-for clock, and a new resolve clock.
    assert case.awaiting_signature
    assert sign_due(case) == VILLAGE_DUE + timedelta(hours=4)
    assert resolve_due(case) == TOWNSHIP_DUE
    error = refused(app, case.id, CommandNotAllowedError, lambda: mediate(app, case.id))
    assert TOWNSHIP in error.detail
    app.execute(case.id, SignCase(), TOWNSHIP_MEDIATOR)
    mediate(app, case.id)


def test_an_orange_dispute_at_luocheng_left_unresolved_for_five_working_days_moves_to_qianwei_as_red(  # noqa: E501
    app: FengqiaoApplication, clock: Clock
) -> None:
    """An orange dispute at 罗城镇 left unresolved for five working days moves to 犍为县 as red."""
    case = drive(app, "signed")
    miss_resolve(app, clock, case.id)
    app.execute(case.id, SignCase(), TOWNSHIP_MEDIATOR)
    assert clock.now == VILLAGE_DUE
    case = miss_resolve(app, clock, case.id)
    assert clock.now == TOWNSHIP_DUE
    assert (case.owner, case.tier, case.level) == (COUNTY, Tier.COUNTY, Level.RED)
    moved = last_event(app, case.id)
    assert (moved.cause, moved.from_unit, moved.to_unit) == ("overdue", TOWNSHIP, COUNTY)
    assert resolve_due(case) == TOWNSHIP_DUE + timedelta(days=3)
    assert "status_report" in case.deadlines


def test_a_red_dispute_at_the_county_that_misses_its_deadline_is_flagged_and_supervised(
    app: FengqiaoApplication, clock: Clock
) -> None:
    case = drive(app, "in_mediation", level=Level.RED)
    version = case.version
    case = miss_resolve(app, clock, case.id)
    assert (case.owner, case.level) == (COUNTY, Level.RED)
    assert {"resolve_overdue", "supervised"} <= case.flags
    assert case.version == version + 2  # flagged, and the city's 督办 on it
    ordered = last_event(app, case.id)
    assert (type(ordered).__name__, ordered.by_unit) == ("SupervisionOrdered", "511100")
    event = list(app.repository.event_store.get(case.id))[version]  # version + 1, from 0
    assert type(event).__name__ == "ResolveOverdueFlagged"
    assert event.due_at == T0 + timedelta(days=3)
    # The next sweep finds it flagged already and records nothing.
    again = app.execute(case.id, ActOnDeadline(DeadlineKind.RESOLVE, event.due_at), SYSTEM)
    assert again.position is None
    assert app.get_case(case.id).version == version + 2


def test_a_repeated_sweep_with_the_same_deadline_acts_once(
    app: FengqiaoApplication, clock: Clock
) -> None:
    case = drive(app, "signed")
    clock.now = VILLAGE_DUE
    first = app.execute(case.id, ActOnDeadline(DeadlineKind.RESOLVE, VILLAGE_DUE), SYSTEM)
    clock.advance(minutes=1)
    second = app.execute(case.id, ActOnDeadline(DeadlineKind.RESOLVE, VILLAGE_DUE), SYSTEM)
    assert first.position is not None
    assert second.position is None
    case = app.get_case(case.id)
    assert case.version == first.case.version
    assert case.owner == TOWNSHIP
    assert event_names(app, case.id).count("Escalated") == 1


def test_a_sweep_for_a_deadline_the_case_no_longer_has_does_nothing(
    app: FengqiaoApplication, clock: Clock
) -> None:
    case = drive(app, "signed")
    until = VILLAGE_DUE + timedelta(days=2)
    app.execute(case.id, ExtendDeadline(until, "等待村民代表会议"), SUPERVISOR)
    clock.now = VILLAGE_DUE + timedelta(hours=1)
    recorded = app.execute(case.id, ActOnDeadline(DeadlineKind.RESOLVE, VILLAGE_DUE), SYSTEM)
    assert recorded.position is None
    assert app.get_case(case.id).owner == VILLAGE


@pytest.mark.parametrize("status", ["paused", "resolved", "terminated", "closed"])
def test_a_paused_or_concluded_case_is_not_moved_for_lateness(
    app: FengqiaoApplication, clock: Clock, status: str
) -> None:
    case = drive(app, status)
    clock.now = VILLAGE_DUE + timedelta(days=1)
    recorded = app.execute(case.id, ActOnDeadline(DeadlineKind.RESOLVE, VILLAGE_DUE), SYSTEM)
    assert recorded.position is None
    assert app.get_case(case.id).owner == VILLAGE


def test_a_flagged_red_case_lowered_to_the_township_moves_up_again_when_late(
    app: FengqiaoApplication, clock: Clock
) -> None:
    case = drive(app, "signed", level=Level.RED)
    case = miss_resolve(app, clock, case.id)
    assert "resolve_overdue" in case.flags
    app.execute(case.id, LowerLevel(Level.ORANGE, "事态平息"), SUPERVISOR)
    app.execute(case.id, SignCase(), TOWNSHIP_MEDIATOR)
    case = app.get_case(case.id)
    assert case.owner == TOWNSHIP
    assert "resolve_overdue" not in case.flags
    case = miss_resolve(app, clock, case.id)
    assert (case.owner, case.level) == (COUNTY, Level.RED)
    assert last_event(app, case.id).cause == "overdue"


def test_a_flagged_red_case_given_more_time_is_flagged_again_when_that_passes(
    app: FengqiaoApplication, clock: Clock
) -> None:
    case = drive(app, "signed", level=Level.RED)
    case = miss_resolve(app, clock, case.id)
    until = clock.now + timedelta(days=2)
    app.execute(case.id, ExtendDeadline(until, "等待公安调查结论"), SUPERVISOR)
    assert "resolve_overdue" not in app.get_case(case.id).flags
    case = miss_resolve(app, clock, case.id)
    assert "resolve_overdue" in case.flags
    assert event_names(app, case.id).count("ResolveOverdueFlagged") == 2
    assert last_event(app, case.id).due_at == until


def test_a_missed_sign_deadline_given_more_time_is_flagged_again_when_that_passes(
    app: FengqiaoApplication, clock: Clock
) -> None:
    case = drive(app, "registered")
    first_due = sign_due(case)
    clock.now = first_due
    app.execute(case.id, ActOnDeadline(DeadlineKind.SIGN, first_due), SYSTEM)
    until = first_due + timedelta(hours=12)
    app.execute(case.id, ExtendDeadline(until, "村调委会主任外出", kind="sign"), SUPERVISOR)
    assert "sign_overdue" not in app.get_case(case.id).flags
    clock.now = until
    assert (
        app.execute(case.id, ActOnDeadline(DeadlineKind.SIGN, until), SYSTEM).position is not None
    )
    assert event_names(app, case.id).count("SignOverdueFlagged") == 2


# --- escalation needs signing again ---------------------------------------------------------


def test_an_escalated_case_runs_a_new_sign_clock_and_only_that_one_is_flagged(
    app: FengqiaoApplication, clock: Clock
) -> None:
    case = drive(app, "registered")
    old_sign_due = sign_due(case)
    clock.advance(hours=2)
    app.execute(case.id, EscalateCase("村调委会无人值守"), SUPERVISOR)
    case = app.get_case(case.id)
    new_sign_due = sign_due(case)
    assert new_sign_due == clock.now + timedelta(hours=4)
    assert new_sign_due != old_sign_due
    clock.now = old_sign_due
    assert (
        app.execute(case.id, ActOnDeadline(DeadlineKind.SIGN, old_sign_due), SYSTEM).position
        is None
    )
    assert (
        app.execute(case.id, ActOnDeadline(DeadlineKind.SIGN, new_sign_due), SYSTEM).position
        is not None
    )
    assert "sign_overdue" in app.get_case(case.id).flags
    app.execute(case.id, SignCase(), TOWNSHIP_MEDIATOR)
    case = app.get_case(case.id)
    assert case.status is Status.SIGNED
    assert "sign_overdue" not in case.flags
    assert "sign" not in case.deadlines


def test_the_owning_tier_is_never_below_the_levels_tier_through_a_case_history(
    app: FengqiaoApplication, clock: Clock
) -> None:
    case = drive(app, "signed")
    steps = [
        lambda: app.execute(case.id, AssessCase(Level.ORANGE, ["10人"], "研判"), MEDIATOR),
        lambda: app.execute(case.id, SignCase(), TOWNSHIP_MEDIATOR),
        lambda: app.execute(case.id, LowerLevel(Level.YELLOW, "缓和"), SUPERVISOR),
        lambda: app.execute(case.id, SignCase(), MEDIATOR),
        lambda: miss_resolve(app, clock, case.id),
        lambda: app.execute(case.id, RaiseLevel(Level.RED, "聚集"), MEDIATOR),
        lambda: app.execute(case.id, LowerLevel(Level.YELLOW, "平息"), SUPERVISOR),
    ]
    owners = []
    for step in steps:
        step()
        current = app.get_case(case.id)
        assert_owner_never_below_level(current)
        owners.append(current.owner)
    assert owners == [TOWNSHIP, TOWNSHIP, VILLAGE, VILLAGE, TOWNSHIP, COUNTY, TOWNSHIP]
