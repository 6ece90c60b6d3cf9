"""What every part of the case aggregate stands on: the events' base classes, registration,
the state a case keeps, and the guards its commands share.

Command methods decide: they check the status, compute deadlines from the injected ``at`` and
the case's policy, and trigger events. Event ``apply`` methods only assign fields; the status a
case has after an event comes from one table (``domain.case.STATUS_AFTER``), read here by
``Event.mutate`` and by the cases view alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn, Self, cast
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.actors import Actor
from domain.bounds import decision_time, future, in_the_past, non_negative_amount
from domain.clocks import Deadline, DeadlineKind
from domain.errors import CommandNotAllowedError, InvalidInputError, NotPermittedError
from domain.jurisdiction import Jurisdiction
from domain.levels import Level, Tier
from domain.parties import Party, phone_number, validated
from domain.policy import Clocks
from domain.repeats import PARTY, Background
from domain.risk import Facts
from domain.status import WORKING, Agency, Channel, Flag, LevelCause, Outcome, Status

if TYPE_CHECKING:
    from domain.case.commands import CaseCommand

Deadlines = dict[str, Deadline]
# The clocks an arrival at a tier replaces; every other pending clock travels with the case.
ARRIVAL_CLOCKS = (DeadlineKind.SIGN, DeadlineKind.RESOLVE, DeadlineKind.STATUS_REPORT)
# The clocks an outcome (resolved, terminated, referred) stops.
WORK_CLOCKS = (*ARRIVAL_CLOCKS, DeadlineKind.MEDIATION)


NOTHING_KNOWN = Background()


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
    referral_in: InboundReferral | None = None
    caller: Caller | None = None
    police_callouts: int = 0


@dataclass(frozen=True)
class Caller:
    """Who called the hotline (or walked in) to report the case, as the operator recorded
    them: a name and maybe a phone, or nobody (匿名). Personal data: masked like a party's."""

    name: str | None = None
    phone: str | None = None
    anonymous: bool = False


@dataclass(frozen=True)
class InboundReferral:
    """A case another body referred here: the court (诉前委派), the police (110), the petition
    office (信访转交) or the procuratorate (检调), under its reference, maybe with a date by
    which it wants the result."""

    agency: Agency
    reference: str
    due_at: datetime | None = None


def deadlines_from_v1(stored: dict[str, Any]) -> Deadlines:
    """Events stored before version 2 kept each deadline as a plain dict."""
    return {
        kind: value if isinstance(value, Deadline) else Deadline.from_dict(value)
        for kind, value in stored.items()
    }


