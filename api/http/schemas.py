"""What crosses the HTTP boundary: msgspec Structs, unknown fields rejected.

Names and fields are a contract outside clients are written against. New fields get defaults;
a field's type never changes. A command's payload has its domain command's name and fields.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

import msgspec

from domain.bounds import MAX_ATTENDEES, MAX_TRIGGERS
from domain.case import commands as cmd
from domain.parties import MAX_PARTIES

Kind = Literal["dispute", "incident"]
LevelName = Literal["red", "orange", "yellow"]
ChannelName = Literal[
    "grid_patrol", "hotline", "walk_in", "police_110", "court", "petition_office", "online"
]
# No NUL characters: PostgreSQL text cannot hold them, so one would stop the read models.
NO_NUL = r"^[^\x00]*$"
MAX_OFFSET = 1_000_000_000  # larger list offsets overflow the databases' integers
StatusName = Literal[
    "registered", "signed", "in_mediation", "paused", "reopened", "resolved", "terminated",
    "referred", "followed_up", "closed", "rejected",
]  # fmt: skip
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=4000, pattern=NO_NUL)]
ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_NUL)]
FreeText = Annotated[str, msgspec.Meta(max_length=4000, pattern=NO_NUL)]  # may be empty
AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]  # naive times are refused
# ASCII digits only: ``\d`` also matches "５００" and "٥٠٠", which Decimal reads as 500.
Amount = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,12}(\.[0-9]{1,2})?$")]


class Command(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of request bodies."""


class PartyIn(Command):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=NO_NUL)]
    role: Literal["applicant", "respondent", "third_party"]
    id_number: ShortText | None = None
    phone: ShortText | None = None
    address: Annotated[str, msgspec.Meta(max_length=300, pattern=NO_NUL)] | None = None


