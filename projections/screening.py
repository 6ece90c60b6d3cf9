"""排查 completion: one row per village and period that has a report or a recorded miss.

A village owes a report every period (``domain.screening``), but only the villages that filed
or were marked missed have a row: the grid of a township or county is the jurisdiction's
villages under it × the periods asked for, each cell read from its row, or — with no row —
as ``missed`` once the period's due time has passed (the scheduler has not got to it yet, or
was down) and ``pending`` before. Statistics are counted the same way, so they match the grid.

The rows hold unit codes, the period, times, counts and the filer's staff id: never the
declaration's text or anything about the people in the clues.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.case import Case
from domain.jurisdiction import Jurisdiction, Unit
from domain.levels import Tier
from domain.screening import Period
from domain.screening_report import FILED, LATE, MISSED, ZERO, ScreeningReport
from projections.closure import add_unit, closure_ddl
from projections.db import Cursor, from_us, to_us
from projections.engine import Batch, View
from projections.events import is_unit_added

OWED = "owed"  # opened, nothing filed or missed yet (never left so by a whole commit)
PENDING = "pending"  # a grid cell: no report, the period not yet due
NOT_OWED = "not_owed"  # a grid cell: the period began before screening did
ON_TIME = (FILED, ZERO)
COLUMNS = (
    "id", "village", "township", "county", "period", "status", "clues", "zero", "late",
    "due_us", "filed_us", "missed_us", "filed_by",
)  # fmt: skip


class ScreeningView(View):
    """The villages' screening reports and misses, with the jurisdiction's closure."""

    name = "screening"
    handles = (ScreeningReport.Opened, ScreeningReport.Filed, ScreeningReport.Missed)
    ignores = (Case.Event,)  # cases are not screening reports

    def create_statements(self) -> list[str]:
        reports = self.t("reports")
        return [
            f"CREATE TABLE IF NOT EXISTS {reports} (id TEXT PRIMARY KEY, village TEXT NOT NULL, "
            "township TEXT NOT NULL, county TEXT NOT NULL, period TEXT NOT NULL, "
            "status TEXT NOT NULL, clues INTEGER NOT NULL, zero INTEGER NOT NULL, "
            "late INTEGER NOT NULL, due_us BIGINT NOT NULL, filed_us BIGINT, missed_us BIGINT, "
            "filed_by TEXT, UNIQUE (village, period))",
            f"CREATE INDEX IF NOT EXISTS {self.db.index('screening_period')} ON {reports} "
            "(period, status)",
            *closure_ddl(self.t("units")),
        ]

    def table_names(self) -> list[str]:
        return ["reports", "units"]

    def process(self, cursor: Cursor, batch: Batch) -> None:
        reports = self.t("reports")
        for _, event in batch:
            if is_unit_added(event):
                add_unit(cursor, self.t("units"), event)
            elif isinstance(event, ScreeningReport.Opened):
                cursor.execute(
                    f"INSERT INTO {reports} ({', '.join(COLUMNS)}) "
                    f"VALUES ({', '.join('?' for _ in COLUMNS)})",
                    (str(event.originator_id), event.village, event.township, event.county,
                     event.period, OWED, 0, 0, 0, to_us(event.due_at), None, None, None),
                )  # fmt: skip
            elif isinstance(event, ScreeningReport.Filed):
                status = LATE if event.late else (ZERO if event.zero else FILED)
                cursor.execute(
                    f"UPDATE {reports} SET status = ?, clues = ?, zero = ?, late = ?, "
                    "filed_us = ?, filed_by = ? WHERE id = ?",
                    (status, len(event.clue_ids), int(event.zero), int(event.late),
                     to_us(event.timestamp), event.actor, str(event.originator_id)),
                )  # fmt: skip
            elif isinstance(event, ScreeningReport.Missed):
                cursor.execute(
                    f"UPDATE {reports} SET status = ?, missed_us = ? WHERE id = ?",
                    (MISSED, to_us(event.timestamp), str(event.originator_id)),
                )


@dataclass(frozen=True)
class ReportRow:
    """A village's report (or miss) for a period, as the view holds it."""

    village: str
    township: str
    county: str
    period: str
    status: str
    clues: int
    zero: bool
    late: bool
    due_at: datetime
    filed_at: datetime | None
    missed_at: datetime | None
    filed_by: str | None


def rows_under(
    view: ScreeningView,
    unit: str,
    periods: Sequence[str] | None = None,
    status: str | None = None,
) -> list[ReportRow]:
    """The rows of the villages in ``unit``'s subtree (of ``periods``, of one ``status``),
    latest period first, then by village."""
    where, params = ["u.ancestor = ?"], [unit]
    if periods is not None:
        if not periods:
            return []
        where.append(f"r.period IN ({', '.join('?' for _ in periods)})")
        params += list(periods)
    if status is not None:
        where.append("r.status = ?")
        params.append(status)
    names = ", ".join(f"r.{c}" for c in COLUMNS[1:])
    sql = (
        f"SELECT {names} FROM {view.t('reports')} r JOIN {view.t('units')} u "
        f"ON u.descendant = r.village WHERE {' AND '.join(where)} "
        "ORDER BY r.period DESC, r.village"
    )
    with view.db.transaction(write=False) as cursor:
        cursor.execute(sql, params)
        return [_row(dict(zip(COLUMNS[1:], found, strict=True))) for found in cursor.fetchall()]


