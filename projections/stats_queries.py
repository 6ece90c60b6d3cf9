"""Statistics of a unit's subtree over a period [start, end), from the statistics view.

A case belongs to a unit's statistics when its LOCATION unit is in the unit's subtree. The
period's whole Shanghai days are summed from the day summaries; the parts of days a period
with a time of day covers are counted from the facts themselves, so any period is exact. Every
query is grouped by subtree root, so a unit's children cost the same few statements as the
unit itself. A rate is ``None`` when nothing was there to divide by.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from domain.application import CASE_KINDS
from domain.calendar import SHANGHAI
from domain.levels import Level
from domain.status import Agency, Channel, RatingChannel, ReferralOutcome
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
            ratings_by_channel=_keys(_zeros(RatingChannel), self.counts["rated"]),
            satisfaction_by_channel=self._satisfaction_by_channel(),
            invitations_sent=n("invited"),
            invitations_answered=n("invitation_answered"),
            bad_ratings_reviewed=n("bad_rating_reviewed"),
            bad_ratings_confirmed=n("bad_rating_confirm"),
            bad_ratings_disputed=n("bad_rating_dispute"),
            **_inspection_figures(n),
        )

    def _satisfaction_by_channel(self) -> dict[str, float | None]:
        rated, good = self.counts["rated"], self.counts["rated_good"]
        return {str(c): _rate(good[c], rated[c]) for c in RatingChannel}


def _inspection_figures(n: Callable[[str], int]) -> dict[str, Any]:
    """督查回访 (callbacks due, on time, overdue: by their due times), what the inspectors
    found against what the owners' follow-ups found, and the rework the callbacks ordered."""
    return {
        "inspections_due": n("inspection_due"),
        "inspections_on_time": n("inspection_on_time"),
        "inspections_overdue": n("inspection_overdue"),
        "inspections_recorded": n("inspection_recorded"),
        "inspections_reached": n("inspection_reached"),
        "inspection_satisfaction_rate": _rate(n("inspection_satisfied"), n("inspection_reached")),
        "follow_up_satisfaction_rate": _rate(n("followed_up_satisfied"), n("followed_up")),
        "reopened_by_inspection": n("reopened_by_inspection"),
    }


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
        counter.count(period, to_us(min(end, now)) if full else None)
        if full:
            counter.median(period)
    return counter.tallies


def subtree(view: StatisticsView, alias: str, roots: list[str]) -> str:
    """Joins the rows of table ``alias`` whose location is in any root's subtree."""
    marks = ", ".join("?" for _ in roots)
    return f"JOIN {view.t('units')} u ON u.descendant = {alias}.unit WHERE u.ancestor IN ({marks})"