class CallerIn(Command):
    """Who called the hotline (or came in) to report it: a name and maybe a phone, or
    ``anonymous`` with neither."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=NO_NUL)] | None = None
    phone: ShortText | None = None
    anonymous: bool = False


class ReferralIn(Command):
    """Who referred the case here (诉前委派、110、信访转交、检调), their reference and the date
    by which they want the result back."""

    agency: Literal["court", "police", "procuratorate", "petition_office"]
    reference: ShortText
    due_at: AwareDatetime | None = None


class RegisterCase(Command):
    kind: Kind
    unit: ShortText
    category: Annotated[str, msgspec.Meta(min_length=1, max_length=50, pattern=NO_NUL)]
    summary: Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=NO_NUL)]
    channel: ChannelName
    level: LevelName = "yellow"
    people_involved: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 1
    amount_involved: Amount | None = None
    parties: Annotated[list[PartyIn], msgspec.Meta(max_length=MAX_PARTIES)] = []
    occurred_at: AwareDatetime | None = None
    referral_in: ReferralIn | None = None
    # the hotline caller (or visitor) who reported it, besides the operator who records it
    caller: CallerIn | None = None
    police_callouts: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 0  # 110 call-outs so far


class CasePayload(Command):
    """A command on one case, as it crosses the wire: fields of the domain command of the same
    name (``command``), with the limits a client can read in the OpenAPI document."""

    command: ClassVar[type[cmd.CaseCommand]]

    def to_command(self) -> cmd.CaseCommand:
        """The domain command: fields converted by name (strings to enums and Decimals)."""
        return msgspec.convert(msgspec.structs.asdict(self), self.command)


class AssessCase(CasePayload):
    """研判: the level and what the assessor saw. Risk facts it corrects (people involved,
    amount, police call-outs) feed the policy's risk triggers; a level below what they suggest
    needs ``below_suggestion_reason``."""

    command = cmd.AssessCase
    level: LevelName
    reason: Text
    triggers: Annotated[list[ShortText], msgspec.Meta(max_length=MAX_TRIGGERS)] = []
    people_involved: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] | None = None
    amount_involved: Amount | None = None
    police_callouts: Annotated[int, msgspec.Meta(ge=0, le=1000)] | None = None
    below_suggestion_reason: FreeText = ""


class SignCase(CasePayload):
    command = cmd.SignCase


class AssignCase(CasePayload):
    command = cmd.AssignCase
    assignee: Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=NO_NUL)]


class RecordMediationSession(CasePayload):
    command = cmd.RecordMediationSession
    held_at: AwareDatetime
    notes: Text
    attendees: Annotated[list[ShortText], msgspec.Meta(max_length=MAX_ATTENDEES)] = []


class ResolveCase(CasePayload):
    command = cmd.ResolveCase
    agreement: Annotated[str, msgspec.Meta(min_length=1, max_length=20000, pattern=NO_NUL)]
    form: Literal["written", "oral"]
    amount: Amount | None = None
    performance_due: Annotated[str, msgspec.Meta(pattern=NO_NUL)] | None = None


class TerminateCase(CasePayload):
    command = cmd.TerminateCase
    reason: Text


class ReferCase(CasePayload):
    command = cmd.ReferCase
    agency: Literal["court", "police", "procuratorate", "petition_office"]
    reason: Text


class AnswerReferral(CasePayload):
    """The agency's answer to a referral: ``accepted`` under its case number (``reference``),
    ``declined`` (the case goes back to work; ``answer`` says why) or ``concluded`` at once."""

    command = cmd.AnswerReferral
    answer: Text
    outcome: Literal["accepted", "declined", "concluded"] = "accepted"
    reference: Annotated[str, msgspec.Meta(max_length=100, pattern=NO_NUL)] = ""


class ReportReferralResult(CasePayload):
    """What the agency that accepted a referral finally did with it."""

    command = cmd.ReportReferralResult
    result: Text


class ReportBack(CasePayload):
    """反馈: the result sent back to the body that referred the case here."""

    command = cmd.ReportBack
    result: Text


class JudicialConfirmation(CasePayload):
    """Request (``court``) or, with ``confirmed``, record the court's ruling."""

    command = cmd.RequestJudicialConfirmation
    court: ShortText | None = None
    confirmed: bool | None = None
    note: FreeText = ""

    def to_command(self) -> cmd.CaseCommand:
        if self.confirmed is not None:
            return cmd.RecordJudicialConfirmation(self.confirmed, self.note)
        return cmd.RequestJudicialConfirmation(self.court or "人民法院")


class RecordFollowUp(CasePayload):
    command = cmd.RecordFollowUp
    satisfied: bool
    agreement_honoured: bool | None = None
    note: FreeText = ""


GradeName = Literal[
    "very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied"
]
RatingComment = Annotated[str, msgspec.Meta(max_length=500, pattern=NO_NUL)]


class RateCase(CasePayload):
    """好差评 as staff took it from a party: ``channel`` says how (a phone callback, a visit,
    the hotline, a walk-in). Nobody who handled the case may record it (403)."""

    command = cmd.RateCase
    grade: GradeName
    channel: Literal["phone_callback", "visit", "hotline", "walk_in"] = "phone_callback"
    comment: RatingComment = ""


class ReviewRating(CasePayload):
    """差评核实: the owning unit's supervisor finds a bad rating 属实 (``confirm``: the case
    goes back for rework) or 不属实 (``dispute``, with a ``reason``)."""

    command = cmd.ReviewRating
    decision: Literal["confirm", "dispute"]
    reason: FreeText = ""


class PauseCase(CasePayload):
    """中止: the work clocks stop until resumed; ``review_at`` (within the policy's pause
    maximum, 30 days by default) is when the paused case is looked at again."""

    command = cmd.PauseCase
    reason: Text
    review_at: AwareDatetime


class ResumeCase(CasePayload):
    command = cmd.ResumeCase


class ExtendDeadline(CasePayload):
    command = cmd.ExtendDeadline
    until: AwareDatetime
    reason: Text
    kind: Literal["sign", "resolve"] = "resolve"


