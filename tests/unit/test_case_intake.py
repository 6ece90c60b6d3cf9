"""Intake and housekeeping of the case aggregate, with no event store: registration and its
clocks, rejection, notes, attachments, signing for a case, assignment, pausing and resuming,
deadline extensions, and the rule that a case's history only moves forward.

Given a case driven to a status, when a command runs, then the events it records, their key
fields and the case's resulting status, owner and clocks (exact datetimes where the
integration tests pin them).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from domain.actors import SYSTEM
from domain.case.commands import (
    ActOnDeadline,
    AddAttachment,
    AddNote,
    AssignCase,
    EscalateCase,
    ExtendDeadline,
    PauseCase,
    RejectCase,
    ResumeCase,
    SignCase,
)
from domain.clocks import DeadlineKind
from domain.dispute import Dispute
from domain.errors import CommandNotAllowedError, InvalidInputError, NotPermittedError
from domain.incident import Incident
from domain.levels import Level, Tier
from domain.status import Flag, Status
from tests.support.builders import SHA, registration
from tests.support.decider import (
    UNITS,
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
    COUNTY,
    MEDIATOR,
    REPORTER,
    SUPERVISOR,
    T0,
    TOWNSHIP,
    TOWNSHIP_MEDIATOR,
    VILLAGE,
)

NUL = "等待\x00鉴定"


# --- registration ---------------------------------------------------------------------------


def test_a_grid_worker_registers_a_yellow_dispute_owned_by_the_village() -> None:
    case = Dispute.register(uuid4(), REPORTER, T0, UNITS, clocks(), registration())

    events = list(case.collect_events())

    assert names(events) == ["Registered"]
    assert (events[0].reporter, events[0].recorded_by) == (REPORTER.user, REPORTER.user)
    assert case.kind == "dispute"
    assert case.status is Status.REGISTERED
    assert (case.owner, case.tier, case.level) == (VILLAGE, Tier.VILLAGE, Level.YELLOW)
    assert case.awaiting_signature
    assert case.policy_version == "default-1"
    assert set(case.deadlines) == {"sign", "resolve"}
    assert due(case, DeadlineKind.SIGN) == T0 + timedelta(hours=24)
    assert due(case, DeadlineKind.RESOLVE) == YELLOW_RESOLVE_DUE


@pytest.mark.parametrize(
    ("level", "owner", "tier", "sign_in", "kinds"),
    [
        (Level.YELLOW, VILLAGE, Tier.VILLAGE, timedelta(hours=24), {"sign", "resolve"}),
        (Level.ORANGE, TOWNSHIP, Tier.TOWNSHIP, timedelta(hours=4), {"sign", "resolve"}),
        (Level.RED, COUNTY, Tier.COUNTY, timedelta(hours=1), {"sign", "resolve", "status_report"}),
    ],
)
def test_a_case_in_the_village_starts_at_its_levels_tier_on_that_tiers_clocks(
    level: Level, owner: str, tier: Tier, sign_in: timedelta, kinds: set[str]
) -> None:
    case = drive("registered", level=level)

    assert (case.unit, case.owner, case.tier) == (VILLAGE, owner, tier)
    assert set(case.deadlines) == kinds
    assert due(case, DeadlineKind.SIGN) == T0 + sign_in


def test_a_red_case_has_three_calendar_days_and_a_daily_status_report() -> None:
    case = drive("registered", level=Level.RED)

    assert due(case, DeadlineKind.RESOLVE) == T0 + timedelta(days=3)
    assert due(case, DeadlineKind.STATUS_REPORT) == T0 + timedelta(days=1)


def test_an_incident_is_registered_on_the_same_lifecycle() -> None:
    case = drive(
        "registered",
        kind=Incident,
        category="自然灾害",
        summary="河堤出现裂缝，汛期有溃堤风险",
        parties=(),
    )

    assert case.kind == "incident"
    assert (case.status, case.owner) == (Status.REGISTERED, VILLAGE)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"unit": "511100"}, "unit"),  # the city never owns a case (矛盾不上交)
        ({"summary": "   "}, "summary"),
        ({"summary": "排水沟\x00堵塞"}, "summary"),
        ({"summary": "长" * 2001}, "summary"),
        ({"category": ""}, "category"),
        ({"people_involved": -1}, "people_involved"),
        ({"amount_involved": Decimal(-1)}, "amount_involved"),
        ({"amount_involved": Decimal("NaN")}, "amount_involved"),
    ],
)
def test_a_registration_with_bad_input_is_refused_naming_the_field(
    overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        Dispute.register(uuid4(), REPORTER, T0, UNITS, clocks(), registration(**overrides))

    assert caught.value.field == field


# --- rejection, notes, attachments ----------------------------------------------------------


def test_a_registered_case_outside_mediation_is_rejected_and_its_clocks_stop() -> None:
    case = drive("registered")

    events = run(case, RejectCase("属于行政复议范围，不予受理"), MEDIATOR, later(case))

    assert names(events) == ["Rejected"]
    assert events[0].reason == "属于行政复议范围，不予受理"
    assert events[0].deadlines == {}
    assert case.status is Status.REJECTED
    assert case.deadlines == {}


@pytest.mark.parametrize("reason", ["", "   ", NUL])
def test_a_rejection_needs_a_reason_without_nul_characters(reason: str) -> None:
    case = drive("registered")

    error = refused(case, InvalidInputError, RejectCase(reason), MEDIATOR)

    assert error.field == "reason"


def test_a_note_is_recorded_trimmed_and_changes_nothing_else() -> None:
    case = drive("signed")
    deadlines = dict(case.deadlines)

    events = run(case, AddNote("  已电话联系申请人 "), MEDIATOR, later(case))

    assert names(events) == ["NoteAdded"]
    assert events[0].text == "已电话联系申请人"
    assert (case.status, case.deadlines) == (Status.SIGNED, deadlines)


@pytest.mark.parametrize("note", ["", NUL, "长" * 4001])
def test_an_empty_too_long_or_nul_note_is_refused(note: str) -> None:
    case = drive("signed")

    assert refused(case, InvalidInputError, AddNote(note), MEDIATOR).field == "text"


def test_an_attachment_is_recorded_by_its_identity() -> None:
    case = drive("signed")
    attachment = AddAttachment("调解协议书.pdf", "application/pdf", 20480, SHA)

    events = run(case, attachment, MEDIATOR, later(case))

    assert names(events) == ["AttachmentAdded"]
    event = events[0]
    assert (event.name, event.media_type, event.size, event.sha256) == (
        "调解协议书.pdf",
        "application/pdf",
        20480,
        SHA,
    )


@pytest.mark.parametrize(
    ("name", "size", "sha256", "field"),
    [
        ("a.pdf", 10, "AB" * 32, "sha256"),
        ("a.pdf", 10, "ab" * 31, "sha256"),
        ("a.pdf", -1, SHA, "size"),
        ("", 10, SHA, "name"),
        ("a\x00.pdf", 10, SHA, "name"),
    ],
)
def test_an_attachment_with_bad_metadata_is_refused_naming_the_field(
    name: str, size: int, sha256: str, field: str
) -> None:
    case = drive("signed")
    attachment = AddAttachment(name, "application/pdf", size, sha256)

    assert refused(case, InvalidInputError, attachment, MEDIATOR).field == field


# --- signing and assignment -----------------------------------------------------------------


def test_signing_for_a_case_stops_only_the_sign_for_clock() -> None:
    case = drive("registered")
    signed_at = T0 + timedelta(hours=2)

    events = run(case, SignCase(), MEDIATOR, signed_at)

    assert names(events) == ["Signed"]
    assert events[0].owner == VILLAGE
    assert case.status is Status.SIGNED
    assert not case.awaiting_signature
    assert set(case.deadlines) == {"resolve"}
    assert due(case, DeadlineKind.RESOLVE) == YELLOW_RESOLVE_DUE


def test_a_township_signing_for_a_case_escalated_in_mediation_keeps_it_in_mediation() -> None:
    case = drive("in_mediation")
    run(case, EscalateCase("村级无法调处"), SUPERVISOR, later(case))

    events = run(case, SignCase(), TOWNSHIP_MEDIATOR, later(case))

    assert names(events) == ["Signed"]
    assert events[0].owner == TOWNSHIP
    assert case.status is Status.IN_MEDIATION
    assert not case.awaiting_signature


def test_a_signed_case_cannot_be_signed_for_again() -> None:
    case = drive("signed")

    error = refused(case, CommandNotAllowedError, SignCase(), MEDIATOR)

    assert (error.command, error.status) == ("sign", "signed")


def test_a_case_is_assigned_to_a_mediator() -> None:
    case = drive("signed")

    events = run(case, AssignCase("mediator-7"), MEDIATOR, later(case))

    assert names(events) == ["Assigned"]
    assert case.assignee == "mediator-7"
    assert refused(case, InvalidInputError, AssignCase(" "), MEDIATOR).field == "assignee"


@pytest.mark.parametrize(
    "assignee",
    ["nobody-at-all", "mediator-gone", "mediator-township", "mediator-county"],
    ids=["unknown", "disabled", "another-unit", "the-county"],
)
def test_a_case_is_assigned_only_to_an_active_mediator_of_its_owning_unit(assignee: str) -> None:
    case = drive("signed")

    error = refused(case, InvalidInputError, AssignCase(assignee), MEDIATOR)

    assert (error.field, error.rule, error.limits) == ("assignee", "assignee", {"unit": VILLAGE})
    assert case.assignee is None


# --- pausing and deadlines ------------------------------------------------------------------


@pytest.mark.parametrize("status", ["registered", "signed", "in_mediation", "reopened"])
def test_a_paused_case_resumes_in_its_status_with_every_clock_moved_by_the_pause(
    status: str,
) -> None:
    case = drive(status)
    before = dict(case.deadlines)
    paused_at = later(case)

    review = paused_at + timedelta(days=10)
    paused = run(case, PauseCase("等待伤情鉴定结果", review), MEDIATOR, paused_at)

    assert names(paused) == ["Paused"]
    assert paused[0].reason == "等待伤情鉴定结果"
    assert (case.status, case.paused_from) == (Status.PAUSED, Status(status))
    assert {k: d.due_at for k, d in case.deadlines.items()} == {"pause_review": review}

    resumed = run(case, ResumeCase(), MEDIATOR, paused_at + timedelta(days=2))

    assert names(resumed) == ["Resumed"]
    assert case.status.value == status
    assert case.paused_from is None
    assert {k: d.due_at for k, d in case.deadlines.items()} == {
        k: d.due_at + timedelta(days=2) for k, d in before.items()
    }


@pytest.mark.parametrize("reason", ["", NUL])
def test_a_pause_needs_a_reason(reason: str) -> None:
    case = drive("signed")

    pause = PauseCase(reason, later(case, timedelta(days=10)))
    assert refused(case, InvalidInputError, pause, MEDIATOR).field == "reason"


def test_a_supervisor_gives_more_time_to_resolve() -> None:
    case = drive("in_mediation")
    until = YELLOW_RESOLVE_DUE + timedelta(days=5)

    events = run(case, ExtendDeadline(until, "需现场勘验"), SUPERVISOR, later(case))

    assert names(events) == ["DeadlineExtended"]
    assert (events[0].kind, events[0].until, events[0].reason) == ("resolve", until, "需现场勘验")
    assert due(case, DeadlineKind.RESOLVE) == until
    assert case.status is Status.IN_MEDIATION


def test_a_supervisor_gives_more_time_to_sign_and_the_overdue_flag_is_lifted() -> None:
    case = drive("registered")
    sign_due = due(case, DeadlineKind.SIGN)
    run(case, ActOnDeadline(DeadlineKind.SIGN, sign_due), SYSTEM, sign_due)
    assert Flag.SIGN_OVERDUE in case.flags
    until = sign_due + timedelta(hours=12)

    events = run(
        case, ExtendDeadline(until, "村调委会主任外出", kind="sign"), SUPERVISOR, later(case)
    )

    assert names(events) == ["DeadlineExtended"]
    assert due(case, DeadlineKind.SIGN) == until
    assert Flag.SIGN_OVERDUE not in case.flags


def test_a_mediator_cannot_extend_a_deadline() -> None:
    case = drive("in_mediation")
    extension = ExtendDeadline(YELLOW_RESOLVE_DUE + timedelta(days=1), "需现场勘验")

    error = refused(case, NotPermittedError, extension, MEDIATOR)

    assert (error.command, error.needs) == ("extend", "a supervisor")


def test_an_extension_must_be_later_than_the_current_deadline_and_need_a_reason() -> None:
    case = drive("in_mediation")
    same = ExtendDeadline(YELLOW_RESOLVE_DUE, "需现场勘验")
    no_reason = ExtendDeadline(YELLOW_RESOLVE_DUE + timedelta(days=1), " ")

    assert refused(case, InvalidInputError, same, SUPERVISOR).field == "until"
    assert refused(case, InvalidInputError, no_reason, SUPERVISOR).field == "reason"


def test_a_clock_the_case_does_not_have_cannot_be_extended() -> None:
    case = drive("in_mediation")
    extension = ExtendDeadline(YELLOW_RESOLVE_DUE, "需现场勘验", kind="sign")

    error = refused(case, CommandNotAllowedError, extension, SUPERVISOR)

    assert error.command == "extend"
    assert "sign" in error.detail


# --- a case's history only moves forward ----------------------------------------------------


def test_a_command_dated_before_the_cases_last_change_is_refused_naming_at() -> None:
    case = drive("signed")

    earlier = case.modified_on - timedelta(minutes=1)

    error = refused(case, InvalidInputError, AddNote("补记"), MEDIATOR, at=earlier)

    assert error.field == "at"


def test_a_command_at_the_same_moment_as_the_last_change_is_accepted() -> None:
    case = drive("signed")

    assert names(run(case, AddNote("同时记录"), MEDIATOR, case.modified_on)) == ["NoteAdded"]
