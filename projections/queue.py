"""Queries over the cases view: the escalation queue and the case list."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from projections.cases import COLUMNS, CasesView
from projections.db import from_us


@dataclass(frozen=True)
class QueueItem:
    """One open case in a queue; ``overdue`` and ``seconds_to_breach`` are as of ``now``."""

    id: UUID
    kind: str
    level: str
    tier: str
    owner: str
    unit: str
    status: str
    summary: str
    category: str
    assignee: str | None
    awaiting_signature: bool
    due_at: datetime | None
    due_kind: str | None
    overdue: bool
    seconds_to_breach: int | None
    flags: tuple[str, ...]
    version: int
    number: str = ""
    level_cause: str = "registered"  # why it has its level (``domain.status.LevelCause``)
    repeat: bool = False  # registered as a repeat of earlier cases (重复纠纷)
    key_person: bool = False  # registered with a key person among its parties (重点人员)


@dataclass(frozen=True)
class CaseFilter:
    """Filters of the case list; ``unit`` selects the location subtree."""

    unit: str
    status: str | None = None
    level: str | None = None
    kind: str | None = None
    category: str | None = None
    assignee: str | None = None
    text: str | None = None
    limit: int = 50
    offset: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


# The queue's order: red → orange → yellow, then the nearest deadline (none last), then
# registration.
QUEUE_ORDER = (
    "c.level_rank DESC, CASE WHEN c.next_due_us IS NULL THEN 1 ELSE 0 END, c.next_due_us, "
    "c.registered_us, c.id"
)


def get_queue(
    view: CasesView, unit: str, now: datetime, limit: int = 200, offset: int = 0
) -> list[QueueItem]:
    """Open cases owned in ``unit``'s subtree: red → orange → yellow, then nearest deadline."""
    names = ", ".join(f"c.{c}" for c in COLUMNS)
    sql = (
        f"SELECT {names} FROM {view.t('cases')} c "
        f"JOIN {view.t('units')} u ON u.descendant = c.owner "
        f"WHERE u.ancestor = ? AND c.is_open = 1 ORDER BY {QUEUE_ORDER} LIMIT ? OFFSET ?"
    )
    return _items(view, sql, (unit, limit, offset), now)


def _items(view: CasesView, sql: str, params: tuple[Any, ...], now: datetime) -> list[QueueItem]:
    """The queue items a query over the cases view (selecting ``COLUMNS``) finds."""
    with view.db.transaction(write=False) as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [queue_item(dict(zip(COLUMNS, r, strict=True)), now) for r in rows]


def list_cases(view: CasesView, query: CaseFilter, now: datetime) -> list[QueueItem]:
    """The case list of a location subtree, newest first, with optional filters."""
    names = ", ".join(f"c.{c}" for c in COLUMNS)
    where = ["u.ancestor = ?"]
    params: list[Any] = [query.unit]
    for column in ("status", "level", "kind", "category", "assignee"):
        value = getattr(query, column)
        if value is not None:
            where.append(f"c.{column} = ?")
            params.append(value)
    if query.text:  # in the summary, or in the case number (第0012号, or all of it)
        pattern = f"%{escape_like(query.text)}%"
        where.append(
            f"(c.summary LIKE ? ESCAPE '{LIKE_ESCAPE}' OR c.number LIKE ? ESCAPE '{LIKE_ESCAPE}')"
        )
        params += [pattern, pattern]
    sql = (
        f"SELECT {names} FROM {view.t('cases')} c "
        f"JOIN {view.t('units')} u ON u.descendant = c.unit WHERE {' AND '.join(where)} "
        "ORDER BY c.registered_us DESC, c.id LIMIT ? OFFSET ?"
    )
    return _items(view, sql, (*params, query.limit, query.offset), now)


def assigned_to(
    view: CasesView, user: str, now: datetime, limit: int = 200, offset: int = 0
) -> list[QueueItem]:
    """The open cases assigned to ``user``, in queue order (a disabled member's, for their
    supervisor to reassign)."""
    names = ", ".join(f"c.{c}" for c in COLUMNS)
    sql = (
        f"SELECT {names} FROM {view.t('cases')} c WHERE c.assignee = ? AND c.is_open = 1 "
        f"ORDER BY {QUEUE_ORDER} LIMIT ? OFFSET ?"
    )
    return _items(view, sql, (user, limit, offset), now)


def open_assigned(view: CasesView) -> dict[str, int]:
    """How many open cases each assignee has (members with none are absent)."""
    sql = (
        f"SELECT assignee, count(*) FROM {view.t('cases')} "
        "WHERE is_open = 1 AND assignee IS NOT NULL GROUP BY assignee"
    )
    with view.db.transaction(write=False) as cursor:
        cursor.execute(sql)
        return {str(row[0]): int(row[1]) for row in cursor.fetchall()}


# LIKE's own escape: SQLite has none unless the statement names one, and PostgreSQL's default
# (a backslash) is only implied, so the statement names it for both.
LIKE_ESCAPE = "\\"


def escape_like(text: str) -> str:
    """``text`` as a LIKE pattern matching itself: ``%`` and ``_`` are literal characters in a
    search (``q=%`` finds a percent sign, not every case), and so is the escape character."""
    return (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )


def queue_item(row: dict[str, Any], now: datetime) -> QueueItem:
    """A cases-view row (``projections.cases.COLUMNS``) as a queue item as of ``now``."""
    due = from_us(row["next_due_us"]) if row["next_due_us"] is not None else None
    return QueueItem(
        id=UUID(row["id"]),
        kind=row["kind"],
        level=row["level"],
        tier=row["tier"],
        owner=row["owner"],
        unit=row["unit"],
        status=row["status"],
        summary=row["summary"],
        category=row["category"],
        assignee=row["assignee"],
        awaiting_signature=bool(row["awaiting_signature"]),
        due_at=due,
        due_kind=row["next_due_kind"],
        overdue=due is not None and now >= due,
        seconds_to_breach=int((due - now).total_seconds()) if due is not None else None,
        flags=tuple(f for f in row["flags"].split(",") if f),
        version=row["version"],
        number=row["number"],
        level_cause=row["level_cause"],
        repeat=bool(row["is_repeat"]),
        key_person=bool(row["key_person"]),
    )


def unnumbered(view: CasesView) -> list[UUID]:
    """Cases registered before cases were numbered, in registration order."""
    with view.db.transaction(write=False) as cursor:
        cursor.execute(
            f"SELECT id FROM {view.t('cases')} WHERE number = '' ORDER BY registered_us, id"
        )
        return [UUID(str(row[0])) for row in cursor.fetchall()]