class CaseState(Aggregate):
    """The state of a case and the guards every command uses."""

    KIND = "case"

    class Event(Aggregate.Event):
        actor: str
        role: str
        # the actor of an event of this class handled the case (and may not rate it)
        handles_case: ClassVar[bool] = False

        def mutate(self, aggregate: Any) -> Any:
            """Applies the event, then moves the status by the lifecycle table."""
            if aggregate is None:  # the created event: its __init__ sets the first status
                return super().mutate(aggregate)
            case = cast("CaseState", aggregate)
            before, paused_from = case.status, case.paused_from
            result = super().mutate(aggregate)
            case.status = case.status_after(self, before, paused_from)
            if self.handles_case:
                case.handlers.add(self.actor)
            return result

    class ClocksChanged(Event):
        """Base of events that replace the set of pending clocks (typed since version 2)."""

        class_version = 2
        deadlines: Deadlines

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["deadlines"] = deadlines_from_v1(state["deadlines"])

        def apply(self, aggregate: CaseState) -> None:
            aggregate.deadlines = dict(self.deadlines)

    class Registered(Event, Aggregate.Created):
        class_version = 2
        category: str
        summary: str
        unit: str
        channel: str
        reporter: str
        recorded_by: str
        parties: list[Party]
        people_involved: int
        amount_involved: Decimal | None
        occurred_at: datetime | None
        level: str
        owner: str
        tier: str
        policy_version: str
        deadlines: Deadlines
        number: str = ""  # 一案一码; cases registered before numbering get it by ``Numbered``
        # 诉前委派, 110, 信访转交, 检调: who sent the case here, their reference and due date
        referral_in: dict[str, Any] | None = None
        # the caller a hotline operator (or anyone) recorded: name and phone, or anonymous
        caller: dict[str, Any] | None = None
        police_callouts: int = 0  # 110 call-outs to the same dispute before it was registered
        suggested_level: str = ""  # what the policy's risk triggers suggested ("" before them)
        risk_triggers: list[str] | None = None  # the triggers that fired, as codes
        level_cause: str = ""  # why the case has its level: a LevelCause ("" before causes)
        # what the record said when it was registered (``domain.repeats``): the earlier cases it
        # repeats (EarlierCase.to_dict), the key persons among its parties, the clue it grew from
        repeat_of: list[dict[str, Any]] | None = None
        key_persons: list[str] | None = None
        clue_id: str = ""

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 stored parties and deadlines as plain dicts."""
            state["deadlines"] = deadlines_from_v1(state["deadlines"])
            state["parties"] = [
                p if isinstance(p, Party) else Party.from_dict(p) for p in state["parties"]
            ]

    def __init__(
        self,
        category: str,
        summary: str,
        unit: str,
        channel: str,
        reporter: str,
        recorded_by: str,
        parties: list[Party],
        people_involved: int,
        amount_involved: Decimal | None,
        occurred_at: datetime | None,
        level: str,
        owner: str,
        tier: str,
        policy_version: str,
        deadlines: Deadlines,
        number: str = "",
        referral_in: dict[str, Any] | None = None,
        caller: dict[str, Any] | None = None,
        police_callouts: int = 0,
        suggested_level: str = "",
        risk_triggers: list[str] | None = None,
        level_cause: str = "",
        repeat_of: list[dict[str, Any]] | None = None,
        key_persons: list[str] | None = None,
        clue_id: str = "",
    ) -> None:
        self.number = number
        self.repeat_of = list(repeat_of or [])
        self.key_persons = list(key_persons or [])
        self.clue_id = clue_id
        self.referral_in = referral_in
        self.caller = caller
        self.police_callouts = police_callouts
        self.suggested_level = Level(suggested_level) if suggested_level else None
        self.risk_triggers = list(risk_triggers or [])
        self.level_cause = level_cause or LevelCause.REGISTERED
        self.reported_back = False
        self.referral_result = ""
        self.category = category
        self.summary = summary
        self.unit = unit
        self.channel = channel
        self.reporter = reporter
        self.recorded_by = recorded_by
        self.parties = tuple(parties)
        self.people_involved = people_involved
        self.amount_involved = amount_involved
        self.occurred_at = occurred_at
        self.level = Level(level)
        self.triggers: list[str] = []
        self.owner = owner
        self.tier = Tier(tier)
        self.policy_version = policy_version
        self.deadlines = dict(deadlines)
        self.status = Status.REGISTERED
        self.awaiting_signature = True
        self.assignee: str | None = None
        self.overdue_floor: Tier | None = None
        # the unit a move by hand (manual, cross-area) handed the case to: only 退回 undoes it
        self.handed_to: str | None = None
        self.previous_owner: str | None = None
        self.last_move: str | None = None
        self.outcome: Outcome | None = None
        self.outcome_at: datetime | None = None
        self.referral_answered = False
        self.follow_ups = 0
        # the last follow-up visit found the parties dissatisfied or the agreement not honoured
        self.follow_up_troubled = False
        self.sessions = 0
        self.reworked_for_rating = False
        # 好差评: invitation id → (party index, expires at); those used; rated since the outcome
        self.invitations: dict[str, tuple[int, datetime]] = {}
        self.used_invitations: set[str] = set()
        self.rated_since_outcome = False
        self.handlers: set[str] = set()  # who signed, was assigned, mediated, concluded
        self.paused_from: Status | None = None
        self.paused_at: datetime | None = None
        self.paused_deadlines: Deadlines = {}
        self.flags: set[Flag] = set()

    @classmethod
    def register(
        cls,
        case_id: UUID,
        actor: Actor,
        at: datetime,
        units: Jurisdiction,
        clocks: Clocks,
        details: Registration,
        number: str = "",
        background: Background = NOTHING_KNOWN,
    ) -> Self:
        """登记: the case starts at the higher of the level given and what the policy's risk
        triggers suggest on its facts (``domain.risk``), owned by that level's tier above its
        location, under the ``number`` its county issued (``domain.numbering``). A referral
        from another body starts the clock of reporting back to it. What the record says of
        its people and place (``background``: repeats, key persons) raises the suggestion."""
        decision_time(at)
        occurred = details.occurred_at
        occurred_at = None if occurred is None else in_the_past("occurred_at", occurred, at)
        inbound = details.referral_in
        if inbound is not None and inbound.due_at is not None:
            future("referral_in.due_at", inbound.due_at, at)
        location = units.get(details.unit)
        if location.tier is Tier.CITY:
            raise InvalidInputError("unit", "a case is located in a county or below (矛盾不上交)")
        category = clocks.policy.intake.category(cls.KIND, details.category)
        amount = non_negative_amount("amount_involved", details.amount_involved)  # then compared
        suggestion = clocks.policy.risk.suggest(_facts(details, category, background))
        level = max(details.level, suggestion.level)  # the triggers raise a level, never lower
        owner = units.at_tier(location.code, level.owner_tier)
        return cls._create(
            cls.Registered,
            id=case_id,
            timestamp=at,
            actor=actor.user,
            role=actor.role.value,
            category=category,
            summary=clocks.policy.intake.summary(details.summary),
            unit=location.code,
            channel=details.channel.value,
            reporter=details.reporter or actor.user,
            recorded_by=actor.user,
            parties=list(validated(list(details.parties))),
            people_involved=_non_negative("people_involved", details.people_involved),
            amount_involved=amount,
            occurred_at=occurred_at,
            level=level.value,
            owner=owner.code,
            tier=owner.tier.value,
            policy_version=clocks.policy.version,
            deadlines=_with_report_back(
                clocks.on_arrival(level, owner.tier, at), clocks, inbound, at
            ),
            number=number,
            referral_in=_inbound(inbound),
            caller=_caller(details.caller),
            police_callouts=_non_negative("police_callouts", details.police_callouts),
            suggested_level=suggestion.level.value,
            risk_triggers=list(suggestion.triggers),
            level_cause=LevelCause.TRIGGERS if level > details.level else LevelCause.REGISTERED,
            repeat_of=[earlier.to_dict() for earlier in background.repeat_of] or None,
            key_persons=[str(person) for person in background.key_persons] or None,
            clue_id=str(background.clue_id or ""),
        )

    class Numbered(Event):
        """The number of a case registered before cases were numbered, issued later."""

        number: str

        def apply(self, aggregate: CaseState) -> None:
            aggregate.number = self.number

    def take_number(self, actor: Actor, at: datetime, number: str) -> None:
        """A number for a case registered before numbering; a case keeps its first one."""
        if self.number:
            raise InvalidInputError("number", f"the case already has number {self.number}")
        self._emit(self.Numbered, actor, at, number=number)

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

    def status_after(self, event: Event, status: Status, paused_from: Status | None) -> Status:
        """The lifecycle table's answer; ``domain.case.Case`` provides it."""
        raise NotImplementedError

    # --- guards -------------------------------------------------------------------------

    def _require(
        self, command: type[CaseCommand], allowed: frozenset[Status], detail: str = ""
    ) -> None:
        if self.status not in allowed:
            self._refuse(command, detail)

    def _refuse(self, command: type[CaseCommand], detail: str = "") -> NoReturn:
        raise CommandNotAllowedError(command.words, self.status.value, detail)

    def _require_signed(self, command: type[CaseCommand]) -> None:
        self._require(command, WORKING)
        if self.awaiting_signature:
            self._refuse(command, f"{self.owner} must sign for it first")

    @staticmethod
    def _require_approval(command: type[CaseCommand], actor: Actor) -> None:
        if not actor.approves:
            raise NotPermittedError(command.words, "a supervisor")

    def _emit(self, event_class: type[Any], actor: Actor, at: datetime, **fields: Any) -> None:
        """Records an event at ``at``, which may not be earlier than the case's last change:
        a case's history only moves forward, and deadlines computed from a time in its past
        would be wrong. It is a clock's reading, so one outside 2000–2100 is refused too."""
        decision_time(at)
        if at < self.modified_on:
            raise InvalidInputError("at", f"earlier than the case's last change {self.modified_on}")
        self.trigger_event(
            event_class, actor=actor.user, role=actor.role.value, timestamp=at, **fields
        )

    # --- clocks -------------------------------------------------------------------------

    def _without(self, *kinds: DeadlineKind) -> Deadlines:
        return {k: d for k, d in self.deadlines.items() if k not in kinds}

    def _arrival_clocks(self, clocks: Clocks, level: Level, tier: Tier, at: datetime) -> Deadlines:
        """A case arriving at a tier starts its sign-for and resolve clocks there anew."""
        return {**self._without(*ARRIVAL_CLOCKS), **clocks.on_arrival(level, tier, at)}

    def _conclude(self, outcome: Outcome, at: datetime) -> None:
        self.outcome = outcome
        self.outcome_at = at
        self.follow_ups = 0
        self.follow_up_troubled = False
        self.rated_since_outcome = False
        self.flags.difference_update({Flag.SIGN_OVERDUE, Flag.RESOLVE_OVERDUE})


