"""The case lifecycle shared by disputes and incidents.

``Case`` holds what both kinds have in common: registration, warning level and ownership,
signing, mediation, outcomes, follow-up, rating, pausing, deadlines, escalation and closure.
``domain.dispute.Dispute`` and ``domain.incident.Incident`` subclass it; the library gives
each subclass its own copy of every event class, so stored topics name the kind
(``domain.dispute:Dispute.Signed``).

Command methods decide: they check the status, compute deadlines from the injected ``at`` and
the case's policy, and trigger events. Event ``apply`` methods only assign fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Self
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.actors import Actor
from domain.clocks import Deadline, DeadlineKind
from domain.errors import CommandNotAllowedError, InvalidInputError, NotPermittedError
from domain.jurisdiction import Jurisdiction, Unit
from domain.levels import Level, Tier
from domain.parties import Party, validated
from domain.policy import Breach, Clocks
from domain.status import (
    CONCLUDED,
    OPEN,
    WORKING,
    Agency,
    AgreementForm,
    Channel,
    EscalationCause,
    Grade,
    Outcome,
    Status,
)

DeadlineMap = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Registration:
    """What a reporter tells us when registering a case."""

    category: str
    summary: str
    unit: str
    channel: Channel
    level: Level = Level.YELLOW
    parties: tuple[Party, ...] = ()
    people_involved: int = 1
    amount_involved: Decimal | None = None
    occurred_at: datetime | None = None
    reporter: str | None = None


def _non_negative(field: str, value: int) -> int:
    if value < 0:
        raise InvalidInputError(field, "must not be negative")
    return value


def _non_negative_amount(value: Decimal | None) -> Decimal | None:
    if value is not None and (not value.is_finite() or value < 0):
        raise InvalidInputError("amount_involved", "must be a non-negative amount")
    return value


def _stored(deadlines: Mapping[str, Deadline]) -> DeadlineMap:
    return {kind: deadline.to_dict() for kind, deadline in deadlines.items()}


class Case(Aggregate):
    """A dispute or incident, from registration to closure."""

    KIND = "case"

    class Event(Aggregate.Event):
        actor: str
        role: str

    class ClocksChanged(Event):
        """Base of events that replace the set of pending clocks."""

        deadlines: DeadlineMap

        def apply(self, aggregate: Case) -> None:
            aggregate.deadlines = {
                kind: Deadline.from_dict(data) for kind, data in self.deadlines.items()
            }

    class Registered(Event, Aggregate.Created):
        category: str
        summary: str
        unit: str
        channel: str
        reporter: str
        recorded_by: str
        parties: list[dict[str, Any]]
        people_involved: int
        amount_involved: Decimal | None
        occurred_at: datetime | None
        level: str
        owner: str
        tier: str
        policy_version: str
        deadlines: DeadlineMap

    def __init__(
        self,
        category: str,
        summary: str,
        unit: str,
        channel: str,
        reporter: str,
        recorded_by: str,
        parties: list[dict[str, Any]],
        people_involved: int,
        amount_involved: Decimal | None,
        occurred_at: datetime | None,
        level: str,
        owner: str,
        tier: str,
        policy_version: str,
        deadlines: DeadlineMap,
    ) -> None:
        self.category = category
        self.summary = summary
        self.unit = unit
        self.channel = channel
        self.reporter = reporter
        self.recorded_by = recorded_by
        self.parties = parties
        self.people_involved = people_involved
        self.amount_involved = amount_involved
        self.occurred_at = occurred_at
        self.level = Level(level)
        self.triggers: list[str] = []
        self.owner = owner
        self.tier = Tier(tier)
        self.policy_version = policy_version
        self.deadlines = {k: Deadline.from_dict(v) for k, v in deadlines.items()}
        self.status = Status.REGISTERED
        self.awaiting_signature = True
        self.assignee: str | None = None
        self.overdue_floor: Tier | None = None
        self.previous_owner: str | None = None
        self.last_move: str | None = None
        self.outcome: Outcome | None = None
        self.outcome_at: datetime | None = None
        self.referral_answered = False
        self.follow_ups = 0
        self.sessions = 0
        self.reworked_for_rating = False
        self.paused_from: Status | None = None
        self.paused_at: datetime | None = None
        self.paused_deadlines: dict[str, Deadline] = {}
        self.flags: set[str] = set()
        # Only disputes' agreements go to court (司法确认); incidents keep these unset.
        self.judicial_requested = False
        self.judicial_confirmed: bool | None = None

    @classmethod
    def register(
        cls,
        case_id: UUID,
        actor: Actor,
        at: datetime,
        units: Jurisdiction,
        clocks: Clocks,
        details: Registration,
    ) -> Self:
        """登记: the case starts owned by its level's tier above its location."""
        location = units.get(details.unit)
        if location.tier is Tier.CITY:
            raise InvalidInputError("unit", "a case is located in a county or below (矛盾不上交)")
        level = details.level
        owner = units.at_tier(location.code, level.owner_tier)
        return cls._create(
            cls.Registered,
            id=case_id,
            timestamp=at,
            actor=actor.user,
            role=actor.role.value,
            category=Case._text("category", details.category, 50),
            summary=Case._text("summary", details.summary, 2000),
            unit=location.code,
            channel=details.channel.value,
            reporter=details.reporter or actor.user,
            recorded_by=actor.user,
            parties=validated(list(details.parties)),
            people_involved=_non_negative("people_involved", details.people_involved),
            amount_involved=_non_negative_amount(details.amount_involved),
            occurred_at=details.occurred_at,
            level=level.value,
            owner=owner.code,
            tier=owner.tier.value,
            policy_version=clocks.policy.version,
            deadlines=_stored(arrival_clocks(clocks, level, owner.tier, at)),
        )

    # --- reading ------------------------------------------------------------------------

    @property
    def kind(self) -> str:
        return self.KIND

    @property
    def registered_at(self) -> datetime:
        return self.created_on

    @property
    def updated_at(self) -> datetime:
        return self.modified_on

    def pending(self, kind: DeadlineKind) -> Deadline | None:
        return self.deadlines.get(kind.value)

    # --- guards -------------------------------------------------------------------------

    def _require(self, command: str, allowed: frozenset[Status], detail: str = "") -> None:
        if self.status not in allowed:
            raise CommandNotAllowedError(command, self.status.value, detail)

    def _require_signed(self, command: str) -> None:
        self._require(command, WORKING)
        if self.awaiting_signature:
            raise CommandNotAllowedError(
                command, self.status.value, f"{self.owner} must sign for it first"
            )

    @staticmethod
    def _require_approval(command: str, actor: Actor) -> None:
        if not actor.approves:
            raise NotPermittedError(command, "a supervisor")

    @staticmethod
    def _text(field: str, value: str, limit: int = 4000) -> str:
        text = value.strip() if isinstance(value, str) else ""
        if not text:
            raise InvalidInputError(field, "must not be empty")
        if "\x00" in text:
            raise InvalidInputError(field, "must not contain NUL characters")
        if len(text) > limit:
            raise InvalidInputError(field, f"must be at most {limit} characters")
        return text

    def _emit(self, event_class: type[Any], actor: Actor, at: datetime, **fields: Any) -> None:
        """Records an event at ``at``, which may not be earlier than the case's last change:
        a case's history only moves forward, and deadlines computed from a time in its past
        would be wrong."""
        if at < self.modified_on:
            raise InvalidInputError("at", f"earlier than the case's last change {self.modified_on}")
        self.trigger_event(
            event_class, actor=actor.user, role=actor.role.value, timestamp=at, **fields
        )

    # --- clocks -------------------------------------------------------------------------

    def _arrival_clocks(
        self, clocks: Clocks, level: Level, tier: Tier, at: datetime
    ) -> dict[str, Deadline]:
        """A case arriving at a tier starts its sign-for and resolve clocks there anew."""
        kept = {
            k: d
            for k, d in self.deadlines.items()
            if k not in (DeadlineKind.SIGN, DeadlineKind.RESOLVE, DeadlineKind.STATUS_REPORT)
        }
        return {**kept, **arrival_clocks(clocks, level, tier, at)}

    def _without(self, *kinds: DeadlineKind) -> dict[str, Deadline]:
        return {k: d for k, d in self.deadlines.items() if k not in kinds}

    # --- registration, intake, notes ----------------------------------------------------

    class Rejected(ClocksChanged):
        reason: str

        def apply(self, aggregate: Case) -> None:
            super().apply(aggregate)
            aggregate.status = Status.REJECTED

    def reject(self, actor: Actor, at: datetime, reason: str) -> None:
        """不予受理: ends a case at intake, before anyone signed for it."""
        self._require("reject", frozenset({Status.REGISTERED}))
        self._emit(self.Rejected, actor, at, reason=self._text("reason", reason), deadlines={})

    class NoteAdded(Event):
        text: str

        def apply(self, aggregate: Case) -> None:
            pass

    def add_note(self, actor: Actor, at: datetime, text: str) -> None:
        """Notes can be added in any status, closed cases included."""
        self._emit(self.NoteAdded, actor, at, text=self._text("text", text))

    class AttachmentAdded(Event):
        name: str
        media_type: str
        size: int
        sha256: str

        def apply(self, aggregate: Case) -> None:
            pass

    def add_attachment(
        self, actor: Actor, at: datetime, name: str, media_type: str, size: int, sha256: str
    ) -> None:
        """Records an attachment's identity; the bytes live in a document store."""
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise InvalidInputError("sha256", "must be 64 lower-case hex digits")
        if size < 0:
            raise InvalidInputError("size", "must not be negative")
        self._emit(
            self.AttachmentAdded,
            actor,
            at,
            name=self._text("name", name, 255),
            media_type=self._text("media_type", media_type, 255),
            size=size,
            sha256=sha256,
        )

    # --- signing and assignment ---------------------------------------------------------

    class Signed(ClocksChanged):
        owner: str

        def apply(self, aggregate: Case) -> None:
            super().apply(aggregate)
            aggregate.awaiting_signature = False
            aggregate.flags.discard("sign_overdue")
            if aggregate.status is Status.REGISTERED:
                aggregate.status = Status.SIGNED

    def sign(self, actor: Actor, at: datetime) -> None:
        """签收: the owning unit takes the case; only the sign-for clock stops."""
        self._require("sign", OPEN - {Status.PAUSED})
        if not self.awaiting_signature:
            raise CommandNotAllowedError("sign", self.status.value, "already signed for")
        remaining = self._without(DeadlineKind.SIGN)
        self._emit(self.Signed, actor, at, owner=self.owner, deadlines=_stored(remaining))

    class Assigned(Event):
        assignee: str

        def apply(self, aggregate: Case) -> None:
            aggregate.assignee = self.assignee

    def assign(self, actor: Actor, at: datetime, assignee: str) -> None:
        self._require("assign", OPEN)
        self._emit(self.Assigned, actor, at, assignee=self._text("assignee", assignee, 128))

    # --- pausing and deadlines ----------------------------------------------------------

    class Paused(ClocksChanged):
        reason: str

        def apply(self, aggregate: Case) -> None:
            aggregate.paused_deadlines = dict(aggregate.deadlines)
            super().apply(aggregate)
            aggregate.paused_from = aggregate.status
            aggregate.paused_at = self.timestamp
            aggregate.status = Status.PAUSED

    def pause(self, actor: Actor, at: datetime, reason: str) -> None:
        """中止 (appraisal, hearing, waiting for a party): every clock stops."""
        self._require("pause", OPEN - {Status.PAUSED})
        self._emit(self.Paused, actor, at, reason=self._text("reason", reason), deadlines={})

    class Resumed(ClocksChanged):
        def apply(self, aggregate: Case) -> None:
            super().apply(aggregate)
            aggregate.status = aggregate.paused_from or Status.SIGNED
            aggregate.paused_from = None
            aggregate.paused_at = None
            aggregate.paused_deadlines = {}

    def resume(self, actor: Actor, at: datetime) -> None:
        """Restarts the clocks, each moved later by the time the case was paused."""
        self._require("resume", frozenset({Status.PAUSED}))
        paused_for = max(at - (self.paused_at or at), timedelta(0))
        shifted = {k: d.shifted(paused_for) for k, d in self.paused_deadlines.items()}
        self._emit(self.Resumed, actor, at, deadlines=_stored(shifted))

    class DeadlineExtended(ClocksChanged):
        kind: str
        until: datetime
        reason: str

        def apply(self, aggregate: Case) -> None:
            super().apply(aggregate)
            # A new deadline: missing it is a new breach, flagged (or acted on) once again.
            aggregate.flags.discard(f"{self.kind}_overdue")

    def extend_deadline(
        self, actor: Actor, at: datetime, until: datetime, reason: str, kind: str = "resolve"
    ) -> None:
        """A supervisor gives more time on one pending clock (resolve by default)."""
        self._require_approval("extend a deadline", actor)
        self._require("extend", OPEN - {Status.PAUSED})
        current = self.deadlines.get(kind)
        if current is None:
            raise CommandNotAllowedError("extend", self.status.value, f"no pending {kind} clock")
        if until <= current.due_at:
            raise InvalidInputError("until", f"must be later than the current {current.due_at}")
        extended = {**self.deadlines, kind: current.extended(until)}
        self._emit(
            self.DeadlineExtended,
            actor,
            at,
            kind=kind,
            until=until,
            reason=self._text("reason", reason),
            deadlines=_stored(extended),
        )

    # --- level and ownership ------------------------------------------------------------

    def _owning_unit(self, units: Jurisdiction, level: Level, floor: Tier | None) -> Unit:
        """Where a case of ``level`` belongs: its level's tier above its location, or higher."""
        tier = level.owner_tier
        if floor is not None and floor.height > tier.height:
            tier = floor
        return units.at_tier(self.unit, tier)

    def _level_change_allowed(self, command: str) -> None:
        self._require(
            command,
            OPEN - {Status.PAUSED},
            "resume it first" if self.status is Status.PAUSED else "",
        )

    class Assessed(Event):
        level: str
        triggers: list[str]
        reason: str

        def apply(self, aggregate: Case) -> None:
            aggregate.level = Level(self.level)
            aggregate.triggers = list(self.triggers)

    def assess(
        self,
        actor: Actor,
        at: datetime,
        units: Jurisdiction,
        clocks: Clocks,
        level: Level,
        triggers: list[str],
        reason: str,
    ) -> None:
        """研判: records the level and its triggers; a higher level moves the case up at once."""
        self._level_change_allowed("assess")
        if level < self.level:
            raise CommandNotAllowedError(
                "assess", self.status.value, "lowering a level needs a supervisor: use lower"
            )
        cleaned = [self._text("triggers", t, 200) for t in triggers]
        self._emit(
            self.Assessed,
            actor,
            at,
            level=level.value,
            triggers=cleaned,
            reason=self._text("reason", reason),
        )
        self._move_up_for_level(actor, at, units, clocks, reason)

    class LevelRaised(Event):
        level: str
        reason: str

        def apply(self, aggregate: Case) -> None:
            aggregate.level = Level(self.level)

    def raise_level(
        self,
        actor: Actor,
        at: datetime,
        units: Jurisdiction,
        clocks: Clocks,
        level: Level,
        reason: str,
    ) -> None:
        """Raises the warning level; the case moves up to the new level's tier at once."""
        self._level_change_allowed("raise the level of")
        if level <= self.level:
            raise InvalidInputError("level", f"must be above the current level {self.level}")
        self._emit(
            self.LevelRaised, actor, at, level=level.value, reason=self._text("reason", reason)
        )
        self._move_up_for_level(actor, at, units, clocks, reason)

    def _move_up_for_level(
        self, actor: Actor, at: datetime, units: Jurisdiction, clocks: Clocks, reason: str
    ) -> None:
        target = self._owning_unit(units, self.level, self.tier)
        if target.code != self.owner:
            self._move(actor, at, clocks, target, EscalationCause.LEVEL_RAISED, reason, self.level)

    class LevelLowered(ClocksChanged):
        level: str
        reason: str
        owner: str
        tier: str

        def apply(self, aggregate: Case) -> None:
            super().apply(aggregate)
            aggregate.level = Level(self.level)
            if self.owner != aggregate.owner:
                aggregate.previous_owner = aggregate.owner
                aggregate.owner = self.owner
                aggregate.tier = Tier(self.tier)
                aggregate.last_move = None  # a move by the rules: 退回 does not undo it
                aggregate.awaiting_signature = True
                # New owner, new clocks: the old owner's breaches are not the new one's.
                aggregate.flags.difference_update({"sign_overdue", "resolve_overdue"})

    def lower_level(
        self,
        actor: Actor,
        at: datetime,
        units: Jurisdiction,
        clocks: Clocks,
        level: Level,
        reason: str,
    ) -> None:
        """降级 with a supervisor's approval; the case may move down, never below where an
        overdue escalation put it."""
        self._require_approval("lowering a level", actor)
        self._level_change_allowed("lower")
        if level >= self.level:
            raise InvalidInputError("level", f"must be below the current level {self.level}")
        target = self._owning_unit(units, level, self.overdue_floor)
        deadlines = self.deadlines
        if target.code != self.owner:
            deadlines = self._arrival_clocks(clocks, level, target.tier, at)
        self._emit(
            self.LevelLowered,
            actor,
            at,
            level=level.value,
            reason=self._text("reason", reason),
            owner=target.code,
            tier=target.tier.value,
            deadlines=_stored(deadlines),
        )

    class Escalated(ClocksChanged):
        cause: str
        reason: str
        from_unit: str
        from_tier: str
        to_unit: str
        to_tier: str
        from_level: str
        to_level: str

        def apply(self, aggregate: Case) -> None:
            super().apply(aggregate)
            aggregate.previous_owner = self.from_unit
            aggregate.owner = self.to_unit
            aggregate.tier = Tier(self.to_tier)
            aggregate.level = Level(self.to_level)
            aggregate.last_move = self.cause
            aggregate.awaiting_signature = True
            aggregate.flags.difference_update({"sign_overdue", "resolve_overdue"})
            if self.cause == EscalationCause.OVERDUE:
                aggregate.overdue_floor = Tier(self.to_tier)

    def _move(
        self,
        actor: Actor,
        at: datetime,
        clocks: Clocks,
        target: Unit,
        cause: EscalationCause,
        reason: str,
        level: Level,
    ) -> None:
        self._emit(
            self.Escalated,
            actor,
            at,
            cause=cause.value,
            reason=reason,
            from_unit=self.owner,
            from_tier=self.tier.value,
            to_unit=target.code,
            to_tier=target.tier.value,
            from_level=self.level.value,
            to_level=level.value,
            deadlines=_stored(self._arrival_clocks(clocks, level, target.tier, at)),
        )

    def escalate(
        self,
        actor: Actor,
        at: datetime,
        units: Jurisdiction,
        clocks: Clocks,
        reason: str,
        other_unit: str | None = None,
    ) -> None:
        """A supervisor hands the case up one tier; with ``other_unit`` (a dispute that spans
        two areas) it goes to the lowest unit over both."""
        self._require_approval("escalating by hand", actor)
        self._require("escalate", OPEN - {Status.PAUSED})
        reason = self._text("reason", reason)
        cause = EscalationCause.MANUAL if other_unit is None else EscalationCause.CROSS_AREA
        if other_unit is None:
            target = units.tier_above(self.owner)
        else:
            common = units.common_ancestor(self.owner, other_unit)
            target = None if common.tier is Tier.CITY else common
        if target is None or target.code == self.owner:
            raise CommandNotAllowedError(
                "escalate",
                self.status.value,
                f"{self.owner} is the top tier for cases (矛盾不上交)",
            )
        self._move(actor, at, clocks, target, cause, reason, self.level)

    class Returned(ClocksChanged):
        from_unit: str
        to_unit: str
        to_tier: str
        reason: str

        def apply(self, aggregate: Case) -> None:
            super().apply(aggregate)
            aggregate.owner = self.to_unit
            aggregate.tier = Tier(self.to_tier)
            aggregate.previous_owner = None
            aggregate.last_move = None
            aggregate.awaiting_signature = True

    def return_case(
        self, actor: Actor, at: datetime, clocks: Clocks, units: Jurisdiction, reason: str
    ) -> None:
        """退回: a unit handed a case by hand that is not its own sends it back to the sender,
        before signing and within the sign-for window. Moves made by the rules (overdue,
        a raised level) cannot be returned."""
        self._require("return", OPEN - {Status.PAUSED})
        sign = self.pending(DeadlineKind.SIGN)
        if not self.awaiting_signature or sign is None or at >= sign.due_at:
            raise CommandNotAllowedError(
                "return", self.status.value, "only before signing, within the sign-for window"
            )
        movable = (EscalationCause.MANUAL.value, EscalationCause.CROSS_AREA.value)
        if self.previous_owner is None or self.last_move not in movable:
            raise CommandNotAllowedError(
                "return", self.status.value, "it was not handed over by hand"
            )
        sender = units.get(self.previous_owner)
        if sender.tier.height < self.level.owner_tier.height:
            raise CommandNotAllowedError(
                "return",
                self.status.value,
                f"a {self.level} case cannot go below {self.level.owner_tier}",
            )
        self._emit(
            self.Returned,
            actor,
            at,
            from_unit=self.owner,
            to_unit=sender.code,
            to_tier=sender.tier.value,
            reason=self._text("reason", reason),
            deadlines=_stored(self._arrival_clocks(clocks, self.level, sender.tier, at)),
        )

    # --- missed deadlines (sent by the scheduler) -----------------------------------------

    class SignOverdueFlagged(Event):
        due_at: datetime

        def apply(self, aggregate: Case) -> None:
            aggregate.flags.add("sign_overdue")

    def flag_sign_overdue(self, actor: Actor, at: datetime, due_at: datetime) -> bool:
        """Flags a missed sign-for deadline for the owner's supervisors, once per deadline.

        Returns False (and records nothing) when the deadline is no longer the case's own."""
        sign = self.pending(DeadlineKind.SIGN)
        if sign is None or sign.due_at != due_at or at < due_at or "sign_overdue" in self.flags:
            return False
        self._emit(self.SignOverdueFlagged, actor, at, due_at=due_at)
        return True

    class ResolveOverdueFlagged(Event):
        due_at: datetime

        def apply(self, aggregate: Case) -> None:
            aggregate.flags.add("resolve_overdue")

    def act_on_resolve_overdue(
        self, actor: Actor, at: datetime, units: Jurisdiction, clocks: Clocks, due_at: datetime
    ) -> bool:
        """A missed resolve deadline escalates one tier with the level raised to that tier's;
        at the top (county) it is flagged overdue instead. Acts only on the case's current
        deadline, so a repeated or concurrent sweep never acts twice."""
        resolve = self.pending(DeadlineKind.RESOLVE)
        if resolve is None or resolve.due_at != due_at or at < due_at:
            return False
        if "resolve_overdue" in self.flags or self.status not in OPEN - {Status.PAUSED}:
            return False
        target = units.tier_above(self.owner)
        breach = clocks.policy.rule_for(self.level, self.tier).on_breach
        if target is None or breach is Breach.FLAG:
            self._emit(self.ResolveOverdueFlagged, actor, at, due_at=due_at)
            return True
        native = target.tier.native_level or self.level
        level = native if native > self.level else self.level
        self._move(
            actor,
            at,
            clocks,
            target,
            EscalationCause.OVERDUE,
            f"resolve deadline {due_at.isoformat()} missed",
            level,
        )
        return True

    class ClockFired(ClocksChanged):
        """A clock other than sign-for or resolve came due: recorded for supervisors, and the
        clock is done (a red case's daily status report starts its next day)."""

        kind: str
        due_at: datetime

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
        if kind is DeadlineKind.STATUS_REPORT and self.status in OPEN - {Status.PAUSED}:
            remaining[kind.value] = clocks.start(kind, self.level, self.tier, due_at)
        self._emit(
            self.ClockFired, actor, at, kind=kind.value, due_at=due_at, deadlines=_stored(remaining)
        )
        return True

    # --- working the case ---------------------------------------------------------------

    class MediationSessionRecorded(ClocksChanged):
        held_at: datetime
        notes: str
        attendees: list[str]

        def apply(self, aggregate: Case) -> None:
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

    class Resolved(ClocksChanged):
        agreement: str
        form: str
        amount: Decimal | None
        performance_due: str | None

        def apply(self, aggregate: Case) -> None:
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

    def _conclude(self, outcome: Outcome, at: datetime) -> None:
        self.outcome = outcome
        self.outcome_at = at
        self.follow_ups = 0
        self.flags.difference_update({"sign_overdue", "resolve_overdue"})

    class Terminated(ClocksChanged):
        reason: str

        def apply(self, aggregate: Case) -> None:
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

    class Referred(ClocksChanged):
        agency: str
        reason: str

        def apply(self, aggregate: Case) -> None:
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

    class ReferralAnswered(ClocksChanged):
        answer: str

        def apply(self, aggregate: Case) -> None:
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

    class FollowUpRecorded(ClocksChanged):
        satisfied: bool
        agreement_honoured: bool | None
        note: str

        def apply(self, aggregate: Case) -> None:
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

    class Rated(Event):
        grade: str

        def apply(self, aggregate: Case) -> None:
            pass

    class Reopened(ClocksChanged):
        cause: str  # "manual" or "rating"
        reason: str

        def apply(self, aggregate: Case) -> None:
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

    class Closed(ClocksChanged):
        def apply(self, aggregate: Case) -> None:
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


def arrival_clocks(clocks: Clocks, level: Level, tier: Tier, at: datetime) -> dict[str, Deadline]:
    """The clocks that start when a case arrives at a tier: sign-for and resolve, and a red
    case's daily status report."""
    started = {
        DeadlineKind.SIGN.value: clocks.start(DeadlineKind.SIGN, level, tier, at),
        DeadlineKind.RESOLVE.value: clocks.start(DeadlineKind.RESOLVE, level, tier, at),
    }
    if level is Level.RED:
        started[DeadlineKind.STATUS_REPORT.value] = clocks.start(
            DeadlineKind.STATUS_REPORT, level, tier, at
        )
    return started
