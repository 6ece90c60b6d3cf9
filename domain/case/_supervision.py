"""督办 and 提级办理: how a unit above the owner acts on a case it does not own.

A unit above the owner never works the case itself: it either orders the owner to act and
answer by a time (督办, a supervision order: a clock on the case, flagged again each policy
interval while unanswered) or takes the case over (提级办理, a move of ownership up to itself,
recorded as an escalation with cause ``take_over``). Everything else stays the owner's work.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import cast

from domain.actors import Actor
from domain.bounds import future
from domain.case import commands as c
from domain.case._ownership import Ownership
from domain.case._state import CaseState, text
from domain.clocks import DeadlineKind
from domain.jurisdiction import Jurisdiction
from domain.levels import Tier
from domain.policy import Clocks
from domain.status import CONCLUDED, OPEN, RUNNING, EscalationCause, Flag

# The 督办 a missed deadline at the top brings from the unit above (``_supervise_breach``).
BREACH_INSTRUCTION = "化解期限已过仍未化解，请说明原因、报告进展并限期化解"
# A 督办 can be ordered while a case is open or its outcome still being followed up.
_SUPERVISABLE = OPEN | CONCLUDED


@dataclass(frozen=True)
class SupervisionOrder:
    """An open 督办: its number on the case, who ordered it, what, by when, how often the
    answer was flagged late."""

    number: int
    by_unit: str
    text: str
    due_at: datetime
    reminders: int = 0


class Supervision(Ownership):
    """Orders from above and taking a case over."""

    # The open order, if any; a class default the events replace on the case (an annotated
    # attribute would make this part a dataclass).
    supervision = cast("SupervisionOrder | None", None)
    supervision_orders = 0  # how many were ever ordered on this case

    class SupervisionOrdered(CaseState.ClocksChanged):
        order: int  # the order's number on this case: 1, 2, …
        by_unit: str
        instruction: str
        due_at: datetime

        def apply(self, aggregate: CaseState) -> None:
            super().apply(aggregate)
            case = _supervised(aggregate)
            order = SupervisionOrder(self.order, self.by_unit, self.instruction, self.due_at)
            case.supervision = order
            case.supervision_orders = self.order
            case.flags.add(Flag.SUPERVISED)

    def order_supervision(
        self,
        actor: Actor,
        at: datetime,
        units: Jurisdiction,
        clocks: Clocks,
        order: str,
        due_at: datetime,
    ) -> None:
        """督办: a supervisor of a unit above the owner orders it to act and answer by
        ``due_at``. One order is open at a time: the next waits for its answer."""
        future("due_at", due_at, at)  # out of bounds whatever the status
        self._require_approval(c.OrderSupervision, actor)
        self._require(c.OrderSupervision, _SUPERVISABLE)
        self._require_above(c.OrderSupervision, actor, units)
        if self.supervision is not None:
            open_order = self.supervision
            self._refuse(
                c.OrderSupervision,
                f"order {open_order.number} from {open_order.by_unit} awaits its answer",
            )
        self._order(actor, at, clocks, actor.unit, text("text", order), due_at)

    def _order(
        self,
        actor: Actor,
        at: datetime,
        clocks: Clocks,
        by_unit: str,
        instruction: str,
        due_at: datetime,
    ) -> None:
        clock = clocks.given(DeadlineKind.SUPERVISION, at, due_at)
        self._emit(
            self.SupervisionOrdered,
            actor,
            at,
            order=self.supervision_orders + 1,
            by_unit=by_unit,
            instruction=instruction,
            due_at=clock.due_at,
            deadlines={**self.deadlines, DeadlineKind.SUPERVISION.value: clock},
        )

    def _supervise_breach(
        self, actor: Actor, at: datetime, units: Jurisdiction, clocks: Clocks
    ) -> None:
        """A resolve deadline missed where the case cannot climb (the county, or a tier whose
        policy flags instead) is not left at one flag: the unit above the owner (the city above
        a county) orders 督办 at once, to be answered within one re-flag interval and flagged
        again each interval until it is, unless an order is already open."""
        above = units.ancestors(self.owner)
        if self.supervision is not None or not above:
            return
        due = clocks.start(DeadlineKind.SUPERVISION, self.level, self.tier, at).due_at
        self._order(actor, at, clocks, above[0].code, BREACH_INSTRUCTION, due)

    class SupervisionReminded(CaseState.ClocksChanged):
        """The answer to a 督办 is late: flagged again, and again each policy interval."""

        order: int
        due_at: datetime

        def apply(self, aggregate: CaseState) -> None:
            super().apply(aggregate)
            case = _supervised(aggregate)
            if case.supervision is not None:
                reminders = case.supervision.reminders + 1
                case.supervision = replace(case.supervision, reminders=reminders)
            case.flags.add(Flag.SUPERVISION_OVERDUE)

    def remind_supervision(
        self, actor: Actor, at: datetime, clocks: Clocks, due_at: datetime
    ) -> bool:
        """The scheduler found the answer clock passed: flag it and start the next interval.
        Acts only on the case's current clock, once."""
        pending = self.pending(DeadlineKind.SUPERVISION)
        if pending is None or pending.due_at != due_at or at < due_at:
            return False
        if self.supervision is None:  # pragma: no cover - the clock goes with the answer
            return False
        following = clocks.start(DeadlineKind.SUPERVISION, self.level, self.tier, due_at)
        self._emit(
            self.SupervisionReminded,
            actor,
            at,
            order=self.supervision.number,
            due_at=due_at,
            deadlines={**self.deadlines, DeadlineKind.SUPERVISION.value: following},
        )
        return True

    class SupervisionAnswered(CaseState.ClocksChanged):
        order: int
        answer: str

        def apply(self, aggregate: CaseState) -> None:
            super().apply(aggregate)
            case = _supervised(aggregate)
            case.supervision = None
            case.flags.difference_update({Flag.SUPERVISED, Flag.SUPERVISION_OVERDUE})

    def answer_supervision(self, actor: Actor, at: datetime, answer: str) -> None:
        """The owner answers the open 督办 (what it did, what it will do); its clock stops."""
        if self.supervision is None:
            self._refuse(c.AnswerSupervision, "no supervision order awaits an answer")
        self._emit(
            self.SupervisionAnswered,
            actor,
            at,
            order=self.supervision.number,
            answer=text("answer", answer),
            deadlines=self._without(DeadlineKind.SUPERVISION),
        )

    def take_over(
        self, actor: Actor, at: datetime, units: Jurisdiction, clocks: Clocks, reason: str
    ) -> None:
        """提级办理: a supervisor of a unit above the owner takes the case for that unit. It
        arrives there like any move (sign-for and resolve clocks anew, no assignee), and a
        lower level later never sends it back down."""
        self._require_approval(c.TakeOverCase, actor)
        self._require(c.TakeOverCase, RUNNING)
        self._require_above(c.TakeOverCase, actor, units)
        target = units.get(actor.unit)
        if target.tier is Tier.CITY:
            self._refuse(c.TakeOverCase, "the county is the top tier for cases (矛盾不上交)")
        reason = text("reason", reason)
        self._move(actor, at, clocks, target, EscalationCause.TAKE_OVER, reason, self.level)

    def _require_above(
        self, command: type[c.CaseCommand], actor: Actor, units: Jurisdiction
    ) -> None:
        above = actor.unit != self.owner and units.is_within(self.owner, actor.unit)
        if not above:
            self._refuse(command, f"only a unit above {self.owner} may do this")


def _supervised(aggregate: CaseState) -> Supervision:
    if not isinstance(aggregate, Supervision):  # pragma: no cover - every case is one
        raise TypeError(type(aggregate).__name__)
    return aggregate
