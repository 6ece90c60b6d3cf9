"""What the views need to know about domain events, in one place.

Views dispatch on event *types* taken from the aggregate (``Case.Signed``...), never on names.
Stored events decode as ``Dispute.Signed`` or ``Incident.Signed``, which the library makes
subclasses of ``Case.Signed``, so a table keyed by ``Case`` event classes is read through
``lookup``, which walks the event type's MRO.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from domain.case import Case, CaseState
from domain.clocks import Deadline, DeadlineKind
from domain.jurisdiction import Jurisdiction
from domain.levels import Level
from projections.db import to_us

# The clocks the escalation queue orders by and flags as overdue.
QUEUE_CLOCKS = (DeadlineKind.SIGN.value, DeadlineKind.RESOLVE.value)
# What a queue card shows as its clock: a paused case has none of those, but its review date.
_CARD_CLOCKS = (
    *QUEUE_CLOCKS,
    DeadlineKind.PAUSE_REVIEW.value,
    DeadlineKind.REFERRAL_ANSWER.value,
    DeadlineKind.REPORT_BACK.value,
)

V = TypeVar("V")

# The events that carry the case's whole set of pending clocks (a ``deadlines`` field), which
# replaces the one before: registration, and every event of the clocks-changed family.
CLOCK_EVENTS: tuple[type, ...] = (Case.Registered, CaseState.ClocksChanged)


def lookup(table: Mapping[type, V], event_type: type) -> V | None:
    """The entry for ``event_type`` or its nearest base class in ``table`` (None: none).

    ``Dispute.Signed`` finds ``Case.Signed``'s entry; a table may also hold a base such as
    ``CaseState.ClocksChanged`` to cover every event carrying clocks."""
    for cls in event_type.__mro__:
        if cls in table:
            return table[cls]
    return None


def is_case_event(event: Any) -> bool:
    return isinstance(event, Case.Event)


def is_unit_added(event: Any) -> bool:
    return isinstance(event, Jurisdiction.UnitAdded)


def kind_of(event: Any) -> str:
    """``dispute`` or ``incident``, from the event's aggregate class."""
    return type(event).__qualname__.split(".")[0].lower()


def level_rank(level: str) -> int:
    return Level(level).rank


def next_queue_due(deadlines: Mapping[str, Deadline]) -> tuple[int | None, str | None]:
    """The nearest sign-for or resolve deadline (a paused case's review date, a referral's
    answer, an inbound referral's report-back): what the queue orders by."""
    pending = [(to_us(d.due_at), kind) for kind, d in deadlines.items() if kind in _CARD_CLOCKS]
    if not pending:
        return None, None
    due, kind = min(pending)
    return due, kind
