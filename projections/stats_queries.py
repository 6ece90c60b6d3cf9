"""Statistics of a unit's subtree over a period [start, end), from the statistics view.

A case belongs to a unit's statistics when its LOCATION unit is in the unit's subtree. The
period's whole Shanghai days are summed from the day summaries; the parts of days a period
with a time of day covers are counted from the facts themselves, so any period is exact. Every
query is grouped by subtree root, so a unit's children cost the same few statements as the
unit itself. A rate is ``None`` when nothing was there to divide by.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from domain.application import CASE_KINDS
from domain.calendar import SHANGHAI
from domain.levels import Level
from domain.status import Agency, Channel, ReferralOutcome
from projections.db import Cursor, to_us
from projections.statistics import (
    DISTINCT,
    HOUR_US,
    SeriesPoint,
    Statistics,
    StatisticsView,
    day_of,
    day_start,
)

__all__ = ["SeriesPoint", "Statistics", "get_children", "get_series", "get_statistics"]

UNANSWERED_OVERDUE = "unanswered_overdue"


def get_statistics(
    view: StatisticsView, unit: str, start: datetime, end: datetime, now: datetime
) -> Statistics:
    """The statistics of ``unit``'s subtree; what is "at T" is as of ``min(end, now)``."""
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
    """A root's counts: ``counts[measure][key]``, and the registrations by what is fixed."""

    counts: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    by_level: dict[str, int] = field(default_factory=lambda: _zeros(Level))
    by_kind: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CASE_KINDS, 0))
    by_category: dict[str, int] = field(default_factory=dict)
    overdue: int = 0
    median: float | None = None

    def total(self, measure: str) -> int:
        return sum(self.counts[measure].values())

    def result(self) -> Statistics:
        n = self.total
        registered, resolved, terminated = n("registered"), n("resolved"), n("terminated")
        concluded = resolved + terminated
        breached = n("resolved_breached") + n("terminated_breached")
        referred = self.counts["referred"]
        outcomes = self.counts["referral_outcome"]
        return Statistics(
            registered=registered,
            registered_by_level=dict(self.by_level),
            by_kind=dict(self.by_kind),
            by_category=dict(sorted(self.by_category.items())),
            by_channel=_keys(_zeros(Channel), self.counts["registered"]),
            resolved=resolved,
            terminated=terminated,
            referred=n("referred"),
            resolution_rate=_rate(resolved, concluded),
            local_resolution_rate=_rate(n("resolved_village"), resolved),
            escalation_rate=_rate(n("escalated"), registered),
            county_share=_rate(n("county"), registered),
            on_time_rate=_rate(concluded - breached, concluded),
            overdue_open=self.overdue,
            median_hours_to_resolve=self.median,
            satisfaction_rate=_rate(n("rated_good"), n("rated")),
            reopen_rate=_rate(n("resolved_reopened"), resolved),
            township_or_below_rate=_rate(n("resolved_local"), resolved),
            follow_up_rate=_rate(n("resolved_followed") + n("terminated_followed"), concluded),
            performance_rate=_rate(n("honoured_true"), n("honoured_answered")),
            referrals_by_agency=_keys(_zeros(Agency), referred),
            referral_outcomes=_keys({**_zeros(ReferralOutcome), UNANSWERED_OVERDUE: 0}, outcomes),
            inbound_by_agency=_keys(_zeros(Agency), self.counts["inbound"]),
            reported_back=n("reported_back"),
            supervision_orders=n("supervision_ordered"),
            supervision_answered_on_time=n("supervision_on_time"),
            supervision_overdue=n("supervision_overdue"),
            below_suggestion=n("below_suggestion"),
            raised_by_triggers=n("raised_by_triggers"),
        )


def _keys(zeros: dict[str, int], counts: Counter[str]) -> dict[str, int]:
    found = dict(zeros)
    for key, count in counts.items():
        found[key] = found.get(key, 0) + count
    return found


