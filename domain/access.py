"""Access to the record is itself on the record: every export, every unmasking of personal
data and every download of an attachment is an event (who, what filter or case, when, why),
and shows in later exports.

One small aggregate per access: nothing contends, and nothing a reader does changes a case's
version (so a read never makes someone else's If-Match stale).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import InvalidInputError

# A download needs no reason (reading the case file is the reader's work), but is recorded:
# an attachment may show a party's face, ID card or signature. A ledger (台账) export is
# recorded with its filter: it lists every case of a subtree and period, parties included.
# An audit export is recorded twice: as it starts (``export``: the file is the log up to that
# record) and once the file is written whole (``export_sealed``: its final hash, its count and
# the signed head's size in ``filter``), so the log keeps what the genuine file ends with.
ACCESS_KINDS = ("export", "unmask", "download", "ledger", "export_sealed")


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
