"""Exporting the event log as an audit file: filtered, masked, streamed, hash-chained.

The log is read in batches and written as it is read, so memory stays flat however many
events an export holds. Personal data in payloads is masked (parties', and staff members'
phones). Deployment-wide events (mode switches, policy adoptions, jurisdiction changes, the
staff directory) go into every export without a case filter; the receipts of idempotent
requests go into none.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from domain.access import AccessRecord
from domain.calendar import SHANGHAI
from domain.case import Case
from domain.directory import Directory
from domain.jurisdiction import Jurisdiction
from domain.parties import Party, mask_digits, masked
from domain.receipt import CommandReceipt
from domain.tree_head import Head
from projections.audit_trail import ChainWriter
from projections.cases import CasesView
from projections.leaf import digest_of_record
from projections.plain_events import PlainDecoder, PlainEvent, plain

BATCH = 1000
_BASE_FIELDS = {
    "originator_id",
    "originator_version",
    "timestamp",
    "originator_topic",
    "actor",
    "role",
}


class Tree(Protocol):
    """The Merkle tree over the log, as an export reads its proofs (``projections.merkle``)."""

    def indexes_of(self, positions: Sequence[int]) -> dict[int, int]: ...

    def inclusion_proofs(self, indexes: Sequence[int], size: int) -> dict[int, list[bytes]]: ...


@dataclass(frozen=True)
class TreeProofs:
    """Where an export's records are proven: the tree, and the size of the signed head."""

    tree: Tree
    size: int

    def fields(self, notifications: Sequence[Notification]) -> dict[int, dict[str, Any]]:
        """Each record's tree fields by position: its topic, the SHA-256 of its state as
        stored, its leaf index and its inclusion proof in the tree of ``size`` leaves."""
        indexes = self.tree.indexes_of([n.id for n in notifications])
        missing = [n.id for n in notifications if indexes.get(n.id, self.size) >= self.size]
        if missing:
            raise LookupError(f"positions {missing[:5]} are not in the tree of {self.size}")
        proofs = self.tree.inclusion_proofs([indexes[n.id] for n in notifications], self.size)
        return {
            n.id: {
                "topic": n.topic,
                "stored_sha256": hashlib.sha256(bytes(n.state)).hexdigest(),
                "tree_index": indexes[n.id],
                "proof": [node.hex() for node in proofs[indexes[n.id]]],
            }
            for n in notifications
        }


@dataclass(frozen=True)
class ExportFilter:
    unit: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    case_id: UUID | None = None

    def describe(self) -> dict[str, str | None]:
        return {
            "unit": self.unit,
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            "case": str(self.case_id) if self.case_id else None,
        }


def case_units(cases: CasesView, root: str | None, case_id: UUID | None) -> dict[str, str]:
    """The cases in scope, each with its location unit."""
    sql = f"SELECT c.id, c.unit FROM {cases.t('cases')} c"
    params: tuple[Any, ...] = ()
    if case_id is not None:
        sql += " WHERE c.id = ?"
        params = (str(case_id),)
    elif root is not None:
        sql += f" JOIN {cases.t('units')} u ON u.descendant = c.unit WHERE u.ancestor = ?"
        params = (root,)
    with cases.db.transaction(write=False) as cursor:
        cursor.execute(sql, params)
        return {str(row[0]): str(row[1]) for row in cursor.fetchall()}


def export_log(
    app: Application[Any],
    cases: CasesView,
    units: Jurisdiction,
    writer: ChainWriter,
    scope: ExportFilter,
    progress: Callable[[int], None] | None = None,
    until: int | None = None,
    proofs: TreeProofs | None = None,
) -> int:
    """Writes every event in scope up to log position ``until``; returns how many."""
    for read in export_batches(app, cases, units, writer, scope, until, proofs):
        if progress is not None:
            progress(read)
    return writer.count


def export_batches(
    app: Application[Any],
    cases: CasesView,
    units: Jurisdiction,
    writer: ChainWriter,
    scope: ExportFilter,
    until: int | None = None,
    proofs: TreeProofs | None = None,
) -> Iterator[int]:
    """Writes the events in scope batch by batch, yielding after each batch how many log
    positions it read, so a caller can stream what was written so far.

    The export is the log up to position ``until`` (default: the log's head as it starts),
    which the cases view must have reached: a case registered later is not in the view's
    scope, so its events would otherwise be left out of a file that claims to be complete.
    With ``proofs`` each record carries its tree fields (the tree must hold ``until``)."""
    last = (app.recorder.max_notification_id() or 0) if until is None else until
    in_scope = case_units(cases, scope.unit, scope.case_id)
    decoder = PlainDecoder(app.mapper)
    start = 1
    while start <= last:
        batch = app.recorder.select_notifications(start=start, limit=BATCH, stop=last)
        if not batch:
            return
        chosen: list[tuple[Notification, dict[str, Any]]] = []
        for notification in batch:
            event = decoder.decode(notification)
            unit = _unit_of(event, in_scope, units, scope)
            if unit is not None and _in_period(event.timestamp, scope):
                chosen.append((notification, plain_record(notification.id, event, unit)))
        tree = {} if proofs is None else proofs.fields([n for n, _ in chosen])
        for notification, record in chosen:
            writer.write({**record, **tree.get(notification.id, {})})
        start = batch[-1].id + 1
        yield len(batch)


