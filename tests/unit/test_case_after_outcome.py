"""What follows a case's outcome, with no event store: 司法确认 of a written dispute
agreement (within 30 days; never for an oral agreement or an incident), follow-up visits
(回访), closing (销号: needs an outcome and a follow-up visit), rating (好差评: a bad rating
within the window reopens once) and a supervisor reopening a case on the rework clock.

Given a case driven to a status, when a command runs, then the events it records, their key
fields, and the case's status and clocks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.case.commands import (
    CloseCase,
    RateCase,
    RecordFollowUp,
    RecordJudicialConfirmation,
    ReopenCase,
    RequestJudicialConfirmation,
    ResolveCase,
    ReviewRating,
    TerminateCase,
)
from domain.clocks import DeadlineKind
from domain.dispute import Dispute
from domain.errors import CommandNotAllowedError, InvalidInputError, NotPermittedError
from domain.incident import Incident
from domain.status import AgreementForm, Grade, ReviewDecision, Status
from tests.support.decider import drive, due, later, mediate, names, refused, run
from tests.support.world import MEDIATOR, REPORTER, SUPERVISOR, T0

# Fifteen working days (the rework clock) from T0 (Sat Oct 10 is a 调休 working day): the end
# of Fri Oct 23 in Shanghai.
REWORK_DUE = datetime(2026, 10, 23, 16, 0, tzinfo=UTC)
AGREEMENT = "李四赔偿张三500元"


# --- 司法确认 -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["resolved", "followed_up", "closed"])
def test_parties_ask_a_court_to_confirm_a_written_agreement_within_thirty_days(
    status: str,
) -> None:
    case = drive(status)
    assert isinstance(case, Dispute)
    window = due(case, DeadlineKind.JUDICIAL_CONFIRMATION)

    events = run(case, RequestJudicialConfirmation("犍为县人民法院"), MEDIATOR, window)

    assert names(events) == ["JudicialConfirmationRequested"]
    assert events[0].court == "犍为县人民法院"
    assert case.judicial_requested
    assert case.status.value == status
    assert not {"judicial_reminder", "judicial_confirmation"} & set(case.deadlines)
    again = refused(case, CommandNotAllowedError, RequestJudicialConfirmation("法院"), MEDIATOR)
    assert again.detail == "already requested"


def test_the_court_rules_once_on_a_requested_confirmation() -> None:
    case = drive("resolved")
    assert isinstance(case, Dispute)
    run(case, RequestJudicialConfirmation("犍为县人民法院"), MEDIATOR, later(case))

    events = run(case, RecordJudicialConfirmation(True, " 裁定有效 "), MEDIATOR, later(case))

    assert names(events) == ["JudicialConfirmationRecorded"]
    assert (events[0].confirmed, events[0].note) == (True, "裁定有效")
    assert case.judicial_confirmed is True
    refused(case, CommandNotAllowedError, RecordJudicialConfirmation(False), MEDIATOR)


def test_judicial_confirmation_is_refused_after_thirty_days() -> None:
    case = drive("resolved")
    late = due(case, DeadlineKind.JUDICIAL_CONFIRMATION) + timedelta(seconds=1)

    error = refused(
        case, CommandNotAllowedError, RequestJudicialConfirmation("法院"), MEDIATOR, late
    )

    assert error.command == "request judicial confirmation for"
    assert "30 days" in error.detail


def test_an_oral_agreement_cannot_be_confirmed_by_a_court() -> None:
    case = drive("in_mediation")
    run(case, ResolveCase(AGREEMENT, AgreementForm.ORAL), MEDIATOR, later(case))

    refused(case, CommandNotAllowedError, RequestJudicialConfirmation("法院"), MEDIATOR)


def test_a_ruling_cannot_be_recorded_without_a_request() -> None:
    case = drive("resolved")

    error = refused(case, CommandNotAllowedError, RecordJudicialConfirmation(True), MEDIATOR)

    assert error.command == "record judicial confirmation for"


@pytest.mark.parametrize("status", ["resolved", "followed_up", "closed"])
def test_an_incident_has_nothing_for_a_court_to_confirm(status: str) -> None:
    case = drive(status, kind=Incident)

    asked = refused(case, CommandNotAllowedError, RequestJudicialConfirmation("法院"), MEDIATOR)
    ruled = refused(case, CommandNotAllowedError, RecordJudicialConfirmation(True), MEDIATOR)

    assert asked.status == ruled.status == status
    assert "only disputes" in asked.detail


def test_a_new_written_agreement_after_rework_can_be_confirmed_again() -> None:
    """The court was asked about the first agreement; a bad rating sent the case back, and
    the parties signed a new one: that one may be taken to court in its own 30 days."""
    case = drive("followed_up")
    assert isinstance(case, Dispute)
    run(case, RequestJudicialConfirmation("犍为县人民法院"), MEDIATOR, later(case))
    run(case, RecordJudicialConfirmation(False, "协议内容不明确"), MEDIATOR, later(case))
    run(case, RateCase(Grade.DISSATISFIED), REPORTER, later(case))
    run(case, ReviewRating(ReviewDecision.CONFIRM), SUPERVISOR, later(case))
    assert case.status is Status.REOPENED
    mediate(case)
    run(
        case, ResolveCase("李四于五日内赔偿张三800元", AgreementForm.WRITTEN), MEDIATOR, later(case)
    )
    assert (case.judicial_requested, case.judicial_confirmed) == (False, None)

    events = run(case, RequestJudicialConfirmation("犍为县人民法院"), MEDIATOR, later(case))

    assert names(events) == ["JudicialConfirmationRequested"]
    ruled = run(case, RecordJudicialConfirmation(True, "裁定有效"), MEDIATOR, later(case))
    assert names(ruled) == ["JudicialConfirmationRecorded"]


def test_a_dispute_reworked_and_terminated_has_no_agreement_to_confirm() -> None:
    case = drive("resolved")
    run(case, ReopenCase("协议未履行"), SUPERVISOR, later(case))
    assert set(case.deadlines) == {"resolve"}
    run(case, TerminateCase("一方反悔，调解终止"), MEDIATOR, later(case))
    run(case, RecordFollowUp(satisfied=False), MEDIATOR, later(case))

    refused(case, CommandNotAllowedError, RequestJudicialConfirmation("法院"), MEDIATOR)


# --- follow-up, closing ---------------------------------------------------------------------


def test_a_follow_up_visit_is_recorded_and_stops_the_follow_up_clock() -> None:
    case = drive("resolved")

    events = run(case, RecordFollowUp(True, True, " 已履行 "), MEDIATOR, later(case))

    assert names(events) == ["FollowUpRecorded"]
    assert (events[0].satisfied, events[0].agreement_honoured, events[0].note) == (
        True,
        True,
        "已履行",
    )
    assert (case.status, case.follow_ups) == (Status.FOLLOWED_UP, 1)
    assert "follow_up" not in case.deadlines
    run(case, RecordFollowUp(satisfied=True), MEDIATOR, later(case))
    assert case.follow_ups == 2


@pytest.mark.parametrize("status", ["resolved", "terminated", "answered"])
def test_closing_needs_an_outcome_and_a_follow_up_visit(status: str) -> None:
    case = drive(status)

    error = refused(case, CommandNotAllowedError, CloseCase(), MEDIATOR)
    assert error.command == "close"
    run(case, RecordFollowUp(satisfied=True), MEDIATOR, later(case))
    events = run(case, CloseCase(), MEDIATOR, later(case))

    # nobody rated it since the outcome: the parties are invited again (好差评)
    assert names(events) == ["Closed", "RatingInvited"]
    assert case.status is Status.CLOSED


def test_closing_keeps_only_the_judicial_clocks() -> None:
    case = drive("followed_up")

    events = run(case, CloseCase(), MEDIATOR, later(case))

    assert names(events) == ["Closed", "RatingInvited"]
    assert set(events[0].deadlines) == {"judicial_reminder", "judicial_confirmation"}
    assert case.status is Status.CLOSED


# --- rating and reopening -------------------------------------------------------------------


@pytest.mark.parametrize(
    "grade", [Grade.VERY_SATISFIED, Grade.SATISFIED, Grade.BASICALLY_SATISFIED]
)
def test_a_good_rating_is_recorded_and_changes_nothing_else(grade: Grade) -> None:
    case = drive("followed_up")

    events = run(case, RateCase(grade), REPORTER, later(case))

    assert names(events) == ["Rated"]
    assert events[0].grade == grade.value
    assert case.status is Status.FOLLOWED_UP


@pytest.mark.parametrize("grade", [Grade.DISSATISFIED, Grade.VERY_DISSATISFIED])
def test_a_bad_rating_within_the_window_confirmed_by_review_reopens_the_case(grade: Grade) -> None:
    """差评核实: the bad rating opens a review; the supervisor confirms it and the case goes
    back for rework on the rework clock."""
    case = drive("followed_up")
    rated_at = T0 + timedelta(days=10)

    events = run(case, RateCase(grade), REPORTER, rated_at)

    assert names(events) == ["Rated", "RatingReviewOpened"]
    assert case.status is Status.FOLLOWED_UP
    reviewed = run(case, ReviewRating(ReviewDecision.CONFIRM), SUPERVISOR, rated_at)
    assert names(reviewed) == ["RatingReviewed", "Reopened"]
    assert reviewed[1].cause == "rating"
    assert (case.status, case.outcome) == (Status.REOPENED, None)
    assert case.reworked_for_rating
    rework = case.pending(DeadlineKind.RESOLVE)
    assert rework is not None
    assert rework.rule == "15wd"
    # Ten days after T0 (Thu Oct 8) plus 15 working days, 调休 Saturday Oct 10 included.
    assert rework.due_at == datetime(2026, 10, 28, 16, 0, tzinfo=UTC)
    assert not {"judicial_reminder", "judicial_confirmation"} & set(case.deadlines)

    mediate(case)
    run(case, ResolveCase(AGREEMENT, AgreementForm.WRITTEN), MEDIATOR, later(case))
    run(case, RecordFollowUp(satisfied=False), MEDIATOR, later(case))
    again = run(case, RateCase(grade), REPORTER, later(case))

    assert names(again) == ["Rated", "RatingReviewOpened"]  # reviewed again, each time
    assert case.status is Status.FOLLOWED_UP


def test_a_bad_rating_of_a_closed_case_confirmed_by_review_reopens_it() -> None:
    case = drive("closed")

    events = run(case, RateCase(Grade.DISSATISFIED), REPORTER, later(case, timedelta(days=2)))
    assert names(events) == ["Rated", "RatingReviewOpened"]
    assert case.status is Status.CLOSED
    reviewed = run(case, ReviewRating(ReviewDecision.CONFIRM), SUPERVISOR, later(case))

    assert names(reviewed) == ["RatingReviewed", "Reopened"]
    assert case.status is Status.REOPENED


def test_a_bad_rating_after_the_window_is_recorded_only() -> None:
    case = drive("closed")
    assert case.outcome_at is not None

    events = run(
        case,
        RateCase(Grade.VERY_DISSATISFIED),
        REPORTER,
        case.outcome_at + timedelta(days=30, seconds=1),
    )

    assert names(events) == ["Rated"]
    assert case.status is Status.CLOSED


def test_a_supervisor_reopens_a_closed_case_on_the_rework_clock() -> None:
    case = drive("closed")

    events = run(case, ReopenCase("当事人再次反映协议未履行"), SUPERVISOR, later(case))

    assert names(events) == ["Reopened"]
    assert (events[0].cause, events[0].reason) == ("manual", "当事人再次反映协议未履行")
    assert (case.status, case.outcome) == (Status.REOPENED, None)
    assert not case.reworked_for_rating
    assert set(case.deadlines) == {"resolve"}
    assert due(case, DeadlineKind.RESOLVE) == REWORK_DUE
    # Rework is done by the same owner, without signing again.
    mediate(case)
    resolved = run(case, ResolveCase(AGREEMENT, AgreementForm.ORAL), MEDIATOR, later(case))
    assert names(resolved) == ["Resolved", "RatingInvited"]


def test_reopening_needs_a_supervisor_and_a_reason() -> None:
    case = drive("resolved")

    error = refused(case, NotPermittedError, ReopenCase("协议未履行"), MEDIATOR)

    assert (error.command, error.needs) == ("reopen", "a supervisor")
    assert refused(case, InvalidInputError, ReopenCase(""), SUPERVISOR).field == "reason"