class EscalateCase(CasePayload):
    command = cmd.EscalateCase
    reason: Text
    other_unit: ShortText | None = None


class ReturnCase(CasePayload):
    """退回: the owning unit's supervisor sends a case handed up by hand back to its sender,
    before signing for it."""

    command = cmd.ReturnCase
    reason: Text


class OrderSupervision(CasePayload):
    """督办: a supervisor of a unit above the owner orders it to act and answer by
    ``due_at``; flagged again each policy interval while unanswered."""

    command = cmd.OrderSupervision
    text: Text
    due_at: AwareDatetime


class AnswerSupervision(CasePayload):
    """The owner's answer to the open 督办."""

    command = cmd.AnswerSupervision
    answer: Text


class TakeOverCase(CasePayload):
    """提级办理: a supervisor of a unit above the owner takes the case for that unit."""

    command = cmd.TakeOverCase
    reason: Text


class LowerLevel(CasePayload):
    command = cmd.LowerLevel
    level: LevelName
    reason: Text


class ReopenCase(CasePayload):
    command = cmd.ReopenCase
    reason: Text


class CloseCase(CasePayload):
    """办结/销号. A body is needed only when the last follow-up visit was troubled: then a
    supervisor closes with a ``reason``."""

    command = cmd.CloseCase
    reason: Annotated[str, msgspec.Meta(max_length=4000, pattern=NO_NUL)] = ""


class RejectCase(CasePayload):
    command = cmd.RejectCase
    reason: Text


class AddNote(CasePayload):
    command = cmd.AddNote
    text: Text


class RecordInspection(CasePayload):
    """督查回访: an inspector of the county or the city above records the callback on a
    sampled case, once. A party not ``reached`` said nothing (leave ``satisfied`` and
    ``agreement_honoured`` out); one reached says whether they are ``satisfied``. ``rework``
    sends a concluded or closed case back to its owner on the rework clock."""

    command = cmd.RecordInspection
    reached: bool
    satisfied: bool | None = None
    agreement_honoured: bool | None = None
    remarks: FreeText = ""
    rework: bool = False


MonthText = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{4}-[0-9]{2}$")]


class DrawInspection(Command):
    """督查抽查 by hand: a township's sample of the cases closed in ``month`` (2026-10), drawn
    now if it was not drawn before (a second draw answers the first)."""

    township: ShortText
    month: MonthText


class SwitchMode(Command):
    mode: Literal["normal", "holiday", "emergency"]
    reason: Text


class ModeOut(msgspec.Struct, kw_only=True):
    mode: str


class SwitchUnitMode(Command):
    """A city's or county's mode; "inherit": a county follows the city again."""

    mode: Literal["normal", "holiday", "emergency", "inherit"]
    reason: Text


class UnitModeOut(msgspec.Struct, kw_only=True):
    """The mode new clocks start under at a unit, and where it comes from."""

    unit: str
    mode: str  # normal, holiday or emergency
    source: str | None  # the unit whose setting applies; null: none set, the default (normal)
    set_here: bool  # the setting that applies is the unit's own


# --- answers ------------------------------------------------------------------------------


class DeadlineOut(msgspec.Struct, kw_only=True):
    kind: str
    due_at: datetime
    overdue: bool


class PartyOut(msgspec.Struct, kw_only=True):
    name: str
    role: str
    id_number: str | None
    phone: str | None
    address: str | None


