"""The case lifecycle shared by disputes and incidents, complete: mediation, outcomes
(resolved, terminated, referred), follow-up, rating, reopening and closure, on top of
intake (case_intake.py) and ownership (case_ownership.py)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from domain.actors import Actor
from domain.case_base import (
    CaseFoundation,
    Registration,
    _stored,
    arrival_clocks,
)
from domain.case_ownership import CaseOwnership
from domain.clocks import Deadline, DeadlineKind
from domain.errors import CommandNotAllowedError, InvalidInputError
from domain.policy import Clocks
from domain.status import (
    CONCLUDED,
    Agency,
    AgreementForm,
    Grade,
    Outcome,
    Status,
)

__all__ = ["Case", "Registration", "arrival_clocks"]


class Case(CaseOwnership):
    """A dispute or incident, from registration to closure."""

    # --- working the case ---------------------------------------------------------------

    class MediationSessionRecorded(CaseFoundation.ClocksChanged):
        held_at: datetime
        notes: str
        attendees: list[str]

        def apply(self, aggregate: CaseFoundation) -> None:
            super().apply(aggregate)
            aggregate.sessions += 1
            aggregate.status = Status.IN_MEDIATION

    def record_mediation(
        self,
        actor: Actor,
        at: datetime,
        clocks: Clocks,
        held_at: datetime,
        notes: str,
        attendees: list[str],
    ) -> None:
        self._require_signed("record a mediation session for")
        if held_at > at:
            raise InvalidInputError("held_at", "a session cannot be recorded before it is held")
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
            notes=self._text("notes", notes),
            attendees=[self._text("attendees", a, 128) for a in attendees],
            deadlines=_stored(deadlines),
        )

    def _concluded_clocks(self, clocks: Clocks, at: datetime) -> dict[str, Deadline]:
        """An outcome stops the work clocks and starts the follow-up clock."""
        kept = self._without(
            DeadlineKind.SIGN,
            DeadlineKind.RESOLVE,
            DeadlineKind.MEDIATION,
            DeadlineKind.STATUS_REPORT,
        )
        follow_up = clocks.start(DeadlineKind.FOLLOW_UP, self.level, self.tier, at)
        return {**kept, DeadlineKind.FOLLOW_UP.value: follow_up}

    class Resolved(CaseFoundation.ClocksChanged):
        agreement: str
        form: str
        amount: Decimal | None
        performance_due: str | None

        def apply(self, aggregate: CaseFoundation) -> None:
            super().apply(aggregate)
            aggregate._conclude(Outcome.RESOLVED, self.timestamp)
            aggregate.status = Status.RESOLVED

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
            "resolve",
            frozenset({Status.IN_MEDIATION, Status.REOPENED}),
            "record a mediation session first" if self.status is Status.SIGNED else "",
        )
        self._require_signed("resolve")
        if amount is not None and (not amount.is_finite() or amount < 0):
            raise InvalidInputError("amount", "must be a non-negative amount")
        deadlines = self._concluded_clocks(clocks, at) | self._agreement_clocks(clocks, form, at)
        self._emit(
            self.Resolved,
            actor,
            at,
            agreement=self._text("agreement", agreement, 20000),
            form=form.value,
            amount=amount,
            performance_due=performance_due,
            deadlines=_stored(deadlines),
        )

    def _agreement_clocks(
        self, clocks: Clocks, form: AgreementForm, at: datetime
    ) -> dict[str, Deadline]:
        """Clocks an agreement starts besides the follow-up; disputes add 司法确认."""
        return {}

    class Terminated(CaseFoundation.ClocksChanged):
        reason: str

        def apply(self, aggregate: CaseFoundation) -> None:
            super().apply(aggregate)
            aggregate._conclude(Outcome.TERMINATED, self.timestamp)
            aggregate.status = Status.TERMINATED

    def terminate(self, actor: Actor, at: datetime, clocks: Clocks, reason: str) -> None:
        """调解终止: mediation failed; the parties are told their routes."""
        self._require_signed("terminate")
        self._emit(
            self.Terminated,
            actor,
            at,
            reason=self._text("reason", reason),
            deadlines=_stored(self._concluded_clocks(clocks, at)),
        )

    class Referred(CaseFoundation.ClocksChanged):
        agency: str
        reason: str

        def apply(self, aggregate: CaseFoundation) -> None:
            super().apply(aggregate)
            aggregate._conclude(Outcome.REFERRED, self.timestamp)
            aggregate.referral_answered = False
            aggregate.status = Status.REFERRED

    def refer(self, actor: Actor, at: datetime, agency: Agency, reason: str) -> None:
        """转办 to the court, police, procuratorate or petition office (诉调/公调/检调/访调对接)."""
        self._require_signed("refer")
        kept = self._without(
            DeadlineKind.SIGN,
            DeadlineKind.RESOLVE,
            DeadlineKind.MEDIATION,
            DeadlineKind.STATUS_REPORT,
        )
        self._emit(
            self.Referred,
            actor,
            at,
            agency=agency.value,
            reason=self._text("reason", reason),
            deadlines=_stored(kept),
        )

    class ReferralAnswered(CaseFoundation.ClocksChanged):
        answer: str

        def apply(self, aggregate: CaseFoundation) -> None:
            super().apply(aggregate)
            aggregate.referral_answered = True

    def answer_referral(self, actor: Actor, at: datetime, clocks: Clocks, answer: str) -> None:
        """The agency's answer; the follow-up clock starts."""
        self._require("record a referral answer for", frozenset({Status.REFERRED}))
        if self.referral_answered:
            raise CommandNotAllowedError(
                "answer the referral of", self.status.value, "already answered"
            )
        follow_up = clocks.start(DeadlineKind.FOLLOW_UP, self.level, self.tier, at)
        deadlines = {**self.deadlines, DeadlineKind.FOLLOW_UP.value: follow_up}
        self._emit(
            self.ReferralAnswered,
            actor,
            at,
            answer=self._text("answer", answer),
            deadlines=_stored(deadlines),
        )

    # --- after the outcome --------------------------------------------------------------

    class FollowUpRecorded(CaseFoundation.ClocksChanged):
        satisfied: bool
        agreement_honoured: bool | None
        note: str

        def apply(self, aggregate: CaseFoundation) -> None:
            super().apply(aggregate)
            aggregate.follow_ups += 1
            aggregate.status = Status.FOLLOWED_UP

    def record_follow_up(
        self,
        actor: Actor,
        at: datetime,
        satisfied: bool,
        agreement_honoured: bool | None,
        note: str,
    ) -> None:
        """回访: asks the parties whether they are satisfied and the agreement is honoured."""
        self._require("record a follow-up for", CONCLUDED)
        if self.status is Status.REFERRED and not self.referral_answered:
            raise CommandNotAllowedError(
                "record a follow-up for",
                self.status.value,
                "the referral has not been answered yet",
            )
        remaining = self._without(DeadlineKind.FOLLOW_UP)
        self._emit(
            self.FollowUpRecorded,
            actor,
            at,
            satisfied=satisfied,
            agreement_honoured=agreement_honoured,
            note=note.strip(),
            deadlines=_stored(remaining),
        )

    class Rated(CaseFoundation.Event):
        grade: str

        def apply(self, aggregate: CaseFoundation) -> None:
            pass

    class Reopened(CaseFoundation.ClocksChanged):
        cause: str  # "manual" or "rating"
        reason: str

        def apply(self, aggregate: CaseFoundation) -> None:
            super().apply(aggregate)
            aggregate.status = Status.REOPENED
            aggregate.outcome = None
            aggregate.outcome_at = None
            aggregate.follow_ups = 0
            if self.cause == "rating":
                aggregate.reworked_for_rating = True

    def rate(self, actor: Actor, at: datetime, clocks: Clocks, grade: Grade) -> None:
        """好差评. A 不满意/非常不满意 rating within the rating window sends the case back for
        rework (退回再办) once; later bad ratings are recorded for the statistics only."""
        self._require("rate", CONCLUDED | {Status.CLOSED})
        self._emit(self.Rated, actor, at, grade=grade.value)
        window_open = self.outcome_at is not None and clocks.rating_window_open(self.outcome_at, at)
        if grade.is_bad and window_open and not self.reworked_for_rating:
            self._reopen(actor, at, clocks, "rating", f"差评 退回再办: {grade.value}")

    def reopen(self, actor: Actor, at: datetime, clocks: Clocks, reason: str) -> None:
        """A supervisor returns a concluded or closed case to work, on the rework clock."""
        self._require_approval("reopening", actor)
        self._require("reopen", CONCLUDED | {Status.CLOSED})
        self._reopen(actor, at, clocks, "manual", self._text("reason", reason))

    def _reopen(self, actor: Actor, at: datetime, clocks: Clocks, cause: str, reason: str) -> None:
        rework = clocks.rework(self.level, self.tier, at)
        # The agreement is no longer the outcome: its 司法确认 clocks go with it (a new written
        # agreement after the rework starts them again).
        kept = self._without(
            DeadlineKind.FOLLOW_UP,
            DeadlineKind.JUDICIAL_REMINDER,
            DeadlineKind.JUDICIAL_CONFIRMATION,
        )
        self._emit(
            self.Reopened,
            actor,
            at,
            cause=cause,
            reason=reason,
            deadlines=_stored({**kept, DeadlineKind.RESOLVE.value: rework}),
        )

    class Closed(CaseFoundation.ClocksChanged):
        def apply(self, aggregate: CaseFoundation) -> None:
            super().apply(aggregate)
            aggregate.status = Status.CLOSED

    def close_case(self, actor: Actor, at: datetime) -> None:
        """办结/销号: needs an outcome and at least one follow-up visit since it."""
        if self.status is not Status.FOLLOWED_UP or self.outcome is None or self.follow_ups == 0:
            raise CommandNotAllowedError(
                "close", self.status.value, "销号 needs an outcome and at least one follow-up visit"
            )
        kept = {k: d for k, d in self.deadlines.items() if k.startswith("judicial")}
        self._emit(self.Closed, actor, at, deadlines=_stored(kept))
