"""Statistics of a unit's subtree over a period [start, end), from the statistics view.

A case belongs to a unit's statistics when its LOCATION unit is in the unit's subtree. Every
query is grouped by subtree root, so a unit's children cost the same few statements as the
unit itself. Counts of cases are of distinct cases; a rate is ``None`` when nothing was there
to divide by.
"""

from __future__ import annotations

import statistics
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from domain.application import CASE_KINDS
from domain.calendar import SHANGHAI
from domain.levels import Level
from domain.status import Channel
from projections.db import Cursor, Row, to_us
from projections.statistics import OUTCOMES, SeriesPoint, Statistics, StatisticsView

__all__ = ["SeriesPoint", "Statistics", "get_children", "get_series", "get_statistics"]

_HOUR_US = 3_600_000_000
_ALIAS = {"cases": "c", "marks": "m", "clocks": "k"}


def get_statistics(
    view: StatisticsView, unit: str, start: datetime, end: datetime, now: datetime
) -> Statistics:
    """The statistics of ``unit``'s subtree; ``overdue_open`` is as of ``min(end, now)``."""
    return _compute(view, [unit], start, end, now)[unit]


def get_children(
    view: StatisticsView, unit: str, start: datetime, end: datetime, now: datetime
) -> list[tuple[str, Statistics]]:
    """The statistics of each direct child of ``unit``, by unit code. Cases located at
    ``unit`` itself belong to none of them."""
    with view.db.transaction(write=False) as cursor:
        cursor.execute(
            f"SELECT descendant FROM {view.t('units')} WHERE ancestor = ? AND depth = 1 "
            "ORDER BY descendant",
            (unit,),
        )
        children = [str(row[0]) for row in cursor.fetchall()]
    found = _compute(view, children, start, end, now)
    return [(child, found[child]) for child in children]


@dataclass
class _Tally:
    registered: int = 0
    by_level: dict[str, int] = field(default_factory=lambda: _zeros(Level))
    by_kind: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CASE_KINDS, 0))
    by_category: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=lambda: _zeros(Channel))
    escalated: int = 0
    county: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    local: int = 0
    concluded: int = 0
    breached: int = 0
    ratings: int = 0
    good: int = 0
    reopened: int = 0
    overdue: int = 0
    hours: list[float] = field(default_factory=list)

    def result(self) -> Statistics:
        resolved, terminated = self.outcomes["resolved"], self.outcomes["terminated"]
        return Statistics(
            registered=self.registered,
            registered_by_level=dict(self.by_level),
            by_kind=dict(self.by_kind),
            by_category=dict(sorted(self.by_category.items())),
            by_channel=dict(self.by_channel),
            resolved=resolved,
            terminated=terminated,
            referred=self.outcomes["referred"],
            resolution_rate=_rate(resolved, resolved + terminated),
            local_resolution_rate=_rate(self.local, resolved),
            escalation_rate=_rate(self.escalated, self.registered),
            county_share=_rate(self.county, self.registered),
            on_time_rate=_rate(self.concluded - self.breached, self.concluded),
            overdue_open=self.overdue,
            median_hours_to_resolve=statistics.median(self.hours) if self.hours else None,
            satisfaction_rate=_rate(self.good, self.ratings),
            reopen_rate=_rate(self.reopened, resolved),
        )


def _zeros(names: Iterable[str]) -> dict[str, int]:
    return {str(name): 0 for name in names}


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _compute(
    view: StatisticsView, roots: list[str], start: datetime, end: datetime, now: datetime
) -> dict[str, Statistics]:
    if not roots:
        return {}
    lo, hi = to_us(start), to_us(end)
    with view.db.transaction(write=False) as cursor:
        counter = _Counter(cursor, view, roots)
        counter.registered(lo, hi)
        counter.marks(lo, hi)
        counter.hours(lo, hi)
        counter.overdue(to_us(min(end, now)))
    return {root: tally.result() for root, tally in counter.tallies.items()}