class CaseOut(msgspec.Struct, kw_only=True):
    id: str
    number: str  # 一案一码, e.g. （2026）犍调字第0012号 ("" only before an old case is numbered)
    kind: str
    category: str
    summary: str
    status: str
    level: str
    unit: str
    owner: str
    tier: str
    assignee: str | None
    awaiting_signature: bool
    deadlines: list[DeadlineOut]
    policy_version: str
    version: int
    registered_at: datetime
    updated_at: datetime
    channel: str
    people_involved: int
    amount_involved: str | None
    parties: list[PartyOut]
    flags: list[str]
    # why it has its level: registered, triggers, assessed, raised, lowered, overdue
    level_cause: str = "registered"
    suggested_level: str | None = None  # what the policy's risk triggers suggest on its facts
    risk_triggers: list[str] = []  # the triggers that fired, as codes (people_involved>=30 …)
    police_callouts: int = 0
    caller: CallerOut | None = None  # who reported it (masked like a party), or anonymous
    referral_in: ReferralInOut | None = None  # the body that referred it here
    supervision: SupervisionOut | None = None  # the open 督办, if any
    inspection: InspectionOut | None = None  # its 督查回访 sample, if a monthly draw took it
    # 重复纠纷: the earlier cases it repeats, as registered, and the later ones repeating it
    repeat_of: list[RepeatLinkOut] = []
    repeated_by: list[RepeatLinkOut] = []
    # 重点人员: the key persons (their entries' ids) among its parties when it was registered
    key_persons: list[str] = []
    clue_id: str | None = None  # the clue (线索) it was promoted from, if it was


class RepeatLinkOut(msgspec.Struct, kw_only=True):
    """A case at the other end of a repeat link: its number and what the two share (party:
    an ID number or phone; place: the unit and the category), its status and outcome now."""

    id: str
    number: str
    registered_at: datetime
    matched_by: list[str]
    status: str | None = None  # None: the views have not read it yet
    outcome: str | None = None  # resolved, terminated, referred; None while at work


class CallerOut(msgspec.Struct, kw_only=True):
    name: str | None
    phone: str | None  # masked unless unmasked
    anonymous: bool


class ReferralInOut(msgspec.Struct, kw_only=True):
    agency: str
    reference: str
    due_at: datetime | None
    reported_back: bool


class SupervisionOut(msgspec.Struct, kw_only=True):
    """The open 督办: its number on the case, the unit that ordered it, what, by when, and how
    many times its answer was flagged late."""

    order: int
    by_unit: str
    instruction: str
    due_at: datetime
    reminders: int


class InspectionOut(msgspec.Struct, kw_only=True):
    """A case's 督查回访 sample: the draw (township, month), when the callback is due, and
    once recorded, when and what it found."""

    draw: str
    township: str
    month: str
    due_at: datetime
    overdue: bool  # not recorded, and due
    recorded_at: datetime | None
    reached: bool | None
    satisfied: bool | None
    agreement_honoured: bool | None
    rework: bool


class QueueItemOut(msgspec.Struct, kw_only=True):
    id: str
    number: str
    kind: str
    level: str
    tier: str
    owner: str
    unit: str
    status: str
    summary: str
    category: str
    assignee: str | None
    due_at: datetime | None
    due_kind: str | None
    overdue: bool
    seconds_to_breach: int | None
    flags: list[str]
    version: int
    # handed to a new owner who has not signed for it yet (after an escalation, say): the
    # card says 待签收 whatever the status, and its clock is the sign-for deadline
    awaiting_signature: bool = False
    # why it has its level: registered, triggers, assessed, raised, lowered, overdue (an
    # overdue climb turns a noise complaint red: the card tells it from a dangerous case)
    level_cause: str = "registered"
    repeat: bool = False  # 重复: registered as a repeat of earlier cases
    key_person: bool = False  # 重点: registered with a key person among its parties


class QueueOut(msgspec.Struct, kw_only=True):
    unit: str
    now: datetime
    items: list[QueueItemOut]


class CaseListOut(msgspec.Struct, kw_only=True):
    items: list[QueueItemOut]
    limit: int
    offset: int


# A timeline field's value, plain JSON: a code, a unit code, a UTC time, a count, yes/no, a
# reason as typed, a list of triggers (``projections.history``).
FieldValue = str | float | bool | list[str] | None  # a count is a number too


