"""Statistics per unit subtree and period: the facts the numbers are counted from.

The view keeps three kinds of rows, each tagged with the case's location unit so a subtree is
one join with the unit closure table:

- ``cases``: one row per case with what is fixed at registration (kind, category, channel,
  level) and what accumulates (first escalation, ever owned at county tier, a resolve-deadline
  breach so far) plus the case's current sign-for and resolve clocks;
- ``marks``: one row per event a statistic counts (outcomes, ratings, reopenings,
  escalations), with the time it happened and what was true of the case then;
- ``clocks``: each sign-for and resolve clock as an interval, from the event that introduced
  it to the event that removed or replaced it, so "overdue at the end of a period" can be
  answered for any past period.

The answers' types are here; the queries are in ``projections.stats_queries``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.case import Case
from domain.clocks import Deadline
from domain.dispute import Dispute
from domain.status import Grade
from projections.closure import add_unit, closure_ddl
from projections.db import Cursor, to_us
from projections.engine import Batch, View
from projections.events import (
    CLOCK_EVENTS,
    QUEUE_CLOCKS,
    is_case_event,
    is_unit_added,
    kind_of,
    lookup,
)
from projections.rows import RowBatch

CASE_COLUMNS = (
    "id", "unit", "kind", "category", "channel", "level", "registered_us", "tier",
    "escalated_us", "county", "breached",
    "sign_seq", "sign_due_us", "sign_started_us", "sign_from_us",
    "resolve_seq", "resolve_due_us", "resolve_started_us", "resolve_from_us",
)  # fmt: skip
MARK_COLUMNS = (
    "case_id", "seq", "unit", "kind", "at_us", "village", "breached", "good", "registered_us",
)  # fmt: skip
CLOCK_COLUMNS = ("case_id", "kind", "seq", "unit", "due_us", "start_us", "stop_us")

OUTCOMES = ("resolved", "terminated", "referred")
GOOD_GRADES = frozenset({Grade.VERY_SATISFIED, Grade.SATISFIED, Grade.BASICALLY_SATISFIED})
COUNTY = "county"
VILLAGE = "village"

Row = dict[str, Any]

# The events a statistic counts, with the kind of mark each leaves.
_MARKS: Mapping[type, str] = {
    Case.Resolved: "resolved",
    Case.Terminated: "terminated",
    Case.Referred: "referred",
    Case.Rated: "rated",
    Case.Reopened: "reopened",
    Case.Escalated: "escalated",
}


@dataclass(frozen=True)
class Statistics:
    """The statistics of one subtree and period [start, end). Case counts are of
    distinct cases; a rate is ``None`` when its denominator is 0."""

    registered: int  # cases registered in the period
    registered_by_level: dict[str, int]  # by the level at registration
    by_kind: dict[str, int]
    by_category: dict[str, int]
    by_channel: dict[str, int]
    resolved: int  # cases with a Resolved event in the period
    terminated: int
    referred: int
    resolution_rate: float | None  # resolved / (resolved + terminated)
    local_resolution_rate: float | None  # resolved while a village owned it / resolved
    escalation_rate: float | None  # registered ones ever Escalated (any cause) / registered
    county_share: float | None  # registered ones ever owned at county tier / registered
    on_time_rate: float | None  # concluded with no resolve-deadline breach / concluded
    overdue_open: int  # open with a sign/resolve clock past due at min(end, now)
    median_hours_to_resolve: float | None  # registration → Resolved, per resolution
    satisfaction_rate: float | None  # good Rated events / Rated events
    reopen_rate: float | None  # resolved ones with a Reopened after that resolution / resolved


@dataclass(frozen=True)
class SeriesPoint:
    """One week or month of a series; counts only what falls inside the asked period."""

    label: str  # "2026-W40" or "2026-10"
    start: datetime  # the bucket's natural bounds, in Asia/Shanghai
    end: datetime
    registered: int
    registered_by_level: dict[str, int]
    resolved: int
    escalated: int


def _escalated(row: Row, event: Any, at: int) -> None:
    _own(row, event.to_tier)
    if row["escalated_us"] is None:
        row["escalated_us"] = at
    if event.cause == "overdue":
        row["breached"] = 1


def _lowered(row: Row, event: Any, at: int) -> None:
    _own(row, event.tier)


def _returned(row: Row, event: Any, at: int) -> None:
    _own(row, event.to_tier)


def _resolve_overdue(row: Row, event: Any, at: int) -> None:
    row["breached"] = 1


def _concluded(row: Row, event: Any, at: int) -> None:
    due = row["resolve_due_us"]  # the then-pending resolve deadline
    if due is not None and at > due:
        row["breached"] = 1


# What an event does to the facts accumulated on a case's row (before any mark it leaves).
_CHANGES: Mapping[type, Callable[[Row, Any, int], None]] = {
    Case.Escalated: _escalated,
    Case.LevelLowered: _lowered,
    Case.Returned: _returned,
    Case.ResolveOverdueFlagged: _resolve_overdue,
    Case.Resolved: _concluded,
    Case.Terminated: _concluded,
    Case.Referred: _concluded,
}


class StatisticsView(View):
    name = "statistics"
    # Registration, what a case accumulates and counts, and every event carrying clocks.
    handles = (*CLOCK_EVENTS, *_CHANGES, *_MARKS)
    ignores = (
        Case.Assessed,
        Case.LevelRaised,
        Case.Assigned,
        Case.SignOverdueFlagged,
        Case.NoteAdded,
        Case.Numbered,
        Case.AttachmentAdded,
        Case.ReferralResultReported,
        Dispute.JudicialConfirmationRecorded,
    )

    def create_statements(self) -> list[str]:
        cases, marks, clocks = self.t("cases"), self.t("marks"), self.t("clocks")
        index = self.db.index
        return [
            f"CREATE TABLE IF NOT EXISTS {cases} (id TEXT PRIMARY KEY, unit TEXT NOT NULL, "
            "kind TEXT NOT NULL, category TEXT NOT NULL, channel TEXT NOT NULL, "
            "level TEXT NOT NULL, registered_us BIGINT NOT NULL, tier TEXT NOT NULL, "
            "escalated_us BIGINT, county INTEGER NOT NULL, breached INTEGER NOT NULL, "
            "sign_seq INTEGER, sign_due_us BIGINT, sign_started_us BIGINT, sign_from_us BIGINT, "
            "resolve_seq INTEGER, resolve_due_us BIGINT, resolve_started_us BIGINT, "
            "resolve_from_us BIGINT)",
            f"CREATE INDEX IF NOT EXISTS {index('stats_cases_unit')} ON {cases} "
            "(unit, registered_us)",
            f"CREATE TABLE IF NOT EXISTS {marks} (case_id TEXT NOT NULL, seq INTEGER NOT NULL, "
            "unit TEXT NOT NULL, kind TEXT NOT NULL, at_us BIGINT NOT NULL, "
            "village INTEGER NOT NULL, breached INTEGER NOT NULL, good INTEGER NOT NULL, "
            "registered_us BIGINT NOT NULL, PRIMARY KEY (case_id, seq))",
            f"CREATE INDEX IF NOT EXISTS {index('stats_marks_unit')} ON {marks} (unit, at_us)",
            f"CREATE TABLE IF NOT EXISTS {clocks} (case_id TEXT NOT NULL, kind TEXT NOT NULL, "
            "seq INTEGER NOT NULL, unit TEXT NOT NULL, due_us BIGINT NOT NULL, "
            "start_us BIGINT NOT NULL, stop_us BIGINT, PRIMARY KEY (case_id, kind, seq))",
            f"CREATE INDEX IF NOT EXISTS {index('stats_clocks_unit')} ON {clocks} (unit, due_us)",
            *closure_ddl(self.t("units")),
        ]

    def table_names(self) -> list[str]:
        return ["cases", "marks", "clocks", "units"]

    def process(self, cursor: Cursor, batch: Batch) -> None:
        changes = _Changes(self.t("cases"))
        changes.cases.load(
            cursor,
            (
                str(e.originator_id)
                for _, e in batch
                if is_case_event(e) and not isinstance(e, Case.Registered)
            ),
        )
        for _, event in batch:
            if is_unit_added(event):
                add_unit(cursor, self.t("units"), event)
            elif is_case_event(event):
                changes.apply(event)
        changes.write(cursor, self.t("marks"), self.t("clocks"))


class _Changes:
    """What one batch does to the view, held in memory and written in three statements."""

    def __init__(self, cases_table: str) -> None:
        self.cases = RowBatch(cases_table, "id", CASE_COLUMNS)
        self.marks: list[tuple[Any, ...]] = []
        self.clocks: dict[tuple[str, str, int], tuple[Any, ...]] = {}

    def write(self, cursor: Cursor, marks_table: str, clocks_table: str) -> None:
        self.cases.flush(cursor)
        marks = ", ".join(MARK_COLUMNS)
        cursor.executemany(
            f"INSERT INTO {marks_table} ({marks}) VALUES ({', '.join('?' for _ in MARK_COLUMNS)})",
            self.marks,
        )
        names = ", ".join(CLOCK_COLUMNS)
        marks_sql = ", ".join("?" for _ in CLOCK_COLUMNS)
        cursor.executemany(
            f"INSERT INTO {clocks_table} ({names}) VALUES ({marks_sql}) "
            "ON CONFLICT (case_id, kind, seq) DO UPDATE SET stop_us = excluded.stop_us",
            list(self.clocks.values()),
        )

    def apply(self, event: Any) -> None:
        case_id = str(event.originator_id)
        at = to_us(event.timestamp)
        if isinstance(event, Case.Registered):
            row = _registered(event, case_id, at)
            self.cases.put(row)
        else:
            found = self.cases.get(case_id)
            if found is None:  # an event of a case this view never saw registered
                return
            row = found
            self._change(row, event, at)
        deadlines = getattr(event, "deadlines", None)
        if isinstance(event, Case.Rejected):  # ends every clock without carrying a (now empty) set
            deadlines = {}
        if deadlines is not None:
            self._replace_clocks(row, deadlines, event.originator_version, at)

    def _change(self, row: Row, event: Any, at: int) -> None:
        change = lookup(_CHANGES, type(event))
        if change is not None:
            change(row, event, at)
        mark = lookup(_MARKS, type(event))
        if mark is not None:
            good = isinstance(event, Case.Rated) and Grade(event.grade) in GOOD_GRADES
            self.marks.append(
                (row["id"], event.originator_version, row["unit"], mark, at,
                 int(row["tier"] == VILLAGE), row["breached"], int(good), row["registered_us"])
            )  # fmt: skip

    def _replace_clocks(
        self, row: Row, deadlines: Mapping[str, Deadline], seq: int, at: int
    ) -> None:
        """The event's set of clocks replaces the case's: a clock that changed (or went) ends
        here, a new one starts here; one carried over unchanged keeps running."""
        for kind in QUEUE_CLOCKS:
            new = deadlines.get(kind)
            due = to_us(new.due_at) if new else None
            started = to_us(new.started_at) if new else None
            current = row[f"{kind}_seq"]
            if current is not None:
                if row[f"{kind}_due_us"] == due and row[f"{kind}_started_us"] == started:
                    continue
                self.clocks[(row["id"], kind, current)] = (
                    row["id"], kind, current, row["unit"], row[f"{kind}_due_us"],
                    row[f"{kind}_from_us"], at,
                )  # fmt: skip
            if due is None:
                row[f"{kind}_seq"] = row[f"{kind}_due_us"] = None
                row[f"{kind}_started_us"] = row[f"{kind}_from_us"] = None
                continue
            row[f"{kind}_seq"], row[f"{kind}_due_us"] = seq, due
            row[f"{kind}_started_us"], row[f"{kind}_from_us"] = started, at
            self.clocks[(row["id"], kind, seq)] = (row["id"], kind, seq, row["unit"], due, at, None)


def _own(row: Row, tier: str) -> None:
    row["tier"] = tier
    if tier == COUNTY:
        row["county"] = 1


def _registered(event: Any, case_id: str, at: int) -> Row:
    row: Row = dict.fromkeys(CASE_COLUMNS)
    row.update(
        id=case_id,
        unit=event.unit,
        kind=kind_of(event),
        category=event.category,
        channel=event.channel,
        level=event.level,
        registered_us=at,
        tier=event.tier,
        county=int(event.tier == COUNTY),
        breached=0,
    )
    return row
