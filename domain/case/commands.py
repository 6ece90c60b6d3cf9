"""The commands a case takes, as data: one frozen dataclass per command.

A command's class is its one name at every layer: ``roles`` says who may send it (gathered by
``api.http.permissions.COMMAND_ROLES``, keyed by the class), the HTTP payload is a Struct of the
same name, ``path`` is its URL segment (``POST /api/v1/cases/{id}/<path>``), and ``words`` is how
a refusal names it ("cannot <words> a case that is closed"). ``run`` says what the case decides;
loading, retrying and saving is ``FengqiaoApplication.execute``.

Adding a command touches three files: this one (the command and who may send it), the part of
the aggregate that decides it and records its event (``domain/case/_*.py``), and, to send it
over HTTP, its payload in ``api/http/schemas.py`` (the route is made from the payload). A new
event type is also handled or ignored by each view: ``tests/unit/test_event_dispatch.py`` names
what is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar
from uuid import UUID

from domain.actors import APPROVERS, REPORTERS, WORKERS, Actor, Role
from domain.clocks import DeadlineKind
from domain.directory import Directory
from domain.errors import InvalidInputError
from domain.jurisdiction import Jurisdiction
from domain.levels import Level
from domain.policy import Clocks
from domain.risk import FactsUpdate
from domain.status import (
    Agency,
    AgreementForm,
    Grade,
    RatingChannel,
    ReferralOutcome,
    ReviewDecision,
)

if TYPE_CHECKING:
    from domain.case import Case

SCHEDULER = frozenset({Role.SYSTEM})
CITIZENS = frozenset({Role.CITIZEN})
INSPECTORS = frozenset({Role.INSPECTOR})


class Scope(StrEnum):
    """Where a command's sender must sit, relative to the case's owning unit."""

    OWNER = "owner"  # the work: only the owning unit's people
    RECORD = "record"  # notes and attachments: anyone who may read the case
    ABOVE = "above"  # 督办 and 提级办理: a unit above the owner
    # 督查回访: an inspector of the county or the city whose subtree holds the case's location
    INSPECTION = "inspection"


@dataclass(frozen=True)
class Context:
    """Who acts, when, and what the decision may consult (read lazily: most commands need
    neither the jurisdiction tree nor the case's clocks)."""

    actor: Actor
    at: datetime
    units: Callable[..., Jurisdiction]  # given unit codes, a tree that knows them
    clocks: Callable[[], Clocks]
    directory: Callable[[], Directory] = Directory  # the staff (an empty one when not given)


@dataclass(frozen=True)
class CaseCommand:
    """Base of the commands on one existing case."""

    roles: ClassVar[frozenset[Role]]
    path: ClassVar[str]
    words: ClassVar[str]
    scope: ClassVar[Scope]

    def __init_subclass__(
        cls,
        roles: frozenset[Role] = frozenset(),
        path: str = "",
        words: str = "",
        scope: Scope = Scope.OWNER,
    ) -> None:
        """Who may send it, its URL segment, its words in errors and where the sender must
        sit, declared on its class line:
        ``class SignCase(CaseCommand, roles=WORKERS, path="sign", words="sign")``."""
        super().__init_subclass__()
        cls.roles, cls.path, cls.words, cls.scope = roles, path, words, scope

    def run(self, case: Case, context: Context) -> None:
        """Decides on ``case``: triggers its events or raises a domain error."""
        raise NotImplementedError


# --- intake and housekeeping ------------------------------------------------------------


@dataclass(frozen=True)
class RejectCase(CaseCommand, roles=WORKERS, path="reject", words="reject"):
    reason: str

    def run(self, case: Case, context: Context) -> None:
        case.reject(context.actor, context.at, self.reason)


@dataclass(frozen=True)
class AddNote(
    CaseCommand, roles=REPORTERS, path="notes", words="add a note to", scope=Scope.RECORD
):
    text: str

    def run(self, case: Case, context: Context) -> None:
        case.add_note(context.actor, context.at, self.text)


# What an attachment is, in the case file (一案一档).
ATTACHMENT_KINDS = ("photo", "agreement", "evidence", "audio", "other")


@dataclass(frozen=True)
class AddAttachment(
    CaseCommand,
    roles=REPORTERS,
    path="attachments",
    words="attach a file to",
    scope=Scope.RECORD,
):
    """An attachment's identity; its bytes are stored (encrypted, by ``sha256``) outside the
    event log. The same content attached to a case again records nothing."""

    name: str
    media_type: str
    size: int
    sha256: str
    kind: str = "other"
    latitude: float | None = None  # where a photo was taken, as the phone reports it
    longitude: float | None = None

    def run(self, case: Case, context: Context) -> None:
        case.add_attachment(
            context.actor,
            context.at,
            self.name,
            self.media_type,
            self.size,
            self.sha256,
            kind=self.kind,
            latitude=self.latitude,
            longitude=self.longitude,
        )


@dataclass(frozen=True)
class SignCase(CaseCommand, roles=WORKERS, path="sign", words="sign"):
    def run(self, case: Case, context: Context) -> None:
        case.sign(context.actor, context.at)


@dataclass(frozen=True)
class AssignCase(CaseCommand, roles=APPROVERS, path="assign", words="assign"):
    assignee: str

    def run(self, case: Case, context: Context) -> None:
        case.assign(context.actor, context.at, self.assignee, context.directory())


@dataclass(frozen=True)
class PauseCase(CaseCommand, roles=APPROVERS, path="pause", words="pause"):
    reason: str
    review_at: datetime

    def run(self, case: Case, context: Context) -> None:
        case.pause(context.actor, context.at, context.clocks(), self.reason, self.review_at)


@dataclass(frozen=True)
class ResumeCase(CaseCommand, roles=WORKERS, path="resume", words="resume"):
    def run(self, case: Case, context: Context) -> None:
        case.resume(context.actor, context.at)


@dataclass(frozen=True)
class ExtendDeadline(CaseCommand, roles=APPROVERS, path="extend", words="extend"):
    until: datetime
    reason: str
    kind: str = "resolve"

    def run(self, case: Case, context: Context) -> None:
        case.extend_deadline(
            context.actor, context.at, context.clocks(), self.until, self.reason, self.kind
        )


# --- levels and ownership ---------------------------------------------------------------


@dataclass(frozen=True)
class AssessCase(CaseCommand, roles=WORKERS, path="assess", words="assess"):
    """研判: the level and what the assessor saw; any risk facts it corrects; and, when the
    level is below what the policy's risk triggers suggest, why."""

    level: Level
    triggers: Sequence[str]
    reason: str
    people_involved: int | None = None
    amount_involved: Decimal | None = None
    police_callouts: int | None = None
    below_suggestion_reason: str = ""

    def run(self, case: Case, context: Context) -> None:
        facts = FactsUpdate(
            self.people_involved,
            self.amount_involved,
            self.police_callouts,
            self.below_suggestion_reason,
        )
        case.assess(
            context.actor,
            context.at,
            context.units(),
            context.clocks(),
            self.level,
            list(self.triggers),
            self.reason,
            facts,
        )


@dataclass(frozen=True)
class RaiseLevel(CaseCommand, roles=WORKERS, path="raise", words="raise the level of"):
    level: Level
    reason: str

    def run(self, case: Case, context: Context) -> None:
        case.raise_level(
            context.actor, context.at, context.units(), context.clocks(), self.level, self.reason
        )


@dataclass(frozen=True)
class LowerLevel(CaseCommand, roles=APPROVERS, path="lower", words="lower"):
    level: Level
    reason: str

    def run(self, case: Case, context: Context) -> None:
        case.lower_level(
            context.actor, context.at, context.units(), context.clocks(), self.level, self.reason
        )


@dataclass(frozen=True)
class EscalateCase(CaseCommand, roles=APPROVERS, path="escalate", words="escalate"):
    reason: str
    other_unit: str | None = None

    def run(self, case: Case, context: Context) -> None:
        units = context.units(*([self.other_unit] if self.other_unit else []))
        if self.other_unit is not None and self.other_unit not in units:
            raise InvalidInputError("other_unit", f"no unit has code {self.other_unit!r}")
        case.escalate(
            context.actor,
            context.at,
            units,
            context.clocks(),
            self.reason,
            self.other_unit,
        )


@dataclass(frozen=True)
class ReturnCase(CaseCommand, roles=APPROVERS, path="return", words="return"):
    reason: str

    def run(self, case: Case, context: Context) -> None:
        case.return_case(context.actor, context.at, context.clocks(), context.units(), self.reason)


# --- from a unit above the owner ---------------------------------------------------------


@dataclass(frozen=True)
class OrderSupervision(
    CaseCommand,
    roles=APPROVERS,
    path="supervision-orders",
    words="order supervision of",
    scope=Scope.ABOVE,
):
    """督办: what the owner must do, and when its answer is due."""

    text: str
    due_at: datetime

    def run(self, case: Case, context: Context) -> None:
        units = context.units(context.actor.unit)
        case.order_supervision(
            context.actor, context.at, units, context.clocks(), self.text, self.due_at
        )


@dataclass(frozen=True)
class AnswerSupervision(
    CaseCommand, roles=WORKERS, path="supervision-answers", words="answer supervision of"
):
    answer: str

    def run(self, case: Case, context: Context) -> None:
        case.answer_supervision(context.actor, context.at, self.answer)


@dataclass(frozen=True)
class TakeOverCase(
    CaseCommand, roles=APPROVERS, path="take-over", words="take over", scope=Scope.ABOVE
):
    """提级办理: the sender's unit takes the case."""

    reason: str

    def run(self, case: Case, context: Context) -> None:
        units = context.units(context.actor.unit)
        case.take_over(context.actor, context.at, units, context.clocks(), self.reason)


# --- working the case to its outcome ----------------------------------------------------


@dataclass(frozen=True)
class RecordMediationSession(
    CaseCommand, roles=WORKERS, path="mediation-sessions", words="record a mediation session for"
):
    held_at: datetime
    notes: str
    attendees: Sequence[str] = ()

    def run(self, case: Case, context: Context) -> None:
        case.record_mediation(
            context.actor,
            context.at,
            context.clocks(),
            self.held_at,
            self.notes,
            list(self.attendees),
        )


@dataclass(frozen=True)
class ResolveCase(CaseCommand, roles=WORKERS, path="resolve", words="resolve"):
    agreement: str
    form: AgreementForm
    amount: Decimal | None = None
    performance_due: str | None = None

    def run(self, case: Case, context: Context) -> None:
        case.resolve(
            context.actor,
            context.at,
            context.clocks(),
            self.agreement,
            self.form,
            self.amount,
            self.performance_due,
        )


@dataclass(frozen=True)
class TerminateCase(CaseCommand, roles=WORKERS, path="terminate", words="terminate"):
    reason: str

    def run(self, case: Case, context: Context) -> None:
        case.terminate(context.actor, context.at, context.clocks(), self.reason)


@dataclass(frozen=True)
class ReferCase(CaseCommand, roles=WORKERS, path="referrals", words="refer"):
    agency: Agency
    reason: str

    def run(self, case: Case, context: Context) -> None:
        case.refer(context.actor, context.at, context.clocks(), self.agency, self.reason)


@dataclass(frozen=True)
class AnswerReferral(
    CaseCommand, roles=WORKERS, path="referral-answers", words="record a referral answer for"
):
    """The agency's answer: accepted under its case number (``reference``), declined (the case
    goes back to work; ``answer`` says why) or concluded at once."""

    again: ClassVar[str] = "answer the referral of"  # when it was answered already
    answer: str
    outcome: ReferralOutcome = ReferralOutcome.ACCEPTED
    reference: str = ""

    def run(self, case: Case, context: Context) -> None:
        case.answer_referral(
            context.actor, context.at, context.clocks(), self.answer, self.outcome, self.reference
        )


@dataclass(frozen=True)
class ReportReferralResult(
    CaseCommand, roles=WORKERS, path="referral-results", words="record the referral result for"
):
    result: str

    def run(self, case: Case, context: Context) -> None:
        case.report_referral_result(context.actor, context.at, self.result)


@dataclass(frozen=True)
class ReportBack(CaseCommand, roles=WORKERS, path="report-back", words="report back on"):
    """反馈: the result sent back to the body that referred the case here."""

    result: str

    def run(self, case: Case, context: Context) -> None:
        case.report_back(context.actor, context.at, self.result)


@dataclass(frozen=True)
class RequestJudicialConfirmation(
    CaseCommand,
    roles=WORKERS,
    path="judicial-confirmation",
    words="request judicial confirmation for",
):
    court: str = "人民法院"

    def run(self, case: Case, context: Context) -> None:
        case.request_judicial_confirmation(context.actor, context.at, self.court)


@dataclass(frozen=True)
class RecordJudicialConfirmation(
    CaseCommand,
    roles=WORKERS,
    path="judicial-confirmation",
    words="record judicial confirmation for",
):
    confirmed: bool
    note: str = ""

    def run(self, case: Case, context: Context) -> None:
        case.record_judicial_confirmation(context.actor, context.at, self.confirmed, self.note)


# --- after the outcome ------------------------------------------------------------------


@dataclass(frozen=True)
class RecordFollowUp(CaseCommand, roles=WORKERS, path="follow-ups", words="record a follow-up for"):
    satisfied: bool
    agreement_honoured: bool | None = None
    note: str = ""

    def run(self, case: Case, context: Context) -> None:
        case.record_follow_up(
            context.actor, context.at, self.satisfied, self.agreement_honoured, self.note
        )


@dataclass(frozen=True)
class RateCase(CaseCommand, roles=REPORTERS, path="ratings", words="rate", scope=Scope.RECORD):
    """好差评 as staff took it from a party (a phone callback, a visit, the hotline): a record
    of what the public said, never by someone who handled the case."""

    grade: Grade
    channel: RatingChannel = RatingChannel.PHONE_CALLBACK
    comment: str = ""

    def run(self, case: Case, context: Context) -> None:
        case.rate(
            context.actor, context.at, context.clocks(), self.grade, self.channel, self.comment
        )


@dataclass(frozen=True)
class RateByInvitation(
    CaseCommand, roles=CITIZENS, path="rating-invitations", words="rate", scope=Scope.RECORD
):
    """好差评 by a party, through the invitation sent to their phone (the public rating
    page, ``/rate/<link>``; no HTTP command route)."""

    invitation: UUID
    grade: Grade
    comment: str = ""

    def run(self, case: Case, context: Context) -> None:
        clocks = context.clocks()
        case.rate_by_invitation(context.at, clocks, self.invitation, self.grade, self.comment)


@dataclass(frozen=True)
class ReviewRating(CaseCommand, roles=APPROVERS, path="rating-reviews", words="review a rating"):
    """差评核实: the owner's supervisor confirms a bad rating (rework) or disputes it."""

    decision: ReviewDecision
    reason: str = ""

    def run(self, case: Case, context: Context) -> None:
        case.review_rating(context.actor, context.at, context.clocks(), self.decision, self.reason)


@dataclass(frozen=True)
class ReopenCase(CaseCommand, roles=APPROVERS, path="reopen", words="reopen"):
    reason: str

    def run(self, case: Case, context: Context) -> None:
        case.reopen(context.actor, context.at, context.clocks(), self.reason)


@dataclass(frozen=True)
class CloseCase(CaseCommand, roles=WORKERS, path="close", words="close"):
    reason: str = ""  # needed, from a supervisor, after a troubled follow-up visit

    def run(self, case: Case, context: Context) -> None:
        case.close_case(context.actor, context.at, self.reason, context.clocks())


# --- 督查回访 -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordInspection(
    CaseCommand,
    roles=INSPECTORS,
    path="inspections",
    words="record an inspection of",
    scope=Scope.INSPECTION,
):
    """督查回访: an inspector's callback on a case a monthly draw sampled. ``rework`` sends
    the case back to its owner for rework."""

    reached: bool
    satisfied: bool | None = None
    agreement_honoured: bool | None = None
    remarks: str = ""
    rework: bool = False

    def run(self, case: Case, context: Context) -> None:
        case.record_inspection(
            context.actor,
            context.at,
            context.clocks(),
            self.reached,
            self.satisfied,
            self.agreement_honoured,
            self.remarks,
            self.rework,
        )


# --- the scheduler's ----------------------------------------------------------------------


@dataclass(frozen=True)
class ActOnDeadline(CaseCommand, roles=SCHEDULER, path="deadlines", words="act on a deadline of"):
    """A clock of ``kind`` due at ``due_at`` has passed. The case decides whether it still
    applies (the due time must still be its own), so a repeated sweep is harmless."""

    kind: DeadlineKind
    due_at: datetime

    def run(self, case: Case, context: Context) -> None:
        if self.kind is DeadlineKind.SIGN:
            case.flag_sign_overdue(context.actor, context.at, self.due_at)
        elif self.kind is DeadlineKind.RESOLVE:
            case.act_on_resolve_overdue(
                context.actor, context.at, context.units(), context.clocks(), self.due_at
            )
        elif self.kind is DeadlineKind.SUPERVISION:
            case.remind_supervision(context.actor, context.at, context.clocks(), self.due_at)
        else:
            case.act_on_clock(context.actor, context.at, context.clocks(), self.kind, self.due_at)


CASE_COMMANDS: tuple[type[CaseCommand], ...] = tuple(CaseCommand.__subclasses__())
