"""What a case's documents are filled in from: the case as it stands, and the events that
recorded each session, agreement, follow-up visit and 司法确认 request.

The aggregate keeps what its rules need (how many sessions, the current outcome), not what was
said at each session: that is in the events, which are the record. They are read here, oldest
first, replaying the case alongside so that each record knows the unit that owned the case
when it was made (the 人民调解委员会 that held a session is the owner's, then).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.case import Case
from domain.dispute import Dispute
from domain.status import Outcome


@dataclass(frozen=True)
class Session:
    """One mediation session (调解), as recorded."""

    held_at: datetime
    notes: str
    attendees: tuple[str, ...]
    recorded_by: str
    recorded_at: datetime
    owner: str


@dataclass(frozen=True)
class Agreement:
    """The agreement in force (化解): the last ``Resolved``, unless reopened since."""

    text: str
    form: str
    amount: Decimal | None
    performance_due: str | None
    resolved_at: datetime
    mediator: str
    owner: str


@dataclass(frozen=True)
class FollowUp:
    """One follow-up visit (回访) after an outcome."""

    at: datetime
    by: str
    satisfied: bool
    agreement_honoured: bool | None
    note: str
    outcome: str | None  # the outcome it followed up: resolved, terminated or referred
    owner: str


@dataclass(frozen=True)
class JudicialRequest:
    """The parties' request to a court to confirm the agreement (司法确认), and its ruling."""

    court: str
    requested_at: datetime
    confirmed: bool | None = None
    ruling: str = ""


@dataclass(frozen=True)
class CaseFile:
    case: Case
    registered_by: str  # who recorded the registration (a hotline operator, for a caller)
    registered_owner: str  # the unit that took the case in
    sessions: tuple[Session, ...]
    agreement: Agreement | None
    follow_ups: tuple[FollowUp, ...]
    judicial: JudicialRequest | None

    @property
    def is_dispute(self) -> bool:
        return isinstance(self.case, Dispute)


def read_case_file(case: Case, events: Iterable[Any]) -> CaseFile:
    """The case file of ``case`` from its stored events (up to its version, oldest first)."""
    replayed: Any = None
    owner = registered_by = registered_owner = ""
    sessions: list[Session] = []
    follow_ups: list[FollowUp] = []
    agreement: Agreement | None = None
    judicial: JudicialRequest | None = None
    for event in events:
        outcome_before = None if replayed is None else replayed.outcome
        replayed = event.mutate(replayed)
        owner = replayed.owner
        if isinstance(event, Case.Registered):
            registered_by, registered_owner = event.recorded_by, event.owner
        elif isinstance(event, Case.MediationSessionRecorded):
            attendees = tuple(event.attendees)
            sessions.append(
                Session(event.held_at, event.notes, attendees, event.actor, event.timestamp, owner)
            )
        elif isinstance(event, Case.Resolved):
            agreement = Agreement(
                event.agreement,
                event.form,
                event.amount,
                event.performance_due,
                event.timestamp,
                event.actor,
                owner,
            )
        elif isinstance(event, Case.Reopened):
            agreement, judicial = None, None  # no longer the outcome; nor its 司法确认
        elif isinstance(event, Case.FollowUpRecorded):
            outcome = outcome_before.value if isinstance(outcome_before, Outcome) else None
            follow_ups.append(
                FollowUp(
                    event.timestamp,
                    event.actor,
                    event.satisfied,
                    event.agreement_honoured,
                    event.note,
                    outcome,
                    owner,
                )
            )
        elif isinstance(event, Dispute.JudicialConfirmationRequested):
            judicial = JudicialRequest(event.court, event.timestamp)
        elif isinstance(event, Dispute.JudicialConfirmationRecorded) and judicial is not None:
            judicial = JudicialRequest(
                judicial.court, judicial.requested_at, event.confirmed, event.note
            )
    return CaseFile(
        case,
        registered_by,
        registered_owner or case.owner,
        tuple(sessions),
        agreement,
        tuple(follow_ups),
        judicial,
    )
