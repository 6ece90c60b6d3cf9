"""Calendar facts: a case's clocks follow the holidays and 调休 known today.

Holidays and make-up working days are facts about the world, not rules frozen with a case's
policy version: when a newly adopted policy changes them, a running case's pending clocks on
the working calendar whose span holds a changed day are computed again, and one event says
why each due time moved (``ClocksRecomputed``). A clock keeps what pauses and extensions had
added to it: it moves by the difference between its rule's due time on the old calendar and on
the new one.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from domain.actors import Actor
from domain.calendar import SHANGHAI, WorkingCalendar
from domain.case._state import CaseState, Deadlines
from domain.clocks import Deadline
from domain.policy import on_working_calendar, rule_due
from domain.status import CONCLUDED, OPEN

# Cases whose clocks still run: open ones, and those whose outcome is being followed up.
_RUNNING_CLOCKS = OPEN | CONCLUDED
CALENDAR_CAUSE = "calendar"


class CalendarFacts(CaseState):
    """Recomputing a case's clocks when the calendar facts change."""

    class ClocksRecomputed(CaseState.ClocksChanged):
        """Pending clocks moved because the calendar facts changed (``cause`` "calendar"):
        the policy version that changed them and the changed days (ISO dates) within the
        moved clocks' spans. ``paused_deadlines``: a paused case's stopped clocks, moved
        alike (None: the case was not paused)."""

        cause: str
        policy_version: str
        days: list[str]
        paused_deadlines: Deadlines | None = None

        def apply(self, aggregate: CaseState) -> None:
            super().apply(aggregate)
            if self.paused_deadlines is not None:
                aggregate.paused_deadlines = dict(self.paused_deadlines)

    def recompute_clocks(
        self,
        actor: Actor,
        at: datetime,
        before: WorkingCalendar,
        after: WorkingCalendar,
        changed: frozenset[date],
        policy_version: str,
    ) -> bool:
        """Moves each clock not yet due whose rule gives another due time on ``after`` than
        on ``before`` (``changed``: the days the two calendars disagree on). A clock already
        due stays: its breach happened under the facts then known. Returns whether anything
        moved (one event for the whole case)."""
        if self.status not in _RUNNING_CLOCKS or not changed:
            return False
        days: set[date] = set()
        pending = _moved(self.deadlines, at, before, after, changed, days)
        paused = _moved(self.paused_deadlines, at, before, after, changed, days)
        if not days:
            return False
        self._emit(
            self.ClocksRecomputed,
            actor,
            at,
            cause=CALENDAR_CAUSE,
            policy_version=policy_version,
            days=sorted(day.isoformat() for day in days),
            deadlines=pending,
            paused_deadlines=paused if self.paused_deadlines else None,
        )
        return True


def _moved(
    deadlines: Deadlines,
    at: datetime,
    before: WorkingCalendar,
    after: WorkingCalendar,
    changed: frozenset[date],
    days: set[date],
) -> Deadlines:
    """``deadlines`` with each clock ``changed`` days move recomputed; adds the changed days
    within a moved clock's span to ``days``."""
    result = dict(deadlines)
    for kind, deadline in deadlines.items():
        if not on_working_calendar(deadline) or deadline.due_at <= at:
            continue
        start = deadline.started_at.astimezone(SHANGHAI).date()
        if not any(day >= start for day in changed):
            continue  # started after every changed day
        old, new = rule_due(deadline, before), rule_due(deadline, after)
        if old == new:
            continue
        result[kind] = _shifted(deadline, new - old, after)
        last = max(old, new, deadline.due_at).astimezone(SHANGHAI).date()
        days.update(day for day in changed if start <= day <= last)
    return result


def _shifted(deadline: Deadline, by: timedelta, calendar: WorkingCalendar) -> Deadline:
    """Moved by ``by`` (its first due time too, when extended), now on ``calendar``."""
    return replace(deadline.shifted(by), calendar=calendar.name)