class _Counter:
    """Runs the statistics' statements for a set of subtree roots: one for every count, one
    more for the median."""

    def __init__(self, cursor: Cursor, view: StatisticsView, roots: list[str]) -> None:
        self.cursor = cursor
        self.view = view
        self.roots = roots
        self.tallies = {root: _Tally() for root in roots}

    def _from(self, table: str, alias: str) -> str:
        """Rows of ``table`` located in a root's subtree: the closure table is searched by
        ancestor, then ``table`` by (unit, …) for each descendant."""
        return f"FROM {self.view.t(table)} {alias} {subtree(self.view, alias, self.roots)}"

    def count(self, period: _Period, at: int | None) -> None:
        """Every count in one statement (a UNION ALL of the parts below, each tagged):

        - ``days``: the whole days, summed from the roots' own day counters (rolled up to
          every ancestor as they were written), so the closure is not joined at all;
        - ``parts``: the facts of the parts of days at either end, with whether each case's
          previous fact of the measure is in the period too (it is then counted once);
        - ``lead``: facts of the whole days whose case's previous one falls in the leading part
          of a day (the day counters key corrections by that previous fact's day);
        - ``overdue`` and ``unanswered``: the clocks and referrals pending at ``at``.
        """
        roots, marks = self.roots, ", ".join("?" for _ in self.roots)
        selects: list[str] = []
        params: list[Any] = []
        days = period.whole_days()
        if days is not None:
            selects.append(
                "SELECT 'days', d.unit, d.measure, d.key, '', '', '', 0, SUM(d.n) "
                f"FROM {self.view.t('days')} d WHERE d.unit IN ({marks}) "
                "AND d.day >= ? AND d.day < ? GROUP BY d.unit, d.measure, d.key"
            )
            params += [*roots, *days]
            lead = day_start(days[0])
            if period.lo < lead:
                selects.append(
                    "SELECT 'lead', u.ancestor, f.measure, f.key, '', '', '', 0, COUNT(*) "
                    f"{self._from('facts', 'f')} AND f.prev_us >= ? AND f.prev_us < ? "
                    "AND f.at_us >= ? AND f.at_us < ? GROUP BY u.ancestor, f.measure, f.key"
                )
                params += [*roots, period.lo, lead, lead, day_start(days[1])]
        for lo, hi in period.parts():
            selects.append(
                "SELECT 'parts', u.ancestor, f.measure, f.key, f.level, f.kind, f.category, "
                "CASE WHEN f.prev_us >= ? THEN 1 ELSE 0 END, COUNT(*) "
                f"{self._from('facts', 'f')} AND f.at_us >= ? AND f.at_us < ? "
                "GROUP BY 2, 3, 4, 5, 6, 7, 8"
            )
            params += [period.lo, *roots, lo, hi]
        if at is not None:
            # Clocks pending at ``at`` (started by an event before it, not ended by one before
            # it) and due at or before it; such clocks exist only on open cases.
            selects.append(
                "SELECT 'overdue', u.ancestor, '', '', '', '', '', 0, COUNT(DISTINCT k.case_id) "
                f"{self._from('clocks', 'k')} AND k.stop_us >= ? AND k.start_us < ? "
                "AND k.due_us <= ? GROUP BY u.ancestor"
            )
            # Referrals out whose answer clock had run out at ``at`` with no answer by then.
            selects.append(
                "SELECT 'unanswered', u.ancestor, '', '', '', '', '', 0, COUNT(*) "
                f"{self._from('referrals', 'r')} AND r.stop_us >= ? AND r.start_us < ? "
                "AND r.due_us <= ? GROUP BY u.ancestor"
            )
            params += [*roots, at, at, at, *roots, at, at, at]
        if not selects:
            return
        self.cursor.execute(" UNION ALL ".join(selects), params)
        first = f"{days[0]:06d}" if days is not None else ""
        for part, root, measure, key, level, kind, category, repeat, n in self.cursor.fetchall():
            self._add(str(part), self.tallies[str(root)], str(measure), str(key), int(n),
                      (str(level), str(kind), str(category)), bool(repeat), first)  # fmt: skip

    @staticmethod
    def _add(
        part: str,
        tally: _Tally,
        measure: str,
        key: str,
        n: int,
        fixed: tuple[str, str, str],
        repeat: bool,
        first: str,
    ) -> None:
        if part == "overdue":
            tally.overdue = n
        elif part == "unanswered":
            tally.counts["referral_outcome"][UNANSWERED_OVERDUE] = n
        elif part == "lead":
            tally.counts[measure][key] -= n
        elif part == "days":
            if measure.startswith("-"):  # a repeat, taken off when its previous one counted
                if key >= first:
                    tally.counts[measure[1:]][""] -= n
            elif measure.startswith("registered_"):
                by = {"level": tally.by_level, "kind": tally.by_kind}
                counts = by.get(measure.removeprefix("registered_"), tally.by_category)
                counts[key] = counts.get(key, 0) + n
            else:
                tally.counts[measure][key] += n
        else:  # a part of a day, from the facts
            tally.counts[measure][key] += n - (n if repeat and measure in DISTINCT else 0)
            if measure == "registered":
                for counts, name in zip(
                    (tally.by_level, tally.by_kind, tally.by_category), fixed, strict=True
                ):
                    counts[name] = counts.get(name, 0) + n

    def median(self, period: _Period) -> None:
        """The exact median of the resolve durations: the histogram (summed like any count)
        says which bucket holds the middle one or two; their durations are read back from
        the facts of that bucket alone."""
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
        self.cursor.execute(
            f"SELECT u.ancestor, f.key, f.value {self._from('facts', 'f')} "
            f"AND f.measure = 'resolve_hours' AND f.key IN ({marks}) AND f.at_us >= ? "
            "AND f.at_us < ?",
            (*self.roots, *buckets, period.lo, period.hi),
        )
        for root, key, value in self.cursor.fetchall():
            values[(str(root), str(key))].append(int(value))
        for root, picks in wanted.items():
            middle = [sorted(values[(root, bucket)])[rank] for rank, bucket in picks]
            self.tallies[root].median = sum(middle) / len(middle) / HOUR_US


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
