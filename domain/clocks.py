"""Durations and deadlines: the clocks a case runs against.

A deadline is computed once, when its clock starts, from an injected ``now`` and the case's
policy; it is then stored on the event that started it, together with the rule and calendar
it used, so replaying a case never recomputes (or changes) a deadline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from domain.errors import PolicyError


class DeadlineKind(StrEnum):
    """The clocks a case can have pending."""

    SIGN = "sign"  # 签收: the owning unit must sign for the case
    RESOLVE = "resolve"  # 化解: resolve, terminate or refer (also rework after 差评)
    MEDIATION = "mediation"  # mediation as a whole, from the first session
    FOLLOW_UP = "follow_up"  # 回访 after the outcome
    JUDICIAL_REMINDER = "judicial_reminder"  # remind parties of 司法确认 on day 20
    JUDICIAL_CONFIRMATION = "judicial_confirmation"  # the 30-day window closes
    STATUS_REPORT = "status_report"  # a red case's daily report
    SUPERVISION = "supervision"  # 督办: the owner's answer is due (re-flagged while late)
    PAUSE_REVIEW = "pause_review"  # 中止 review: a paused case is looked at again
    REFERRAL_ANSWER = "referral_answer"  # 转办: the agency's answer is due
    REPORT_BACK = "report_back"  # an inbound referral's result is due to the referring body
    PERFORMANCE = "performance"  # 履行: the agreement's performance date passed: visit, check
    RATING_REVIEW = "rating_review"  # 差评核实: the owner's supervisor confirms or disputes
    INSPECTION = "inspection"  # 督查回访: an inspector calls a sampled case's parties back


class Basis(StrEnum):
    """How a duration is counted."""

    CALENDAR = "calendar"
    WORKING_DAYS = "working_days"


_DURATION = re.compile(r"^\s*(\d+)\s*(wd|s|m|h|d)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Duration:
    """``90s``, ``30m``, ``4h``, ``3d`` (calendar time) or ``3wd`` (statutory working days)."""

    amount: int
    unit: str

    @classmethod
    def parse(cls, text: str, key: str = "duration") -> Duration:
        match = _DURATION.match(text) if isinstance(text, str) else None
        if match is None:
            raise PolicyError(key, f"{text!r} is not a duration like 90s, 30m, 4h, 3d or 3wd")
        amount, unit = int(match.group(1)), match.group(2)
        if amount <= 0:
            raise PolicyError(key, f"{text!r} must be longer than zero")
        return cls(amount, unit)

    @property
    def basis(self) -> Basis:
        return Basis.WORKING_DAYS if self.unit == "wd" else Basis.CALENDAR

    def as_timedelta(self) -> timedelta:
        """Calendar length; a working day counts as 24 hours of working time."""
        seconds = self.amount * (86400 if self.unit == "wd" else _UNIT_SECONDS[self.unit])
        return timedelta(seconds=seconds)

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


@dataclass(frozen=True)
class Deadline:
    """One pending clock of a case."""

    kind: DeadlineKind
    due_at: datetime
    started_at: datetime
    rule: str  # the duration as written in the policy, e.g. "3wd"
    calendar: str  # "calendar" or the working-day calendar's name
    mode: str  # the operating mode the clock was started under
    policy_version: str
    # the due time before any extension (None until extended): extensions are bounded in total
    extended_from: datetime | None = None

    def is_overdue(self, now: datetime) -> bool:
        return now >= self.due_at

    def shifted(self, by: timedelta) -> Deadline:
        """The same clock, moved later (a pause's length): a pause is not an extension."""
        first = None if self.extended_from is None else self.extended_from + by
        return replace(self, due_at=self.due_at + by, extended_from=first)

    @property
    def first_due_at(self) -> datetime:
        """The due time the clock was given before any extension."""
        return self.extended_from or self.due_at

    def extended(self, until: datetime) -> Deadline:
        return replace(self, due_at=until, extended_from=self.first_due_at)

    def to_dict(self) -> dict[str, Any]:
        stored = self._fields()
        if self.extended_from is not None:  # written only when set: older clocks read as before
            stored["extended_from"] = self.extended_from
        return stored

    def _fields(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "due_at": self.due_at,
            "started_at": self.started_at,
            "rule": self.rule,
            "calendar": self.calendar,
            "mode": self.mode,
            "policy_version": self.policy_version,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Deadline:
        return cls(
            kind=DeadlineKind(data["kind"]),
            due_at=data["due_at"],
            started_at=data["started_at"],
            rule=data["rule"],
            calendar=data["calendar"],
            mode=data["mode"],
            policy_version=data["policy_version"],
            extended_from=data.get("extended_from"),
        )


def utc(moment: datetime) -> datetime:
    """Aware datetimes only; stored in UTC."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: times must carry their offset")
    return moment.astimezone(UTC)
