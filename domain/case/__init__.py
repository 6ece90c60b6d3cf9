"""The case aggregate: one lifecycle shared by disputes and incidents.

``Case`` is assembled from private parts, each a set of commands with the events they
record: ``_intake`` (rejection, notes, attachments, signing, assignment, pauses, extensions,
the scheduler's clocks), ``_ownership`` (levels, escalation, returns, a missed resolve
deadline), ``_supervision`` (督办 and 提级办理 by a unit above the owner), ``_outcomes``
(mediation, outcomes, follow-up, rating, reopening, closure), ``_inspection`` (督查回访: a
sample of closed cases called back by inspectors) and ``_calendar`` (clocks recomputed when
the holidays and 调休 change). They share only ``_state`` (the
case's fields, registration, guards). ``commands`` holds the commands as data.

``domain.dispute.Dispute`` and ``domain.incident.Incident`` subclass ``Case``; the library gives
each its own copy of every event class, so stored topics name the kind
(``domain.dispute:Dispute.Signed``) whatever module an event is written in here.

``STATUS_AFTER`` is the lifecycle table: which status an event leads to. The aggregate moves
its status by it (``CaseState.Event.mutate``) and the cases view reads the same table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from domain.case._calendar import CalendarFacts
from domain.case._inspection import Inspection, InspectionSample
from domain.case._intake import Intake
from domain.case._ratings import Ratings
from domain.case._state import (
    Caller,
    CaseState,
    Deadlines,
    InboundReferral,
    Registration,
    text,
)
from domain.case._supervision import Supervision, SupervisionOrder
from domain.clocks import Deadline
from domain.copying import copy_state
from domain.parties import Party
from domain.status import Status


class Case(Intake, Supervision, Inspection, Ratings, CalendarFacts):
    """A dispute or incident, from registration to closure."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        """The copy a command runs on: its deadlines, parties and orders are value objects and
        shared, its lists, dicts and sets copied (``domain.copying``)."""
        clone: Self = copy_state(self, memo, _VALUE_OBJECTS)
        return clone

    def status_after(
        self, event: CaseState.Event, status: Status, paused_from: Status | None
    ) -> Status:
        return status_after(type(event), status, paused_from)


# frozen dataclasses whose fields are all immutable: a copy of the case shares them
_VALUE_OBJECTS = (Deadline, Party, SupervisionOrder)

# Events that put a case in a status, whatever status it was in.
STATUS_AFTER: Mapping[type[CaseState.Event], Status] = {
    Case.Rejected: Status.REJECTED,
    Case.Paused: Status.PAUSED,
    Case.MediationSessionRecorded: Status.IN_MEDIATION,
    Case.Resolved: Status.RESOLVED,
    Case.Terminated: Status.TERMINATED,
    Case.Referred: Status.REFERRED,
    Case.ReferralDeclined: Status.REOPENED,
    Case.FollowUpRecorded: Status.FOLLOWED_UP,
    Case.Reopened: Status.REOPENED,
    Case.Closed: Status.CLOSED,
}


def status_after(
    event_type: type[CaseState.Event], status: Status, paused_from: Status | None
) -> Status:
    """The status of a case in ``status`` (paused from ``paused_from``) after an event of
    ``event_type``: from the table, except signing (which moves only a registered case) and
    resuming (which returns to the status the pause interrupted)."""
    if issubclass(event_type, Case.Signed):
        return Status.SIGNED if status is Status.REGISTERED else status
    if issubclass(event_type, Case.Resumed):
        return paused_from or Status.SIGNED
    for kind in event_type.__mro__:
        if kind in STATUS_AFTER:
            return STATUS_AFTER[kind]
    return status


__all__ = [
    "STATUS_AFTER",
    "Caller",
    "Case",
    "CaseState",
    "Deadlines",
    "InboundReferral",
    "InspectionSample",
    "Registration",
    "SupervisionOrder",
    "status_after",
    "text",
]