class HistoryEntryOut(msgspec.Struct, kw_only=True):
    """One entry of a case's timeline. ``fields`` say what happened in codes a client renders
    in its reader's language; ``text`` says it in Chinese (Shanghai times, 北京时间). Neither
    holds personal data or the case's recorded texts: those are in the case file."""

    version: int
    position: int
    event_type: str
    at: datetime
    actor: str
    role: str
    text: str
    fields: dict[str, FieldValue] = {}


class FileEntryOut(msgspec.Struct, kw_only=True):
    """One event of the case file (一案一档), with everything it recorded.

    Case events record who acted (``actor``) and in what role, not the unit the actor acted
    from: ``owner`` is the unit the case belonged to at the time, derived exactly by replaying
    the case's events. The actor acted for it: its own people do the work, a unit above orders
    督办 or takes the case over, anyone who may read it adds notes and attachments; a signature
    (``Signed``) is the owner's by definition."""

    version: int
    position: int | None  # its place in the log, once the history view has reached it
    type: str  # the event's type, e.g. Registered, MediationSessionRecorded
    at: datetime  # UTC
    at_local: str  # the same moment in Shanghai: ISO 8601 with +08:00
    actor: str
    role: str
    owner: str
    status: str  # the case's status after the event
    # every field the event recorded, as plain JSON (times in UTC, amounts as text, pending
    # clocks as ``deadlines``); parties' ID numbers, phones and addresses masked unless the
    # file was unmasked, in free texts as in the parties themselves
    fields: dict[str, Any]
    timeline: dict[str, FieldValue]  # what the timeline shows of it (``GET …/history``)
    text: str  # the timeline's line, in Chinese


class FileOut(msgspec.Struct, kw_only=True):
    """A case file: every event recorded on the case, oldest first, read from the log."""

    id: str
    number: str
    kind: str
    version: int
    unmasked: bool  # personal data shown plain (an access record says who, when and why)
    units: dict[str, str]  # code → name of each unit the file names
    entries: list[FileEntryOut]


class UnitOut(msgspec.Struct, kw_only=True):
    code: str
    name: str
    tier: str
    parent: str | None
    sample: bool
    children: list[str]


class StreamReadyOut(msgspec.Struct, kw_only=True):
    """The first event of a queue stream: its unit, and the log position it follows from."""

    unit: str
    position: int


class QueueChangeOut(msgspec.Struct, kw_only=True):
    """A queue stream's event: what one batch did to one case (``change``, its last event
    type) and the case's queue item as it now stands, or null when it left the queue."""

    case: str
    change: str
    changes: list[str]
    position: int
    item: QueueItemOut | None


class FiguresOut(msgspec.Struct, kw_only=True):
    """The statistics of a subtree and period (docs/design.md, "Statistics"): counts of
    distinct cases (of events where the design says so), rates null when their denominator
    is 0."""

    registered: int
    registered_by_level: dict[str, int]
    by_kind: dict[str, int]
    by_category: dict[str, int]
    by_channel: dict[str, int]
    resolved: int
    terminated: int
    referred: int
    resolution_rate: float | None
    local_resolution_rate: float | None
    escalation_rate: float | None
    county_share: float | None
    on_time_rate: float | None
    overdue_open: int
    median_hours_to_resolve: float | None
    satisfaction_rate: float | None
    reopen_rate: float | None
    township_or_below_rate: float | None = None
    follow_up_rate: float | None = None
    performance_rate: float | None = None
    referrals_by_agency: dict[str, int] = {}
    # accepted, declined, concluded in the period; unanswered_overdue as of the period's end
    referral_outcomes: dict[str, int] = {}
    inbound_by_agency: dict[str, int] = {}
    reported_back: int = 0
    supervision_orders: int = 0
    supervision_answered_on_time: int = 0
    supervision_overdue: int = 0
    below_suggestion: int = 0
    raised_by_triggers: int = 0
    # 好差评 by how it was taken: citizen_link (the party's own phone), phone_callback…
    ratings_by_channel: dict[str, int] = {}
    satisfaction_by_channel: dict[str, float | None] = {}
    invitations_sent: int = 0
    invitations_answered: int = 0
    bad_ratings_reviewed: int = 0  # 差评核实 opened
    bad_ratings_confirmed: int = 0
    bad_ratings_disputed: int = 0
    # 督查回访, counted at the callbacks' due times: due in the period, called back by then,
    # not called back by then (up to now); callbacks recorded in the period and the parties
    # reached; satisfaction the inspectors found (satisfied / reached) beside the owners'
    # follow-ups' (satisfied / follow-ups in the period); cases sent back for rework
    inspections_due: int = 0
    inspections_on_time: int = 0
    inspections_overdue: int = 0
    inspections_recorded: int = 0
    inspections_reached: int = 0
    inspection_satisfaction_rate: float | None = None
    follow_up_satisfaction_rate: float | None = None
    reopened_by_inspection: int = 0