def subtree(view: StatisticsView, alias: str, roots: list[str]) -> str:
    """Joins the rows of table ``alias`` whose location is in any root's subtree."""
    marks = ", ".join("?" for _ in roots)
    return f"JOIN {view.t('units')} u ON u.descendant = {alias}.unit WHERE u.ancestor IN ({marks})"


class _Counter:
    """Runs the statistics' few grouped statements for a set of subtree roots."""

    def __init__(self, cursor: Cursor, view: StatisticsView, roots: list[str]) -> None:
        self.cursor = cursor
        self.view = view
        self.roots = roots
        self.tallies = {root: _Tally() for root in roots}

    def _select(self, columns: str, table: str, where: str, *params: Any) -> list[Row]:
        alias = _ALIAS[table]
        self.cursor.execute(
            f"SELECT u.ancestor, {columns} FROM {self.view.t(table)} {alias} "
            f"{subtree(self.view, alias, self.roots)} AND {where}",
            (*self.roots, *params),
        )
        return self.cursor.fetchall()

    def registered(self, lo: int, hi: int) -> None:
        rows = self._select(
            "c.level, c.kind, c.category, c.channel, COUNT(*), "
            "SUM(CASE WHEN c.escalated_us IS NULL THEN 0 ELSE 1 END), SUM(c.county)",
            "cases",
            "c.registered_us >= ? AND c.registered_us < ? "
            "GROUP BY u.ancestor, c.level, c.kind, c.category, c.channel",
            lo,
            hi,
        )
        for root, level, kind, category, channel, count, escalated, county in rows:
            tally = self.tallies[root]
            n = int(count)
            tally.registered += n
            for counts, key in (
                (tally.by_level, level),
                (tally.by_kind, kind),
                (tally.by_category, category),
                (tally.by_channel, channel),
            ):
                counts[key] = counts.get(key, 0) + n
            tally.escalated += int(escalated)
            tally.county += int(county)

    def marks(self, lo: int, hi: int) -> None:
        outcome = "m.kind IN ('resolved', 'terminated', 'referred')"
        reopened_later = (
            f"EXISTS (SELECT 1 FROM {self.view.t('marks')} r WHERE r.case_id = m.case_id "
            "AND r.kind = 'reopened' AND r.seq > m.seq)"
        )
        rows = self._select(
            "COUNT(DISTINCT CASE WHEN m.kind = 'resolved' THEN m.case_id END), "
            "COUNT(DISTINCT CASE WHEN m.kind = 'terminated' THEN m.case_id END), "
            "COUNT(DISTINCT CASE WHEN m.kind = 'referred' THEN m.case_id END), "
            "COUNT(DISTINCT CASE WHEN m.kind = 'resolved' AND m.village = 1 THEN m.case_id END), "
            f"COUNT(DISTINCT CASE WHEN {outcome} THEN m.case_id END), "
            f"COUNT(DISTINCT CASE WHEN {outcome} AND m.breached = 1 THEN m.case_id END), "
            "SUM(CASE WHEN m.kind = 'rated' THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN m.kind = 'rated' THEN m.good ELSE 0 END), "
            f"COUNT(DISTINCT CASE WHEN m.kind = 'resolved' AND {reopened_later} "
            "THEN m.case_id END)",
            "marks",
            "m.at_us >= ? AND m.at_us < ? GROUP BY u.ancestor",
            lo,
            hi,
        )
        for row in rows:
            tally = self.tallies[row[0]]
            values = [int(v or 0) for v in row[1:]]
            tally.outcomes = dict(zip(OUTCOMES, values[:3], strict=True))
            tally.local, tally.concluded, tally.breached = values[3:6]
            tally.ratings, tally.good, tally.reopened = values[6:9]

    def hours(self, lo: int, hi: int) -> None:
        """Registration to resolution, per resolution in the period."""
        rows = self._select(
            "m.at_us - m.registered_us",
            "marks",
            "m.kind = 'resolved' AND m.at_us >= ? AND m.at_us < ?",
            lo,
            hi,
        )
        for root, elapsed in rows:
            self.tallies[root].hours.append(int(elapsed) / _HOUR_US)

    def overdue(self, at: int) -> None:
        """Cases with a sign-for or resolve clock pending at ``at`` (started by an event
        before it, not ended by one before it) and due at or before it. Such clocks exist
        only on open cases: every event that ends a case's work removes them."""
        rows = self._select(
            "COUNT(DISTINCT k.case_id)",
            "clocks",
            "k.start_us < ? AND (k.stop_us IS NULL OR k.stop_us >= ?) AND k.due_us <= ? "
            "GROUP BY u.ancestor",
            at,
            at,
            at,
        )
        for root, count in rows:
            self.tallies[root].overdue = int(count)


