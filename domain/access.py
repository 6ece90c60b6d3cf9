"""Access to the record is itself on the record: every export and every unmasking of personal
data is an event (who, what filter or case, when, why), and shows in later exports.

One small aggregate per access: nothing contends, and nothing a reader does changes a case's
version (so a read never makes someone else's If-Match stale).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import InvalidInputError

ACCESS_KINDS = ("export", "unmask")


class AccessRecord(Aggregate):
    class Recorded(Aggregate.Created):
        kind: str
        actor: str
        role: str
        unit: str
        case_id: str | None
        filter: dict[str, Any]
        reason: str

    def __init__(
        self,
        kind: str,
        actor: str,
        role: str,
        unit: str,
        case_id: str | None,
        filter: dict[str, Any],  # noqa: A002 - the stored field's name
        reason: str,
    ) -> None:
        self.kind = kind
        self.actor = actor
        self.role = role
        self.unit = unit
        self.case_id = case_id
        self.filter = filter
        self.reason = reason

    @classmethod
    def record(
        cls,
        record_id: UUID,
        at: datetime,
        kind: str,
        actor: str,
        role: str,
        unit: str,
        case_id: str | None,
        filter: dict[str, Any],  # noqa: A002
        reason: str,
    ) -> AccessRecord:
        if kind not in ACCESS_KINDS:
            raise InvalidInputError("kind", f"must be one of {', '.join(ACCESS_KINDS)}")
        if kind == "unmask" and not reason.strip():
            raise InvalidInputError("reason", "unmasking personal data needs a reason")
        return cls._create(
            cls.Recorded, id=record_id, timestamp=at, kind=kind, actor=actor, role=role,
            unit=unit, case_id=case_id, filter=filter, reason=reason.strip(),
        )  # fmt: skip
