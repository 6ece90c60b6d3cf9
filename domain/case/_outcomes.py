"""Working a case to its end: mediation, outcomes (resolved, terminated, referred),
follow-up, rating, reopening and closure."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from domain.actors import Actor
from domain.bounds import MAX_ATTENDEES, at_most, in_the_past, non_negative_amount
from domain.calendar import SHANGHAI, start_of_day
from domain.case import commands as c
from domain.case._state import WORK_CLOCKS, CaseState, Deadlines, text
from domain.clocks import DeadlineKind
from domain.errors import CommandNotAllowedError, InvalidInputError
from domain.policy import Clocks
from domain.status import (
    CONCLUDED,
    REFERRAL_FLAGS,
    Agency,
    AgreementForm,
    Flag,
    Outcome,
    ReferralOutcome,
    ReopenCause,
    Status,
)

_AGREEMENT_CLOCKS = (
    DeadlineKind.PERFORMANCE,
    DeadlineKind.FOLLOW_UP,
    DeadlineKind.JUDICIAL_REMINDER,
    DeadlineKind.JUDICIAL_CONFIRMATION,
)


class Outcomes(CaseState):
    """Mediation, the three outcomes and what follows them."""

    class MediationSessionRecorded(CaseState.ClocksChanged):
        handles_case = True
        held_at: datetime
        notes: str
        attendees: list[str]

        def apply(self, aggregate: CaseState) -> None:
            super().apply(aggregate)
            aggregate.sessions += 1

    def record_mediation(
        self,
        actor: Actor,
        at: datetime,
        clocks: Clocks,
        held_at: datetime,
        notes: str,
        attendees: list[str],
    ) -> None:
        # Out of bounds whatever the status; a session is recorded after it is held (no skew).
        in_the_past("held_at", held_at, at, skew=timedelta(0))
        at_most("attendees", attendees, MAX_ATTENDEES)
        self._require_signed(c.RecordMediationSession)
        deadlines = dict(self.deadlines)
        if DeadlineKind.MEDIATION.value not in deadlines and self.sessions == 0:
            deadlines[DeadlineKind.MEDIATION.value] = clocks.start(
                DeadlineKind.MEDIATION, self.level, self.tier, held_at
            )
        self._emit(
            self.MediationSessionRecorded,
            actor,
            at,
            held_at=held_at,
            notes=text("notes", notes),
            attendees=[text("attendees", a, 128) for a in attendees],
            deadlines=deadlines,
        )

    def _concluded_clocks(self, clocks: Clocks, at: datetime) -> Deadlines:
        """An outcome stops the work clocks and starts the follow-up clock."""
        kept = self._without(*WORK_CLOCKS)
        follow_up = clocks.start(DeadlineKind.FOLLOW_UP, self.level, self.tier, at)
        return {**kept, DeadlineKind.FOLLOW_UP.value: follow_up}

    class Resolved(CaseState.ClocksChanged):
        handles_case = True
        agreement: str
        form: str
        amount: Decimal | None
        performance_due: str | None

        def apply(self, aggregate: CaseState) -> None:
            super().apply(aggregate)
            aggregate._conclude(Outcome.RESOLVED, self.timestamp)

    def resolve(
        self,
        actor: Actor,
        at: datetime,
        clocks: Clocks,
        agreement: str,
        form: AgreementForm,
        amount: Decimal | None = None,
        performance_due: str | None = None,
    ) -> None:
        """化解: an agreement (for an incident: the hazard made safe and verified)."""
        self._require(
            c.ResolveCase,
            frozenset({Status.IN_MEDIATION, Status.REOPENED}),
            "record a mediation session first" if self.status is Status.SIGNED else "",
        )
        self._require_signed(c.ResolveCase)
        non_negative_amount("amount", amount)
        due = performance_date(performance_due, at)
        deadlines = self._concluded_clocks(clocks, at) | self._agreement_clocks(clocks, form, at)
        if due is not None:  # 履行: a reminder at the end of the day the agreement falls due
            end = start_of_day(due + timedelta(days=1))
            deadlines[DeadlineKind.PERFORMANCE.value] = clocks.given(
                DeadlineKind.PERFORMANCE, at, end
            )
        self._emit(
            self.Resolved,
            actor,
            at,
            agreement=text("agreement", agreement, 20000),
            form=form.value,
            amount=amount,
            performance_due=due.isoformat() if due is not None else None,
            deadlines=deadlines,
        )

    def _agreement_clocks(self, clocks: Clocks, form: AgreementForm, at: datetime) -> Deadlines:
        """Clocks an agreement starts besides the follow-up; disputes add 司法确认."""
        return {}

    class Terminated(CaseState.ClocksChanged):
        handles_case = True
        reason: str

        def apply(self, aggregate: CaseState) -> None:
            super().apply(aggregate)
            aggregate._conclude(Outcome.TERMINATED, self.timestamp)

    def terminate(self, actor: Actor, at: datetime, clocks: Clocks, reason: str) -> None:
        """调解终止: mediation failed; the parties are told their routes."""
        self._require_signed(c.TerminateCase)
        self._emit(
            self.Terminated,
            actor,
            at,
            reason=text("reason", reason),
            deadlines=self._concluded_clocks(clocks, at),
        )

    class Referred(CaseState.ClocksChanged):
        handles_case = True
        agency: str
        reason: str

        def apply(self, aggregate: CaseState) -> None:
            super().apply(aggregate)
            aggregate._conclude(Outcome.REFERRED, self.timestamp)
            aggregate.referral_answered = False
            aggregate.flags.add(Flag.REFERRAL_PENDING)

    def refer(
        self, actor: Actor, at: datetime, clocks: Clocks, agency: Agency, reason: str
    ) -> None:
        """转办 to the court, police, procuratorate or petition office (诉调/公调/检调/访调对接).
        The agency's answer is due within the policy's ``referral_answer`` (15 working days by
        default); until it comes the case stays in its unit's queue as 转办待复."""
        self._require_signed(c.ReferCase)
        answer = clocks.start(DeadlineKind.REFERRAL_ANSWER, self.level, self.tier, at)
        self._emit(
            self.Referred,
            actor,
            at,
            agency=agency.value,
            reason=text("reason", reason),
            deadlines={**self._without(*WORK_CLOCKS), DeadlineKind.REFERRAL_ANSWER.value: answer},
        )

    class ReferralAnswered(CaseState.ClocksChanged):
        """The agency accepted the case (under its own ``reference``) or dealt with it at once
        (``concluded``); answers recorded before outcomes existed have none."""

        answer: str
        outcome: str = ""  # a ReferralOutcome: accepted or concluded
        reference: str = ""  # the agency's case number

        def apply(self, aggregate: CaseState) -> None:
            super().apply(aggregate)
            aggregate.referral_answered = True
            aggregate.flags.difference_update(REFERRAL_FLAGS)

    class ReferralDeclined(CaseState.ClocksChanged):
        """The agency would not take the case: it goes back to work (重新办理), on a new
        resolve clock."""

        reason: str

        def apply(self, aggregate: CaseState) -> None:
            super().apply(aggregate)
            aggregate.outcome = None
            aggregate.outcome_at = None
            aggregate.referral_answered = False
            aggregate.flags.difference_update(REFERRAL_FLAGS)

    def answer_referral(
        self,
        actor: Actor,
        at: datetime,
        clocks: Clocks,
        answer: str,
        outcome: ReferralOutcome = ReferralOutcome.ACCEPTED,
        reference: str = "",
    ) -> None:
        """The agency's answer. Accepted (with its case number) or concluded: the follow-up
        clock starts. Declined: back to work on a new resolve clock."""
        self._require(c.AnswerReferral, frozenset({Status.REFERRED}))
        if self.referral_answered:
            raise CommandNotAllowedError(
                c.AnswerReferral.again, self.status.value, "already answered"
            )
        answer = text("answer", answer)
        remaining = self._without(DeadlineKind.REFERRAL_ANSWER)
        if outcome is ReferralOutcome.DECLINED:
            resolve = clocks.start(DeadlineKind.RESOLVE, self.level, self.tier, at)
            deadlines = {**remaining, DeadlineKind.RESOLVE.value: resolve}
            self._emit(self.ReferralDeclined, actor, at, reason=answer, deadlines=deadlines)
            return
        number = reference.strip() if isinstance(reference, str) else ""
        if outcome is ReferralOutcome.ACCEPTED and not number:
            raise InvalidInputError(
                "reference", "an accepted referral needs the agency's case number", "required"
            )
        follow_up = clocks.start(DeadlineKind.FOLLOW_UP, self.level, self.tier, at)
        self._emit(
            self.ReferralAnswered,
            actor,
            at,
            answer=answer,
            outcome=outcome.value,
            reference=text("reference", number, 100) if number else "",
            deadlines={**remaining, DeadlineKind.FOLLOW_UP.value: follow_up},
        )

    class ReferralResultReported(CaseState.Event):
        """What the agency finally did with a case it accepted (判决、调解、处罚、息访…)."""

        result: str

        def apply(self, aggregate: CaseState) -> None:
            aggregate.referral_result = self.result

    def report_referral_result(self, actor: Actor, at: datetime, result: str) -> None:
        """Records the result an agency reports on a case it accepted, once."""
        if self.outcome is not Outcome.REFERRED or not self.referral_answered:
            self._refuse(c.ReportReferralResult, "the referral has not been accepted")
        if self.referral_result:
            self._refuse(c.ReportReferralResult, "the result is recorded already")
        self._emit(self.ReferralResultReported, actor, at, result=text("result", result))

    # --- an inbound referral: the result goes back to whoever sent the case -------------

    class ReportedBack(CaseState.ClocksChanged):
        """The result sent back to the body that referred the case here (法院、公安、信访…)."""

        result: str

        def apply(self, aggregate: CaseState) -> None:
            super().apply(aggregate)
            aggregate.reported_back = True
            aggregate.flags.discard(Flag.REPORT_BACK_OVERDUE)

    def report_back(self, actor: Actor, at: datetime, result: str) -> None:
        """反馈: tells the referring body what came of the case it sent, once there is an
        outcome (or the case was not accepted); the report-back clock stops."""
        if self.referral_in is None:
            self._refuse(c.ReportBack, "the case was not referred here by another body")
        if self.reported_back:
            self._refuse(c.ReportBack, "the result was reported back already")
        self._require(c.ReportBack, CONCLUDED | {Status.CLOSED, Status.REJECTED})
        self._emit(
            self.ReportedBack,
            actor,
            at,
            result=text("result", result),
            deadlines=self._without(DeadlineKind.REPORT_BACK),
        )

    # --- after the outcome --------------------------------------------------------------

    class FollowUpRecorded(CaseState.ClocksChanged):
        handles_case = True
        satisfied: bool
        agreement_honoured: bool | None
        note: str

        def apply(self, aggregate: CaseState) -> None:
            super().apply(aggregate)
            aggregate.follow_ups += 1
            if self.agreement_honoured is not None:  # the visit checked the performance
                aggregate.flags.discard(Flag.PERFORMANCE_DUE)
            aggregate.follow_up_troubled = not self.satisfied or self.agreement_honoured is False

    def record_follow_up(
        self,
        actor: Actor,
        at: datetime,
        satisfied: bool,
        agreement_honoured: bool | None,
        note: str,
    ) -> None:
        """回访: asks the parties whether they are satisfied and the agreement is honoured."""
        self._require(c.RecordFollowUp, CONCLUDED)
        if self.status is Status.REFERRED and not self.referral_answered:
            self._refuse(c.RecordFollowUp, "the referral has not been answered yet")
        remaining = self._without(DeadlineKind.FOLLOW_UP)
        self._emit(
            self.FollowUpRecorded,
            actor,
            at,
            satisfied=satisfied,
            agreement_honoured=agreement_honoured,
            note=note.strip(),
            deadlines=remaining,
        )

    class Rated(CaseState.Event):
        """好差评 (``domain.case._ratings``): by a party through their invitation, or taken by
        staff through ``channel`` (ratings recorded before channels say ``staff``)."""

        grade: str
        channel: str = "staff"
        comment: str = ""
        invitation: str | None = None  # the party's invitation, when rated through it
        party: int | None = None  # the party's index, when rated through an invitation

        def apply(self, aggregate: CaseState) -> None:
            aggregate.rated_since_outcome = True
            if self.invitation is not None:
                aggregate.used_invitations.add(self.invitation)

    class Reopened(CaseState.ClocksChanged):
        cause: str  # a ReopenCause
        reason: str

        def apply(self, aggregate: CaseState) -> None:
            super().apply(aggregate)
            aggregate.outcome = None
            aggregate.outcome_at = None
            aggregate.follow_ups = 0
            if self.cause == ReopenCause.RATING:
                aggregate.reworked_for_rating = True

    def reopen(self, actor: Actor, at: datetime, clocks: Clocks, reason: str) -> None:
        """A supervisor returns a concluded or closed case to work, on the rework clock."""
        self._require_approval(c.ReopenCase, actor)
        self._require(c.ReopenCase, CONCLUDED | {Status.CLOSED})
        self._reopen(actor, at, clocks, ReopenCause.MANUAL, text("reason", reason))

    def _reopen(
        self, actor: Actor, at: datetime, clocks: Clocks, cause: ReopenCause, reason: str
    ) -> None:
        rework = clocks.rework(self.level, self.tier, at)
        # The agreement is no longer the outcome: its 司法确认 clocks go with it (a new written
        # agreement after the rework starts them again).
        kept = self._without(*_AGREEMENT_CLOCKS)
        self._emit(
            self.Reopened,
            actor,
            at,
            cause=cause.value,
            reason=reason,
            deadlines={**kept, DeadlineKind.RESOLVE.value: rework},
        )

    class Closed(CaseState.ClocksChanged):
        reason: str = ""  # why a supervisor closed it after a troubled follow-up visit

    def close_case(self, actor: Actor, at: datetime, reason: str = "") -> None:
        """办结/销号: needs an outcome and at least one follow-up visit since it. When the last
        visit found the parties dissatisfied or the agreement not honoured, the case is not
        closed as if all were well: a supervisor reopens it for rework, or closes it with a
        reason (the parties will not be satisfied whatever is done)."""
        if self.status is not Status.FOLLOWED_UP or self.outcome is None or self.follow_ups == 0:
            self._refuse(c.CloseCase, "销号 needs an outcome and at least one follow-up visit")
        if self.referral_in is not None and not self.reported_back:
            self._refuse(c.CloseCase, "report the result back to the body that referred it first")
        why = reason.strip() if isinstance(reason, str) else ""
        if self.follow_up_troubled:
            if not actor.approves:
                self._refuse(c.CloseCase, _TROUBLED)
            if not why:
                raise InvalidInputError(
                    "reason", "closing after a troubled follow-up visit needs a reason"
                )
        # 司法确认 runs on after closing, and so do an unanswered 督办 and a 督查回访 callback
        kept = {
            k: d
            for k, d in self.deadlines.items()
            if k.startswith("judicial") or k in (DeadlineKind.SUPERVISION, DeadlineKind.INSPECTION)
        }
        reason = text("reason", why) if why else ""
        self._emit(self.Closed, actor, at, deadlines=kept, reason=reason)

    # --- 司法确认: only disputes have agreements a court can confirm (``Dispute``) -----------

    def request_judicial_confirmation(self, actor: Actor, at: datetime, court: str) -> None:
        self._refuse(c.RequestJudicialConfirmation, _NO_AGREEMENT)

    def record_judicial_confirmation(
        self, actor: Actor, at: datetime, confirmed: bool, note: str
    ) -> None:
        self._refuse(c.RecordJudicialConfirmation, _NO_AGREEMENT)


_NO_AGREEMENT = "only disputes have agreements a court can confirm"
_LONGEST_PERFORMANCE = timedelta(days=366 * 5)


def performance_date(value: str | None, at: datetime) -> date | None:
    """履行期限: the date (Shanghai) by which the agreement is to be performed: from the day of
    the resolution to five years on."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        due = date.fromisoformat(value.strip()) if isinstance(value, str) else None
    except ValueError:
        due = None
    if due is None:
        raise InvalidInputError(
            "performance_due", "must be a date like 2026-12-11", "date", {"example": "2026-12-11"}
        )
    today = at.astimezone(SHANGHAI).date()
    if not today <= due <= today + _LONGEST_PERFORMANCE:
        latest = today + _LONGEST_PERFORMANCE
        raise InvalidInputError(
            "performance_due",
            f"must be from {today.isoformat()} to {latest.isoformat()}",
            "date_range",
            {"earliest": today.isoformat(), "latest": latest.isoformat()},
        )
    return due


_TROUBLED = (
    "the last follow-up found the parties dissatisfied or the agreement not honoured: "
    "a supervisor reopens it for rework or closes it with a reason"
)
