"""Working a case to its outcome, with no event store: mediation sessions, the three
outcomes (resolved, terminated, referred) and a referral's answer.

Given a case driven to a status, when a command runs, then the events it records, their key
fields, and the case's outcome, status and clocks: an outcome stops the work clocks and starts
the follow-up clock; a written dispute agreement also opens the 30-day window for 司法确认.
What follows an outcome is in ``test_case_after_outcome.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.actors import SYSTEM
from domain.case import Case, InboundReferral
from domain.case.commands import (
    ActOnDeadline,
    AnswerReferral,
    CloseCase,
    RecordFollowUp,
    RecordMediationSession,
    ReferCase,
    ReportBack,
    ReportReferralResult,
    ResolveCase,
    TerminateCase,
)
from domain.clocks import DeadlineKind
from domain.dispute import Dispute
from domain.errors import CommandNotAllowedError, InvalidInputError
from domain.incident import Incident
from domain.levels import Level
from domain.status import Agency, AgreementForm, Channel, Flag, Outcome, ReferralOutcome, Status
from tests.support.decider import drive, due, later, names, refused, run
from tests.support.world import MEDIATOR, T0

AGREEMENT = "李四赔偿张三500元"


# --- mediation ------------------------------------------------------------------------------


def test_the_first_mediation_session_starts_the_thirty_day_mediation_clock() -> None:
    case = drive("signed")
    held = later(case, timedelta(hours=20))

    events = run(
        case,
        RecordMediationSession(held, "首次调解", ["张三", "李四"]),
        MEDIATOR,
        held + timedelta(hours=2),
    )

    assert names(events) == ["MediationSessionRecorded"]
    assert (events[0].held_at, events[0].notes, events[0].attendees) == (
        held,
        "首次调解",
        ["张三", "李四"],
    )
    assert (case.status, case.sessions) == (Status.IN_MEDIATION, 1)
    assert due(case, DeadlineKind.MEDIATION) == held + timedelta(days=30)


def test_a_second_session_keeps_the_mediation_clock_of_the_first() -> None:
    case = drive("in_mediation")
    first_due = due(case, DeadlineKind.MEDIATION)

    run(case, RecordMediationSession(later(case), "第二次调解", []), MEDIATOR, later(case))

    assert case.sessions == 2
    assert due(case, DeadlineKind.MEDIATION) == first_due


@pytest.mark.parametrize(
    ("held_in", "notes", "attendees", "field"),
    [
        (timedelta(hours=1), "明日调解", (), "held_at"),
        (timedelta(0), "", (), "notes"),
        (timedelta(0), "调解", ("张三", "\x00"), "attendees"),
    ],
)
def test_a_session_held_later_or_without_notes_or_with_a_bad_attendee_is_refused(
    held_in: timedelta, notes: str, attendees: tuple[str, ...], field: str
) -> None:
    case = drive("signed")
    at = later(case)
    session = RecordMediationSession(at + held_in, notes, attendees)

    assert refused(case, InvalidInputError, session, MEDIATOR, at).field == field


# --- outcomes -------------------------------------------------------------------------------


def test_a_written_agreement_resolves_a_dispute_and_starts_follow_up_and_judicial_clocks() -> None:
    case = drive("in_mediation")
    resolved_at = later(case, timedelta(hours=6))
    agreement = ResolveCase(AGREEMENT, AgreementForm.WRITTEN, Decimal(500), "2026-10-15")

    events = run(case, agreement, MEDIATOR, resolved_at)

    assert names(events) == ["Resolved", "RatingInvited"]
    event = events[0]
    assert (event.agreement, event.form, event.amount, event.performance_due) == (
        AGREEMENT,
        "written",
        Decimal(500),
        "2026-10-15",
    )
    assert case.status is Status.RESOLVED
    assert (case.outcome, case.outcome_at) == (Outcome.RESOLVED, resolved_at)
    assert set(case.deadlines) == {
        "follow_up",
        "judicial_reminder",
        "judicial_confirmation",
        "performance",
    }
    # 履行: a reminder at the end of the performance date, Shanghai time
    assert due(case, DeadlineKind.PERFORMANCE) == datetime(2026, 10, 15, 16, 0, tzinfo=UTC)
    assert due(case, DeadlineKind.FOLLOW_UP) == resolved_at + timedelta(days=7)
    assert due(case, DeadlineKind.JUDICIAL_REMINDER) == resolved_at + timedelta(days=20)
    assert due(case, DeadlineKind.JUDICIAL_CONFIRMATION) == resolved_at + timedelta(days=30)


@pytest.mark.parametrize(
    ("kind", "form"),
    [(Dispute, AgreementForm.ORAL), (Incident, AgreementForm.WRITTEN)],
)
def test_an_oral_agreement_or_a_made_safe_incident_has_nothing_for_a_court_to_confirm(
    kind: type[Case], form: AgreementForm
) -> None:
    case = drive("in_mediation", kind=kind)

    events = run(case, ResolveCase(AGREEMENT, form), MEDIATOR, later(case))

    assert names(events) == ["Resolved", "RatingInvited"]
    assert case.status is Status.RESOLVED
    assert set(case.deadlines) == {"follow_up"}


def test_resolving_needs_a_mediation_session_first() -> None:
    case = drive("signed")

    error = refused(
        case, CommandNotAllowedError, ResolveCase(AGREEMENT, AgreementForm.ORAL), MEDIATOR
    )

    assert error.command == "resolve"
    assert "session" in error.detail


@pytest.mark.parametrize("amount", [Decimal(-5), Decimal("NaN"), Decimal("Infinity")])
def test_a_negative_or_non_finite_amount_is_refused(amount: Decimal) -> None:
    case = drive("in_mediation")
    agreement = ResolveCase(AGREEMENT, AgreementForm.ORAL, amount=amount)

    assert refused(case, InvalidInputError, agreement, MEDIATOR).field == "amount"


def test_resolving_a_flagged_red_case_clears_its_overdue_flag() -> None:
    case = drive("in_mediation", level=Level.RED)
    resolve_due = due(case, DeadlineKind.RESOLVE)
    run(case, ActOnDeadline(DeadlineKind.RESOLVE, resolve_due), SYSTEM, resolve_due)
    assert Flag.RESOLVE_OVERDUE in case.flags

    run(case, ResolveCase(AGREEMENT, AgreementForm.ORAL), MEDIATOR, later(case))

    # the city's 督办 on the breach is still owed an answer, whatever the outcome
    assert case.flags == {Flag.SUPERVISED}
    assert set(case.deadlines) == {"follow_up", "supervision"}  # the status report stopped


def test_a_failed_mediation_is_terminated_and_the_follow_up_clock_starts() -> None:
    case = drive("in_mediation")
    at = later(case)

    events = run(case, TerminateCase("一方拒绝继续调解，已告知诉讼途径"), MEDIATOR, at)

    assert names(events) == ["Terminated"]
    assert events[0].reason == "一方拒绝继续调解，已告知诉讼途径"
    assert (case.status, case.outcome) == (Status.TERMINATED, Outcome.TERMINATED)
    assert set(case.deadlines) == {"follow_up"}
    assert due(case, DeadlineKind.FOLLOW_UP) == at + timedelta(days=7)


def test_a_referral_stops_every_clock_and_waits_for_the_agencys_answer() -> None:
    case = drive("signed")

    events = run(case, ReferCase(Agency.POLICE, "涉嫌故意伤害，移交派出所"), MEDIATOR, later(case))

    assert names(events) == ["Referred"]
    assert events[0].agency == "police"
    assert (case.status, case.outcome) == (Status.REFERRED, Outcome.REFERRED)
    # the work clocks stop; the agency's answer is due in 15 working days (after 国庆)
    assert {k: d.rule for k, d in case.deadlines.items()} == {"referral_answer": "15wd"}
    assert Flag.REFERRAL_PENDING in case.flags
    error = refused(case, CommandNotAllowedError, RecordFollowUp(satisfied=True), MEDIATOR)
    assert "answered" in error.detail


def test_the_agencys_answer_starts_the_follow_up_clock_and_is_recorded_once() -> None:
    case = drive("referred")
    answered_at = later(case, timedelta(days=3))

    events = run(
        case,
        AnswerReferral("派出所已受理并调解", reference="犍公（罗）受字〔2026〕118号"),
        MEDIATOR,
        answered_at,
    )

    assert names(events) == ["ReferralAnswered"]
    assert events[0].answer == "派出所已受理并调解"
    assert case.status is Status.REFERRED
    assert case.referral_answered
    assert due(case, DeadlineKind.FOLLOW_UP) == answered_at + timedelta(days=7)
    again = refused(
        case, CommandNotAllowedError, AnswerReferral("再次答复", reference="X-1"), MEDIATOR
    )
    assert (again.command, again.detail) == ("answer the referral of", "already answered")


# --- referrals both ways ------------------------------------------------------------------------

COURT_NUMBER = "（2026）川1123民诉前调12号"


def test_an_accepted_referral_needs_the_agencys_case_number() -> None:
    case = drive("referred")

    error = refused(case, InvalidInputError, AnswerReferral("已受理"), MEDIATOR)

    assert (error.field, error.rule) == ("reference", "required")


def test_a_declined_referral_goes_back_to_work_on_a_new_resolve_clock() -> None:
    case = drive("referred")
    at = later(case, timedelta(days=2))

    events = run(
        case, AnswerReferral("不属于本院诉前调解范围", ReferralOutcome.DECLINED), MEDIATOR, at
    )

    assert names(events) == ["ReferralDeclined"]
    assert events[0].reason == "不属于本院诉前调解范围"
    assert (case.status, case.outcome) == (Status.REOPENED, None)
    assert set(case.deadlines) == {"resolve"}
    assert case.deadlines["resolve"].started_at == at
    assert Flag.REFERRAL_PENDING not in case.flags
    # back at work, it can be referred again, and answered again
    run(case, ReferCase(Agency.PETITION_OFFICE, "改由信访部门处理"), MEDIATOR, later(case))
    run(case, AnswerReferral("已转交", ReferralOutcome.CONCLUDED), MEDIATOR, later(case))
    assert case.referral_answered


def test_the_agencys_answer_clock_flags_the_case_when_it_runs_out() -> None:
    case = drive("referred")
    answer_due = due(case, DeadlineKind.REFERRAL_ANSWER)

    assert run(case, ActOnDeadline(DeadlineKind.REFERRAL_ANSWER, answer_due), SYSTEM,
               answer_due - timedelta(seconds=1)) == []  # fmt: skip
    fired = run(case, ActOnDeadline(DeadlineKind.REFERRAL_ANSWER, answer_due), SYSTEM, answer_due)

    assert names(fired) == ["ClockFired"]
    assert {Flag.REFERRAL_PENDING, Flag.REFERRAL_OVERDUE} <= case.flags
    run(case, AnswerReferral("已受理", reference=COURT_NUMBER), MEDIATOR, later(case))
    assert not {Flag.REFERRAL_PENDING, Flag.REFERRAL_OVERDUE} & case.flags


def test_an_accepted_referral_records_its_result_once() -> None:
    case = drive("answered")

    events = run(case, ReportReferralResult("法院主持达成调解协议"), MEDIATOR, later(case))

    assert names(events) == ["ReferralResultReported"]
    assert case.referral_result == "法院主持达成调解协议"
    again = refused(case, CommandNotAllowedError, ReportReferralResult("又一次"), MEDIATOR)
    assert again.detail == "the result is recorded already"


def test_an_inbound_referral_is_due_back_and_closing_waits_for_the_report() -> None:
    inbound = InboundReferral(Agency.COURT, COURT_NUMBER, T0 + timedelta(days=20))
    case = drive("resolved", channel=Channel.COURT, referral_in=inbound)
    assert case.referral_in == {
        "agency": "court",
        "reference": COURT_NUMBER,
        "due_at": T0 + timedelta(days=20),
    }
    assert due(case, DeadlineKind.REPORT_BACK) == T0 + timedelta(days=20)
    run(case, RecordFollowUp(satisfied=True, agreement_honoured=True), MEDIATOR, later(case))

    refusal = refused(case, CommandNotAllowedError, CloseCase(), MEDIATOR)
    assert refusal.detail == "report the result back to the body that referred it first"
    events = run(case, ReportBack("经调解达成书面协议，已履行"), MEDIATOR, later(case))
    assert names(events) == ["ReportedBack"]
    assert DeadlineKind.REPORT_BACK.value not in case.deadlines
    assert names(run(case, CloseCase(), MEDIATOR, later(case))) == ["Closed", "RatingInvited"]


def test_an_inbound_referral_due_in_the_past_is_refused() -> None:
    inbound = InboundReferral(Agency.POLICE, "110-20260928-0012", T0 - timedelta(hours=1))

    with pytest.raises(InvalidInputError) as refusal:
        drive("registered", referral_in=inbound)

    assert (refusal.value.field, refusal.value.rule) == ("referral_in.due_at", "after_now")


# --- 履行: the performance date ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "rule"),
    [("十日内", "date"), ("2026-09-27", "date_range"), ("2032-01-01", "date_range")],
)
def test_a_performance_date_must_be_a_date_from_today_on(given: str, rule: str) -> None:
    case = drive("in_mediation")  # on 2026-09-28, Shanghai

    agreement = ResolveCase(AGREEMENT, AgreementForm.WRITTEN, performance_due=given)
    error = refused(case, InvalidInputError, agreement, MEDIATOR)

    assert (error.field, error.rule) == ("performance_due", rule)


def test_the_performance_reminder_flags_the_case_until_a_visit_checks_it() -> None:
    case = drive("in_mediation")
    run(case, ResolveCase(AGREEMENT, AgreementForm.ORAL, performance_due="2026-10-10"), MEDIATOR,
        later(case))  # fmt: skip
    reminder = due(case, DeadlineKind.PERFORMANCE)

    fired = run(case, ActOnDeadline(DeadlineKind.PERFORMANCE, reminder), SYSTEM, reminder)

    assert names(fired) == ["ClockFired"]
    assert Flag.PERFORMANCE_DUE in case.flags
    run(case, RecordFollowUp(satisfied=True, agreement_honoured=None), MEDIATOR, later(case))
    assert Flag.PERFORMANCE_DUE in case.flags  # a visit that did not check it leaves the flag
    run(case, RecordFollowUp(satisfied=True, agreement_honoured=True), MEDIATOR, later(case))
    assert Flag.PERFORMANCE_DUE not in case.flags
