"""A case's intake and housekeeping: rejection, notes, attachments, signing for it,
assignment, pausing, deadline extensions, and the clocks the scheduler reports on."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import cast

from domain.actors import Actor, Role
from domain.bounds import ahead, extension, future
from domain.case import commands as c
from domain.case._state import CaseState, text
from domain.clocks import DeadlineKind
from domain.directory import Directory
from domain.errors import InvalidInputError
from domain.policy import Clocks
from domain.status import OPEN, RUNNING, Flag, Status

# The clocks a pause leaves running: a 督办's answer is owed whatever the case waits for.
# 督办's answer and 督查回访's callback are owed by others than the owner: a pause keeps them.
_PAUSE_KEEPS = frozenset({DeadlineKind.SUPERVISION.value, DeadlineKind.INSPECTION.value})


class Intake(CaseState):
    """Intake, signing and the clocks that only need recording."""

    class Rejected(CaseState.ClocksChanged):
        reason: str

    def reject(self, actor: Actor, at: datetime, reason: str) -> None:
        """不予受理: ends a case at intake, before anyone signed for it."""
        self._require(c.RejectCase, frozenset({Status.REGISTERED}))
        self._emit(self.Rejected, actor, at, reason=text("reason", reason), deadlines={})

    class NoteAdded(CaseState.Event):
        text: str

        def apply(self, aggregate: CaseState) -> None:
            pass

    def add_note(self, actor: Actor, at: datetime, note: str) -> None:
        """Notes can be added in any status, closed cases included."""
        self._emit(self.NoteAdded, actor, at, text=text("text", note))

    class AttachmentAdded(CaseState.Event):
        """An attachment's identity: its bytes live in the attachment store under ``sha256``
        (of the plain bytes). ``kind`` and the GPS position came later: events recorded
        before them read as "other", with no position."""

        name: str
        media_type: str
        size: int
        sha256: str
        kind: str = "other"
        latitude: float | None = None
        longitude: float | None = None

        def apply(self, aggregate: CaseState) -> None:
            case = cast("Intake", aggregate)
            case.attachments = (*case.attachments, self)

    # The case file's attachments, oldest first. A class default that each AttachmentAdded
    # replaces on the case, not an annotated attribute: the library would make an annotated
    # aggregate part a dataclass (with an ``__init__`` of its own).
    attachments = cast("tuple[Intake.AttachmentAdded, ...]", ())

    def attachment(self, sha256: str) -> Intake.AttachmentAdded | None:
        """The attachment of this content, if the case has it."""
        return next((a for a in self.attachments if a.sha256 == sha256), None)

    def add_attachment(
        self,
        actor: Actor,
        at: datetime,
        name: str,
        media_type: str,
        size: int,
        sha256: str,
        kind: str = "other",
        latitude: float | None = None,
        longitude: float | None = None,
    ) -> bool:
        """Records an attachment's identity, once per content: the same bytes attached again
        (a phone resending a photo) record nothing and answer False. Any status, closed
        included: the case file (一案一档) stays complete."""
        if len(sha256) != 64 or any(ch not in "0123456789abcdef" for ch in sha256):
            raise InvalidInputError("sha256", "must be 64 lower-case hex digits")
        if size < 0:
            raise InvalidInputError("size", "must not be negative")
        if kind not in c.ATTACHMENT_KINDS:
            raise InvalidInputError("kind", f"must be one of {', '.join(c.ATTACHMENT_KINDS)}")
        fields = {
            "name": text("name", name, 255),
            "media_type": text("media_type", media_type, 255),
            "latitude": _degrees("latitude", latitude, 90),
            "longitude": _degrees("longitude", longitude, 180),
        }
        if (latitude is None) != (longitude is None):
            missing = "longitude" if longitude is None else "latitude"
            raise InvalidInputError(missing, "a position needs both latitude and longitude")
        if self.attachment(sha256) is not None:
            return False
        self._emit(self.AttachmentAdded, actor, at, size=size, sha256=sha256, kind=kind, **fields)
        return True

    # --- signing and assignment ---------------------------------------------------------

    class Signed(CaseState.ClocksChanged):
        handles_case = True
        owner: str

        def apply(self, aggregate: CaseState) -> None:
            super().apply(aggregate)
            aggregate.awaiting_signature = False
            aggregate.flags.discard(Flag.SIGN_OVERDUE)

    def sign(self, actor: Actor, at: datetime) -> None:
        """签收: the owning unit takes the case; only the sign-for clock stops."""
        self._require(c.SignCase, RUNNING)
        if not self.awaiting_signature:
            self._refuse(c.SignCase, "already signed for")
        remaining = self._without(DeadlineKind.SIGN)
        self._emit(self.Signed, actor, at, owner=self.owner, deadlines=remaining)

    class Assigned(CaseState.Event):
        assignee: str

        def apply(self, aggregate: CaseState) -> None:
            aggregate.assignee = self.assignee
            aggregate.handlers.add(self.assignee)

    def assign(self, actor: Actor, at: datetime, assignee: str, staff: Directory) -> None:
        """Assigns the case to an active mediator of its owning unit (名单内在岗调解员)."""
        self._require(c.AssignCase, OPEN)
        member = staff.get(assignee)
        if member is None or not member.acts_as(Role.MEDIATOR) or member.unit != self.owner:
            raise InvalidInputError(
                "assignee",
                f"must be an active mediator of the owning unit {self.owner}",
                "assignee",
                {"unit": self.owner},
            )
        self._emit(self.Assigned, actor, at, assignee=assignee)

    # --- pausing and deadlines ----------------------------------------------------------

    class Paused(CaseState.ClocksChanged):
        reason: str
        review_at: datetime | None = None  # pauses recorded before review dates had none

        def apply(self, aggregate: CaseState) -> None:
            aggregate.paused_deadlines = {
                k: d for k, d in aggregate.deadlines.items() if k not in _PAUSE_KEEPS
            }
            super().apply(aggregate)
            aggregate.paused_from = aggregate.status
            aggregate.paused_at = self.timestamp

    def pause(
        self, actor: Actor, at: datetime, clocks: Clocks, reason: str, review_at: datetime
    ) -> None:
        """中止 (appraisal, hearing, waiting for a party): the work clocks stop, and a review
        clock starts at ``review_at``, at most the policy's ``pause_max`` ahead, so a paused
        case is looked at again. A 督办's answer clock keeps running."""
        future("review_at", review_at, at)  # out of bounds whatever the status
        self._require(c.PauseCase, RUNNING)
        longest = at + clocks.policy.pause_max.as_timedelta()
        if review_at > longest:
            raise InvalidInputError(
                "review_at",
                f"must be within {clocks.policy.pause_max} of now, by {longest.isoformat()}",
                "pause_max",
                {"latest": longest},
            )
        kept = {k: d for k, d in self.deadlines.items() if k in _PAUSE_KEEPS}
        review = clocks.given(DeadlineKind.PAUSE_REVIEW, at, review_at)
        self._emit(
            self.Paused,
            actor,
            at,
            reason=text("reason", reason),
            review_at=review.due_at,
            deadlines={**kept, DeadlineKind.PAUSE_REVIEW.value: review},
        )

    class Resumed(CaseState.ClocksChanged):
        def apply(self, aggregate: CaseState) -> None:
            super().apply(aggregate)
            aggregate.paused_from = None
            aggregate.paused_at = None
            aggregate.paused_deadlines = {}
            aggregate.flags.discard(Flag.PAUSE_REVIEW_DUE)

    def resume(self, actor: Actor, at: datetime) -> None:
        """Restarts the clocks, each moved later by the time the case was paused; the
        review clock stops."""
        self._require(c.ResumeCase, frozenset({Status.PAUSED}))
        paused_for = max(at - (self.paused_at or at), timedelta(0))
        shifted = {k: d.shifted(paused_for) for k, d in self.paused_deadlines.items()}
        kept = {k: d for k, d in self.deadlines.items() if k in _PAUSE_KEEPS}
        self._emit(self.Resumed, actor, at, deadlines={**shifted, **kept})

    class DeadlineExtended(CaseState.ClocksChanged):
        kind: str
        until: datetime
        reason: str

        def apply(self, aggregate: CaseState) -> None:
            super().apply(aggregate)
            # A new deadline: missing it is a new breach, flagged (or acted on) once again.
            flag = Flag.overdue(self.kind)
            if flag is not None:
                aggregate.flags.discard(flag)

    def extend_deadline(
        self,
        actor: Actor,
        at: datetime,
        clocks: Clocks,
        until: datetime,
        reason: str,
        kind: str = "resolve",
    ) -> None:
        """A supervisor gives more time on one pending clock (resolve by default): a time the
        views can hold, later than the current due time, and, counting every extension of
        this clock, at most the policy's ``extension_total`` past the due time it was first
        given. A longer wait is a pause, with its review date."""
        ahead("until", until, at)  # out of bounds whatever the status
        self._require_approval(c.ExtendDeadline, actor)
        self._require(c.ExtendDeadline, RUNNING)
        current = self.deadlines.get(kind)
        if current is None:
            self._refuse(c.ExtendDeadline, f"no pending {kind} clock")
        extension("until", until, current.due_at)
        total = clocks.policy.extension_total
        longest = current.first_due_at + total.as_timedelta()
        if until > longest:
            raise InvalidInputError(
                "until",
                f"all extensions of this clock together may add at most {total}, "
                f"to {longest.isoformat()}; pause the case for a longer wait",
                "extension_total",
                {"latest": longest},
            )
        self._emit(
            self.DeadlineExtended,
            actor,
            at,
            kind=kind,
            until=until,
            reason=text("reason", reason),
            deadlines={**self.deadlines, kind: current.extended(until)},
        )

    # --- missed deadlines (sent by the scheduler) -----------------------------------------

    class SignOverdueFlagged(CaseState.Event):
        due_at: datetime

        def apply(self, aggregate: CaseState) -> None:
            aggregate.flags.add(Flag.SIGN_OVERDUE)

    def flag_sign_overdue(self, actor: Actor, at: datetime, due_at: datetime) -> bool:
        """Flags a missed sign-for deadline for the owner's supervisors, once per deadline.

        Returns False (and records nothing) when the deadline is no longer the case's own."""
        sign = self.pending(DeadlineKind.SIGN)
        if sign is None or sign.due_at != due_at or at < due_at:
            return False
        if Flag.SIGN_OVERDUE in self.flags:
            return False
        self._emit(self.SignOverdueFlagged, actor, at, due_at=due_at)
        return True

    class ClockFired(CaseState.ClocksChanged):
        """A clock other than sign-for or resolve came due: recorded for supervisors, and the
        clock is done (a red case's daily status report starts its next day)."""

        kind: str
        due_at: datetime

        def apply(self, aggregate: CaseState) -> None:
            super().apply(aggregate)
            flag = Flag.when_due(self.kind)
            if flag is not None:
                aggregate.flags.add(flag)

    def act_on_clock(
        self, actor: Actor, at: datetime, clocks: Clocks, kind: DeadlineKind, due_at: datetime
    ) -> bool:
        """Records that a follow-up, mediation, judicial-confirmation or status-report clock
        came due. Acts only on the case's current clock of that kind, once."""
        pending = self.pending(kind)
        if kind in (DeadlineKind.SIGN, DeadlineKind.RESOLVE):
            raise InvalidInputError("kind", "sign-for and resolve clocks have their own rules")
        if pending is None or pending.due_at != due_at or at < due_at:
            return False
        remaining = self._without(kind)
        if kind is DeadlineKind.STATUS_REPORT and self.status in RUNNING:
            remaining[kind.value] = clocks.start(kind, self.level, self.tier, due_at)
        self._emit(self.ClockFired, actor, at, kind=kind.value, due_at=due_at, deadlines=remaining)
        return True


def _degrees(field: str, value: float | None, limit: int) -> float | None:
    """A GPS coordinate in degrees (WGS 84, as phones report it), or None."""
    if value is None:
        return None
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not number or not math.isfinite(value) or not -limit <= value <= limit:
        raise InvalidInputError(field, f"must be a number of degrees from -{limit} to {limit}")
    return float(value)
