"""排查: every village screens its grid for conflicts each period and reports what it found.

The policy's ``[screening]`` sets the period (monthly, or quarterly) and the day of the
period's last month by which each village's report is due (the end of that day, Beijing
time). A report lists the clues (线索) found, or is a 零报告: the grid worker's declaration
that nothing was found, which local rules require rather than silence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from domain.calendar import SHANGHAI, start_of_day
from domain.errors import InvalidInputError, PolicyError

MONTHLY = "monthly"
QUARTERLY = "quarterly"
PERIODS = (MONTHLY, QUARTERLY)
_MONTHLY_ID = re.compile(r"([0-9]{4})-([0-9]{2})")
_QUARTERLY_ID = re.compile(r"([0-9]{4})-Q([1-4])")


@dataclass(frozen=True)
class ScreeningRules:
    """``[screening]``: ``period = "monthly"`` (or ``"quarterly"``), ``due_day = 25``."""

    period: str = MONTHLY
    due_day: int = 25

    def period_of(self, moment: datetime) -> Period:
        """The period ``moment`` falls in, in Shanghai."""
        local = moment.astimezone(SHANGHAI)
        if self.period == QUARTERLY:
            return Period(local.year, (local.month - 1) // 3 * 3 + 1, 3)
        return Period(local.year, local.month, 1)

    def parse(self, text: str, field: str = "period") -> Period:
        """A period of this policy's kind: ``2026-12`` monthly, ``2026-Q4`` quarterly."""
        pattern = _QUARTERLY_ID if self.period == QUARTERLY else _MONTHLY_ID
        found = pattern.fullmatch(text.strip()) if isinstance(text, str) else None
        example = "2026-Q4" if self.period == QUARTERLY else "2026-12"
        valid = found is not None and int(found.group(1)) >= 2000
        if valid and self.period == MONTHLY:
            valid = 1 <= int(found.group(2)) <= 12  # type: ignore[union-attr]
        if not valid or found is None:
            raise InvalidInputError(
                field, f"must be a period like {example}", "period", {"example": example}
            )
        year, part = int(found.group(1)), int(found.group(2))
        if self.period == QUARTERLY:
            return Period(year, (part - 1) * 3 + 1, 3)
        return Period(year, part, 1)

    def due_at(self, period: Period) -> datetime:
        """The end of the due day in the period's last month (a short month: its last day)."""
        year, month = period.last_month
        last_day = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
        return start_of_day(date(year, month, min(self.due_day, last_day)) + timedelta(days=1))


@dataclass(frozen=True, order=True)
class Period:
    """A screening period: ``months`` calendar months from ``year``-``month``, in Shanghai."""

    year: int
    month: int
    months: int = 1

    @property
    def id(self) -> str:
        if self.months == 3:
            return f"{self.year}-Q{(self.month - 1) // 3 + 1}"
        return f"{self.year}-{self.month:02d}"

    @property
    def start(self) -> datetime:
        return start_of_day(date(self.year, self.month, 1))

    @property
    def end(self) -> datetime:
        """The first instant after it."""
        year, month = self.last_month
        return start_of_day(date(year + month // 12, month % 12 + 1, 1))

    @property
    def last_month(self) -> tuple[int, int]:
        index = self.year * 12 + self.month - 1 + self.months - 1
        return index // 12, index % 12 + 1

    def previous(self) -> Period:
        index = self.year * 12 + self.month - 1 - self.months
        return Period(index // 12, index % 12 + 1, self.months)

    def __str__(self) -> str:
        return self.id


def screening_from_table(table: Any, base: ScreeningRules) -> ScreeningRules:
    if not isinstance(table, dict):
        raise PolicyError("screening", "must be a table")
    for key in table:
        if key not in ("period", "due_day"):
            raise PolicyError(f"screening.{key}", "unknown key (known: period, due_day)")
    changes: dict[str, Any] = {}
    if "period" in table:
        if table["period"] not in PERIODS:
            raise PolicyError("screening.period", f"must be one of {', '.join(PERIODS)}")
        changes["period"] = table["period"]
    if "due_day" in table:
        day = table["due_day"]
        if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= 31:
            raise PolicyError("screening.due_day", "must be a day of the month from 1 to 31")
        changes["due_day"] = day
    return replace(base, **changes)


def screening_to_table(rules: ScreeningRules) -> dict[str, Any]:
    return {"period": rules.period, "due_day": rules.due_day}