class ChildFiguresOut(FiguresOut, kw_only=True):
    unit: str


class SeriesPointOut(msgspec.Struct, kw_only=True):
    """One ISO week or calendar month (Shanghai time) of the period."""

    label: str
    start: datetime
    end: datetime
    registered: int
    registered_by_level: dict[str, int]
    resolved: int
    escalated: int


class StatisticsOut(FiguresOut, kw_only=True):
    """A unit's statistics for ``[from, to)``, its direct children's, and a series."""

    unit: str
    start: datetime = msgspec.field(name="from")
    end: datetime = msgspec.field(name="to")
    children: list[ChildFiguresOut]
    series: list[SeriesPointOut]


class HealthOut(msgspec.Struct, kw_only=True):
    status: Literal["alive"]


class ReadyOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    """``/ready``: 200 when ready, else 503 with what is wrong."""

    status: Literal[
        "ready",
        "lagging",
        "sweeps stopped",
        "view failed",
        "views process down",
        "store check failed",
    ]
    lag: dict[str, int]  # log positions each view trails the log head
    failed: dict[str, str] = {}  # with "view failed": each stopped view, where and why
    # with "views process down" (serve --workers): since when, in UTC
    down_since: datetime | None = None
    # with "store check failed": when, and each event row edited, deleted or inserted by hand
    store_check: str | None = None


class ProblemOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An RFC 9457 problem document, as every error is answered."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    field: str | None = None  # the input that was refused
    reason: str | None = None  # why, with the limit where there is one
    current_version: int | None = None  # a stale If-Match: the version to read and retry from
    command: str | None = None  # a command refused in this status: its words
    case_status: str | None = None
    user: str | None = None  # the member of staff not found, or already enrolled


# --- 督查回访 (``api.http.routes.inspections``) ------------------------------------------------


class InspectionItemOut(msgspec.Struct, kw_only=True):
    """A sampled case in the inspectors' list: the case, the draw that took it, when its
    callback is due and its state (pending, overdue, done, done_late), and what was found."""

    case: str
    number: str
    kind: str
    category: str
    summary: str
    level: str
    unit: str
    owner: str
    status: str
    township: str
    month: str
    draw: str
    sampled_at: datetime
    due_at: datetime
    state: Literal["pending", "overdue", "done", "done_late"]
    recorded_at: datetime | None
    inspector: str | None
    reached: bool | None
    satisfied: bool | None
    agreement_honoured: bool | None
    rework: bool | None


class InspectionListOut(msgspec.Struct, kw_only=True):
    unit: str
    now: datetime
    items: list[InspectionItemOut]


class InspectionDrawOut(msgspec.Struct, kw_only=True):
    """A township's draw for a month, as recorded (its seed, the population drawn from, the
    percentage and minimum, the sample) and checked: ``rederived`` is the sample derived again
    from the recorded population and seed (``verified``: the same)."""

    id: str
    township: str
    month: str
    drawn_at: datetime
    drawn_by: str
    role: str
    seed: str
    percentage: int
    minimum: int
    population_size: int
    population: list[str]
    sample: list[str]
    rederived: list[str]
    verified: bool
    rule: str  # how the sample is derived, for anyone checking by hand
    new: bool = False  # this request drew it (false: it was drawn before)


