"""Warning levels and ownership: assessment, raising and lowering a level, escalation by
hand, across areas and on a missed resolve deadline, and returning a case to its sender."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from domain.actors import Actor
from domain.bounds import MAX_TRIGGERS, at_most
from domain.case import commands as c
from domain.case._state import CaseState, text
from domain.clocks import DeadlineKind
from domain.errors import InvalidInputError
from domain.jurisdiction import Jurisdiction, Unit
from domain.levels import Level, Tier
from domain.policy import Breach, Clocks
from domain.risk import Facts, FactsUpdate
from domain.status import RUNNING, EscalationCause, Flag, LevelCause, Status

_BREACHES = frozenset({Flag.SIGN_OVERDUE, Flag.RESOLVE_OVERDUE})
# Moves by hand, which the receiver may send back (退回) before signing.
_MOVED_BY_HAND = (EscalationCause.MANUAL.value, EscalationCause.CROSS_AREA.value)
# Moves a lower level never undoes: by hand, or taken over by a unit above (提级办理).
_HELD = (*_MOVED_BY_HAND, EscalationCause.TAKE_OVER.value)


class Ownership(CaseState):
    """Who owns a case, and how a missed deadline or a higher level moves it up."""

    # --- level and ownership ------------------------------------------------------------

    def _owning_unit(self, units: Jurisdiction, level: Level, floor: Tier | None) -> Unit:
        """Where a case of ``level`` belongs: its level's tier above its location, or higher."""
        tier = level.owner_tier
        if floor is not None and floor.height > tier.height:
            tier = floor
        return units.at_tier(self.unit, tier)

    def _supervise_breach(
        self, actor: Actor, at: datetime, units: Jurisdiction, clocks: Clocks
    ) -> None:
        """The unit above orders 督办 on a breach at the top (``domain.case._supervision``)."""
        raise NotImplementedError

    def _level_change_allowed(self, command: type[c.CaseCommand]) -> None:
        self._require(command, RUNNING, "resume it first" if self.status is Status.PAUSED else "")

    class Assessed(CaseState.Event):
        """研判. Since risk triggers: the facts the assessment corrected (None: unchanged), what
        the triggers suggested on them, and why the level is lower than that, if it is."""

        level: str
        triggers: list[str]
        reason: str
        people_involved: int | None = None
        amount_involved: Decimal | None = None
        police_callouts: int | None = None
        suggested_level: str = ""
        risk_triggers: list[str] | None = None
        below_suggestion_reason: str = ""

        def apply(self, aggregate: CaseState) -> None:
            aggregate.level = Level(self.level)
            aggregate.triggers = list(self.triggers)
            aggregate.level_cause = LevelCause.ASSESSED
            if self.people_involved is not None:
                aggregate.people_involved = self.people_involved
            if self.amount_involved is not None:
                aggregate.amount_involved = self.amount_involved
            if self.police_callouts is not None:
                aggregate.police_callouts = self.police_callouts
            if self.suggested_level:
                aggregate.suggested_level = Level(self.suggested_level)
                aggregate.risk_triggers = list(self.risk_triggers or [])

    def assess(
        self,
        actor: Actor,
        at: datetime,
        units: Jurisdiction,
        clocks: Clocks,
        level: Level,
        triggers: list[str],
        reason: str,
        facts: FactsUpdate | None = None,
    ) -> None:
        """研判: records the level and its triggers, and any facts it corrects; the policy's
        risk triggers suggest a level on the facts, and a level below the suggestion needs a
        reason of its own. A higher level moves the case up at once."""
        at_most("triggers", triggers, MAX_TRIGGERS)  # out of bounds whatever the status
        self._level_change_allowed(c.AssessCase)
        if level < self.level:
            self._refuse(c.AssessCase, "lowering a level needs a supervisor: use lower")
        update = facts or FactsUpdate()
        current = Facts(
            self.category, self.people_involved, self.amount_involved, self.police_callouts
        )
        suggestion = clocks.policy.risk.suggest(update.applied_to(current))
        below = update.below_suggestion_reason.strip()
        if level < suggestion.level and not below:
            raise InvalidInputError(
                "below_suggestion_reason",
                f"the risk triggers suggest {suggestion.level} "
                f"({', '.join(suggestion.triggers)}): say why the case is assessed lower",
                "below_suggestion",
                {"suggested": suggestion.level.value, "triggers": list(suggestion.triggers)},
            )
        self._emit(
            self.Assessed,
            actor,
            at,
            level=level.value,
            triggers=[text("triggers", t, 200) for t in triggers],
            reason=text("reason", reason),
            people_involved=update.people_involved,
            amount_involved=update.amount_involved,
            police_callouts=update.police_callouts,
            suggested_level=suggestion.level.value,
            risk_triggers=list(suggestion.triggers),
            below_suggestion_reason=text("below_suggestion_reason", below)
            if level < suggestion.level
            else "",
        )
        self._move_up_for_level(actor, at, units, clocks, reason)

    class LevelRaised(CaseState.Event):
        level: str
        reason: str

        def apply(self, aggregate: CaseState) -> None:
            aggregate.level = Level(self.level)
            aggregate.level_cause = LevelCause.RAISED

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
        self._level_change_allowed(c.RaiseLevel)
        if level <= self.level:
            raise InvalidInputError("level", f"must be above the current level {self.level}")
        self._emit(self.LevelRaised, actor, at, level=level.value, reason=text("reason", reason))
        self._move_up_for_level(actor, at, units, clocks, reason)

    def _move_up_for_level(
        self, actor: Actor, at: datetime, units: Jurisdiction, clocks: Clocks, reason: str
    ) -> None:
        target = self._owning_unit(units, self.level, self.tier)
        if target.code != self.owner:
            self._move(actor, at, clocks, target, EscalationCause.LEVEL_RAISED, reason, self.level)

    class LevelLowered(CaseState.ClocksChanged):
        level: str
        reason: str
        owner: str
        tier: str

        def apply(self, aggregate: CaseState) -> None:
            super().apply(aggregate)
            aggregate.level = Level(self.level)
            aggregate.level_cause = LevelCause.LOWERED
            if self.owner != aggregate.owner:
                aggregate.previous_owner = aggregate.owner
                aggregate.owner = self.owner
                aggregate.assignee = None  # the new owner assigns its own mediator
                aggregate.tier = Tier(self.tier)
                aggregate.last_move = None  # a move by the rules: 退回 does not undo it
                aggregate.awaiting_signature = True
                # New owner, new clocks: the old owner's breaches are not the new one's.
                aggregate.flags.difference_update(_BREACHES)

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
        overdue escalation put it, nor below the unit a move by hand handed it to (a lower
        level is a judgement of risk; sending a case back down is a 退回, with its own rules)."""
        self._require_approval(c.LowerLevel, actor)
        self._level_change_allowed(c.LowerLevel)
        if level >= self.level:
            raise InvalidInputError("level", f"must be below the current level {self.level}")
        target = self._owning_unit(units, level, self.overdue_floor)
        if self.handed_to is not None:
            handed = units.get(self.handed_to)
            if target.tier.height <= handed.tier.height:
                target = handed
        deadlines = self.deadlines
        if target.code != self.owner:
            deadlines = self._arrival_clocks(clocks, level, target.tier, at)
        self._emit(
            self.LevelLowered,
            actor,
            at,
            level=level.value,
            reason=text("reason", reason),
            owner=target.code,
            tier=target.tier.value,
            deadlines=deadlines,
        )

    class Escalated(CaseState.ClocksChanged):
        cause: str
        reason: str
        from_unit: str
        from_tier: str
        to_unit: str
        to_tier: str
        from_level: str
        to_level: str

        def apply(self, aggregate: CaseState) -> None:
            super().apply(aggregate)
            if self.to_unit != aggregate.owner:
                aggregate.assignee = None  # the new owner assigns its own mediator
            aggregate.previous_owner = self.from_unit
            aggregate.owner = self.to_unit
            aggregate.tier = Tier(self.to_tier)
            aggregate.level = Level(self.to_level)
            aggregate.last_move = self.cause
            aggregate.awaiting_signature = True
            aggregate.flags.difference_update(_BREACHES)
            if self.cause == EscalationCause.OVERDUE:
                aggregate.overdue_floor = Tier(self.to_tier)
                if self.to_level != self.from_level:
                    aggregate.level_cause = LevelCause.OVERDUE
            if self.cause in _HELD:
                aggregate.handed_to = self.to_unit

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
            deadlines=self._arrival_clocks(clocks, level, target.tier, at),
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
        self._require_approval(c.EscalateCase, actor)
        self._require(c.EscalateCase, RUNNING)
        reason = text("reason", reason)
        cause = EscalationCause.MANUAL if other_unit is None else EscalationCause.CROSS_AREA
        if other_unit is None:
            target = units.tier_above(self.owner)
        else:
            common = units.common_ancestor(self.owner, other_unit)
            target = None if common.tier is Tier.CITY else common
        if target is None or target.code == self.owner:
            self._refuse(c.EscalateCase, f"{self.owner} is the top tier for cases (矛盾不上交)")
        self._move(actor, at, clocks, target, cause, reason, self.level)

    class Returned(CaseState.ClocksChanged):
        from_unit: str
        to_unit: str
        to_tier: str
        reason: str

        def apply(self, aggregate: CaseState) -> None:
            super().apply(aggregate)
            if self.to_unit != aggregate.owner:
                aggregate.assignee = None  # the sender assigns its own mediator again
            aggregate.owner = self.to_unit
            aggregate.tier = Tier(self.to_tier)
            aggregate.previous_owner = None
            aggregate.last_move = None
            aggregate.handed_to = None  # back with the sender: the move by hand is undone
            aggregate.awaiting_signature = True

    def return_case(
        self, actor: Actor, at: datetime, clocks: Clocks, units: Jurisdiction, reason: str
    ) -> None:
        """退回: a unit handed a case by hand that is not its own sends it back to the sender,
        before signing and within the sign-for window. Moves made by the rules (overdue,
        a raised level) cannot be returned."""
        self._require(c.ReturnCase, RUNNING)
        sign = self.pending(DeadlineKind.SIGN)
        if not self.awaiting_signature or sign is None or at >= sign.due_at:
            self._refuse(c.ReturnCase, "only before signing, within the sign-for window")
        if self.previous_owner is None or self.last_move not in _MOVED_BY_HAND:
            self._refuse(c.ReturnCase, "it was not handed over by hand")
        sender = units.get(self.previous_owner)
        if sender.tier.height < self.level.owner_tier.height:
            self._refuse(
                c.ReturnCase, f"a {self.level} case cannot go below {self.level.owner_tier}"
            )
        self._emit(
            self.Returned,
            actor,
            at,
            from_unit=self.owner,
            to_unit=sender.code,
            to_tier=sender.tier.value,
            reason=text("reason", reason),
            deadlines=self._arrival_clocks(clocks, self.level, sender.tier, at),
        )

    class ResolveOverdueFlagged(CaseState.Event):
        due_at: datetime

        def apply(self, aggregate: CaseState) -> None:
            aggregate.flags.add(Flag.RESOLVE_OVERDUE)

    def act_on_resolve_overdue(
        self, actor: Actor, at: datetime, units: Jurisdiction, clocks: Clocks, due_at: datetime
    ) -> bool:
        """A missed resolve deadline escalates one tier with the level raised to that tier's;
        at the top (county) it is flagged overdue instead. Acts only on the case's current
        deadline, so a repeated or concurrent sweep never acts twice."""
        resolve = self.pending(DeadlineKind.RESOLVE)
        if resolve is None or resolve.due_at != due_at or at < due_at:
            return False
        if Flag.RESOLVE_OVERDUE in self.flags or self.status not in RUNNING:
            return False
        target = units.tier_above(self.owner)
        breach = clocks.policy.rule_for(self.level, self.tier).on_breach
        if target is None or breach is Breach.FLAG:
            self._emit(self.ResolveOverdueFlagged, actor, at, due_at=due_at)
            self._supervise_breach(actor, at, units, clocks)
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
