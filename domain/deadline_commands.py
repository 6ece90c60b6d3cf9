"""The scheduler's commands: acting on clocks that came due, one at a time or in batches.

The case decides whether a clock still applies (its due time must still be the case's own), so
a repeated or concurrent sweep is harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from domain.actors import Actor
from domain.case import Case
from domain.clocks import DeadlineKind
from domain.command_host import ApplicationHost
from domain.errors import DomainError
from domain.policy import Mode
from domain.recorded import Recorded

LOAD_THREADS = 4  # concurrent case reads in a batch of due clocks


class DeadlineCommands(ApplicationHost):
    """Mixed into ``FengqiaoApplication``."""

    def flag_sign_overdue(
        self, case_id: UUID, actor: Actor, due_at: datetime, at: datetime | None = None
    ) -> Recorded:
        now = self._now(at)
        return self._act(case_id, None, lambda c: c.flag_sign_overdue(actor, now, due_at))

    def act_on_deadline(
        self,
        case_id: UUID,
        actor: Actor,
        kind: DeadlineKind,
        due_at: datetime,
        at: datetime | None = None,
    ) -> Recorded:
        """The scheduler's one command: a clock of ``kind`` due at ``due_at`` has passed."""
        now = self._now(at)
        return self._act(case_id, None, lambda c: _act_on(self, c, actor, now, kind, due_at))

    def act_on_deadlines(
        self,
        actor: Actor,
        due: Sequence[tuple[UUID, DeadlineKind, datetime]],
        at: datetime | None = None,
    ) -> list[Recorded | DomainError]:
        """``act_on_deadline`` for many clocks at once, saved in one transaction: the
        scheduler's sweep, where one transaction (and one read of the operating mode) per
        clock made a burst of a thousand due clocks take seconds.

        Returns, per clock in order, what was recorded or why the case refused. Several clocks
        of one case are decided in order on the same case. If another writer changed one of the
        cases meanwhile, nothing of the batch is saved and each clock is acted on alone (with
        the usual retries), so the outcome is as if each had been sent on its own."""
        now = self._now(at)
        mode = self.current_mode()
        cases = self._load_cases(list(dict.fromkeys(case_id for case_id, _, _ in due)))
        decided: list[tuple[Case, tuple[str, ...]] | DomainError] = []
        for case_id, kind, due_at in due:
            case = cases[case_id]
            if isinstance(case, DomainError):
                decided.append(case)
                continue
            try:
                before = len(case.pending_events)
                _act_on(self, case, actor, now, kind, due_at, mode)
            except DomainError as error:  # refused before recording anything
                decided.append(error)
                continue
            names = tuple(type(e).__name__ for e in case.pending_events[before:])
            decided.append((case, names))
        changed = [c for c in cases.values() if isinstance(c, Case) and c.pending_events]
        try:
            recordings = self.save(*changed) if changed else []
        except IntegrityError:
            return [self._act_on_alone(actor, now, *item) for item in due]
        positions = {r.domain_event.originator_id: r.notification.id for r in recordings}
        return [
            outcome
            if isinstance(outcome, DomainError)
            else Recorded(outcome[0], positions[outcome[0].id] if outcome[1] else None, outcome[1])
            for outcome in decided
        ]

    def _load_cases(self, case_ids: list[UUID]) -> dict[UUID, Case | DomainError]:
        """Reads cases a few at a time: on PostgreSQL a read is mostly waiting on the server,
        and a burst of due clocks is a thousand reads."""

        def load(case_id: UUID) -> Case | DomainError:
            try:
                return self.get_case(case_id)
            except DomainError as error:
                return error

        if len(case_ids) <= 1:
            return {case_id: load(case_id) for case_id in case_ids}
        with ThreadPoolExecutor(min(LOAD_THREADS, len(case_ids))) as pool:
            return dict(zip(case_ids, pool.map(load, case_ids), strict=True))

    def _act_on_alone(
        self, actor: Actor, at: datetime, case_id: UUID, kind: DeadlineKind, due_at: datetime
    ) -> Recorded | DomainError:
        try:
            return self.act_on_deadline(case_id, actor, kind, due_at, at=at)
        except DomainError as error:
            return error

    def act_on_resolve_overdue(
        self, case_id: UUID, actor: Actor, due_at: datetime, at: datetime | None = None
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id,
            None,
            lambda c: c.act_on_resolve_overdue(
                actor, now, self.units(), self.clocks_for(c), due_at
            ),
        )


def _act_on(
    app: DeadlineCommands,
    case: Case,
    actor: Actor,
    at: datetime,
    kind: DeadlineKind,
    due_at: datetime,
    mode: Mode | None = None,
) -> bool:
    """What a due clock of each kind does; the case decides whether it still applies."""
    if kind is DeadlineKind.SIGN:
        return case.flag_sign_overdue(actor, at, due_at)
    clocks = app.clocks_for(case, mode)
    if kind is DeadlineKind.RESOLVE:
        return case.act_on_resolve_overdue(actor, at, app.units(), clocks, due_at)
    return case.act_on_clock(actor, at, clocks, kind, due_at)
