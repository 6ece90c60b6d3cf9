"""The receipt of a request sent with an idempotency key: what it was answered, kept with the
command's own events.

A client that does not hear back (a timeout, a dropped connection, a crash of the server
between the write and the answer) sends the same request again with the same key. The first
attempt either committed or it did not; there is no third state to strand. So the receipt is
saved in the same transaction as the events it answers for — one ``save()`` of the case and
the receipt — and its id derives from the caller and the key, so two copies of one request
racing each other meet at the store's uniqueness (the second insert fails and finds the
first's receipt) instead of waiting on a reservation.

A refusal the case decided (a 409 or 422) is kept too, on its own: it recorded nothing, and
the same request sent again is told the same thing, even after the case has moved on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

# uuid5 namespace of receipt ids; fixed forever, since stored receipts are found by it
RECEIPT_NAMESPACE = UUID("5b0f3b1e-2d4c-5e8a-9f61-7c2a1d0e4b93")


class Outcome(Enum):
    """What the first attempt came to."""

    REGISTERED = "registered"  # a new case
    RECORDED = "recorded"  # a command on an existing case
    REFUSED = "refused"  # the case refused the command; nothing was recorded


@dataclass(frozen=True)
class RequestKey:
    """Who sent a request under which key, and a fingerprint of what exactly they sent (a
    resend must be the same request: the same key with another body is a client's bug)."""

    caller: str
    key: str
    fingerprint: str

    @property
    def receipt_id(self) -> UUID:
        return uuid5(RECEIPT_NAMESPACE, f"{self.caller}\x1f{self.key}")


class CommandReceipt(Aggregate):
    """One per (caller, key); created once, never changed."""

    class Issued(Aggregate.Created):
        fingerprint: str
        outcome: str
        case_id: UUID | None
        case_version: int | None
        refusal: dict[str, Any] | None

    def __init__(
        self,
        fingerprint: str,
        outcome: str,
        case_id: UUID | None,
        case_version: int | None,
        refusal: dict[str, Any] | None,
    ) -> None:
        self.fingerprint = fingerprint
        self.outcome = Outcome(outcome)
        self.case_id = case_id
        self.case_version = case_version
        self.refusal = refusal

    @classmethod
    def issue(
        cls,
        key: RequestKey,
        at: datetime,
        outcome: Outcome,
        case_id: UUID | None,
        case_version: int | None = None,
        refusal: dict[str, Any] | None = None,
    ) -> CommandReceipt:
        return cls._create(
            cls.Issued, id=key.receipt_id, timestamp=at, fingerprint=key.fingerprint,
            outcome=outcome.value, case_id=case_id, case_version=case_version, refusal=refusal,
        )  # fmt: skip

    @property
    def answered_at(self) -> datetime:
        """When the first attempt ran: a resend is answered as of then."""
        created: datetime = self.created_on
        return created

    def answers(self, key: RequestKey) -> bool:
        """Whether this receipt is for the same request (not just the same key)."""
        return self.fingerprint == key.fingerprint
