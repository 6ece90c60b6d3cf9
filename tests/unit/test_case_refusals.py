"""Which command a case refuses in which status, with no event store.

The refusal table, run on the aggregate alone (the three-backend lifecycle suite checks that a
refusal through the store records nothing): for every (status, command) pair in ``REFUSED``
the case raises ``CommandNotAllowedError`` naming its status and the command's words, and
records nothing (no pending event, version unchanged). The table covers every case command (the
scheduler's ``ActOnDeadline`` aside, which never refuses by status) and every status ``drive``
reaches; notes and attachments are never refused.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.actors import Actor, Role
from domain.case.commands import (
    CASE_COMMANDS,
    ActOnDeadline,
    AddAttachment,
    AddNote,
    AnswerReferral,
    AnswerSupervision,
    AssessCase,
    AssignCase,
    CaseCommand,
    CloseCase,
    EscalateCase,
    ExtendDeadline,
    LowerLevel,
    OrderSupervision,
    PauseCase,
    RaiseLevel,
    RateByInvitation,
    RateCase,
    RecordFollowUp,
    RecordInspection,
    RecordJudicialConfirmation,
    RecordMediationSession,
    ReferCase,
    RejectCase,
    ReopenCase,
    ReportBack,
    ReportReferralResult,
    RequestJudicialConfirmation,
    ResolveCase,
    ResumeCase,
    ReturnCase,
    ReviewRating,
    SignCase,
    TakeOverCase,
    TerminateCase,
)
from domain.errors import CommandNotAllowedError
from domain.levels import Level
from domain.status import Agency, AgreementForm, Grade, ReviewDecision
from tests.support import builders
from tests.support.builders import SHA
from tests.support.decider import REACHABLE, drive, later, names, refused, run
from tests.support.world import (
    COUNTY,
    MEDIATOR,
    REPORTER,
    SUPERVISOR,
    T0,
    TOWNSHIP_MEDIATOR,
)

LATER = datetime(2027, 1, 1, tzinfo=UTC)
INSPECTOR = Actor("inspector-1", Role.INSPECTOR, COUNTY)

# Each command of the table, as a given actor sends it. Mediation sessions are held at T0, so
# "held before it is recorded" never stands in for a refusal by status.
COMMANDS: dict[str, tuple[CaseCommand, Actor]] = {
    "reject": (RejectCase("不予受理"), MEDIATOR),
    "sign": (SignCase(), MEDIATOR),
    "assign": (AssignCase("mediator-9"), MEDIATOR),
    "assess": (AssessCase(Level.ORANGE, ["10人"], "研判"), MEDIATOR),
    "raise_level": (RaiseLevel(Level.RED, "聚集"), MEDIATOR),
    "lower_level": (LowerLevel(Level.YELLOW, "缓和"), SUPERVISOR),
    "escalate": (EscalateCase("请镇里协调"), SUPERVISOR),
    "record_mediation": (RecordMediationSession(T0, "调解", ["张三"]), MEDIATOR),
    "resolve": (ResolveCase("协议", AgreementForm.WRITTEN), MEDIATOR),
    "terminate": (TerminateCase("调解终止"), MEDIATOR),
    "refer": (ReferCase(Agency.COURT, "诉调对接"), MEDIATOR),
    "answer_referral": (AnswerReferral("已立案", reference="（2026）川1123民诉前调12号"), MEDIATOR),
    "request_judicial_confirmation": (RequestJudicialConfirmation("犍为县人民法院"), MEDIATOR),
    "record_judicial_confirmation": (RecordJudicialConfirmation(confirmed=True), MEDIATOR),
    "record_follow_up": (RecordFollowUp(satisfied=True), MEDIATOR),
    "rate": (RateCase(Grade.DISSATISFIED), REPORTER),
    "review_rating": (ReviewRating(ReviewDecision.DISPUTE, "当事人诉求超出协议范围"), SUPERVISOR),
    "pause": (PauseCase("等待鉴定", LATER), MEDIATOR),
    "resume": (ResumeCase(), MEDIATOR),
    "extend_deadline": (ExtendDeadline(LATER, "需勘验"), SUPERVISOR),
    "reopen": (ReopenCase("未履行"), SUPERVISOR),
    "close_case": (CloseCase(), MEDIATOR),
    "return_case": (ReturnCase("不属本镇"), TOWNSHIP_MEDIATOR),
    "report_referral_result": (ReportReferralResult("法院调解结案"), MEDIATOR),
    "report_back": (ReportBack("已调解结案"), MEDIATOR),
    "order_supervision": (OrderSupervision("请三日内约谈双方", LATER), SUPERVISOR),
    "answer_supervision": (AnswerSupervision("已约谈双方"), MEDIATOR),
    "take_over": (TakeOverCase("县级提级办理"), SUPERVISOR),
    "record_inspection": (RecordInspection(reached=True, satisfied=True), INSPECTOR),
    "add_note": (AddNote("已电话联系申请人"), MEDIATOR),
    "add_attachment": (AddAttachment("调解协议书.pdf", "application/pdf", 20480, SHA), MEDIATOR),
}

CONCLUDED_OR_ENDED = [
    "resolved",
    "terminated",
    "referred",
    "answered",
    "followed_up",
    "closed",
    "rejected",
]
NOT_YET_SIGNED_OR_PAUSED = ["registered", "paused"]
NOT_CONCLUDED = ["registered", "signed", "in_mediation", "paused", "rejected", "reopened"]

REFUSED: dict[str, list[str]] = {
    "reject": [s for s in REACHABLE if s != "registered"],
    "sign": ["signed", "in_mediation", "paused", "reopened", *CONCLUDED_OR_ENDED],
    "assign": CONCLUDED_OR_ENDED,
    "assess": ["paused", *CONCLUDED_OR_ENDED],
    "raise_level": ["paused", *CONCLUDED_OR_ENDED],
    "lower_level": ["paused", *CONCLUDED_OR_ENDED],
    "escalate": ["paused", *CONCLUDED_OR_ENDED],
    "record_mediation": [*NOT_YET_SIGNED_OR_PAUSED, *CONCLUDED_OR_ENDED],
    "resolve": ["signed", *NOT_YET_SIGNED_OR_PAUSED, *CONCLUDED_OR_ENDED],
    "terminate": [*NOT_YET_SIGNED_OR_PAUSED, *CONCLUDED_OR_ENDED],
    "refer": [*NOT_YET_SIGNED_OR_PAUSED, *CONCLUDED_OR_ENDED],
    "answer_referral": [
        *NOT_CONCLUDED,
        "resolved",
        "terminated",
        "answered",
        "followed_up",
        "closed",
    ],
    "request_judicial_confirmation": [*NOT_CONCLUDED, "terminated", "referred", "answered"],
    "record_judicial_confirmation": ["registered", "resolved", "followed_up", "closed"],
    "record_follow_up": [*NOT_CONCLUDED, "referred", "closed"],
    "rate": NOT_CONCLUDED,
    # 差评核实 only while a bad rating awaits it: none of these has one.
    "review_rating": list(REACHABLE),
    "pause": ["paused", *CONCLUDED_OR_ENDED],
    "resume": ["registered", "signed", "in_mediation", "reopened", *CONCLUDED_OR_ENDED],
    "extend_deadline": ["paused", *CONCLUDED_OR_ENDED],
    "reopen": NOT_CONCLUDED,
    "close_case": [
        "registered",
        "signed",
        "in_mediation",
        "paused",
        "resolved",
        "terminated",
        "referred",
        "answered",
        "closed",
        "rejected",
        "reopened",
    ],
    # Only a case handed over by hand, before signing: none of these was.
    "return_case": list(REACHABLE),
    # Only an accepted referral has a result to record; only a case referred here reports back.
    "report_referral_result": [s for s in REACHABLE if s != "answered"],
    "report_back": list(REACHABLE),
    # 督办 while the case is open or its outcome followed up; answered only when ordered.
    "order_supervision": ["closed", "rejected"],
    "answer_supervision": list(REACHABLE),
    "take_over": ["paused", *CONCLUDED_OR_ENDED],
    # 督查回访 only on a case a monthly draw sampled: none of these was.
    "record_inspection": list(REACHABLE),
    # Notes and attachments are part of the record in every status, closed cases included.
    "add_note": [],
    "add_attachment": [],
}
# The statuses as the case reports them ("answered" is a referred case with an answer).
STATUS_OF = {"answered": "referred"}
# Where the refusal names a more specific command than the command's words.
COMMAND_NAME = {("answer_referral", "answered"): "answer the referral of"}

TABLE = sorted({(status, command) for command, statuses in REFUSED.items() for status in statuses})


@pytest.mark.parametrize(("status", "command"), TABLE)
def test_a_command_that_does_not_apply_in_a_status_is_refused_and_records_nothing(
    status: str, command: str
) -> None:
    level = Level.ORANGE if command == "lower_level" else Level.YELLOW
    case = drive(status, level=level)
    sent, actor = COMMANDS[command]

    error = refused(case, CommandNotAllowedError, sent, actor)

    assert error.status == STATUS_OF.get(status, status)
    assert error.command == COMMAND_NAME.get((command, status), type(sent).words)
    assert case.status.value == error.status


@pytest.mark.parametrize("status", REACHABLE)
@pytest.mark.parametrize("command", ["add_note", "add_attachment"])
def test_a_note_or_an_attachment_is_recorded_in_every_status_without_moving_it(
    status: str, command: str
) -> None:
    case = drive(status)
    before = case.status
    sent, actor = COMMANDS[command]

    events = run(case, sent, actor, later(case))

    assert names(events) == [
        {"add_note": "NoteAdded", "add_attachment": "AttachmentAdded"}[command]
    ]
    assert case.status is before


def test_the_refusal_table_covers_every_command_and_every_reachable_status() -> None:
    assert set(REFUSED) == set(COMMANDS)
    # a party's own rating is refused by its invitation first (tests/unit/test_case_ratings.py)
    by_invitation = {ActOnDeadline, RateByInvitation}
    assert {type(sent) for sent, _ in COMMANDS.values()} == set(CASE_COMMANDS) - by_invitation
    assert {status for status, _ in TABLE} == set(REACHABLE)


def test_drive_reaches_the_same_statuses_as_the_application_builders() -> None:
    assert REACHABLE == builders.REACHABLE
