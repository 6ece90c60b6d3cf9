"""督查回访 over the cases view: what a township's monthly draw is drawn from, and the
inspectors' list of sampled cases with their callbacks' due times and state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from domain.status import Status
from projections.cases import INSPECTION_COLUMNS, CasesView
from projections.db import from_us, to_us

# A callback's state as of a time: not yet due, due and not recorded, recorded by its due
# time, recorded after it.
State = Literal["pending", "overdue", "done", "done_late"]
PENDING: State = "pending"
OVERDUE: State = "overdue"
DONE: State = "done"
DONE_LATE: State = "done_late"
STATES: tuple[State, ...] = (PENDING, OVERDUE, DONE, DONE_LATE)
_CASE_COLUMNS = ("number", "kind", "category", "summary", "level", "owner", "status")
# an item's fields as the row holds them, and its yes/no answers by column
_AS_STORED = (*_CASE_COLUMNS, "unit", "township", "month", "draw")
_YES_NO = {
    "reached": "reached",
    "satisfied": "satisfied",
    "agreement_honoured": "honoured",
    "rework": "rework",
}


def closed_in(view: CasesView, township: str, start: datetime, end: datetime) -> list[UUID]:
    """The cases located in ``township``'s subtree, closed now, whose last closing fell in
    ``[start, end)``: what its draw for that month is drawn from, in id order."""
    sql = (
        f"SELECT c.id FROM {view.t('cases')} c JOIN {view.t('units')} u "
        "ON u.descendant = c.unit WHERE u.ancestor = ? AND c.status = ? "
        "AND c.closed_us >= ? AND c.closed_us < ? ORDER BY c.id"
    )
    with view.db.transaction(write=False) as cursor:
        cursor.execute(sql, (township, Status.CLOSED.value, to_us(start), to_us(end)))
        return [UUID(str(row[0])) for row in cursor.fetchall()]


@dataclass(frozen=True)
class InspectionItem:
    """One sampled case in the inspectors' list; ``state`` as of the time asked."""

    case_id: UUID
    number: str
    kind: str
    category: str
    summary: str
    level: str
    owner: str
    status: str
    unit: str
    township: str
    month: str
    draw: str
    sampled_at: datetime
    due_at: datetime
    state: State
    recorded_at: datetime | None
    inspector: str | None
    reached: bool | None
    satisfied: bool | None
    agreement_honoured: bool | None
    rework: bool | None


def list_inspections(
    view: CasesView,
    unit: str,
    now: datetime,
    state: State | None = None,
    month: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[InspectionItem]:
    """The sampled cases located in ``unit``'s subtree: those awaiting their callback first
    (soonest due first), then those called back (latest first); optionally of one ``state``
    as of ``now`` or one draw ``month``."""
    where = ["u.ancestor = ?"]
    params: list[Any] = [unit]
    at = to_us(now)
    conditions = {
        PENDING: "i.recorded_us IS NULL AND i.due_us > ?",
        OVERDUE: "i.recorded_us IS NULL AND i.due_us <= ?",
        DONE: "i.recorded_us IS NOT NULL AND i.recorded_us <= i.due_us",
        DONE_LATE: "i.recorded_us IS NOT NULL AND i.recorded_us > i.due_us",
    }
    if state is not None:
        where.append(conditions[state])
        params += [at] if state in (PENDING, OVERDUE) else []
    if month is not None:
        where.append("i.month = ?")
        params.append(month)
    names = ", ".join([*(f"i.{c}" for c in INSPECTION_COLUMNS), *(f"c.{c}" for c in _CASE_COLUMNS)])
    sql = (
        f"SELECT {names} FROM {view.t('inspections')} i "
        f"JOIN {view.t('units')} u ON u.descendant = i.unit "
        f"JOIN {view.t('cases')} c ON c.id = i.case_id WHERE {' AND '.join(where)} "
        "ORDER BY CASE WHEN i.recorded_us IS NULL THEN 0 ELSE 1 END, "
        "CASE WHEN i.recorded_us IS NULL THEN i.due_us ELSE -i.recorded_us END, i.case_id "
        "LIMIT ? OFFSET ?"
    )
    with view.db.transaction(write=False) as cursor:
        cursor.execute(sql, (*params, limit, offset))
        rows = cursor.fetchall()
    columns = (*INSPECTION_COLUMNS, *_CASE_COLUMNS)
    return [_item(dict(zip(columns, r, strict=True)), at) for r in rows]


def _item(row: dict[str, Any], at: int) -> InspectionItem:
    recorded = row["recorded_us"]
    state: State
    if recorded is None:
        state = OVERDUE if row["due_us"] <= at else PENDING
    else:
        state = DONE if recorded <= row["due_us"] else DONE_LATE
    fields: dict[str, Any] = {name: row[name] for name in _AS_STORED}
    fields.update({name: _bool(row[column]) for name, column in _YES_NO.items()})
    return InspectionItem(
        case_id=UUID(row["case_id"]),
        sampled_at=from_us(row["sampled_us"]),
        due_at=from_us(row["due_us"]),
        state=state,
        recorded_at=from_us(recorded) if recorded is not None else None,
        inspector=row["inspector"],
        **fields,
    )


def _bool(value: Any) -> bool | None:
    return None if value is None else bool(value)