def text(field: str, value: str, limit: int = 4000) -> str:
    """A required free text, trimmed: refused when empty, too long or holding NUL."""
    cleaned = value.strip() if isinstance(value, str) else ""
    if not cleaned:
        raise InvalidInputError(field, "must not be empty")
    if "\x00" in cleaned:
        raise InvalidInputError(field, "must not contain NUL characters")
    if len(cleaned) > limit:
        raise InvalidInputError(field, f"must be at most {limit} characters")
    return cleaned


def optional_text(field: str, value: str, limit: int = 4000) -> str:
    """A free text that may be left empty, trimmed: refused when too long or holding NUL."""
    cleaned = value.strip() if isinstance(value, str) else ""
    return text(field, cleaned, limit) if cleaned else ""


def _facts(details: Registration, category: str, background: Background) -> Facts:
    return Facts(
        category,
        details.people_involved,
        details.amount_involved,
        details.police_callouts,
        repeat=any(PARTY in earlier.matched_by for earlier in background.repeat_of),
        key_person=bool(background.key_persons),
    )


def _caller(caller: Caller | None) -> dict[str, Any] | None:
    """The caller as the registration stores it: anonymous, or a name and maybe a phone."""
    if caller is None:
        return None
    if caller.anonymous:
        if caller.name or caller.phone:
            raise InvalidInputError("caller", "an anonymous caller has no name or phone")
        return {"name": None, "phone": None, "anonymous": True}
    name = text("caller.name", caller.name or "", 100)
    phone = phone_number("caller", caller.phone) if caller.phone else None
    return {"name": name, "phone": phone, "anonymous": False}


def _inbound(referral: InboundReferral | None) -> dict[str, Any] | None:
    """An inbound referral as the registration stores it."""
    if referral is None:
        return None
    return {
        "agency": referral.agency.value,
        "reference": text("referral_in.reference", referral.reference, 100),
        "due_at": referral.due_at,
    }


def _with_report_back(
    deadlines: Deadlines, clocks: Clocks, referral: InboundReferral | None, at: datetime
) -> Deadlines:
    """An inbound referral with a due date starts the clock of reporting the result back."""
    if referral is None or referral.due_at is None:
        return deadlines
    report = clocks.given(DeadlineKind.REPORT_BACK, at, referral.due_at)
    return {**deadlines, DeadlineKind.REPORT_BACK.value: report}


def _non_negative(field: str, value: int) -> int:
    if value < 0:
        raise InvalidInputError(field, "must not be negative")
    return value
