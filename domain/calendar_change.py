"""A change of calendar facts: every running case's clocks follow the new holidays and 调休.

Adopting a policy whose holidays or make-up working days (``workdays``) differ from the
current policy's recomputes, once, the pending working-calendar clocks of every case whose
clocks still run (``Case.recompute_clocks``: one ``ClocksRecomputed`` event per case that moved).

The cases are found in the application's own event log, not in a view: the domain reads no
views, and adoption happens as a process starts, before its views have caught up (or in a
process that keeps none), when a view could miss a case registered a moment ago. The log is
read in pages of registrations only (filtered by topic, one notification per case), each page's
cases loaded a few at a time and its changed cases saved in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from domain.actors import Actor
from domain.calendar import WorkingCalendar
from domain.case import Case
from domain.deadline_batch import _load_cases
from domain.errors import VersionConflictError
from domain.policy import Policy

if TYPE_CHECKING:
    from domain.application import FengqiaoApplication

BATCH = 500  # registrations read, and cases decided and saved together, at a time
ATTEMPTS = 10  # a case another writer changed meanwhile is decided again, alone


def changed_days(
    before: Policy, after: Policy, old: WorkingCalendar, new: WorkingCalendar
) -> frozenset[date]:
    """The days whose working/rest answer differs between the two policies' calendars."""
    listed = (before.holidays ^ after.holidays) | (before.workdays ^ after.workdays)
    return frozenset(d for d in listed if old.is_working_day(d) != new.is_working_day(d))


def recompute_clocks(
    app: FengqiaoApplication,
    actor: Actor,
    before: Policy,
    after: Policy,
    at: datetime,
    kinds: Iterable[type[Case]],
) -> int:
    """Recomputes the clocks of every running case of ``kinds`` for ``after``'s calendar
    facts (replacing ``before``'s); returns how many cases recorded a change."""
    old, new = app.calendar(before), app.calendar(after)
    changed = changed_days(before, after, old, new)
    if not changed:
        return 0

    def decide(case: Case) -> bool:
        moment = max(at, case.modified_on)  # a case's history only moves forward
        return case.recompute_clocks(actor, moment, old, new, changed, after.version)

    topics = [get_topic(kind.Registered) for kind in kinds]
    recomputed = 0
    for case_ids in _registrations(app, topics):
        loaded = _load_cases(app, case_ids)
        cases = [case for case in loaded.values() if isinstance(case, Case)]
        moved = [case for case in cases if decide(case)]
        try:
            if moved:
                app.save(*moved)
            recomputed += len(moved)
        except IntegrityError:  # another writer changed a case: each again, alone
            recomputed += sum(_alone(app, case.id, decide) for case in moved)
    return recomputed


def _registrations(app: FengqiaoApplication, topics: list[str]) -> Iterator[list[UUID]]:
    """The ids of every registered case, a page of the log's registrations at a time."""
    start = 1
    while True:
        page = app.recorder.select_notifications(start, BATCH, topics=topics)
        if not page:
            return
        yield [UUID(str(notification.originator_id)) for notification in page]
        start = page[-1].id + 1


def _alone(app: FengqiaoApplication, case_id: UUID, decide: Callable[[Case], bool]) -> bool:
    for _ in range(ATTEMPTS):
        case = app.get_case(case_id)
        if not decide(case):
            return False
        try:
            app.save(case)
        except IntegrityError:
            continue
        return True
    raise VersionConflictError(app.get_case(case_id).version)
