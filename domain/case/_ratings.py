"""好差评: citizens rate their case on their own phones, and a bad rating is checked.

When a case is resolved (and again when it is closed, if nobody has rated it since) each party
with a phone is invited: one invitation each, usable once, until the policy's rating window
has passed (``RatingInvited``). A party rates through their invitation (channel
``citizen_link``); staff record a rating taken by phone or on a visit, and the event keeps who
took it and how. Nobody who handled the case (signed, was assigned, held a session, recorded
its outcome or a follow-up) may record a rating of it: the seed asks that the public judge the
work (由企业和群众来评判), not those who did it.

A 不满意/非常不满意 rating within the rating window opens **差评核实**: a supervisor of the
owning unit confirms it (the case goes back for rework on the policy's rework clock) or
disputes it with a reason, within the policy's review clock (5 working days by default;
late, the case is flagged). One review is open at a time; a bad rating while one is open is
recorded for the statistics only.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID, uuid5

from domain.actors import Actor, Role
from domain.case import commands as c
from domain.case._outcomes import Outcomes
from domain.case._state import CaseState, optional_text, text
from domain.clocks import DeadlineKind
from domain.errors import (
    InvalidInputError,
    InvitationExpiredError,
    InvitationUsedError,
    NotPermittedError,
    UnknownInvitationError,
)
from domain.policy import Clocks
from domain.status import (
    CONCLUDED,
    STAFF_CHANNELS,
    AgreementForm,
    Flag,
    Grade,
    RatingChannel,
    ReopenCause,
    ReviewDecision,
    Status,
)

COMMENT_LIMIT = 500
REASON_LIMIT = 2000


class Occasion(StrEnum):
    RESOLVED = "resolved"
    CLOSED = "closed"


class Ratings(Outcomes):
    """Invitations, ratings and the review of a bad one."""

    class RatingInvited(CaseState.Event):
        """Each party with a phone may rate the case once through their invitation."""

        invitations: list[dict[str, object]]  # {"id": str, "party": index in parties}
        expires_at: datetime
        occasion: str  # an Occasion

        def apply(self, aggregate: CaseState) -> None:
            for invitation in self.invitations:
                aggregate.invitations[str(invitation["id"])] = (
                    int(str(invitation["party"])),
                    self.expires_at,
                )

    class RatingReviewOpened(CaseState.ClocksChanged):
        """差评核实 opened by a bad rating: the owner's supervisor confirms or disputes it."""

        grade: str

        def apply(self, aggregate: CaseState) -> None:
            super().apply(aggregate)
            aggregate.flags.add(Flag.RATING_REVIEW)

    class RatingReviewed(CaseState.ClocksChanged):
        decision: str  # a ReviewDecision
        reason: str

        def apply(self, aggregate: CaseState) -> None:
            super().apply(aggregate)
            aggregate.flags.difference_update({Flag.RATING_REVIEW, Flag.RATING_REVIEW_OVERDUE})

    # --- invitations ----------------------------------------------------------------------

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
        super().resolve(actor, at, clocks, agreement, form, amount, performance_due)
        self._invite(actor, at, clocks, Occasion.RESOLVED)

    def close_case(
        self, actor: Actor, at: datetime, reason: str = "", clocks: Clocks | None = None
    ) -> None:
        """Closes the case; nobody rated it since its outcome, so the parties are invited
        again (``clocks``: the case's, for the rating window)."""
        super().close_case(actor, at, reason)
        if not self.rated_since_outcome and clocks is not None:
            self._invite(actor, at, clocks, Occasion.CLOSED)

    def _invite(self, actor: Actor, at: datetime, clocks: Clocks, occasion: Occasion) -> None:
        """One invitation for each party with a phone, ids derived from the case and the
        event's version (so the same decision always makes the same ids)."""
        version = self.version + 1
        invitations: list[dict[str, object]] = [
            {"id": str(uuid5(self.id, f"rating-invitation:{version}:{index}")), "party": index}
            for index, party in enumerate(self.parties)
            if party.phone
        ]
        if invitations:
            expires_at = at + clocks.policy.rating_window.as_timedelta()
            self._emit(
                self.RatingInvited,
                actor,
                at,
                invitations=invitations,
                expires_at=expires_at,
                occasion=occasion.value,
            )

    # --- rating ---------------------------------------------------------------------------

    def rate(
        self,
        actor: Actor,
        at: datetime,
        clocks: Clocks,
        grade: Grade,
        channel: RatingChannel = RatingChannel.PHONE_CALLBACK,
        comment: str = "",
    ) -> None:
        """好差评 taken by staff (``channel``: how); never by someone who handled the case."""
        if channel not in STAFF_CHANNELS:
            raise InvalidInputError(
                "channel",
                f"must be one of {', '.join(sorted(STAFF_CHANNELS))}",
                "choice",
                {"choices": sorted(STAFF_CHANNELS)},
            )
        if actor.user in self.handlers:
            raise NotPermittedError(c.RateCase.words, "someone who did not handle the case")
        self._require(c.RateCase, CONCLUDED | {Status.CLOSED})
        self._record_rating(actor, at, clocks, grade, channel, comment, None, None)

    def rate_by_invitation(
        self, at: datetime, clocks: Clocks, invitation: UUID, grade: Grade, comment: str = ""
    ) -> None:
        """A party's own rating, through the invitation sent to their phone: once."""
        key = str(invitation)
        if key not in self.invitations:
            raise UnknownInvitationError(key)
        if key in self.used_invitations:
            raise InvitationUsedError(key)
        party, expires_at = self.invitations[key]
        if at > expires_at:
            raise InvitationExpiredError(key, expires_at)
        self._require(c.RateByInvitation, CONCLUDED | {Status.CLOSED}, "the case is being reworked")
        citizen = Actor(f"citizen:{key}", Role.CITIZEN, self.unit)
        channel = RatingChannel.CITIZEN_LINK
        self._record_rating(citizen, at, clocks, grade, channel, comment, key, party)

    def _record_rating(
        self,
        actor: Actor,
        at: datetime,
        clocks: Clocks,
        grade: Grade,
        channel: RatingChannel,
        comment: str,
        invitation: str | None,
        party: int | None,
    ) -> None:
        cleaned = optional_text("comment", comment, COMMENT_LIMIT)
        self._emit(
            self.Rated,
            actor,
            at,
            grade=grade.value,
            channel=channel.value,
            comment=cleaned,
            invitation=invitation,
            party=party,
        )
        window_open = self.outcome_at is not None and clocks.rating_window_open(self.outcome_at, at)
        if grade.is_bad and window_open and Flag.RATING_REVIEW not in self.flags:
            review = clocks.start(DeadlineKind.RATING_REVIEW, self.level, self.tier, at)
            deadlines = {**self.deadlines, DeadlineKind.RATING_REVIEW.value: review}
            self._emit(self.RatingReviewOpened, actor, at, grade=grade.value, deadlines=deadlines)

    # --- 差评核实 --------------------------------------------------------------------------

    def review_rating(
        self, actor: Actor, at: datetime, clocks: Clocks, decision: ReviewDecision, reason: str
    ) -> None:
        """The owner's supervisor confirms a bad rating (rework) or disputes it (a reason)."""
        self._require_approval(c.ReviewRating, actor)
        if Flag.RATING_REVIEW not in self.flags:
            self._refuse(c.ReviewRating, "no bad rating is awaiting review")
        # a dispute says why; a confirmation may
        read = text if decision is ReviewDecision.DISPUTE else optional_text
        why = read("reason", reason, REASON_LIMIT)
        self._emit(
            self.RatingReviewed,
            actor,
            at,
            decision=decision.value,
            reason=why,
            deadlines=self._without(DeadlineKind.RATING_REVIEW),
        )
        if decision is ReviewDecision.CONFIRM and self.status in CONCLUDED | {Status.CLOSED}:
            self._reopen(actor, at, clocks, ReopenCause.RATING, why or "差评核实属实，退回再办")