# --- series ---------------------------------------------------------------------------


def get_series(
    view: StatisticsView, unit: str, start: datetime, end: datetime, bucket: str = "week"
) -> list[SeriesPoint]:
    """Per ISO week (Monday 00:00) or calendar month in Asia/Shanghai: cases registered (by
    level at registration), cases resolved and cases escalated in the bucket. Buckets cover
    [start, end); the first and last count only what falls inside it."""
    bounds = _buckets(start, end, bucket)
    if not bounds:
        return []
    starts = [to_us(b[1]) for b in bounds]
    lo, hi = to_us(start), to_us(end)
    levels = [_zeros(Level) for _ in bounds]
    cases: dict[str, list[set[str]]] = {"resolved": [], "escalated": []}
    for kind in cases:
        cases[kind] = [set() for _ in bounds]
    with view.db.transaction(write=False) as cursor:
        cursor.execute(
            f"SELECT c.registered_us, c.level FROM {view.t('cases')} c "
            f"{subtree(view, 'c', [unit])} AND c.registered_us >= ? AND c.registered_us < ?",
            (unit, lo, hi),
        )
        for registered_us, level in cursor.fetchall():
            counts = levels[bisect_right(starts, registered_us) - 1]
            counts[level] = counts.get(level, 0) + 1
        cursor.execute(
            f"SELECT m.kind, m.case_id, m.at_us FROM {view.t('marks')} m "
            f"{subtree(view, 'm', [unit])} AND m.kind IN ('resolved', 'escalated') "
            "AND m.at_us >= ? AND m.at_us < ?",
            (unit, lo, hi),
        )
        for kind, case_id, at_us in cursor.fetchall():
            cases[kind][bisect_right(starts, at_us) - 1].add(case_id)
    return [
        SeriesPoint(
            label=label,
            start=b_start,
            end=b_end,
            registered=sum(levels[i].values()),
            registered_by_level=levels[i],
            resolved=len(cases["resolved"][i]),
            escalated=len(cases["escalated"][i]),
        )
        for i, (label, b_start, b_end) in enumerate(bounds)
    ]


def _buckets(start: datetime, end: datetime, bucket: str) -> list[tuple[str, datetime, datetime]]:
    """The (label, start, end) of each bucket that overlaps [start, end)."""
    if bucket not in ("week", "month"):
        raise ValueError(f"bucket must be 'week' or 'month', not {bucket!r}")
    day = start.astimezone(SHANGHAI).date()
    day = (
        day.replace(day=1)
        if bucket == "month"
        else date.fromordinal(day.toordinal() - day.weekday())
    )
    found: list[tuple[str, datetime, datetime]] = []
    while _midnight(day) < end:
        following = _next(day, bucket)
        found.append((_label(day, bucket), _midnight(day), _midnight(following)))
        day = following
    return found


def _next(day: date, bucket: str) -> date:
    if bucket == "week":
        return date.fromordinal(day.toordinal() + 7)
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _label(day: date, bucket: str) -> str:
    if bucket == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day:%Y-%m}"


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)
