"""Case statuses and the groups the lifecycle rules speak of."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    REGISTERED = "registered"  # 登记, waiting to be signed for
    SIGNED = "signed"  # 签收 by the owning unit
    IN_MEDIATION = "in_mediation"  # first session recorded
    PAUSED = "paused"  # 中止: the clocks stop
    REOPENED = "reopened"  # back to work after a closure, resolution or bad rating
    RESOLVED = "resolved"  # agreement reached (or hazard made safe)
    TERMINATED = "terminated"  # 调解终止, parties told their routes
    REFERRED = "referred"  # 转办 to court, police, procuratorate or petition office
    FOLLOWED_UP = "followed_up"  # 回访 recorded
    CLOSED = "closed"  # 办结/销号
    REJECTED = "rejected"  # 不予受理


# Still being worked: levels can change, clocks run (unless paused), ownership can move.
OPEN = frozenset(
    {Status.REGISTERED, Status.SIGNED, Status.IN_MEDIATION, Status.PAUSED, Status.REOPENED}
)
# Open and not paused: its clocks run, its level and owner can change.
RUNNING = OPEN - {Status.PAUSED}
# Work that can be done once the owner has signed.
WORKING = frozenset({Status.SIGNED, Status.IN_MEDIATION, Status.REOPENED})
# An outcome is recorded; follow-up and rating come next.
CONCLUDED = frozenset({Status.RESOLVED, Status.TERMINATED, Status.REFERRED, Status.FOLLOWED_UP})


class Outcome(StrEnum):
    RESOLVED = "resolved"
    TERMINATED = "terminated"
    REFERRED = "referred"


class Channel(StrEnum):
    """How a case reached us."""

    GRID_PATROL = "grid_patrol"  # 网格员巡查
    HOTLINE = "hotline"  # 心连心服务热线
    WALK_IN = "walk_in"  # 来访
    POLICE_110 = "police_110"  # 110 联动
    COURT = "court"  # 诉前委派
    PETITION_OFFICE = "petition_office"  # 信访
    ONLINE = "online"  # 网上


class PartyRole(StrEnum):
    APPLICANT = "applicant"
    RESPONDENT = "respondent"
    THIRD_PARTY = "third_party"


class Agency(StrEnum):
    """Where a case can be referred (诉调、公调、检调、访调对接)."""

    COURT = "court"
    POLICE = "police"
    PROCURATORATE = "procuratorate"
    PETITION_OFFICE = "petition_office"


class AgreementForm(StrEnum):
    WRITTEN = "written"
    ORAL = "oral"


class Grade(StrEnum):
    """好差评: the five grades of the public's rating."""

    VERY_SATISFIED = "very_satisfied"  # 非常满意
    SATISFIED = "satisfied"  # 满意
    BASICALLY_SATISFIED = "basically_satisfied"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意
    VERY_DISSATISFIED = "very_dissatisfied"  # 非常不满意

    @property
    def is_bad(self) -> bool:
        return self in (Grade.DISSATISFIED, Grade.VERY_DISSATISFIED)


class EscalationCause(StrEnum):
    OVERDUE = "overdue"
    LEVEL_RAISED = "level_raised"
    MANUAL = "manual"
    CROSS_AREA = "cross_area"
    TAKE_OVER = "take_over"  # 提级办理: a unit above takes the case for itself


class Flag(StrEnum):
    """What a case is flagged with for its supervisors until the breach is answered."""

    SIGN_OVERDUE = "sign_overdue"  # the sign-for deadline passed unsigned
    RESOLVE_OVERDUE = "resolve_overdue"  # the resolve deadline passed at the top tier
    SUPERVISED = "supervised"  # 督办: a unit above ordered the owner to act and answer
    SUPERVISION_OVERDUE = "supervision_overdue"  # the 督办's answer is late (re-flagged)
    PAUSE_REVIEW_DUE = "pause_review_due"  # a paused case's review date passed
    REFERRAL_PENDING = "referral_pending"  # 转办待复: referred, the agency has not answered
    REFERRAL_OVERDUE = "referral_overdue"  # the agency's answer is late
    REPORT_BACK_OVERDUE = "report_back_overdue"  # an inbound referral's result is late
    PERFORMANCE_DUE = "performance_due"  # 履行期限已到: a visit checks the agreement was honoured
    RATING_REVIEW = "rating_review"  # 差评核实: a bad rating awaits the supervisor's finding
    RATING_REVIEW_OVERDUE = "rating_review_overdue"  # the finding is late
    INSPECTION_OVERDUE = "inspection_overdue"  # 督查回访: the sampled case's callback is late

    @classmethod
    def overdue(cls, clock: str) -> Flag | None:
        """The flag a missed clock of this kind raises, if any."""
        return {"sign": cls.SIGN_OVERDUE, "resolve": cls.RESOLVE_OVERDUE}.get(clock)

    @classmethod
    def when_due(cls, clock: str) -> Flag | None:
        """The flag a clock of this kind raises when it comes due (``ClockFired``), until it
        is dealt with: read by the aggregate and the cases view alike."""
        return {
            "pause_review": cls.PAUSE_REVIEW_DUE,
            "referral_answer": cls.REFERRAL_OVERDUE,
            "report_back": cls.REPORT_BACK_OVERDUE,
            "performance": cls.PERFORMANCE_DUE,
            "rating_review": cls.RATING_REVIEW_OVERDUE,
            "inspection": cls.INSPECTION_OVERDUE,
        }.get(clock)


# A referral awaiting the agency's answer, and late with it: cleared by any answer.
REFERRAL_FLAGS = frozenset({Flag.REFERRAL_PENDING, Flag.REFERRAL_OVERDUE})


class LevelCause(StrEnum):
    """Why a case has its warning level: what a card and the case file say beside it."""

    REGISTERED = "registered"  # as the registration gave it
    TRIGGERS = "triggers"  # the policy's risk triggers raised it at registration
    ASSESSED = "assessed"  # 研判
    RAISED = "raised"  # raised by hand
    LOWERED = "lowered"  # lowered with a supervisor's approval
    OVERDUE = "overdue"  # a missed resolve deadline climbed it with the case


class ReferralOutcome(StrEnum):
    """How the agency a case was referred to answered."""

    ACCEPTED = "accepted"  # 受理, under its own case number
    DECLINED = "declined"  # 不予受理: the case goes back to work
    CONCLUDED = "concluded"  # it dealt with it and reported the result at once


class ReopenCause(StrEnum):
    MANUAL = "manual"  # a supervisor sent it back to work
    RATING = "rating"  # a bad rating in the window, confirmed by 差评核实: 退回再办
    INSPECTION = "inspection"  # 督查回访 found the work wanting: sent back for rework


class RatingChannel(StrEnum):
    """How a rating reached the record."""

    CITIZEN_LINK = "citizen_link"  # the party, through their invitation, on their own phone
    PHONE_CALLBACK = "phone_callback"  # 电话回访: staff called the party
    VISIT = "visit"  # 上门回访
    HOTLINE = "hotline"  # the party called the hotline (12345, 心连心)
    WALK_IN = "walk_in"  # 来访
    STAFF = "staff"  # recorded by staff before channels were recorded


# What staff may say they took a rating through (a link is the party's own).
STAFF_CHANNELS = frozenset(RatingChannel) - {RatingChannel.CITIZEN_LINK, RatingChannel.STAFF}


class ReviewDecision(StrEnum):
    """差评核实: what the owning unit's supervisor found."""

    CONFIRM = "confirm"  # 属实: the case goes back for rework
    DISPUTE = "dispute"  # 不属实: recorded with the reason, no rework
