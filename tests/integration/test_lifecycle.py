"""The case lifecycle through the application: every command's success path and its refusals.

Runs on memory, SQLite and PostgreSQL through the ``app`` fixture. A refusal must name the
domain error, and store nothing (the case's version is unchanged when read back). The full
status × command refusal table runs without a store in tests/unit/test_case_refusals.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from domain.actors import SYSTEM
from domain.application import FengqiaoApplication
from domain.case import Case
from domain.case.commands import (
    ActOnDeadline,
    AddAttachment,
    AddNote,
    AnswerReferral,
    AssessCase,
    AssignCase,
    CloseCase,
    EscalateCase,
    ExtendDeadline,
    LowerLevel,
    PauseCase,
    RaiseLevel,
    RateCase,
    RecordFollowUp,
    RecordJudicialConfirmation,
    RecordMediationSession,
    ReferCase,
    RejectCase,
    ReopenCase,
    RequestJudicialConfirmation,
    ResolveCase,
    ResumeCase,
    ReturnCase,
    ReviewRating,
    SignCase,
    TerminateCase,
)
from domain.clocks import DeadlineKind
from domain.dispute import Dispute
from domain.errors import (
    CaseNotFoundError,
    CommandNotAllowedError,
    InvalidInputError,
    NotPermittedError,
    UnknownUnitError,
)
from domain.incident import Incident
from domain.levels import Level, Tier
from domain.parties import Party
from domain.status import (
    Agency,
    AgreementForm,
    Channel,
    Grade,
    Outcome,
    PartyRole,
    ReviewDecision,
    Status,
)
from tests.support.builders import (
    SHA,
    drive,
    event_names,
    last_event,
    mediate,
    refused,
    register,
    registration,
    resolve,
)
from tests.support.world import (
    COUNTY,
    MEDIATOR,
    NEIGHBOUR_VILLAGE,
    OTHER_COUNTY,
    OTHER_TOWNSHIP,
    REPORTER,
    SUPERVISOR,
    T0,
    TOWNSHIP,
    TOWNSHIP_MEDIATOR,
    VILLAGE,
    Clock,
)

# T0 is Monday 2026-09-28 10:00 in Shanghai. Three working days later, across 国庆 (Oct 1-7),
# is the end of Thursday Oct 8: midnight Oct 9 in Shanghai, 16:00 UTC on Oct 8.
YELLOW_RESOLVE_DUE = datetime(2026, 10, 8, 16, 0, tzinfo=UTC)
# Fifteen working days from T0 (Sat Oct 10 is a 调休 working day): the end of Fri Oct 23.
REWORK_DUE = datetime(2026, 10, 23, 16, 0, tzinfo=UTC)


def due(case: Case, kind: DeadlineKind) -> datetime:
    deadline = case.pending(kind)
    assert deadline is not None, f"no pending {kind} clock"
    return deadline.due_at


def kinds(case: Case) -> set[str]:
    return set(case.deadlines)


# --- registration ------------------------------------------------------------------------


def test_a_grid_worker_registers_a_yellow_dispute_owned_by_the_village(
    app: FengqiaoApplication,
) -> None:
    recorded = app.register(REPORTER, "dispute", registration(amount_involved=Decimal("500.00")))
    case = app.get_case(recorded.case.id)
    assert isinstance(case, Dispute)
    assert case.kind == "dispute"
    assert case.status is Status.REGISTERED
    assert case.level is Level.YELLOW
    assert (case.owner, case.tier) == (VILLAGE, Tier.VILLAGE)
    assert case.reporter == case.recorded_by == REPORTER.user
    assert case.policy_version == "default-1"
    assert case.amount_involved == Decimal("500.00")
    assert case.awaiting_signature
    assert case.registered_at == T0
    assert [p.name for p in case.parties] == ["张三", "李四"]
    assert kinds(case) == {"sign", "resolve"}
    assert due(case, DeadlineKind.SIGN) == T0 + timedelta(hours=24)
    assert due(case, DeadlineKind.RESOLVE) == YELLOW_RESOLVE_DUE
    assert event_names(app, case.id) == ["Registered"]
    assert recorded.position is not None


def test_a_grid_worker_registers_an_incident_on_the_same_lifecycle(
    app: FengqiaoApplication,
) -> None:
    case = app.get_case(
        register(
            app, "incident", category="自然灾害", summary="河堤出现裂缝，汛期有溃堤风险", parties=()
        ).id
    )
    assert isinstance(case, Incident)
    assert case.kind == "incident"
    assert case.status is Status.REGISTERED
    assert case.owner == VILLAGE


def test_a_hotline_operator_records_a_case_for_the_caller(app: FengqiaoApplication) -> None:
    case = register(app, channel=Channel.HOTLINE, reporter="caller-13800000009")
    assert case.reporter == "caller-13800000009"
    assert case.recorded_by == REPORTER.user
    assert case.channel == "hotline"


def test_an_id_number_is_stored_in_upper_case(app: FengqiaoApplication) -> None:
    parties = (Party("王五", PartyRole.APPLICANT, id_number="51112319800109123x"),)
    case = app.get_case(register(app, parties=parties).id)
    assert case.parties[0].id_number == "51112319800109123X"


@pytest.mark.parametrize(
    ("kind", "overrides", "field"),
    [
        ("lawsuit", {}, "kind"),
        ("dispute", {"summary": "   "}, "summary"),
        ("dispute", {"category": ""}, "category"),
        ("dispute", {"summary": "长" * 2001}, "summary"),
        ("dispute", {"people_involved": -1}, "people_involved"),
        ("dispute", {"amount_involved": Decimal(-1)}, "amount_involved"),
        ("dispute", {"amount_involved": Decimal("NaN")}, "amount_involved"),
        (
            "dispute",
            {"parties": (Party("张三", PartyRole.APPLICANT, id_number="12345"),)},
            "parties[0].id_number",
        ),
        (
            "dispute",
            {"parties": (Party("张三", PartyRole.APPLICANT, phone="call me"),)},
            "parties[0].phone",
        ),
        ("incident", {"parties": (Party(" ", PartyRole.THIRD_PARTY),)}, "parties[0].name"),
    ],
)
def test_a_registration_with_bad_input_is_refused_naming_the_field_and_stores_nothing(
    app: FengqiaoApplication, kind: str, overrides: dict[str, Any], field: str
) -> None:
    case_id = uuid4()
    with pytest.raises(InvalidInputError) as caught:
        app.register(REPORTER, kind, registration(**overrides), case_id=case_id)
    assert caught.value.field == field
    with pytest.raises(CaseNotFoundError):
        app.get_case(case_id)


def test_a_case_in_an_unknown_unit_is_refused(app: FengqiaoApplication) -> None:
    case_id = uuid4()
    with pytest.raises(UnknownUnitError) as caught:
        app.register(REPORTER, "dispute", registration(unit="999999"), case_id=case_id)
    assert caught.value.code == "999999"
    with pytest.raises(CaseNotFoundError):
        app.get_case(case_id)


def test_a_case_cannot_be_located_at_the_city_which_never_owns_cases(
    app: FengqiaoApplication,
) -> None:
    case_id = uuid4()
    with pytest.raises(InvalidInputError) as caught:
        app.register(REPORTER, "dispute", registration(unit="511100"), case_id=case_id)
    assert caught.value.field == "unit"
    with pytest.raises(CaseNotFoundError):
        app.get_case(case_id)


# --- intake: reject, notes, attachments ---------------------------------------------------


def test_a_registered_case_outside_mediation_is_rejected_and_its_clocks_stop(
    app: FengqiaoApplication,
) -> None:
    case = drive(app, "registered")
    app.execute(case.id, RejectCase("属于行政复议范围，不予受理"), MEDIATOR)
    case = app.get_case(case.id)
    assert case.status is Status.REJECTED
    assert case.deadlines == {}
    assert last_event(app, case.id).reason == "属于行政复议范围，不予受理"


def test_a_rejection_needs_a_reason(app: FengqiaoApplication) -> None:
    case = drive(app, "registered")
    error = refused(
        app, case.id, InvalidInputError, lambda: app.execute(case.id, RejectCase("  "), MEDIATOR)
    )
    assert error.field == "reason"


@pytest.mark.parametrize("status", ["registered", "paused", "closed", "rejected"])
def test_a_note_can_be_added_in_any_status(app: FengqiaoApplication, status: str) -> None:
    case = drive(app, status)
    recorded = app.execute(case.id, AddNote("已电话联系申请人"), MEDIATOR)
    assert recorded.case.version == case.version + 1
    assert recorded.case.status is case.status
    assert event_names(app, case.id)[-1] == "NoteAdded"
    assert last_event(app, case.id).text == "已电话联系申请人"


def test_an_empty_note_is_refused(app: FengqiaoApplication) -> None:
    case = drive(app, "signed")
    error = refused(
        app, case.id, InvalidInputError, lambda: app.execute(case.id, AddNote(""), MEDIATOR)
    )
    assert error.field == "text"


def test_an_attachment_is_recorded_by_its_identity(app: FengqiaoApplication) -> None:
    case = drive(app, "signed")
    app.execute(case.id, AddAttachment("调解协议书.pdf", "application/pdf", 20480, SHA), MEDIATOR)
    event = last_event(app, case.id)
    assert type(event).__name__ == "AttachmentAdded"
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
    ],
)
def test_an_attachment_with_bad_metadata_is_refused(
    app: FengqiaoApplication, name: str, size: int, sha256: str, field: str
) -> None:
    case = drive(app, "signed")
    error = refused(
        app,
        case.id,
        InvalidInputError,
        lambda: app.execute(
            case.id, AddAttachment(name, "application/pdf", size, sha256), MEDIATOR
        ),
    )
    assert error.field == field


# --- assessment and levels ----------------------------------------------------------------


def test_an_assessment_records_level_and_triggers_without_changing_the_status(
    app: FengqiaoApplication,
) -> None:
    case = drive(app, "registered")
    app.execute(case.id, AssessCase(Level.YELLOW, ["3-9人", "有摩擦"], "普通邻里纠纷"), MEDIATOR)
    case = app.get_case(case.id)
    assert case.status is Status.REGISTERED
    assert case.level is Level.YELLOW
    assert case.triggers == ["3-9人", "有摩擦"]
    assert case.owner == VILLAGE
    assert event_names(app, case.id) == ["Registered", "Assessed"]


def test_an_assessment_cannot_lower_the_level(app: FengqiaoApplication) -> None:
    case = drive(app, "registered", level=Level.ORANGE)
    error = refused(
        app,
        case.id,
        CommandNotAllowedError,
        lambda: app.execute(case.id, AssessCase(Level.YELLOW, [], "情绪缓和"), MEDIATOR),
    )
    assert error.command == "assess"


def test_raising_the_level_records_it_and_keeps_the_status(app: FengqiaoApplication) -> None:
    case = drive(app, "in_mediation")
    app.execute(case.id, RaiseLevel(Level.ORANGE, "双方亲属聚集"), MEDIATOR)
    case = app.get_case(case.id)
    assert case.level is Level.ORANGE
    assert case.status is Status.IN_MEDIATION
    assert event_names(app, case.id)[-2:] == ["LevelRaised", "Escalated"]


def test_raising_to_the_same_or_a_lower_level_is_refused_naming_the_level(
    app: FengqiaoApplication,
) -> None:
    case = drive(app, "signed", level=Level.ORANGE)
    for level in (Level.ORANGE, Level.YELLOW):
        error = refused(
            app,
            case.id,
            InvalidInputError,
            lambda level=level: app.execute(case.id, RaiseLevel(level, "x"), MEDIATOR),
        )
        assert error.field == "level"


def test_a_supervisor_lowers_a_level_with_a_reason(app: FengqiaoApplication) -> None:
    case = drive(app, "signed", level=Level.ORANGE)
    app.execute(case.id, LowerLevel(Level.YELLOW, "经核实仅两户涉及"), SUPERVISOR)
    case = app.get_case(case.id)
    assert case.level is Level.YELLOW
    assert last_event(app, case.id).reason == "经核实仅两户涉及"


def test_lowering_a_level_needs_a_supervisor_and_a_reason(app: FengqiaoApplication) -> None:
    case = drive(app, "signed", level=Level.ORANGE)
    error = refused(
        app,
        case.id,
        NotPermittedError,
        lambda: app.execute(case.id, LowerLevel(Level.YELLOW, "双方已冷静"), MEDIATOR),
    )
    assert error.needs == "a supervisor"
    error = refused(
        app,
        case.id,
        InvalidInputError,
        lambda: app.execute(case.id, LowerLevel(Level.YELLOW, ""), SUPERVISOR),
    )
    assert error.field == "reason"
    error = refused(
        app,
        case.id,
        InvalidInputError,
        lambda: app.execute(case.id, LowerLevel(Level.RED, "x"), SUPERVISOR),
    )
    assert error.field == "level"


# --- signing, assignment, return ----------------------------------------------------------


def test_signing_stops_only_the_sign_for_clock(app: FengqiaoApplication, clock: Clock) -> None:
    case = drive(app, "registered")
    clock.advance(hours=2)
    app.execute(case.id, SignCase(), MEDIATOR)
    case = app.get_case(case.id)
    assert case.status is Status.SIGNED
    assert not case.awaiting_signature
    assert kinds(case) == {"resolve"}
    assert due(case, DeadlineKind.RESOLVE) == YELLOW_RESOLVE_DUE


def test_a_case_is_assigned_to_a_mediator(app: FengqiaoApplication) -> None:
    case = drive(app, "signed")
    app.execute(case.id, AssignCase("mediator-7"), MEDIATOR)
    assert app.get_case(case.id).assignee == "mediator-7"
    error = refused(
        app, case.id, InvalidInputError, lambda: app.execute(case.id, AssignCase(""), MEDIATOR)
    )
    assert error.field == "assignee"


def _escalated_by_hand(app: FengqiaoApplication) -> Case:
    case = drive(app, "signed")
    return app.execute(case.id, EscalateCase("村级无法调处，请镇里协调"), SUPERVISOR).case


def test_a_township_handed_a_case_by_hand_returns_it_to_the_village_within_the_sign_window(
    app: FengqiaoApplication, clock: Clock
) -> None:
    case = _escalated_by_hand(app)
    assert case.owner == TOWNSHIP
    clock.advance(hours=1)
    app.execute(case.id, ReturnCase("属村内邻里纠纷，退回村调委会"), TOWNSHIP_MEDIATOR)
    case = app.get_case(case.id)
    assert (case.owner, case.tier) == (VILLAGE, Tier.VILLAGE)
    assert case.awaiting_signature
    # Arriving back at the village starts new clocks there.
    assert due(case, DeadlineKind.SIGN) == clock.now + timedelta(hours=24)
    event = last_event(app, case.id)
    assert type(event).__name__ == "Returned"
    assert (event.from_unit, event.to_unit) == (TOWNSHIP, VILLAGE)
    # Once returned, it cannot bounce again.
    refused(
        app,
        case.id,
        CommandNotAllowedError,
        lambda: app.execute(case.id, ReturnCase("退回镇里"), MEDIATOR),
    )


def test_a_case_cannot_be_returned_after_signing_or_after_the_sign_window(
    app: FengqiaoApplication, clock: Clock
) -> None:
    late = _escalated_by_hand(app)
    clock.advance(hours=5)  # orange-at-township clocks: 4 h to sign
    error = refused(
        app,
        late.id,
        CommandNotAllowedError,
        lambda: app.execute(late.id, ReturnCase("不属本镇"), TOWNSHIP_MEDIATOR),
    )
    assert error.command == "return"
    signed = _escalated_by_hand(app)
    app.execute(signed.id, SignCase(), TOWNSHIP_MEDIATOR)
    refused(
        app,
        signed.id,
        CommandNotAllowedError,
        lambda: app.execute(signed.id, ReturnCase("不属本镇"), TOWNSHIP_MEDIATOR),
    )


def test_a_case_moved_by_the_rules_cannot_be_returned(app: FengqiaoApplication) -> None:
    raised = drive(app, "signed")
    app.execute(raised.id, RaiseLevel(Level.ORANGE, "涉及十余户"), MEDIATOR)
    refused(
        app,
        raised.id,
        CommandNotAllowedError,
        lambda: app.execute(raised.id, ReturnCase("退回"), TOWNSHIP_MEDIATOR),
    )
    registered_here = drive(app, "registered")
    refused(
        app,
        registered_here.id,
        CommandNotAllowedError,
        lambda: app.execute(registered_here.id, ReturnCase("不是我村的"), MEDIATOR),
    )


# --- escalation by hand ---------------------------------------------------------------------


def test_a_supervisor_escalates_a_case_one_tier_up_and_the_township_must_sign_again(
    app: FengqiaoApplication, clock: Clock
) -> None:
    case = drive(app, "in_mediation")
    clock.advance(hours=3)
    app.execute(case.id, EscalateCase("村级无法调处"), SUPERVISOR)
    case = app.get_case(case.id)
    assert (case.owner, case.tier) == (TOWNSHIP, Tier.TOWNSHIP)
    assert case.level is Level.YELLOW  # a manual move keeps the level
    assert case.status is Status.IN_MEDIATION
    assert case.awaiting_signature
    assert due(case, DeadlineKind.SIGN) == clock.now + timedelta(hours=4)
    event = last_event(app, case.id)
    assert (event.cause, event.from_unit, event.to_unit) == ("manual", VILLAGE, TOWNSHIP)
    error = refused(
        app,
        case.id,
        CommandNotAllowedError,
        lambda: mediate(app, case.id),
    )
    assert "sign" in error.detail
    app.execute(case.id, SignCase(), TOWNSHIP_MEDIATOR)
    assert not app.get_case(case.id).awaiting_signature


def test_a_dispute_spanning_two_villages_goes_to_their_common_township(
    app: FengqiaoApplication,
) -> None:
    case = drive(app, "signed")
    app.execute(case.id, EscalateCase("涉及邻村土地边界", other_unit=NEIGHBOUR_VILLAGE), SUPERVISOR)
    case = app.get_case(case.id)
    assert case.owner == TOWNSHIP
    assert last_event(app, case.id).cause == "cross_area"


def test_a_dispute_spanning_two_townships_goes_to_their_county(app: FengqiaoApplication) -> None:
    case = drive(app, "signed")
    app.execute(case.id, EscalateCase("跨镇用水纠纷", other_unit=OTHER_TOWNSHIP), SUPERVISOR)
    case = app.get_case(case.id)
    assert (case.owner, case.tier) == (COUNTY, Tier.COUNTY)
    assert last_event(app, case.id).cause == "cross_area"


def test_escalation_is_refused_above_the_county_and_by_a_mediator(
    app: FengqiaoApplication,
) -> None:
    across_counties = drive(app, "signed")
    refused(
        app,
        across_counties.id,
        CommandNotAllowedError,
        lambda: app.execute(
            across_counties.id, EscalateCase("跨县", other_unit=OTHER_COUNTY), SUPERVISOR
        ),
    )
    at_county = drive(app, "signed", level=Level.RED)
    error = refused(
        app,
        at_county.id,
        CommandNotAllowedError,
        lambda: app.execute(at_county.id, EscalateCase("上交市里"), SUPERVISOR),
    )
    assert error.command == "escalate"
    refused(
        app,
        across_counties.id,
        NotPermittedError,
        lambda: app.execute(across_counties.id, EscalateCase("请镇里处理"), MEDIATOR),
    )
    refused(
        app,
        across_counties.id,
        InvalidInputError,
        lambda: app.execute(across_counties.id, EscalateCase(" "), SUPERVISOR),
    )


# --- working the case ---------------------------------------------------------------------


def test_the_first_mediation_session_starts_the_thirty_day_mediation_clock(
    app: FengqiaoApplication, clock: Clock
) -> None:
    case = drive(app, "signed")
    held = clock.advance(hours=20)
    clock.advance(hours=2)
    app.execute(case.id, RecordMediationSession(held, "首次调解", ["张三", "李四"]), MEDIATOR)
    case = app.get_case(case.id)
    assert case.status is Status.IN_MEDIATION
    assert case.sessions == 1
    assert due(case, DeadlineKind.MEDIATION) == held + timedelta(days=30)
    clock.advance(days=1)
    app.execute(case.id, RecordMediationSession(clock.now, "第二次调解", ["张三"]), MEDIATOR)
    case = app.get_case(case.id)
    assert case.sessions == 2
    assert due(case, DeadlineKind.MEDIATION) == held + timedelta(days=30)


def test_a_session_cannot_be_recorded_before_it_is_held(
    app: FengqiaoApplication, clock: Clock
) -> None:
    case = drive(app, "signed")
    error = refused(
        app,
        case.id,
        InvalidInputError,
        lambda: app.execute(
            case.id,
            RecordMediationSession(clock.now + timedelta(hours=1), "明日调解", []),
            MEDIATOR,
        ),
    )
    assert error.field == "held_at"


def test_a_written_agreement_resolves_a_dispute_and_starts_follow_up_and_judicial_clocks(
    app: FengqiaoApplication, clock: Clock
) -> None:
    case = drive(app, "in_mediation")
    resolved_at = clock.advance(hours=6)
    app.execute(
        case.id,
        ResolveCase(
            "李四赔偿张三500元",
            AgreementForm.WRITTEN,
            amount=Decimal(500),
            performance_due="2026-10-15",
        ),
        MEDIATOR,
    )
    case = app.get_case(case.id)
    assert case.status is Status.RESOLVED
    assert case.outcome is Outcome.RESOLVED
    assert case.outcome_at == resolved_at
    assert kinds(case) == {
        "follow_up",
        "judicial_reminder",
        "judicial_confirmation",
        "performance",  # the end of 2026-10-15, Shanghai
    }
    assert due(case, DeadlineKind.FOLLOW_UP) == resolved_at + timedelta(days=7)
    assert due(case, DeadlineKind.JUDICIAL_REMINDER) == resolved_at + timedelta(days=20)
    assert due(case, DeadlineKind.JUDICIAL_CONFIRMATION) == resolved_at + timedelta(days=30)
    assert event_names(app, case.id)[-2:] == ["Resolved", "RatingInvited"]  # 好差评
    event = list(app.repository.event_store.get(case.id))[-2]
    assert (event.amount, event.form, event.performance_due) == (
        Decimal(500),
        "written",
        "2026-10-15",
    )


def test_an_oral_agreement_has_nothing_for_a_court_to_confirm(app: FengqiaoApplication) -> None:
    case = drive(app, "in_mediation")
    case = resolve(app, case.id, AgreementForm.ORAL)
    assert kinds(app.get_case(case.id)) == {"follow_up"}


def test_a_made_safe_incident_resolves_without_judicial_clocks(app: FengqiaoApplication) -> None:
    case = drive(app, "in_mediation", kind="incident")
    resolve(app, case.id, AgreementForm.WRITTEN)
    case = app.get_case(case.id)
    assert case.status is Status.RESOLVED
    assert kinds(case) == {"follow_up"}


def test_resolving_needs_a_session_and_refuses_a_negative_or_non_finite_amount(
    app: FengqiaoApplication,
) -> None:
    case = drive(app, "signed")
    error = refused(app, case.id, CommandNotAllowedError, lambda: resolve(app, case.id))
    assert error.command == "resolve"
    assert "session" in error.detail
    mediate(app, case.id)
    for amount in (Decimal(-5), Decimal("NaN"), Decimal("Infinity")):
        error = refused(
            app,
            case.id,
            InvalidInputError,
            lambda amount=amount: app.execute(
                case.id, ResolveCase("协议", AgreementForm.ORAL, amount=amount), MEDIATOR
            ),
        )
        assert error.field == "amount"


def test_a_failed_mediation_is_terminated_and_the_follow_up_clock_starts(
    app: FengqiaoApplication, clock: Clock
) -> None:
    case = drive(app, "in_mediation")
    app.execute(case.id, TerminateCase("一方拒绝继续调解，已告知诉讼途径"), MEDIATOR)
    case = app.get_case(case.id)
    assert case.status is Status.TERMINATED
    assert case.outcome is Outcome.TERMINATED
    assert kinds(case) == {"follow_up"}
    assert due(case, DeadlineKind.FOLLOW_UP) == clock.now + timedelta(days=7)


def test_a_referral_waits_for_the_agency_before_the_follow_up(
    app: FengqiaoApplication, clock: Clock
) -> None:
    case = drive(app, "signed")
    app.execute(case.id, ReferCase(Agency.POLICE, "涉嫌故意伤害，移交派出所"), MEDIATOR)
    case = app.get_case(case.id)
    assert case.status is Status.REFERRED
    assert case.outcome is Outcome.REFERRED
    assert kinds(case) == {"referral_answer"}  # the work clocks stop; the agency's answer is due
    assert last_event(app, case.id).agency == "police"
    error = refused(
        app,
        case.id,
        CommandNotAllowedError,
        lambda: app.execute(case.id, RecordFollowUp(satisfied=True), MEDIATOR),
    )
    assert "answered" in error.detail
    answered_at = clock.advance(days=3)
    app.execute(
        case.id,
        AnswerReferral("派出所已受理并调解", reference="犍公（罗）受字〔2026〕118号"),
        MEDIATOR,
    )
    case = app.get_case(case.id)
    assert case.referral_answered
    assert due(case, DeadlineKind.FOLLOW_UP) == answered_at + timedelta(days=7)
    refused(
        app,
        case.id,
        CommandNotAllowedError,
        lambda: app.execute(case.id, AnswerReferral("再次答复", reference="X-1"), MEDIATOR),
    )
    app.execute(case.id, RecordFollowUp(satisfied=True), MEDIATOR)
    app.execute(case.id, CloseCase(), MEDIATOR)
    assert app.get_case(case.id).status is Status.CLOSED


# --- judicial confirmation (司法确认) -------------------------------------------------------


def test_parties_ask_a_court_to_confirm_a_written_agreement_within_thirty_days(
    app: FengqiaoApplication, clock: Clock
) -> None:
    case = drive(app, "resolved")
    clock.advance(days=29)
    app.execute(case.id, RequestJudicialConfirmation("犍为县人民法院"), MEDIATOR)
    case = app.get_case(case.id)
    assert isinstance(case, Dispute)
    assert case.judicial_requested
    assert kinds(case) == {"follow_up"}
    assert last_event(app, case.id).court == "犍为县人民法院"
    refused(
        app,
        case.id,
        CommandNotAllowedError,
        lambda: app.execute(case.id, RequestJudicialConfirmation("犍为县人民法院"), MEDIATOR),
    )
    app.execute(case.id, RecordJudicialConfirmation(confirmed=True, note="裁定有效"), MEDIATOR)
    case = app.get_case(case.id)
    assert isinstance(case, Dispute)
    assert case.judicial_confirmed is True
    refused(
        app,
        case.id,
        CommandNotAllowedError,
        lambda: app.execute(case.id, RecordJudicialConfirmation(confirmed=False), MEDIATOR),
    )


def test_judicial_confirmation_is_refused_after_thirty_days_and_for_oral_agreements(
    app: FengqiaoApplication, clock: Clock
) -> None:
    late = drive(app, "resolved")
    oral = drive(app, "in_mediation")
    resolve(app, oral.id, AgreementForm.ORAL)
    clock.advance(days=30, seconds=1)
    for case_id in (late.id, oral.id):
        error = refused(
            app,
            case_id,
            CommandNotAllowedError,
            lambda case_id=case_id: app.execute(
                case_id, RequestJudicialConfirmation("法院"), MEDIATOR
            ),
        )
        assert error.command == "request judicial confirmation for"


def test_a_ruling_cannot_be_recorded_without_a_request(app: FengqiaoApplication) -> None:
    case = drive(app, "resolved")
    refused(
        app,
        case.id,
        CommandNotAllowedError,
        lambda: app.execute(case.id, RecordJudicialConfirmation(confirmed=True), MEDIATOR),
    )


def test_a_terminated_dispute_has_no_agreement_to_confirm_even_after_rework(
    app: FengqiaoApplication,
) -> None:
    case = drive(app, "resolved")
    app.execute(case.id, ReopenCase("协议未履行"), SUPERVISOR)
    assert kinds(app.get_case(case.id)) == {"resolve"}
    app.execute(case.id, TerminateCase("一方反悔，调解终止"), MEDIATOR)
    app.execute(case.id, RecordFollowUp(satisfied=False), MEDIATOR)
    refused(
        app,
        case.id,
        CommandNotAllowedError,
        lambda: app.execute(case.id, RequestJudicialConfirmation("法院"), MEDIATOR),
    )


@pytest.mark.parametrize("status", ["resolved", "followed_up", "closed"])
def test_an_incident_has_nothing_for_a_court_to_confirm(
    app: FengqiaoApplication, status: str
) -> None:
    case = drive(app, status, kind="incident")
    error = refused(
        app,
        case.id,
        CommandNotAllowedError,
        lambda: app.execute(case.id, RequestJudicialConfirmation("法院"), MEDIATOR),
    )
    assert error.status == status
    refused(
        app,
        case.id,
        CommandNotAllowedError,
        lambda: app.execute(case.id, RecordJudicialConfirmation(confirmed=True), MEDIATOR),
    )


# --- follow-up, rating, closing, reopening ------------------------------------------------


def test_a_follow_up_visit_is_recorded_and_stops_the_follow_up_clock(
    app: FengqiaoApplication,
) -> None:
    case = drive(app, "resolved")
    app.execute(
        case.id, RecordFollowUp(satisfied=True, agreement_honoured=True, note="已履行"), MEDIATOR
    )
    case = app.get_case(case.id)
    assert case.status is Status.FOLLOWED_UP
    assert case.follow_ups == 1
    assert DeadlineKind.FOLLOW_UP.value not in case.deadlines
    event = last_event(app, case.id)
    assert (event.satisfied, event.agreement_honoured, event.note) == (True, True, "已履行")
    app.execute(case.id, RecordFollowUp(satisfied=True), MEDIATOR)
    assert app.get_case(case.id).follow_ups == 2


def test_closing_needs_an_outcome_and_a_follow_up_visit(app: FengqiaoApplication) -> None:
    for status in ("resolved", "terminated", "answered"):
        case = drive(app, status)
        error = refused(
            app,
            case.id,
            CommandNotAllowedError,
            lambda case=case: app.execute(case.id, CloseCase(), MEDIATOR),
        )
        assert error.command == "close"
        app.execute(case.id, RecordFollowUp(satisfied=True), MEDIATOR)
        app.execute(case.id, CloseCase(), MEDIATOR)
        assert app.get_case(case.id).status is Status.CLOSED


def test_closing_keeps_only_the_judicial_clocks(app: FengqiaoApplication) -> None:
    case = drive(app, "closed")
    assert kinds(app.get_case(case.id)) == {"judicial_reminder", "judicial_confirmation"}
    app.execute(case.id, RequestJudicialConfirmation("犍为县人民法院"), MEDIATOR)
    assert kinds(app.get_case(case.id)) == set()


@pytest.mark.parametrize(
    "grade", [Grade.VERY_SATISFIED, Grade.SATISFIED, Grade.BASICALLY_SATISFIED]
)
def test_a_good_rating_is_recorded_and_changes_nothing_else(
    app: FengqiaoApplication, grade: Grade
) -> None:
    case = drive(app, "followed_up")
    app.execute(case.id, RateCase(grade), REPORTER)
    case = app.get_case(case.id)
    assert case.status is Status.FOLLOWED_UP
    assert event_names(app, case.id)[-1] == "Rated"
    assert last_event(app, case.id).grade == grade.value


@pytest.mark.parametrize("grade", [Grade.DISSATISFIED, Grade.VERY_DISSATISFIED])
def test_a_bad_rating_within_the_window_confirmed_by_review_reopens_the_case(
    app: FengqiaoApplication, clock: Clock, grade: Grade
) -> None:
    case = drive(app, "followed_up")
    clock.advance(days=10)
    app.execute(case.id, RateCase(grade), REPORTER)
    assert event_names(app, case.id)[-2:] == ["Rated", "RatingReviewOpened"]
    app.execute(case.id, ReviewRating(ReviewDecision.CONFIRM), SUPERVISOR)
    case = app.get_case(case.id)
    assert case.status is Status.REOPENED
    assert case.outcome is None
    assert case.reworked_for_rating
    assert event_names(app, case.id)[-2:] == ["RatingReviewed", "Reopened"]
    assert last_event(app, case.id).cause == "rating"
    rework = case.pending(DeadlineKind.RESOLVE)
    assert rework is not None
    assert rework.rule == "15wd"
    # Ten days after T0 (Thu Oct 8) plus 15 working days, 调休 Saturday Oct 10 included.
    assert due(case, DeadlineKind.RESOLVE) == datetime(2026, 10, 28, 16, 0, tzinfo=UTC)

    # Rework, and the second bad rating is reviewed again: disputed, it reopens nothing.
    mediate(app, case.id)
    resolve(app, case.id)
    app.execute(case.id, RecordFollowUp(satisfied=False), MEDIATOR)
    app.execute(case.id, RateCase(grade), REPORTER)
    app.execute(case.id, ReviewRating(ReviewDecision.DISPUTE, "诉求超出协议范围"), SUPERVISOR)
    case = app.get_case(case.id)
    assert case.status is Status.FOLLOWED_UP
    assert event_names(app, case.id)[-1] == "RatingReviewed"
    assert event_names(app, case.id).count("Reopened") == 1
    # the last visit found them dissatisfied: a supervisor closes, saying why
    app.execute(case.id, CloseCase("已返工一次，当事人仍不满意，审核销号"), SUPERVISOR)
    assert app.get_case(case.id).status is Status.CLOSED


def test_a_bad_rating_after_the_window_is_recorded_only(
    app: FengqiaoApplication, clock: Clock
) -> None:
    case = drive(app, "closed")
    clock.advance(days=31)
    app.execute(case.id, RateCase(Grade.VERY_DISSATISFIED), REPORTER)
    case = app.get_case(case.id)
    assert case.status is Status.CLOSED
    assert event_names(app, case.id)[-1] == "Rated"


def test_a_bad_rating_of_a_closed_case_within_the_window_reopens_it(
    app: FengqiaoApplication, clock: Clock
) -> None:
    case = drive(app, "closed")
    clock.advance(days=2)
    app.execute(case.id, RateCase(Grade.DISSATISFIED), REPORTER)
    app.execute(case.id, ReviewRating(ReviewDecision.CONFIRM), SUPERVISOR)
    assert app.get_case(case.id).status is Status.REOPENED


def test_a_supervisor_reopens_a_closed_case_on_the_rework_clock(
    app: FengqiaoApplication,
) -> None:
    case = drive(app, "closed")
    app.execute(case.id, ReopenCase("当事人再次反映协议未履行"), SUPERVISOR)
    case = app.get_case(case.id)
    assert case.status is Status.REOPENED
    assert case.outcome is None
    assert not case.reworked_for_rating
    assert kinds(case) == {"resolve"}
    assert due(case, DeadlineKind.RESOLVE) == REWORK_DUE
    assert last_event(app, case.id).cause == "manual"
    # Rework is done by the same owner, without signing again.
    mediate(app, case.id)
    resolve(app, case.id)
    assert app.get_case(case.id).status is Status.RESOLVED


def test_reopening_needs_a_supervisor_and_a_reason(app: FengqiaoApplication) -> None:
    case = drive(app, "resolved")
    refused(
        app,
        case.id,
        NotPermittedError,
        lambda: app.execute(case.id, ReopenCase("协议未履行"), MEDIATOR),
    )
    error = refused(
        app, case.id, InvalidInputError, lambda: app.execute(case.id, ReopenCase(""), SUPERVISOR)
    )
    assert error.field == "reason"


# --- pausing and deadlines ----------------------------------------------------------------


@pytest.mark.parametrize("status", ["registered", "signed", "in_mediation", "reopened"])
def test_a_paused_case_resumes_in_the_status_it_was_paused_in(
    app: FengqiaoApplication, clock: Clock, status: str
) -> None:
    case = drive(app, status)
    app.execute(case.id, PauseCase("等待伤情鉴定结果", clock.now + timedelta(days=10)), MEDIATOR)
    paused = app.get_case(case.id)
    assert paused.status is Status.PAUSED
    assert list(paused.deadlines) == ["pause_review"]  # the work clocks stopped
    assert last_event(app, case.id).reason == "等待伤情鉴定结果"
    clock.advance(days=2)
    app.execute(case.id, ResumeCase(), MEDIATOR)
    resumed = app.get_case(case.id)
    assert resumed.status.value == status
    assert set(resumed.deadlines) == set(case.deadlines)


def test_a_pause_needs_a_reason(app: FengqiaoApplication, clock: Clock) -> None:
    case = drive(app, "signed")
    error = refused(
        app,
        case.id,
        InvalidInputError,
        lambda: app.execute(case.id, PauseCase("", clock.now + timedelta(days=10)), MEDIATOR),
    )
    assert error.field == "reason"


def test_a_supervisor_extends_the_resolve_deadline(app: FengqiaoApplication) -> None:
    case = drive(app, "in_mediation")
    until = YELLOW_RESOLVE_DUE + timedelta(days=5)
    app.execute(case.id, ExtendDeadline(until, "需现场勘验"), SUPERVISOR)
    case = app.get_case(case.id)
    assert due(case, DeadlineKind.RESOLVE) == until
    event = last_event(app, case.id)
    assert (event.kind, event.until, event.reason) == ("resolve", until, "需现场勘验")


def test_extending_a_deadline_needs_a_supervisor_a_later_time_and_a_pending_clock(
    app: FengqiaoApplication,
) -> None:
    case = drive(app, "in_mediation")
    later = YELLOW_RESOLVE_DUE + timedelta(days=1)
    refused(
        app,
        case.id,
        NotPermittedError,
        lambda: app.execute(case.id, ExtendDeadline(later, "需现场勘验"), MEDIATOR),
    )
    error = refused(
        app,
        case.id,
        InvalidInputError,
        lambda: app.execute(case.id, ExtendDeadline(YELLOW_RESOLVE_DUE, "需现场勘验"), SUPERVISOR),
    )
    assert error.field == "until"
    error = refused(
        app,
        case.id,
        CommandNotAllowedError,
        lambda: app.execute(case.id, ExtendDeadline(later, "需现场勘验", kind="sign"), SUPERVISOR),
    )
    assert "sign" in error.detail


# --- missed deadlines (the scheduler's commands) ------------------------------------------


def test_a_missed_sign_deadline_is_flagged_once(app: FengqiaoApplication, clock: Clock) -> None:
    case = drive(app, "registered")
    sign_due = due(case, DeadlineKind.SIGN)
    early = app.execute(
        case.id,
        ActOnDeadline(DeadlineKind.SIGN, sign_due),
        SYSTEM,
        at=sign_due - timedelta(seconds=1),
    )
    assert early.position is None
    clock.now = sign_due
    flagged = app.execute(case.id, ActOnDeadline(DeadlineKind.SIGN, sign_due), SYSTEM)
    assert flagged.position is not None
    assert "sign_overdue" in app.get_case(case.id).flags
    assert event_names(app, case.id)[-1] == "SignOverdueFlagged"
    again = app.execute(case.id, ActOnDeadline(DeadlineKind.SIGN, sign_due), SYSTEM)
    assert again.position is None
    assert app.get_case(case.id).version == flagged.case.version
    stale = app.execute(
        case.id, ActOnDeadline(DeadlineKind.SIGN, sign_due - timedelta(hours=1)), SYSTEM
    )
    assert stale.position is None
    app.execute(case.id, SignCase(), MEDIATOR)
    assert "sign_overdue" not in app.get_case(case.id).flags


def test_a_missed_resolve_deadline_moves_the_case_up(
    app: FengqiaoApplication, clock: Clock
) -> None:
    case = drive(app, "in_mediation")
    clock.now = YELLOW_RESOLVE_DUE
    recorded = app.execute(case.id, ActOnDeadline(DeadlineKind.RESOLVE, YELLOW_RESOLVE_DUE), SYSTEM)
    assert recorded.position is not None
    case = app.get_case(case.id)
    assert (case.owner, case.level) == (TOWNSHIP, Level.ORANGE)
    assert last_event(app, case.id).cause == "overdue"


def test_resolve_overdue_before_the_deadline_does_nothing(app: FengqiaoApplication) -> None:
    case = drive(app, "signed")
    recorded = app.execute(
        case.id,
        ActOnDeadline(DeadlineKind.RESOLVE, YELLOW_RESOLVE_DUE),
        SYSTEM,
        at=YELLOW_RESOLVE_DUE - timedelta(seconds=1),
    )
    assert recorded.position is None
    assert app.get_case(case.id).version == case.version


# The refusal table (every command in every status it does not apply in) runs without a store
# in tests/unit/test_case_refusals.py; here, that a refusal through the store records nothing.


def test_a_command_dated_before_the_cases_last_change_is_refused_and_stores_nothing(
    app: FengqiaoApplication, clock: Clock
) -> None:
    case = drive(app, "signed")
    earlier = case.modified_on - timedelta(minutes=1)

    error = refused(
        app,
        case.id,
        InvalidInputError,
        lambda: app.execute(case.id, AddNote("late"), MEDIATOR, at=earlier),
    )

    assert error.field == "at"


def test_a_rejected_case_has_no_pending_clocks(app: FengqiaoApplication) -> None:
    case = drive(app, "registered")

    rejected = app.execute(case.id, RejectCase("不属于受理范围"), MEDIATOR).case

    assert rejected.deadlines == {}
    assert last_event(app, case.id).deadlines == {}
