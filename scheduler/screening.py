"""排查 reports that did not come: at each sweep, every village with nothing filed for a period
whose due time has passed is marked missed, which puts it in its township's queue.

Which periods: the latest whose due time has passed, and the one before it (for a service
that was down across a due time), and of those only the periods that began once this
deployment recorded its jurisdiction (``FengqiaoApplication.screening_since``): a village is
not flagged for a month before fengqiao was in use. A period further back that was never
marked stays unmarked, and the grid still reads it as missed (``projections.screening``).

The watch reads the screening view brought up to the log's head first, so it skips the
villages that filed; the application leaves a report filed or marked already as it is, so a
second sweep, a second scheduler or a view that lags records nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from domain.application import FengqiaoApplication
from domain.levels import Tier
from domain.screening import Period
from projections.screening import ScreeningView, rows_under

log = logging.getLogger(__name__)


class ScreeningWatch:
    """The villages' screening reports as a ``scheduler.service.Watch``."""

    def __init__(
        self,
        app: FengqiaoApplication,
        view: ScreeningView,
        refresh: Callable[[], object] = lambda: None,
    ) -> None:
        self.app = app
        self.view = view
        self.refresh = refresh  # bring the screening view up to the log's head

    def due_periods(self, now: datetime) -> list[Period]:
        """The latest period due by ``now`` and the one before it, bar those begun before
        screening did."""
        rules = self.app.policy.screening
        latest = rules.period_of(now)
        while rules.due_at(latest) > now:
            latest = latest.previous()
        since = self.app.screening_since()
        return [p for p in (latest, latest.previous()) if since is None or p.start >= since]

    def sweep(self, now: datetime) -> list[tuple[str, str]]:
        """Marks every village with nothing filed for a due period missed; returns the
        (village, period) pairs marked now."""
        periods = self.due_periods(now)
        if not periods:
            return []
        self.refresh()
        marked: list[tuple[str, str]] = []
        villages = sorted(
            unit.code for unit in self.app.units().units.values() if unit.tier is Tier.VILLAGE
        )
        for period in periods:
            root = self.app.root_unit()
            rows = [] if root is None else rows_under(self.view, root.code, [period.id])
            seen = {row.village for row in rows}
            for village in villages:
                if village not in seen and self.app.mark_screening_missed(village, period, now):
                    marked.append((village, period.id))
        if marked:
            log.info("排查: %d villages' reports marked missed", len(marked))
        return marked

    def next_due(self, after: datetime) -> datetime | None:
        """The first period's due time after ``after``."""
        rules = self.app.policy.screening
        period = rules.period_of(after).previous()
        for _ in range(3):
            due = rules.due_at(period)
            if due > after:
                return due
            period = Period(*_following(period))
        return None  # pragma: no cover - a period's due time falls in the period


def _following(period: Period) -> tuple[int, int, int]:
    index = period.year * 12 + period.month - 1 + period.months
    return index // 12, index % 12 + 1, period.months
