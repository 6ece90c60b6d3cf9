"""China's statutory working-day calendar, in Asia/Shanghai, with local holidays and make-up
working days on top.

Working days come from ``chinese-calendar`` (public holidays and make-up working days, 调休);
a policy's ``holidays`` and ``workdays`` (its calendar facts) override it day by day.
For a year that package does not know yet, the calendar falls back to Monday–Friday and logs a
warning once per year, so a deadline is never refused, only possibly a day off.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
_MAX_DAYS_SCANNED = 3660  # ten years: a guard against a calendar with no working days

log = logging.getLogger(__name__)


class WorkingCalendar:
    """Answers "is this a working day" and adds working days or working time to an instant."""

    def __init__(
        self, local_holidays: Iterable[date] = (), local_workdays: Iterable[date] = ()
    ) -> None:
        self.local_holidays = frozenset(local_holidays)
        # 调休: days worked although a weekend or holiday (a policy refuses a day in both)
        self.local_workdays = frozenset(local_workdays)
        self.fallback_years: set[int] = set()
        # Answers by day: chinese-calendar scans its whole table on every question (~20 µs),
        # which made the calendar a third of a sweep's time in a burst of escalations.
        self._working: dict[date, bool] = {}

    @property
    def name(self) -> str:
        """How deadlines record the calendar they were computed on."""
        name = "cn-statutory"
        if self.local_holidays:
            name += f"+{len(self.local_holidays)}-local"
        if self.local_workdays:
            name += f"+{len(self.local_workdays)}-workdays"
        return name

    def is_working_day(self, day: date) -> bool:
        working = self._working.get(day)
        if working is None:
            working = self._working[day] = self._is_working_day(day)
        return working

    def _is_working_day(self, day: date) -> bool:
        if day in self.local_workdays:
            return True
        if day in self.local_holidays:
            return False
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            self._warn_fallback(day.year)
            return day.weekday() < 5

    def _warn_fallback(self, year: int) -> None:
        if year not in self.fallback_years:
            self.fallback_years.add(year)
            log.warning(
                "chinese-calendar has no data for %s: counting Monday-Friday as working days "
                "(add the year's holidays to the policy or upgrade chinese-calendar)",
                year,
            )

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The end of the ``days``-th working day after the day of ``start`` (Shanghai time).

        As in Chinese administrative practice, the day a period starts on is not counted and
        the period ends at the end (24:00) of its last day.
        """
        day = start.astimezone(SHANGHAI).date()
        counted = 0
        for _ in range(_MAX_DAYS_SCANNED):
            if counted == days:
                return start_of_day(day + timedelta(days=1))
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        raise ValueError(f"no {days} working days within ten years of {start}")

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """``start`` plus ``duration``, where only time on working days counts."""
        cursor = start
        remaining = duration
        for _ in range(_MAX_DAYS_SCANNED):
            local_day = cursor.astimezone(SHANGHAI).date()
            next_midnight = start_of_day(local_day + timedelta(days=1))
            if self.is_working_day(local_day):
                available = next_midnight - cursor
                if remaining <= available:
                    return cursor + remaining
                remaining -= available
            cursor = next_midnight
        raise ValueError(f"no {duration} of working time within ten years of {start}")


def start_of_day(day: date) -> datetime:
    """Midnight at the start of ``day`` in Shanghai."""
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)