def _row(row: dict[str, Any]) -> ReportRow:
    return ReportRow(
        village=row["village"],
        township=row["township"],
        county=row["county"],
        period=row["period"],
        status=row["status"],
        clues=int(row["clues"]),
        zero=bool(row["zero"]),
        late=bool(row["late"]),
        due_at=from_us(row["due_us"]),
        filed_at=None if row["filed_us"] is None else from_us(row["filed_us"]),
        missed_at=None if row["missed_us"] is None else from_us(row["missed_us"]),
        filed_by=row["filed_by"],
    )


def missed_under(view: ScreeningView, unit: str) -> list[ReportRow]:
    """The township's queue of missing reports: the misses the scheduler recorded for the
    villages under ``unit`` and not filed since, latest period first."""
    return rows_under(view, unit, status=MISSED)


def villages_under(units: Jurisdiction, unit: str) -> list[Unit]:
    """The villages of ``unit``'s subtree (``unit`` itself, if a village), by code."""
    found = [u for u in units.subtree(unit) if u.tier is Tier.VILLAGE]
    return sorted(found, key=lambda u: u.code)


@dataclass(frozen=True)
class Cell:
    """A village's report for a period as the grid shows it."""

    period: str
    state: str  # filed, zero, late, missed, pending, not_owed
    zero: bool
    clues: int
    filed_at: datetime | None


@dataclass(frozen=True)
class GridRow:
    village: str
    name: str
    township: str
    cells: list[Cell]


@dataclass(frozen=True)
class Grid:
    """Villages × periods (oldest period first), with each period's due time."""

    unit: str
    periods: list[str]
    due: list[datetime]
    rows: list[GridRow]


def cell_state(row: ReportRow | None, due_at: datetime, now: datetime, owed: bool) -> str:
    """A row's status; with none, ``missed`` once due, ``pending`` before (``not_owed`` for a
    period that began before screening did)."""
    if row is not None and row.status != OWED:
        return row.status
    if not owed:
        return NOT_OWED
    return MISSED if due_at <= now else PENDING


def completion(
    view: ScreeningView,
    units: Jurisdiction,
    unit: str,
    periods: Sequence[Period],
    now: datetime,
    due_at: Callable[[Period], datetime],
    since: datetime | None = None,
) -> Grid:
    """The completion grid of ``unit``'s villages over ``periods``; periods that began before
    ``since`` are owed nothing."""
    ordered = sorted(periods)
    found = {(r.village, r.period): r for r in rows_under(view, unit, [p.id for p in ordered])}
    dues = [due_at(p) for p in ordered]
    rows = []
    for village in villages_under(units, unit):
        cells = []
        for period, due in zip(ordered, dues, strict=True):
            row = found.get((village.code, period.id))
            owed = since is None or period.start >= since
            state = cell_state(row, due, now, owed)
            cells.append(
                Cell(
                    period=period.id,
                    state=state,
                    zero=bool(row and row.zero),
                    clues=row.clues if row else 0,
                    filed_at=row.filed_at if row else None,
                )
            )
        rows.append(GridRow(village.code, village.name, village.parent or "", cells))
    return Grid(unit, [p.id for p in ordered], dues, rows)


@dataclass(frozen=True)
class Statistics:
    """A unit's screening for one period: how many villages owed a report and what became of
    them (a period begun before screening did is owed by none). ``missing`` counts the villages
    with nothing filed once the period is due (marked by the scheduler or not yet); ``pending``
    those with nothing filed before it is."""

    unit: str
    period: str
    due_at: datetime
    villages: int
    on_time: int
    late: int
    missing: int
    pending: int
    zero: int
    clues: int

    @property
    def on_time_share(self) -> float | None:
        """The share of the villages that filed by the due time (None: no villages)."""
        return None if not self.villages else round(self.on_time / self.villages, 4)


def statistics(
    view: ScreeningView,
    units: Jurisdiction,
    unit: str,
    period: Period,
    now: datetime,
    due_at: Callable[[Period], datetime],
    since: datetime | None = None,
) -> Statistics:
    """``unit``'s screening of ``period``, counted the way the grid reads it."""
    grid = completion(view, units, unit, [period], now, due_at, since)
    states = [row.cells[0] for row in grid.rows]
    count = {state: sum(1 for c in states if c.state == state) for state in (*ON_TIME, LATE)}
    return Statistics(
        unit=unit,
        period=period.id,
        due_at=grid.due[0],
        villages=sum(1 for c in states if c.state != NOT_OWED),
        on_time=count[FILED] + count[ZERO],
        late=count[LATE],
        missing=sum(1 for c in states if c.state == MISSED),
        pending=sum(1 for c in states if c.state == PENDING),
        zero=sum(1 for c in states if c.zero),
        clues=sum(c.clues for c in states),
    )
