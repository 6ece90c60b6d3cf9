"""What the views need to know about domain events, in one place."""

from __future__ import annotations

from typing import Any

from domain.case import Case
from domain.clocks import DeadlineKind
from domain.jurisdiction import Jurisdiction
from domain.levels import Level
from projections.db import to_us

# The clocks the escalation queue orders by and flags as overdue.
QUEUE_CLOCKS = (DeadlineKind.SIGN.value, DeadlineKind.RESOLVE.value)


def name_of(event: Any) -> str:
    """``Dispute.Signed`` and ``Incident.Signed`` are both "Signed"."""
    return type(event).__name__


def is_case_event(event: Any) -> bool:
    return isinstance(event, Case.Event)


def is_unit_added(event: Any) -> bool:
    return isinstance(event, Jurisdiction.UnitAdded)


def kind_of(event: Any) -> str:
    """``dispute`` or ``incident``, from the event's aggregate class."""
    return type(event).__qualname__.split(".")[0].lower()


def level_rank(level: str) -> int:
    return Level(level).rank


def next_queue_due(deadlines: dict[str, dict[str, Any]]) -> tuple[int | None, str | None]:
    """The nearest sign-for or resolve deadline: what the queue orders by."""
    pending = [(to_us(d["due_at"]), kind) for kind, d in deadlines.items() if kind in QUEUE_CLOCKS]
    if not pending:
        return None, None
    due, kind = min(pending)
    return due, kind
