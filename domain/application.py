"""The fengqiao application: one method per command, each load → decide → save.

Every method takes the acting user and, optionally, the time it happened (``at``; default the
injected clock) and the version the caller last saw (``expected_version``). A concurrent
write is retried as a whole command; a stale expected version is refused with the current one.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from domain.access import AccessRecord
from domain.actors import Actor
from domain.calendar import WorkingCalendar
from domain.case import Case, Registration
from domain.clocks import DeadlineKind
from domain.dispute import Dispute
from domain.errors import (
    CaseNotFoundError,
    CommandNotAllowedError,
    DomainError,
    InvalidInputError,
    PolicyError,
    VersionConflictError,
)
from domain.incident import Incident
from domain.jurisdiction import JURISDICTION_ID, Jurisdiction, Unit
from domain.levels import Level
from domain.operations import OPERATIONS_ID, Operations
from domain.policy import Clocks, Mode, Policy
from domain.policy_book import POLICY_BOOK_ID, PolicyBook
from domain.policy_document import policy_to_document
from domain.status import Agency, AgreementForm, Grade

CASE_KINDS: Mapping[str, type[Case]] = {"dispute": Dispute, "incident": Incident}
COMMAND_ATTEMPTS = 10
LOAD_THREADS = 4  # concurrent case reads in a batch of due clocks
BACKOFF_SECONDS = 0.002  # first retry waits up to this; doubles each attempt (with jitter)

C = TypeVar("C", bound=Case)


@dataclass(frozen=True)
class Recorded:
    """A command's result: the case as it now stands, the log position of its last event
    (``None`` when the command recorded nothing, for read-your-writes waits) and the names of
    the events it recorded."""

    case: Case
    position: int | None
    events: tuple[str, ...] = ()


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _back_off(attempt: int) -> None:
    """Waits a random, growing while before retrying a command that lost a race, so two
    writers on one case do not keep colliding in lock step."""
    time.sleep(random.uniform(0, BACKOFF_SECONDS * 2**attempt))


class FengqiaoApplication(Application[UUID]):
    """Cases, the jurisdiction tree and the policy book in one event store."""

    name = "fengqiao"

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        clock: Callable[[], datetime] = _utc_now,
        policy: Policy | None = None,
    ) -> None:
        super().__init__(env)
        self.clock = clock
        self.policy = policy or Policy()
        self._policies: dict[str, Policy] = {self.policy.version: self.policy}
        self._calendars: dict[str, WorkingCalendar] = {}
        self._units: Jurisdiction | None = None

    # --- jurisdiction -------------------------------------------------------------------

    def units(self, refresh: bool = False) -> Jurisdiction:
        """The jurisdiction tree, cached; reloaded when asked or when a code is unknown."""
        if self._units is None or refresh:
            self._units = self._load_units()
        return self._units

    def _load_units(self) -> Jurisdiction:
        try:
            units: Jurisdiction = self.repository.get(JURISDICTION_ID)
        except AggregateNotFoundError:
            units = Jurisdiction.create(self.clock())
        return units

    def _units_knowing(self, *codes: str) -> Jurisdiction:
        units = self.units()
        if all(code in units for code in codes):
            return units
        return self.units(refresh=True)

    def add_units(self, actor: Actor, units: list[Unit], at: datetime | None = None) -> int:
        """Adds the units not yet in the tree (so loading sample data twice is harmless)."""
        for _ in range(COMMAND_ATTEMPTS):
            tree = self.units(refresh=True)
            added = 0
            for unit in units:
                if unit.code not in tree:
                    tree.add_unit(unit, actor.user, at or self.clock())
                    added += 1
            try:
                self.save(tree)
            except IntegrityError:
                continue
            return added
        raise VersionConflictError(self.units(refresh=True).version)

    # --- policy -------------------------------------------------------------------------

    def adopt_policy(self, actor: Actor, policy: Policy, at: datetime | None = None) -> None:
        """Records the configured policy in the policy book (once per version) and makes it
        the one new cases are registered under."""
        known = self._policies.get(policy.version)
        if known is not None and policy_to_document(known) != policy_to_document(policy):
            # This process already registers (or ran) cases under this version, maybe one
            # never written to the book (the constructor's): its rules cannot change in place.
            raise PolicyError(
                "version",
                f"{policy.version!r} is in use with other rules: give changed rules a new version",
            )
        for _ in range(COMMAND_ATTEMPTS):
            book = self._policy_book()
            if not book.adopt(policy, actor.user, at or self.clock()):
                break
            try:
                self.save(book)
                break
            except IntegrityError:
                continue
        self.policy = policy
        self._policies[policy.version] = policy

    def _policy_book(self) -> PolicyBook:
        try:
            book: PolicyBook = self.repository.get(POLICY_BOOK_ID)
        except AggregateNotFoundError:
            book = PolicyBook.create(self.clock())
        return book

    def policy_for(self, version: str) -> Policy:
        """The policy a case was registered under, from memory or the policy book."""
        policy = self._policies.get(version)
        if policy is None:
            policy = self._policy_book().get(version)
            self._policies[version] = policy
        return policy

    def clocks_for(self, case: Case, mode: Mode | None = None) -> Clocks:
        """The case's policy on its calendar, in ``mode`` (default: the current mode)."""
        policy = self.policy_for(case.policy_version)
        calendar = self._calendars.get(policy.version)
        if calendar is None:
            calendar = self._calendars[policy.version] = WorkingCalendar(policy.holidays)
        return Clocks(policy, calendar, mode or self.current_mode())

    # --- operating mode ----------------------------------------------------------------

    def _operations(self) -> Operations:
        try:
            operations: Operations = self.repository.get(OPERATIONS_ID)
        except AggregateNotFoundError:
            operations = Operations.create(self.clock())
        return operations

    def current_mode(self) -> Mode:
        """The mode new clocks start under, as last switched by any process."""
        return self._operations().mode

    def switch_mode(
        self, actor: Actor, mode: Mode, reason: str, at: datetime | None = None
    ) -> Mode:
        """Switches the operating mode (an audited event); clocks started after it use it."""
        for attempt in range(COMMAND_ATTEMPTS):
            operations = self._operations()
            operations.switch(mode, reason, actor.user, actor.role.value, at or self.clock())
            try:
                self.save(operations)
                return mode
            except IntegrityError:
                _back_off(attempt)
        raise VersionConflictError(self._operations().version)

    # --- access to the record -------------------------------------------------------

    def record_access(
        self,
        actor: Actor,
        kind: str,
        case_id: UUID | None,
        filter: dict[str, Any],  # noqa: A002 - what was exported
        reason: str = "",
        at: datetime | None = None,
    ) -> int | None:
        """Records an export or an unmasking; returns its log position."""
        record = AccessRecord.record(
            uuid4(), at or self.clock(), kind, actor.user, actor.role.value, actor.unit,
            str(case_id) if case_id else None, filter, reason,
        )  # fmt: skip
        recordings = self.save(record)
        return recordings[-1].notification.id if recordings else None

    # --- cases: reading -----------------------------------------------------------------

    def get_case(self, case_id: UUID) -> Case:
        try:
            case: object = self.repository.get(case_id)
        except AggregateNotFoundError:
            raise CaseNotFoundError(case_id) from None
        if not isinstance(case, Case):
            raise CaseNotFoundError(case_id)
        return case

    # --- cases: commands ----------------------------------------------------------------

    def register(
        self,
        actor: Actor,
        kind: str,
        details: Registration,
        at: datetime | None = None,
        case_id: UUID | None = None,
    ) -> Recorded:
        """登记 a dispute or an incident."""
        case_class = CASE_KINDS.get(kind)
        if case_class is None:
            raise InvalidInputError("kind", f"must be one of {', '.join(CASE_KINDS)}")
        units = self._units_knowing(details.unit)
        calendar = self._calendars.setdefault(
            self.policy.version, WorkingCalendar(self.policy.holidays)
        )
        clocks = Clocks(self.policy, calendar, self.current_mode())
        now = at or self.clock()
        case = case_class.register(case_id or uuid4(), actor, now, units, clocks, details)
        return self._save(case)

    def _save(self, case: Case) -> Recorded:
        events = tuple(type(event).__name__ for event in case.pending_events)
        recordings = self.save(case)
        position = recordings[-1].notification.id if recordings else None
        return Recorded(case, position, events)

    def _act(
        self,
        case_id: UUID,
        expected_version: int | None,
        decide: Callable[[Case], Any],
    ) -> Recorded:
        """Load, check the expected version, decide, save; retry the whole on a conflict."""
        for attempt in range(COMMAND_ATTEMPTS):
            case = self.get_case(case_id)
            if expected_version is not None and case.version != expected_version:
                raise VersionConflictError(case.version, expected_version)
            decide(case)
            try:
                return self._save(case)
            except IntegrityError:
                _back_off(attempt)
        raise VersionConflictError(self.get_case(case_id).version)

    def _now(self, at: datetime | None) -> datetime:
        return at or self.clock()

    def assess(
        self,
        case_id: UUID,
        actor: Actor,
        level: Level,
        triggers: list[str],
        reason: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id,
            expected_version,
            lambda c: c.assess(
                actor, now, self.units(), self.clocks_for(c), level, triggers, reason
            ),
        )

    def raise_level(
        self,
        case_id: UUID,
        actor: Actor,
        level: Level,
        reason: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id,
            expected_version,
            lambda c: c.raise_level(actor, now, self.units(), self.clocks_for(c), level, reason),
        )

    def lower_level(
        self,
        case_id: UUID,
        actor: Actor,
        level: Level,
        reason: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id,
            expected_version,
            lambda c: c.lower_level(actor, now, self.units(), self.clocks_for(c), level, reason),
        )

    def sign(
        self,
        case_id: UUID,
        actor: Actor,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(case_id, expected_version, lambda c: c.sign(actor, now))

    def assign(
        self,
        case_id: UUID,
        actor: Actor,
        assignee: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(case_id, expected_version, lambda c: c.assign(actor, now, assignee))

    def return_case(
        self,
        case_id: UUID,
        actor: Actor,
        reason: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id,
            expected_version,
            lambda c: c.return_case(actor, now, self.clocks_for(c), self.units(), reason),
        )

    def escalate(
        self,
        case_id: UUID,
        actor: Actor,
        reason: str,
        other_unit: str | None = None,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        units = self._units_knowing(other_unit) if other_unit else self.units()
        return self._act(
            case_id,
            expected_version,
            lambda c: c.escalate(actor, now, units, self.clocks_for(c), reason, other_unit),
        )

    def record_mediation(
        self,
        case_id: UUID,
        actor: Actor,
        held_at: datetime,
        notes: str,
        attendees: list[str],
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id,
            expected_version,
            lambda c: c.record_mediation(actor, now, self.clocks_for(c), held_at, notes, attendees),
        )

    def resolve(
        self,
        case_id: UUID,
        actor: Actor,
        agreement: str,
        form: AgreementForm,
        amount: Decimal | None = None,
        performance_due: str | None = None,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id,
            expected_version,
            lambda c: c.resolve(
                actor, now, self.clocks_for(c), agreement, form, amount, performance_due
            ),
        )

    def terminate(
        self,
        case_id: UUID,
        actor: Actor,
        reason: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id, expected_version, lambda c: c.terminate(actor, now, self.clocks_for(c), reason)
        )

    def refer(
        self,
        case_id: UUID,
        actor: Actor,
        agency: Agency,
        reason: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(case_id, expected_version, lambda c: c.refer(actor, now, agency, reason))

    def answer_referral(
        self,
        case_id: UUID,
        actor: Actor,
        answer: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id,
            expected_version,
            lambda c: c.answer_referral(actor, now, self.clocks_for(c), answer),
        )

    def request_judicial_confirmation(
        self,
        case_id: UUID,
        actor: Actor,
        court: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id,
            expected_version,
            lambda c: _dispute(
                c, "request judicial confirmation for"
            ).request_judicial_confirmation(actor, now, court),
        )

    def record_judicial_confirmation(
        self,
        case_id: UUID,
        actor: Actor,
        confirmed: bool,
        note: str = "",
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id,
            expected_version,
            lambda c: _dispute(c, "record judicial confirmation for").record_judicial_confirmation(
                actor, now, confirmed, note
            ),
        )

    def record_follow_up(
        self,
        case_id: UUID,
        actor: Actor,
        satisfied: bool,
        agreement_honoured: bool | None = None,
        note: str = "",
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id,
            expected_version,
            lambda c: c.record_follow_up(actor, now, satisfied, agreement_honoured, note),
        )

    def rate(
        self,
        case_id: UUID,
        actor: Actor,
        grade: Grade,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id, expected_version, lambda c: c.rate(actor, now, self.clocks_for(c), grade)
        )

    def pause(
        self,
        case_id: UUID,
        actor: Actor,
        reason: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(case_id, expected_version, lambda c: c.pause(actor, now, reason))

    def resume(
        self,
        case_id: UUID,
        actor: Actor,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(case_id, expected_version, lambda c: c.resume(actor, now))

    def extend_deadline(
        self,
        case_id: UUID,
        actor: Actor,
        until: datetime,
        reason: str,
        kind: str = "resolve",
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id, expected_version, lambda c: c.extend_deadline(actor, now, until, reason, kind)
        )

    def reopen(
        self,
        case_id: UUID,
        actor: Actor,
        reason: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id, expected_version, lambda c: c.reopen(actor, now, self.clocks_for(c), reason)
        )

    def close_case(
        self,
        case_id: UUID,
        actor: Actor,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        """办结/销号 (not ``close``: the library's ``Application.close`` releases the store)."""
        now = self._now(at)
        return self._act(case_id, expected_version, lambda c: c.close_case(actor, now))

    def reject(
        self,
        case_id: UUID,
        actor: Actor,
        reason: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(case_id, expected_version, lambda c: c.reject(actor, now, reason))

    def add_note(
        self,
        case_id: UUID,
        actor: Actor,
        text: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(case_id, expected_version, lambda c: c.add_note(actor, now, text))

    def add_attachment(
        self,
        case_id: UUID,
        actor: Actor,
        name: str,
        media_type: str,
        size: int,
        sha256: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id,
            expected_version,
            lambda c: c.add_attachment(actor, now, name, media_type, size, sha256),
        )

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


def _dispute(case: Case, command: str) -> Dispute:
    if not isinstance(case, Dispute):
        raise CommandNotAllowedError(
            command, case.status.value, "only disputes have agreements a court can confirm"
        )
    return case


def _act_on(
    app: FengqiaoApplication,
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
