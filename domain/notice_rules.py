"""When notices go out: the warning before a resolve deadline, and SMS quiet hours.

Policy data like the clocks (``[notifications]`` in a policy file), but read from the policy in
force, never from a case's own version: a notice is about now, not about the rules a case was
registered under. Quiet hours are in 北京时间 and hold only ordinary SMS: a notice about a red
case goes at once, whatever the hour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any

from domain.calendar import SHANGHAI
from domain.clocks import Duration
from domain.errors import PolicyError
from domain.levels import Level

_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_LONGEST_WARNING = timedelta(days=7)


@dataclass(frozen=True)
class NoticeRules:
    """``warning``: how long before a resolve deadline its owner is told it is close (a red
    case: ``warning_red``); ``quiet_from``–``quiet_until``: when ordinary SMS wait (北京时间;
    equal times: never)."""

    warning: Duration = Duration(4, "h")
    warning_red: Duration = Duration(30, "m")
    quiet_from: time = time(22, 0)
    quiet_until: time = time(7, 0)

    def warning_for(self, level: Level) -> timedelta:
        return (self.warning_red if level is Level.RED else self.warning).as_timedelta()

    @property
    def longest_warning(self) -> timedelta:
        return max(self.warning.as_timedelta(), self.warning_red.as_timedelta())

    def quiet_at(self, moment: datetime) -> bool:
        """Whether ``moment`` falls in the quiet hours (北京时间)."""
        local = moment.astimezone(SHANGHAI).time()
        start, end = self.quiet_from, self.quiet_until
        if start == end:
            return False
        if start < end:
            return start <= local < end
        return local >= start or local < end

    def quiet_ends(self, moment: datetime) -> datetime:
        """When the quiet hours ``moment`` lies in end (``moment`` itself when it lies in
        none)."""
        if not self.quiet_at(moment):
            return moment
        local = moment.astimezone(SHANGHAI)
        end = datetime.combine(local.date(), self.quiet_until, SHANGHAI)
        if end <= local:
            end += timedelta(days=1)
        return end

    @property
    def quiet_hours(self) -> str:
        return f"{self.quiet_from:%H:%M}-{self.quiet_until:%H:%M}"


def notice_rules_from_table(values: Any, base: NoticeRules) -> NoticeRules:
    """``[notifications]``: ``warning``, ``warning_red`` (calendar durations up to 7 days) and
    ``quiet_hours`` (``"22:00-07:00"``, 北京时间)."""
    if not isinstance(values, dict):
        raise PolicyError("notifications", "must be a table")
    unknown = sorted(set(values) - {"warning", "warning_red", "quiet_hours"})
    if unknown:
        raise PolicyError(f"notifications.{unknown[0]}", "is not a policy setting")
    changes: dict[str, Any] = {}
    for key in ("warning", "warning_red"):
        if key in values:
            changes[key] = _warning(values[key], f"notifications.{key}")
    if "quiet_hours" in values:
        changes["quiet_from"], changes["quiet_until"] = _quiet(values["quiet_hours"])
    return replace(base, **changes)


def notice_rules_to_table(rules: NoticeRules) -> dict[str, str]:
    return {
        "warning": str(rules.warning),
        "warning_red": str(rules.warning_red),
        "quiet_hours": rules.quiet_hours,
    }


def _warning(value: Any, key: str) -> Duration:
    duration = Duration.parse(value, key)
    if duration.unit == "wd" or duration.as_timedelta() > _LONGEST_WARNING:
        raise PolicyError(key, f"{value!r} must be calendar time (s, m, h, d) up to 7d")
    return duration


def _quiet(value: Any) -> tuple[time, time]:
    found = _HOURS.match(value) if isinstance(value, str) else None
    if found is None:
        raise PolicyError(
            "notifications.quiet_hours", f"{value!r} is not hours like 22:00-07:00 (北京时间)"
        )
    hour, minute, until_hour, until_minute = (int(part) for part in found.groups())
    return time(hour, minute), time(until_hour, until_minute)