def _unit_of(
    event: PlainEvent, in_scope: dict[str, str], units: Jurisdiction, scope: ExportFilter
) -> str | None:
    """The unit a record is filed under, or None when the event is out of scope."""
    if issubclass(event.kind, Case.Event):
        return in_scope.get(event.originator_id)
    if issubclass(event.kind, AccessRecord.Recorded):
        case_id, unit = event.state.get("case_id"), event.state.get("unit")
        if case_id is not None:
            return unit if case_id in in_scope else None
        within = scope.unit is None or (
            isinstance(unit, str) and unit in units and units.is_within(unit, scope.unit)
        )
        return unit if within and scope.case_id is None else None
    if issubclass(event.kind, CommandReceipt.Issued):
        return None  # what a request was answered: the case's own events are the record
    return "" if scope.case_id is None else None  # deployment-wide events


def _in_period(moment: datetime, scope: ExportFilter) -> bool:
    return (scope.start is None or moment >= scope.start) and (
        scope.end is None or moment < scope.end
    )


def export_digest(position: int, event: PlainEvent) -> bytes:
    """The digest of the record an export makes of ``event`` (masked), without the fields that
    depend on the export: the leaf's commitment to what an export shows
    (``projections.leaf``). Masking is part of the leaf format: change it, change the format."""
    return digest_of_record(plain_record(position, event, ""))


def record_of(position: int, event: Any, unit: str) -> dict[str, Any]:
    """One audit record of a decoded event (see ``plain_record``)."""
    return plain_record(position, PlainEvent.of(event), unit)


def plain_record(position: int, event: PlainEvent, unit: str) -> dict[str, Any]:
    """One audit record (without seq, the tree and the chain fields, which the exporter and
    the writer add): the payload is the state but for the base fields, masked."""
    state = event.state
    payload = {k: v for k, v in state.items() if k not in _BASE_FIELDS}
    if "parties" in payload:
        payload["parties"] = [_party_masked(party) for party in payload["parties"]]
    if issubclass(event.kind, Directory.Enrolled):
        payload["people"] = [_staff_masked(person) for person in payload["people"]]
    if issubclass(event.kind, Directory.Updated):
        payload["member"] = _staff_masked(payload["member"])
    return {
        "position": position,
        "case_id": event.originator_id,
        "case_version": event.originator_version,
        "event_type": event.kind.__qualname__,
        "at_utc": state["timestamp"],  # the time's ISO text, as stored
        "at_local": event.timestamp.astimezone(SHANGHAI).isoformat(),
        "actor": str(state.get("actor", "")),
        "role": str(state.get("role", "")),
        "unit": unit,
        "payload": payload,
    }


def _party_masked(party: dict[str, Any]) -> Any:
    """A party (in its plain form) as the export shows them: masked by the domain's own rule."""
    return plain(masked(Party.from_dict(party)))


def _staff_masked(member: dict[str, Any]) -> dict[str, Any]:
    """A member of staff as the export shows them: their phone masked like a party's."""
    return dict(sorted({**member, "phone": mask_digits(member.get("phone"))}.items()))


def manifest_fields(
    scope: ExportFilter, started: datetime, user: str, head: Head | None
) -> dict[str, Any]:
    """What an export states in its manifest besides the counts the writer adds: its filter,
    when and by whom, and the signed head its records are proven in (with its key's id)."""
    fields: dict[str, Any] = {
        "filter": scope.describe(),
        "generated_at": started.isoformat(),
        "generated_by": user,
    }
    if head is not None:
        fields["head"] = {
            "size": head.size,
            "root": head.root,
            "signed_at": head.signed_at,
            "key_id": head.key_id,
            "signature": head.signature,
        }
        fields["public_key_id"] = head.key_id
    return fields


def seal_details(summary: dict[str, Any], export_position: int) -> dict[str, Any]:
    """What the export's second access record (``export_sealed``) keeps of the file it wrote:
    its final hash, how many records, the signed head's size, and which export it seals."""
    head = summary.get("head")
    return {
        "export_position": export_position,
        "final_hash": summary["final_hash"],
        "count": summary["count"],
        "head_size": head["size"] if isinstance(head, dict) else None,
    }