# --- notifications ------------------------------------------------------------------------------

NoticeId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=NO_NUL)]


class NoticeOut(msgspec.Struct, kw_only=True):
    """An in-app notice: its words (Chinese, 北京时间), the case it is about and whether the
    caller has read it. ``template`` names the kind of notice (``assigned``, ``moved``,
    ``supervision_ordered``, ``red_alert``, ``breach_warning``…)."""

    id: str
    template: str
    text: str
    case: str
    number: str
    level: str
    urgent: bool
    created_at: datetime
    read: bool


class NoticesOut(msgspec.Struct, kw_only=True):
    """The caller's in-app notices, newest first, and how many are unread."""

    unread: int
    items: list[NoticeOut]


class MarkRead(Command):
    """Notices the caller has read: these ``ids`` (others' are passed over), or ``all``."""

    ids: Annotated[list[NoticeId], msgspec.Meta(max_length=200)] = []
    all: bool = False


class UnreadOut(msgspec.Struct, kw_only=True):
    unread: int


class NoticeStreamOut(msgspec.Struct, kw_only=True):
    """An event of the notification stream: ``ready`` carries only ``unread``; ``notice`` a
    new notice too."""

    unread: int
    notice: NoticeOut | None = None


class DeadLetterOut(msgspec.Struct, kw_only=True):
    """A notice the dispatcher gave up on (a permanent failure, or still failing after the
    give-up age): where it was to go (a staff user id or ``party:<case>:<index>``, never an
    address), how often it was tried and why it failed."""

    id: str
    channel: str
    template: str
    recipient: str
    case: str
    number: str
    attempts: int
    last_error: str
    created_at: datetime
    given_up_at: datetime | None


# --- the staff directory (``api.http.routes.users``) -------------------------------------------

RoleName = Literal["reporter", "mediator", "supervisor", "auditor", "inspector", "admin"]
NoticeChannel = Literal["in_app", "email", "sms", "webhook"]
UserId = Annotated[
    str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
]
PersonName = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=NO_NUL)]
Roles = Annotated[list[RoleName], msgspec.Meta(min_length=1, max_length=6)]
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=200, pattern=NO_NUL)]


class UpdateUser(Command):
    """A member's name, unit, roles and contact details, all of them (what is left out is
    cleared): the admin's record of where they work and how they are reached."""

    name: PersonName
    unit: ShortText
    roles: Roles
    phone: ShortText | None = None  # a mainland mobile or fixed-line number
    email: Email | None = None


class EnrolUser(UpdateUser, kw_only=True):
    """A new member of staff: the user id their tokens name (fengqiao's own, or the identity
    provider's ``sub``), never reused."""

    user: UserId


class DisableUser(Command):
    """Why a member is disabled (调离、退休…); their cases stay theirs until reassigned."""

    reason: ShortText


class ChooseChannels(Command):
    """How notices reach the member: the channels chosen (in-app always), or null for every
    channel they have an address for."""

    channels: Annotated[list[NoticeChannel], msgspec.Meta(max_length=4)] | None


class UserOut(msgspec.Struct, kw_only=True):
    """A member of staff. The phone is masked like a party's (first 3 and last 4 digits) except
    on ``/users/me``; the email is a work address and shown whole."""

    user: str
    name: str
    unit: str
    roles: list[str]
    phone: str | None
    email: str | None
    active: bool
    channels: list[str] | None  # chosen; null: every channel they can be reached by
    reachable_by: list[str]  # where a notice goes now
    open_cases: int  # open cases assigned to them (a disabled member's are left to reassign)


class MeOut(UserOut, kw_only=True):
    """The caller: their record (phone unmasked), and the role and unit they act in now (a
    token of the identity provider names only the user)."""

    acting_as: str


class UserListOut(msgspec.Struct, kw_only=True):
    items: list[UserOut]
    total: int  # members matching the filters (items is one page of them)
