"""The case aggregate's foundation: its events' base classes, registration, state, guards and
clock helpers.

The lifecycle is split by stage into a chain of classes, each in its own module:
``CaseFoundation`` (this module) → ``CaseIntake`` (case_intake.py: intake, signing, notes,
pausing, deadlines and the scheduler's clocks) → ``CaseOwnership`` (case_ownership.py: levels,
escalation, returns) → ``Case`` (case.py: mediation, outcomes, follow-up, rating, closure).
``domain.dispute.Dispute`` and ``domain.incident.Incident`` subclass ``Case``; the library gives
each of them its own copy of every event class, so stored topics name the kind
(``domain.dispute:Dispute.Signed``) whichever module an event is written in.

Command methods decide: they check the status, compute deadlines from the injected ``at`` and
the case's policy, and trigger events. Event ``apply`` methods only assign fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Self
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.actors import Actor
from domain.clocks import Deadline, DeadlineKind
from domain.errors import CommandNotAllowedError, InvalidInputError, NotPermittedError
from domain.jurisdiction import Jurisdiction
from domain.levels import Level, Tier
from domain.parties import Party, validated
from domain.policy import Clocks
from domain.status import (
    WORKING,
    Channel,
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


class CaseFoundation(Aggregate):
    """What every stage of a case builds on."""

    KIND = "case"

    class Event(Aggregate.Event):
        actor: str
        role: str

    class ClocksChanged(Event):
        """Base of events that replace the set of pending clocks."""

        deadlines: DeadlineMap

        def apply(self, aggregate: CaseFoundation) -> None:
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
            category=CaseFoundation._text("category", details.category, 50),
            summary=CaseFoundation._text("summary", details.summary, 2000),
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

    def _conclude(self, outcome: Outcome, at: datetime) -> None:
        self.outcome = outcome
        self.outcome_at = at
        self.follow_ups = 0
        self.flags.difference_update({"sign_overdue", "resolve_overdue"})

    def _without(self, *kinds: DeadlineKind) -> dict[str, Deadline]:
        return {k: d for k, d in self.deadlines.items() if k not in kinds}


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
