"""The scheduler's batch: acting on many due clocks at once, saved in one transaction.

One transaction (and one read of the operating modes) per clock made a burst of a thousand due
clocks take seconds: the modes are read once per batch, and each case's clocks run in the mode in
force where it is located. Each clock is an ``ActOnDeadline`` command; the case decides whether the
clock is still its own, so a repeated or concurrent sweep is harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from domain.actors import Actor
from domain.case import Case
from domain.case.commands import ActOnDeadline
from domain.clocks import DeadlineKind
from domain.errors import DomainError
from domain.recorded import Recorded

if TYPE_CHECKING:
    from domain.application import FengqiaoApplication

LOAD_THREADS = 4  # concurrent case reads in a batch of due clocks
Due = tuple[UUID, DeadlineKind, datetime]
Decided = tuple[Case, tuple[str, ...]] | DomainError


def act_on_deadlines(
    app: FengqiaoApplication, actor: Actor, due: Sequence[Due], at: datetime
) -> list[Recorded | DomainError]:
    """Returns, per clock in order, what was recorded or why the case refused. Several clocks
    of one case are decided in order on the same case. If another writer changed one of the
    cases meanwhile, nothing of the batch is saved and each clock is executed alone (with the
    usual retries), so the outcome is as if each had been sent on its own."""
    operations = app.operations()  # every unit's mode, read once for the whole batch
    cases = _load_cases(app, list(dict.fromkeys(case_id for case_id, _, _ in due)))
    units = app.units()
    decided: list[Decided] = []
    for case_id, kind, due_at in due:
        case = cases[case_id]
        if isinstance(case, DomainError):
            decided.append(case)
            continue
        try:
            before = len(case.pending_events)
            if case.unit not in units:  # a unit added by another process since
                units = app.units(refresh=True)
            mode = operations.mode_at(units, case.unit)  # the mode where the case is located
            ActOnDeadline(kind, due_at).run(case, app.context(case, actor, at, mode))
        except DomainError as error:  # refused before recording anything
            decided.append(error)
            continue
        names = tuple(type(e).__name__ for e in case.pending_events[before:])
        decided.append((case, names))
    changed = [c for c in cases.values() if isinstance(c, Case) and c.pending_events]
    try:
        recordings = app.save(*changed) if changed else []
    except IntegrityError:
        return [_alone(app, actor, at, *item) for item in due]
    positions = {r.domain_event.originator_id: r.notification.id for r in recordings}
    return [_outcome(item, positions) for item in decided]


def _outcome(item: Decided, positions: dict[UUID, int]) -> Recorded | DomainError:
    if isinstance(item, DomainError):
        return item
    case, names = item
    return Recorded(case, positions[case.id] if names else None, names)


def _load_cases(app: FengqiaoApplication, case_ids: list[UUID]) -> dict[UUID, Case | DomainError]:
    """Reads cases a few at a time: on PostgreSQL a read is mostly waiting on the server,
    and a burst of due clocks is a thousand reads."""

    def load(case_id: UUID) -> Case | DomainError:
        try:
            return app.get_case(case_id)
        except DomainError as error:
            return error

    if len(case_ids) <= 1:
        return {case_id: load(case_id) for case_id in case_ids}
    with ThreadPoolExecutor(min(LOAD_THREADS, len(case_ids))) as pool:
        return dict(zip(case_ids, pool.map(load, case_ids), strict=True))


def _alone(
    app: FengqiaoApplication,
    actor: Actor,
    at: datetime,
    case_id: UUID,
    kind: DeadlineKind,
    due_at: datetime,
) -> Recorded | DomainError:
    try:
        return app.execute(case_id, ActOnDeadline(kind, due_at), actor, at=at)
    except DomainError as error:
        return error