def _zeros(names: Iterable[str]) -> dict[str, int]:
    return {str(name): 0 for name in names}


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class _Period:
    """[lo, hi) in microseconds, split into whole Shanghai days [first, last) and the parts
    of days around them, counted from the facts."""

    lo: int
    hi: int

    @property
    def first(self) -> int:
        day = day_of(self.lo)
        return day if day_start(day) == self.lo else day + 1

    @property
    def last(self) -> int:
        return day_of(self.hi)

    def whole_days(self) -> tuple[int, int] | None:
        return (self.first, self.last) if self.first < self.last else None

    def parts(self) -> list[tuple[int, int]]:
        """The ranges outside the whole days, each non-empty."""
        if self.whole_days() is None:
            ranges = [(self.lo, self.hi)]
        else:
            ranges = [(self.lo, day_start(self.first)), (day_start(self.last), self.hi)]
        return [(a, b) for a, b in ranges if a < b]


def _compute(
    view: StatisticsView, roots: list[str], start: datetime, end: datetime, now: datetime
) -> dict[str, Statistics]:
    if not roots:
        return {}
    return {root: t.result() for root, t in _tallies(view, roots, start, end, now).items()}


def _tallies(
    view: StatisticsView,
    roots: list[str],
    start: datetime,
    end: datetime,
    now: datetime,
    full: bool = True,
) -> dict[str, _Tally]:
    """The counts of each root; without ``full``, only the counts (no median, nothing at T)."""
    period = _Period(to_us(start), to_us(end))
    with view.db.transaction(write=False) as cursor:
        counter = _Counter(cursor, view, roots)
        counter.summed(period)
        counter.repeats(period)
        if full:
            counter.median(period)
            at = to_us(min(end, now))
            counter.overdue(at)
            counter.unanswered(at)
    return counter.tallies


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

    def _select(self, columns: str, table: str, alias: str, where: str, *params: Any) -> list[Any]:
        self.cursor.execute(
            f"SELECT u.ancestor, {columns} FROM {self.view.t(table)} {alias} "
            f"{subtree(self.view, alias, self.roots)} AND {where}",
            (*self.roots, *params),
        )
        return self.cursor.fetchall()

    def _sources(self, period: _Period) -> list[tuple[str, str, str, list[int]]]:
        """(table, count, where, params) of the day summaries and of the parts of days."""
        found: list[tuple[str, str, str, list[int]]] = []
        days = period.whole_days()
        if days is not None:
            found.append(("days", "SUM(d.n)", "d.day >= ? AND d.day < ?", list(days)))
        parts = period.parts()
        if parts:
            where = " OR ".join("(d.at_us >= ? AND d.at_us < ?)" for _ in parts)
            found.append(("facts", "COUNT(*)", f"({where})", [x for p in parts for x in p]))
        return found

    def summed(self, period: _Period) -> None:
        for table, count, where, params in self._sources(period):
            for root, measure, key, n in self._select(
                f"d.measure, d.key, {count}", table, "d",
                f"{where} GROUP BY u.ancestor, d.measure, d.key", *params,
            ):  # fmt: skip
                self.tallies[root].counts[str(measure)][str(key)] += int(n)
            for root, level, kind, category, n in self._select(
                f"d.level, d.kind, d.category, {count}", table, "d",
                f"d.measure = 'registered' AND {where} "
                "GROUP BY u.ancestor, d.level, d.kind, d.category", *params,
            ):  # fmt: skip
                tally = self.tallies[root]
                for counts, name in (
                    (tally.by_level, level),
                    (tally.by_kind, kind),
                    (tally.by_category, category),
                ):
                    counts[str(name)] = counts.get(str(name), 0) + int(n)

    def repeats(self, period: _Period) -> None:
        """A case with several facts of a distinct measure in the period counts once: each
        fact whose case's previous one of that measure is in the period too is taken off."""
        for root, measure, key, n in self._select(
            "d.measure, d.key, COUNT(*)", "facts", "d",
            "d.prev_us >= ? AND d.at_us < ? GROUP BY u.ancestor, d.measure, d.key",
            period.lo, period.hi,
        ):  # fmt: skip
            if measure in DISTINCT:
                self.tallies[root].counts[str(measure)][str(key)] -= int(n)

    def median(self, period: _Period) -> None:
        """The exact median of the resolve durations: the hour histogram (summed like any
        count) says which hour bucket holds the middle one or two; their durations are read
        back from the facts of that bucket alone."""
        wanted: dict[str, list[tuple[int, str]]] = {}  # root → (rank in bucket, bucket)
        for root, tally in self.tallies.items():
            histogram = sorted(
                (k, n) for k, n in tally.counts.pop("resolve_hours", {}).items() if n
            )
            total = sum(n for _, n in histogram)
            if not total:
                continue
            ranks = sorted({(total - 1) // 2, total // 2})
            picks, before = [], 0
            for bucket, n in histogram:
                picks += [(rank - before, bucket) for rank in ranks if before <= rank < before + n]
                before += n
            wanted[root] = picks
        buckets = sorted({bucket for picks in wanted.values() for _, bucket in picks})
        if not buckets:
            return
        marks = ", ".join("?" for _ in buckets)
        values: defaultdict[tuple[str, str], list[int]] = defaultdict(list)
        for root, key, value in self._select(
            "d.key, d.value", "facts", "d",
            f"d.measure = 'resolve_hours' AND d.key IN ({marks}) AND d.at_us >= ? "
            "AND d.at_us < ?", *buckets, period.lo, period.hi,
        ):  # fmt: skip
            values[(root, str(key))].append(int(value))
        for root, picks in wanted.items():
            middle = [sorted(values[(root, bucket)])[rank] for rank, bucket in picks]
            self.tallies[root].median = sum(middle) / len(middle) / HOUR_US

    def overdue(self, at: int) -> None:
        """Cases with a sign-for or resolve clock pending at ``at`` (started by an event
        before it, not ended by one before it) and due at or before it. Such clocks exist
        only on open cases: every event that ends a case's work removes them."""
        for root, count in self._select(
            "COUNT(DISTINCT k.case_id)", "clocks", "k",
            "k.stop_us >= ? AND k.start_us < ? AND k.due_us <= ? GROUP BY u.ancestor",
            at, at, at,
        ):  # fmt: skip
            self.tallies[root].overdue = int(count)

    def unanswered(self, at: int) -> None:
        """Referrals out whose answer clock had run out at ``at`` with no answer by then."""
        for root, count in self._select(
            "COUNT(*)", "referrals", "r",
            "r.stop_us >= ? AND r.start_us < ? AND r.due_us <= ? GROUP BY u.ancestor",
            at, at, at,
        ):  # fmt: skip
            self.tallies[root].counts["referral_outcome"][UNANSWERED_OVERDUE] = int(count)


# --- series ---------------------------------------------------------------------------


def get_series(
    view: StatisticsView, unit: str, start: datetime, end: datetime, bucket: str = "week"
) -> list[SeriesPoint]:
    """Per ISO week (Monday 00:00) or calendar month in Asia/Shanghai: cases registered (by
    level at registration), cases resolved and cases escalated (after their first signature)
    in the bucket, each bucket's part of [start, end) counted like a period of its own."""
    bounds = _buckets(start, end, bucket)
    points = []
    for label, b_start, b_end in bounds:
        tally = _tallies(view, [unit], max(start, b_start), min(end, b_end), end, False)[unit]
        figures = tally.result()
        points.append(
            SeriesPoint(
                label=label,
                start=b_start,
                end=b_end,
                registered=figures.registered,
                registered_by_level=figures.registered_by_level,
                resolved=figures.resolved,
                escalated=tally.total("escalation"),
            )
        )
    return points


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
