"""Exporting the event log as an audit file: filtered, masked, streamed, hash-chained.

The log is read in batches and written as it is read, so memory stays flat however many
events an export holds. Personal data in payloads is masked (parties', and staff members'
phones). Deployment-wide events (mode switches, policy adoptions, jurisdiction changes, the
staff directory) go into every export without a case filter; the receipts of idempotent
requests go into none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.application import Application

from domain.access import AccessRecord
from domain.calendar import SHANGHAI
from domain.case import Case
from domain.directory import Directory
from domain.jurisdiction import Jurisdiction
from domain.parties import mask_digits, masked
from domain.receipt import CommandReceipt
from projections.audit_trail import ChainWriter
from projections.cases import CasesView

BATCH = 1000
_BASE_FIELDS = {
    "originator_id",
    "originator_version",
    "timestamp",
    "originator_topic",
    "actor",
    "role",
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
) -> int:
    """Writes every event in scope up to log position ``until``; returns how many."""
    for read in export_batches(app, cases, units, writer, scope, until):
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
) -> Iterator[int]:
    """Writes the events in scope batch by batch, yielding after each batch how many log
    positions it read, so a caller can stream what was written so far.

    The export is the log up to position ``until`` (default: the log's head as it starts),
    which the cases view must have reached: a case registered later is not in the view's
    scope, so its events would otherwise be left out of a file that claims to be complete."""
    last = (app.recorder.max_notification_id() or 0) if until is None else until
    in_scope = case_units(cases, scope.unit, scope.case_id)
    start = 1
    while start <= last:
        batch = app.recorder.select_notifications(start=start, limit=BATCH, stop=last)
        if not batch:
            return
        for notification in batch:
            event: Any = app.mapper.to_domain_event(notification)
            unit = _unit_of(event, in_scope, units, scope)
            if unit is not None and _in_period(event.timestamp, scope):
                writer.write(record_of(notification.id, event, unit))
        start = batch[-1].id + 1
        yield len(batch)


def _unit_of(
    event: Any, in_scope: dict[str, str], units: Jurisdiction, scope: ExportFilter
) -> str | None:
    """The unit a record is filed under, or None when the event is out of scope."""
    if isinstance(event, Case.Event):
        return in_scope.get(str(event.originator_id))
    if isinstance(event, AccessRecord.Recorded):
        if event.case_id is not None:
            return event.unit if event.case_id in in_scope else None
        within = scope.unit is None or (
            event.unit in units and units.is_within(event.unit, scope.unit)
        )
        return event.unit if within and scope.case_id is None else None
    if isinstance(event, CommandReceipt.Issued):
        return None  # what a request was answered: the case's own events are the record
    return "" if scope.case_id is None else None  # deployment-wide events


def _in_period(moment: datetime, scope: ExportFilter) -> bool:
    return (scope.start is None or moment >= scope.start) and (
        scope.end is None or moment < scope.end
    )


def record_of(position: int, event: Any, unit: str) -> dict[str, Any]:
    """One audit record (without seq and the chain fields, which the writer adds)."""
    payload = {k: v for k, v in vars(event).items() if k not in _BASE_FIELDS}
    if "parties" in payload:
        payload["parties"] = [masked(p) for p in payload["parties"]]
    if isinstance(event, Directory.Enrolled):
        payload["people"] = [_staff_masked(person) for person in payload["people"]]
    if isinstance(event, Directory.Updated):
        payload["member"] = _staff_masked(payload["member"])
    return {
        "position": position,
        "case_id": str(event.originator_id),
        "case_version": event.originator_version,
        "event_type": type(event).__qualname__,
        "at_utc": event.timestamp.isoformat(),
        "at_local": event.timestamp.astimezone(SHANGHAI).isoformat(),
        "actor": str(getattr(event, "actor", "")),
        "role": str(getattr(event, "role", "")),
        "unit": unit,
        "payload": _plain(dict(sorted(payload.items()))),
    }


def _staff_masked(member: dict[str, Any]) -> dict[str, Any]:
    """A member of staff as the export shows them: their phone masked like a party's."""
    return {**member, "phone": mask_digits(member.get("phone"))}


def _plain(value: Any) -> Any:
    """JSON-ready: times as ISO text, amounts as strings, enums as their values, value
    objects (deadlines, parties) as the mappings they are stored as."""
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value
