"""The fengqiao application: cases, the jurisdiction, the policy book, the operating mode and
the record of access, in one event store.

Every command on an existing case goes through ``execute``: load the case, check the version the
caller saw, let the command decide, save; retried as a whole when another writer saved first.
The named methods are the work that is not "load one case and call one method": registering,
units, policy, mode, access records and the scheduler's batch of due clocks.
"""

from __future__ import annotations

import base64
import copy
import itertools
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any, ClassVar, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, DomainEventProtocol
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Recording

from domain.access import AccessRecord
from domain.actors import SYSTEM, Actor
from domain.calendar import WorkingCalendar
from domain.calendar_change import recompute_clocks
from domain.case import Case, Registration
from domain.case.commands import CaseCommand, Context
from domain.clue import Clue, ClueNotFoundError, ClueReport, triage_deadline
from domain.commit_groups import CommitGroups
from domain.deadline_batch import Due, act_on_deadlines
from domain.directory import DIRECTORY_ID, Directory
from domain.dispute import Dispute
from domain.errors import (
    CaseNotFoundError,
    DomainError,
    InvalidInputError,
    KeyPersonNotFoundError,
    PolicyError,
    UnknownUnitError,
    VersionConflictError,
)
from domain.fingerprints import Fingerprints
from domain.incident import Incident
from domain.inspection import DrawAnswer, InspectionDraw, Month, draw_id
from domain.jurisdiction import JURISDICTION_ID, Jurisdiction, Unit
from domain.key_person import (
    FlagAnswer,
    Identity,
    KeyPerson,
    next_visit,
    party_identity,
    source_party,
    typed_identity,
)
from domain.levels import Level
from domain.numbering import CaseNumbers, counter_id, county_of, number_year
from domain.operations import OPERATIONS_ID, ModeInForce, Operations
from domain.parties import validated
from domain.policy import Clocks, Mode, Policy
from domain.policy_book import POLICY_BOOK_ID, PolicyBook
from domain.policy_document import policy_to_document
from domain.receipt import CommandReceipt, Outcome, RequestKey
from domain.recorded import Recorded
from domain.repeats import Background, NoHistory, RepeatFinder, WatchList
from domain.screening import Period
from domain.screening_report import ScreeningAnswer, ScreeningReport, parse_clue_ids, report_id
from domain.transcodings import register_value_objects
from domain.tree_head import Head, TreeHead, head_id

CASE_KINDS: Mapping[str, type[Case]] = {"dispute": Dispute, "incident": Incident}
COMMAND_ATTEMPTS = 10
BACKOFF_SECONDS = 0.002  # first retry waits up to this; doubles each attempt (with jitter)

T = TypeVar("T")
# A decided case, and what is saved with it (its county's counter, for a registration).
Decided = tuple[Case, tuple[Aggregate, ...]]


def fingerprints_of(cipher_key: str | None) -> Fingerprints | None:
    """The fingerprints under the key derived from a base64 cipher key; None without one."""
    if not cipher_key:
        return None
    return Fingerprints.derived_from(base64.b64decode(cipher_key))


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _back_off(attempt: int) -> None:
    """Waits a random, growing while before retrying a command that lost a race, so two
    writers on one case do not keep colliding in lock step."""
    time.sleep(random.uniform(0, BACKOFF_SECONDS * 2**attempt))


class FengqiaoApplication(Application[UUID]):
    """Cases, the jurisdiction tree and the policy book in one event store."""

    name = "fengqiao"
    # A county's counter gains an event per case; loading it stays quick from a snapshot.
    snapshotting_intervals: ClassVar[dict[Any, int]] = {CaseNumbers: 100}

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        clock: Callable[[], datetime] = _utc_now,
        policy: Policy | None = None,
        group_commits: bool = True,
    ) -> None:
        super().__init__(env)
        # Commands saved at the same moment share a transaction (``domain.commit_groups``).
        self.commits: CommitGroups[Recording[UUID]] = CommitGroups(self.save, group_commits)
        self.clock = clock
        self.policy = policy or Policy()
        self._policies: dict[str, Policy] = {self.policy.version: self.policy}
        # by calendar facts (holidays, workdays): the current policy's count for every case
        self._calendars: dict[tuple[frozenset[date], frozenset[date]], WorkingCalendar] = {}
        self._units: Jurisdiction | None = None
        # when read (monotonic), the version read and what
        self._directory: tuple[float, int, Directory] | None = None
        self._county_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        # Keyed hashes of ID numbers and phones (``domain.fingerprints``), under a key derived
        # from the cipher key; none without one (an unencrypted store matches nobody).
        self.fingerprints = fingerprints_of(self.env.get("CIPHER_KEY"))
        # The read models a registration consults (``domain.repeats``); the composition root
        # plugs in the views, and until it does nothing is found.
        self.repeat_finder: RepeatFinder = NoHistory()
        self.watch_list: WatchList = NoHistory()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_value_objects(transcoder)

    # --- jurisdiction -------------------------------------------------------------------

    def units(self, refresh: bool = False) -> Jurisdiction:
        """The jurisdiction tree, cached; reloaded when asked or when a code is unknown."""
        if self._units is None or refresh:
            self._units = self._load_units()
        return self._units

    def _load_units(self, at: datetime | None = None) -> Jurisdiction:
        """The tree as stored; a new one, begun ``at`` (now by default), when none is."""
        try:
            units: Jurisdiction = self.repository.get(JURISDICTION_ID)
        except AggregateNotFoundError:
            units = Jurisdiction.create(at or self.clock())
        return units

    def _units_knowing(self, *codes: str) -> Jurisdiction:
        units = self.units()
        if all(code in units for code in codes):
            return units
        return self.units(refresh=True)

    def add_units(self, actor: Actor, units: list[Unit], at: datetime | None = None) -> int:
        """Adds the units not yet in the tree (so loading sample data twice is harmless)."""

        def once() -> int:
            # a new tree begins when its first units are added (villages owe 排查 from then)
            tree = self._units = self._load_units(at)
            missing = [unit for unit in units if unit.code not in tree]
            for unit in missing:
                tree.add_unit(unit, actor.user, at or self.clock())
            self._commit(tree)
            return len(missing)

        return self._retrying(once, lambda: self.units(refresh=True).version)

    # --- directory of staff ---------------------------------------------------------------

    def directory(self, max_age: float = 0.0) -> Directory:
        """The staff directory; one read at most ``max_age`` seconds old is reused (every
        request checks its caller here, and a disabled member is let in no longer than that).
        Past that age the store is asked whether the directory changed, and it is loaded
        (copied: thousands of members) again only if it did. The directory returned is shared:
        read it, never change it (``change_directory`` loads its own). A read's age counts
        from when the store was last asked, not from its last reuse."""
        recent = self.recent_directory(max_age)
        if recent is not None:
            return recent
        now = time.monotonic()
        cached = self._directory
        if cached is not None and not self._directory_moved(cached[1]):
            self._directory = (now, cached[1], cached[2])
            return cached[2]
        version, directory = self._stored_directory()
        self._directory = (now, version, directory)
        return directory

    def recent_directory(self, max_age: float) -> Directory | None:
        """This process's read of the directory if it is at most ``max_age`` seconds old, else
        None; never asks the store, so an event loop may call it without blocking."""
        cached = self._directory
        if cached is None or time.monotonic() - cached[0] > max_age:
            return None
        return cached[2]

    def _stored_directory(self) -> tuple[int, Directory]:
        """The directory as stored and its stored version (0, and a new one, before any)."""
        try:
            directory: Directory = self.repository.get(DIRECTORY_ID)
        except AggregateNotFoundError:
            return 0, Directory.create(self.clock())
        return directory.version, directory

    def _directory_moved(self, version: int) -> bool:
        """Whether the store holds a later version of the directory than ``version``."""
        return self._stored(DIRECTORY_ID, after=version)

    def _stored(self, aggregate_id: UUID, after: int | None = None) -> bool:
        """Whether the log holds an event of ``aggregate_id`` (after version ``after``): one
        indexed read, where loading the aggregate would decode all of it."""
        later = self.repository.event_store.get(aggregate_id, gt=after, limit=1)
        return any(True for _ in later)

    def change_directory(
        self, actor: Actor, change: Callable[[Directory], None], units: Iterable[str] = ()
    ) -> int | None:
        """Loads the directory, lets ``change`` decide, saves (again from the start when
        another writer saved first). ``units`` are the units members are put in: each must
        be in the tree. Returns the log position (None: nothing changed)."""
        codes = list(dict.fromkeys(units))
        tree = self._units_knowing(*codes)
        for code in codes:
            if code not in tree:
                raise UnknownUnitError(code)

        def once() -> int | None:
            _, directory = self._stored_directory()  # its own copy: a refused change is not seen
            change(directory)
            position = self._commit(directory)
            self._directory = None
            return position

        return self._retrying(once, lambda: self.directory().version)

    # --- policy -------------------------------------------------------------------------

    def adopt_policy(self, actor: Actor, policy: Policy, at: datetime | None = None) -> int:
        """Records the configured policy in the policy book (once per version) and makes it
        the one new cases are registered under, and its calendar facts (holidays, 调休
        workdays) the ones every case's new clocks use. When this adoption changes the
        calendar facts of the book's current policy, every running case's pending clocks on
        the working calendar are recomputed (``domain.calendar_change``). Returns how many
        cases were."""
        known = self._policies.get(policy.version)
        if known is not None and policy_to_document(known) != policy_to_document(policy):
            # This process already registers (or ran) cases under this version, maybe one
            # never written to the book (the constructor's): its rules cannot change in place.
            raise PolicyError(
                "version",
                f"{policy.version!r} is in use with other rules: give changed rules a new version",
            )

        now = at or self.clock()

        def once() -> Policy | None:
            """The policy this adoption replaced as current (None: nothing changed)."""
            book = self._policy_book()
            before = book.current
            if not book.adopt(policy, actor.user, now):
                return None
            self._commit(book)
            return None if before is None else book.get(before)

        replaced = self._retrying(once, lambda: self._policy_book().version)
        self.policy = policy
        self._policies[policy.version] = policy
        if replaced is None or replaced.calendar_facts == policy.calendar_facts:
            return 0
        return recompute_clocks(self, actor, replaced, policy, now, CASE_KINDS.values())

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
        """The case's policy on its calendar, in ``mode`` (default: the mode in force where
        the case is located)."""
        policy = self.policy_for(case.policy_version)
        return Clocks(policy, self.calendar(), mode or self.mode_at(case.unit))

    def calendar(self, policy: Policy | None = None) -> WorkingCalendar:
        """The working calendar of ``policy``'s calendar facts (default: the current policy's,
        which every case's new clocks use whatever version the case keeps: holidays and 调休
        are facts about the world, not rules frozen with a case)."""
        facts = (policy or self.policy).calendar_facts
        calendar = self._calendars.get(facts)
        if calendar is None:
            calendar = self._calendars[facts] = (policy or self.policy).calendar()
        return calendar

    # --- operating mode ----------------------------------------------------------------

    def _operations(self) -> Operations:
        try:
            operations: Operations = self.repository.get(OPERATIONS_ID)
        except AggregateNotFoundError:
            operations = Operations.create(self.clock())
        return operations

    def operations(self) -> Operations:
        """Every unit's mode setting, as last switched by any process: read once, resolve
        for many units (``Operations.in_force``)."""
        return self._operations()

    def root_unit(self) -> Unit | None:
        """The city at the root of the tree (None while the tree has no units)."""
        return next((u for u in self.units().units.values() if u.parent is None), None)

    def current_mode(self) -> Mode:
        """The city's mode (the default where no county set one), as last switched."""
        operations = self._operations()
        root = self.root_unit()
        return operations.mode if root is None else operations.mode_at(self.units(), root.code)

    def mode_at(self, unit: str) -> Mode:
        """The mode new clocks start under for a case located at ``unit``."""
        return self.mode_in_force(unit).mode

    def mode_in_force(self, unit: str) -> ModeInForce:
        """The mode at ``unit``: the nearest setting on it or above it, or the default."""
        return self._operations().in_force(self._units_knowing(unit), unit)

    def switch_mode(
        self,
        actor: Actor,
        mode: Mode | None,
        reason: str,
        at: datetime | None = None,
        unit: str | None = None,
    ) -> ModeInForce | None:
        """Switches the mode of ``unit``'s subtree (default: the city's) as an audited event;
        clocks started after it use it. ``mode`` None: a county follows the city again.
        Returns the mode now in force at the unit (None while the tree has no units)."""

        def once() -> ModeInForce | None:
            target = self.root_unit() if unit is None else self._units_knowing(unit).get(unit)
            operations = self._operations()
            operations.switch(
                mode, reason, actor.user, actor.role.value, at or self.clock(), target
            )
            self._commit(operations)
            return None if target is None else operations.in_force(self.units(), target.code)

        return self._retrying(once, lambda: self._operations().version)

    # --- 督查回访 -------------------------------------------------------------------------

    def inspection_draw(self, township: str, month: Month) -> InspectionDraw | None:
        """The draw of ``township`` for ``month``, if it was made."""
        try:
            draw: object = self.repository.get(draw_id(township, month))
        except AggregateNotFoundError:
            return None
        return draw if isinstance(draw, InspectionDraw) else None

    def draw_inspection(
        self,
        actor: Actor,
        township: str,
        month: Month,
        population: Iterable[UUID],
        seed: str,
        at: datetime | None = None,
    ) -> DrawAnswer:
        """督查抽查: draws ``township``'s sample for ``month`` from ``population`` (the cases
        closed in it and located in its subtree, as the caller read them) under ``seed``, by
        the current policy's ``[inspection]`` rules, and starts each sampled case's callback
        clock (on the case's own policy): the draw and the sampled cases in one transaction.
        A township-month drawn before is answered with that draw, and nothing changes."""
        now = at or self.clock()
        population = list(population)

        def once() -> DrawAnswer:
            earlier = self.inspection_draw(township, month)
            if earlier is not None:
                return DrawAnswer(earlier, False, None)
            units = self._units_knowing(township)
            rules = self.policy.inspection
            draw = InspectionDraw.draw(actor, now, units, township, month, population, seed, rules)
            cases = [self.get_case(UUID(case_id)) for case_id in draw.sample]
            for case in cases:
                case.sample_for_inspection(
                    actor, now, self.clocks_for(case), units, draw.id, township, str(month)
                )
            return DrawAnswer(draw, True, self._commit(draw, *cases))

        return self._retrying(once, lambda: 0)

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
        return self._commit(record)

    def record_tree_head(self, head: Head, at: datetime | None = None) -> tuple[Head, int | None]:
        """Records a signed tree head; its log position, or None when a head of that size and
        root was recorded before (that one is answered: one head per size and root)."""
        record = TreeHead.record(at or self.clock(), head)
        try:
            return head, self._commit(record)
        except IntegrityError:
            stored: object = self.repository.get(head_id(head.size, head.root))
            if not isinstance(stored, TreeHead):
                raise
            return stored.head, None

    # --- cases: reading -----------------------------------------------------------------

    def get_case(self, case_id: UUID, version: int | None = None) -> Case:
        """The case as it stands, or as it stood at ``version`` (what a receipt's command
        left)."""
        try:
            case: object = self.repository.get(case_id, version=version)
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
        """登记 a dispute or an incident, numbered by its county (retried from the start when
        another registration in the county took the number first)."""
        now = at or self.clock()
        new_id = case_id or uuid4()
        found = self._found(kind, details, now)

        def once() -> Recorded:
            case, others = self._registered(actor, kind, details, now, new_id, found=found)
            return self._save(case, *others)

        with self._numbering(details.unit):
            return self._retrying(once, lambda: 0)

    def _registered(
        self,
        actor: Actor,
        kind: str,
        details: Registration,
        at: datetime,
        case_id: UUID,
        clue_id: UUID | None = None,
        found: Background | None = None,
    ) -> Decided:
        """The new case and its county's counter, which issued its number: to be saved
        together. ``found``: its background, when asked for before the numbering lock."""
        case_class = CASE_KINDS.get(kind)
        if case_class is None:
            raise InvalidInputError("kind", f"must be one of {', '.join(CASE_KINDS)}")
        units = self._units_knowing(details.unit)
        mode = self._operations().mode_at(units, details.unit) if details.unit in units else None
        clocks = Clocks(self.policy, self.calendar(), mode or Mode.NORMAL)
        background = replace(found or self.background(details, at, kind), clue_id=clue_id)
        number, counter = self._next_number(units, details.unit, kind, at, case_id, at)
        case = case_class.register(case_id, actor, at, units, clocks, details, number, background)
        return case, (counter,)

    def _found(self, kind: str, details: Registration, at: datetime) -> Background | None:
        """A new case's background (``background``), asked for before the county's numbering
        lock is taken: the read models may keep it a moment (they first apply what was just
        recorded, ``projections.ports``), and the county's other registrations must not
        queue behind that. None when the registration is refused: it is then refused inside,
        in the order its checks run."""
        if kind not in CASE_KINDS:
            return None
        try:
            return self.background(details, at, kind)
        except DomainError:
            return None

    def background(
        self, details: Registration, at: datetime, kind: str | None = None
    ) -> Background:
        """What the record says of a new case's parties and place: the cases of the policy's
        repeat window it repeats, the key persons among its parties (``domain.repeats``). A
        case's ``kind`` names the vocabulary its category is stored in (邻里纠纷 is 邻里), the
        word its place's earlier cases are indexed under."""
        if self.fingerprints is None:
            return Background()
        found = self.fingerprints.of_parties(validated(list(details.parties)))
        since = at - self.policy.repeat_window.as_timedelta()
        category = details.category.strip()
        if kind is not None:
            category = self.policy.intake.category(kind, category)
        return Background(
            repeat_of=tuple(self.repeat_finder.earlier_cases(found, details.unit, category, since)),
            key_persons=tuple(self.watch_list.key_persons_among(found)) if found else (),
        )

    def number_cases(
        self, actor: Actor, case_ids: Iterable[UUID], at: datetime | None = None
    ) -> int:
        """Numbers cases registered before cases were numbered, in the order given (their
        registration order), each by a ``Numbered`` event saved with its county's counter for
        the year it was registered. A case numbered already is left; returns how many were
        numbered. One process at a time, before new registrations: numbers follow the order."""
        now = at or self.clock()
        numbered = 0
        for case_id in case_ids:

            def once(case_id: UUID = case_id) -> bool:
                case = self.get_case(case_id)
                if case.number:
                    return False
                units = self._units_knowing(case.unit)
                number, counter = self._next_number(
                    units, case.unit, case.kind, case.registered_at, case.id, now
                )
                case.take_number(actor, now, number)
                self._commit(case, counter)
                return True

            numbered += self._retrying(once, lambda: 0)
        return numbered

    def _next_number(
        self,
        units: Jurisdiction,
        unit: str,
        kind: str,
        registered_at: datetime,
        case_id: UUID,
        at: datetime,
    ) -> tuple[str, CaseNumbers]:
        """The number of a case of ``kind`` located at ``unit``, issued by its county's
        counter for the year it was registered; and the counter, to be saved with the case."""
        county = county_of(units, unit)
        counter = self._counter(county.code, kind, number_year(registered_at), at)
        sequence = counter.issue(case_id, at)
        number = self.policy.numbering.number(units, county, kind, counter.year, sequence)
        return number, counter

    def _numbering(self, unit: str) -> threading.Lock:
        """This process's lock on numbering in the county of ``unit``: its registrations take
        numbers one at a time instead of racing for the same one and retrying. (Processes
        beside it still race, and the store's uniqueness settles it.)"""
        try:
            county = county_of(self.units(), unit).code
        except DomainError:
            county = ""  # an unknown unit: refused inside, under a lock of its own
        with self._locks_guard:
            return self._county_locks.setdefault(county, threading.Lock())

    def _counter(self, county: str, kind: str, year: int, at: datetime) -> CaseNumbers:
        try:
            counter: CaseNumbers = self.repository.get(counter_id(county, kind, year))
        except AggregateNotFoundError:
            counter = CaseNumbers.start(county, kind, year, at)
        return counter

    def _save(self, case: Case, *others: Aggregate) -> Recorded:
        """Saves the case (and ``others``: its county's counter, its receipt) in one
        transaction."""
        events = tuple(type(event).__name__ for event in case.pending_events)
        return Recorded(case, self._commit(case, *others), events)

    def _commit(self, *aggregates: Aggregate) -> int | None:
        """Saves the aggregates' new events in one transaction; the log position of the last
        (None when there was nothing to save).

        A commit whose acknowledgement was lost (the connection dropped after COMMIT reached
        the server) comes back as an ``IntegrityError`` when the store retries the insert: the
        events are there already. Whether they are *ours* is read back, not guessed: a command
        that finds its own events answers as if the first try had succeeded and is never
        decided again; anyone else's events at those versions are a real conflict."""
        pending = [event for aggregate in aggregates for event in aggregate.pending_events]
        try:
            recordings = self.commits.save(*aggregates)
        except IntegrityError:
            if not pending or not self._already_stored(pending):
                raise
            return self.recorder.max_notification_id()
        self._cache(aggregates)
        return recordings[-1].notification.id if recordings else None

    def _cache(self, saved: Sequence[Aggregate]) -> None:
        """A copy of each aggregate just saved, in the repository's cache. The library caches
        what it saved only when it does not fast-forward; when it does (the default, and what
        several processes on one store need) a case's next command found the cache empty or
        behind and decoded the case's events again. The cached copy is still checked against
        the store on every read (fast-forward), so another process's writes are never missed;
        a copy, because the saved instance goes on to build the answer. Not receipts: one is
        read again only when its request is retried, and would take a case's place."""
        cache = self.repository.cache
        if cache is None or not self.repository.fastforward:
            return
        for aggregate in saved:
            if not isinstance(aggregate, CommandReceipt):
                cache.put(aggregate.id, copy.deepcopy(aggregate))

    def _already_stored(self, pending: Sequence[DomainEventProtocol[UUID]]) -> bool:
        """Whether exactly these events (same class, originator, version, time and payload)
        are in the store."""
        by_originator: dict[UUID, list[DomainEventProtocol[UUID]]] = {}
        for event in pending:
            by_originator.setdefault(event.originator_id, []).append(event)
        for originator, events in by_originator.items():
            stored = list(
                self.repository.event_store.get(
                    originator,
                    gt=events[0].originator_version - 1,
                    lte=events[-1].originator_version,
                )
            )
            same = len(stored) == len(events) and all(
                type(s) is type(e) and vars(s) == vars(e)
                for s, e in zip(stored, events, strict=False)
            )
            if not same:
                return False
        return True

    def execute(
        self,
        case_id: UUID,
        command: CaseCommand,
        actor: Actor,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        """Load, check the expected version, let ``command`` decide, save; retry the whole
        when another writer saved first."""
        decide = self._deciding(case_id, command, actor, at or self.clock(), expected_version)
        return self._retrying(lambda: self._save(decide()), lambda: self.get_case(case_id).version)

    def _deciding(
        self,
        case_id: UUID,
        command: CaseCommand,
        actor: Actor,
        at: datetime,
        expected_version: int | None,
        check: Callable[[Case], None] | None = None,
    ) -> Callable[[], Case]:
        """One attempt's load → ``check`` (who may: the caller's rule, on the instance the
        command then runs on, so a command loads its case once) → check the version the
        caller saw → let the command decide."""

        def decide() -> Case:
            case = self.get_case(case_id)
            if check is not None:
                check(case)
            if expected_version is not None and case.version != expected_version:
                raise VersionConflictError(case.version, expected_version)
            command.run(case, self.context(case, actor, at))
            return case

        return decide

    # --- cases: once per idempotency key ------------------------------------------------

    def receipt(self, key: RequestKey) -> CommandReceipt | None:
        """What a request under this caller's key was answered, if it ran (or was refused).
        Almost every key is new: one read of the log says so, where the repository would ask
        the snapshots first (receipts have none)."""
        if not self._stored(key.receipt_id):
            return None
        try:
            receipt: object = self.repository.get(key.receipt_id)
        except AggregateNotFoundError:
            return None
        return receipt if isinstance(receipt, CommandReceipt) else None

    def register_once(
        self,
        key: RequestKey | None,
        actor: Actor,
        kind: str,
        details: Registration,
        at: datetime,
        looked: bool = False,
    ) -> Recorded | CommandReceipt:
        """``register``, once per key: the receipt is saved with the new case; when one is
        there already, that receipt (the request ran before). Without a key, ``register``.
        ``looked``: see ``_once``."""
        found = self._found(kind, details, at)
        with self._numbering(details.unit):
            return self._once(
                key,
                at,
                Outcome.REGISTERED,
                lambda: self._registered(actor, kind, details, at, uuid4(), found=found),
                looked=looked,
            )

    def execute_once(
        self,
        key: RequestKey | None,
        case_id: UUID,
        command: CaseCommand,
        actor: Actor,
        at: datetime,
        expected_version: int | None = None,
        check: Callable[[Case], None] | None = None,
        looked: bool = False,
    ) -> Recorded | CommandReceipt:
        """``execute``, once per key: the receipt is saved with the command's events; when
        one is there already, that receipt. A receipt is looked for before the expected
        version is checked: a resend of a command that committed finds the case moved on by
        its own first attempt. Without a key, ``execute``. ``check`` and ``looked``: see
        ``_deciding`` and ``_once``."""
        decide = self._deciding(case_id, command, actor, at, expected_version, check)
        return self._once(key, at, Outcome.RECORDED, lambda: (decide(), ()), case_id, looked)

    def remember_refusal(
        self, key: RequestKey, at: datetime, case_id: UUID | None, refusal: dict[str, Any]
    ) -> CommandReceipt:
        """Keeps what the request was refused with; returns the receipt the store holds for
        the key (this one, or a concurrent copy's that got there first)."""

        def once() -> CommandReceipt:
            earlier = self.receipt(key)
            if earlier is not None:
                return earlier
            receipt = CommandReceipt.issue(key, at, Outcome.REFUSED, case_id, refusal=refusal)
            self._commit(receipt)
            return receipt

        return self._retrying(once, lambda: 0)

    def _once(
        self,
        key: RequestKey | None,
        at: datetime,
        outcome: Outcome,
        decide: Callable[[], Decided],
        case_id: UUID | None = None,
        looked: bool = False,
    ) -> Recorded | CommandReceipt:
        """Look for the key's receipt, else decide and save the case with a new receipt; run
        again from the start when the save meets another writer: a concurrent copy of this
        request (whose receipt the next attempt finds) or another command on the case.
        ``looked``: the caller has just looked for the receipt, so the first attempt does not
        look again (a retry does: a copy may have got there since)."""
        attempts = itertools.count()

        def once() -> Recorded | CommandReceipt:
            skip = looked and next(attempts) == 0
            earlier = None if key is None or skip else self.receipt(key)
            if earlier is not None:
                return earlier
            case, others = decide()
            if key is None:
                return self._save(case, *others)
            receipt = CommandReceipt.issue(key, at, outcome, case.id, case.version)
            return self._save(case, *others, receipt)

        # a registration conflicts only with a copy of itself, which the retry finds
        current = (lambda: self.get_case(case_id).version) if case_id else (lambda: 0)
        return self._retrying(once, current)

    def act_on_deadlines(
        self, actor: Actor, due: Sequence[Due], at: datetime | None = None
    ) -> list[Recorded | DomainError]:
        """The scheduler's sweep: ``ActOnDeadline`` for many clocks, saved in one transaction
        (see ``domain.deadline_batch``)."""
        return act_on_deadlines(self, actor, due, at or self.clock())

    def context(self, case: Case, actor: Actor, at: datetime, mode: Mode | None = None) -> Context:
        """What a command on ``case`` may consult, read only if it asks."""
        return Context(
            actor, at, self._units_knowing, lambda: self.clocks_for(case, mode), self.directory
        )

    # --- 线索 (clues: domain.clue) -------------------------------------------------------

    def get_clue(self, clue_id: UUID) -> Clue:
        """The clue as it stands."""
        try:
            clue: object = self.repository.get(clue_id)
        except AggregateNotFoundError:
            raise ClueNotFoundError(clue_id) from None
        if not isinstance(clue, Clue):
            raise ClueNotFoundError(clue_id)
        return clue

    def record_clue(
        self, actor: Actor, report: ClueReport, at: datetime | None = None
    ) -> tuple[Clue, int | None]:
        """记录线索, with its triage deadline on the working calendar and the key persons of
        the watch-list among its people; returns it and its log position."""
        now = at or self.clock()
        units = self._units_knowing(report.unit)
        prints = self.fingerprints
        found = [] if prints is None else prints.of_parties(validated(list(report.parties)))
        key_persons = self.watch_list.key_persons_among(found) if found else []
        due = triage_deadline(self.policy, self.calendar(), now)
        clue = Clue.record(uuid4(), actor, now, units, self.policy, report, due, key_persons)
        return clue, self._commit(clue)

    def dismiss_clue(
        self, actor: Actor, clue_id: UUID, reason: str, at: datetime | None = None
    ) -> tuple[Clue, int | None]:
        """不予立案: the clue dismissed for ``reason``."""

        def once() -> tuple[Clue, int | None]:
            clue = self.get_clue(clue_id)
            clue.dismiss(actor, at or self.clock(), reason)
            return clue, self._commit(clue)

        return self._retrying(once, lambda: self.get_clue(clue_id).version)

    def promote_clue(
        self,
        actor: Actor,
        clue_id: UUID,
        kind: str,
        level: Level | None = None,
        at: datetime | None = None,
    ) -> tuple[Clue, Recorded]:
        """转为案件: registers the case the clue becomes (linked back by ``clue_id``, the
        clue's text its first note) and records the promotion on the clue: the clue, the case
        and its county's counter in one transaction."""
        now = at or self.clock()
        first = self.get_clue(clue_id)
        first.check_promotable(actor)
        found = self._found(kind, first.registration(level), now)

        def once() -> tuple[Clue, Recorded]:
            clue = self.get_clue(clue_id)
            clue.check_promotable(actor)
            details = clue.registration(level)
            case, others = self._registered(
                actor, kind, details, now, uuid4(), clue.id, found=found
            )
            case.add_note(actor, now, clue.summary)
            clue.promote(actor, now, case.id, case.number, kind)
            events = tuple(type(event).__name__ for event in case.pending_events)
            position = self._commit(clue, case, *others)
            return clue, Recorded(case, position, events)

        with self._numbering(first.unit):
            return self._retrying(once, lambda: self.get_clue(clue_id).version)

    def flag_clue_overdue(
        self, actor: Actor, clue_id: UUID, due_at: datetime, at: datetime
    ) -> int | None:
        """The scheduler: flags the clue's triage clock ``due_at`` as run out (once, while the
        clue is open); the log position, None when there was nothing to do."""

        def once() -> int | None:
            clue = self.get_clue(clue_id)
            if not clue.flag_triage_overdue(actor, at, due_at):
                return None
            return self._commit(clue)

        return self._retrying(once, lambda: self.get_clue(clue_id).version)

    # --- 排查 (screening reports: domain.screening_report) ---------------------------------

    def screening_report(self, village: str, period: Period) -> ScreeningReport | None:
        """``village``'s report for ``period``, if it was filed or marked missed."""
        try:
            report: object = self.repository.get(report_id(village, period))
        except AggregateNotFoundError:
            return None
        return report if isinstance(report, ScreeningReport) else None

    def file_screening_report(
        self,
        actor: Actor,
        village: str,
        period: Period,
        clue_ids: Sequence[str] = (),
        zero: bool = False,
        declaration: str = "",
        at: datetime | None = None,
    ) -> ScreeningAnswer:
        """排查: files ``village``'s report for ``period``: the clues found there, or a 零报告
        (``zero``) with the declaration. Filed after the due time (or after the miss was
        recorded) it is a late one; a second filing is refused."""
        now = at or self.clock()
        ids = parse_clue_ids(clue_ids)

        def once() -> ScreeningAnswer:
            units = self._units_knowing(village)
            report = self._screening_report_owed(units, village, period, now)
            report.file(actor, units, period, self._clue_units(ids), zero, declaration, now)
            return ScreeningAnswer(report, self._commit(report))

        return self._retrying(once, lambda: 0)

    def mark_screening_missed(
        self, village: str, period: Period, at: datetime | None = None
    ) -> bool:
        """The scheduler's record that ``village`` filed nothing for ``period`` by its due
        time; False (nothing recorded) when it filed, was marked already, or is not due."""
        now = at or self.clock()

        def once() -> bool:
            report = self._screening_report_owed(self._units_knowing(village), village, period, now)
            if not report.mark_missed(SYSTEM, now):
                return False
            self._commit(report)
            return True

        return self._retrying(once, lambda: 0)

    def screening_since(self) -> datetime | None:
        """When this deployment's jurisdiction was first recorded (its villages since then
        owe reports; the periods that began before are owed none), else when it first adopted
        a policy. None before either."""
        for record_id in (JURISDICTION_ID, POLICY_BOOK_ID):
            try:
                begun: Aggregate = self.repository.get(record_id)
            except AggregateNotFoundError:
                continue
            return begun.created_on
        return None

    def _screening_report_owed(
        self, units: Jurisdiction, village: str, period: Period, at: datetime
    ) -> ScreeningReport:
        found = self.screening_report(village, period)
        if found is not None:
            return found
        return ScreeningReport.open(
            units, village, period, self.policy.screening.due_at(period), at
        )

    def _clue_units(self, clue_ids: Iterable[str]) -> dict[str, str | None]:
        """Each clue id with the unit its clue is located at (None: no such clue)."""
        found: dict[str, str | None] = {}
        for clue_id in clue_ids:
            try:
                clue: object = self.repository.get(UUID(clue_id))
            except AggregateNotFoundError:
                clue = None
            found[clue_id] = clue.unit if isinstance(clue, Clue) else None
        return found

    # --- 重点人员 (key persons: domain.key_person) ------------------------------------------

    def key_person(self, person_id: UUID) -> KeyPerson:
        """The key person, on the list or taken off it."""
        try:
            person: object = self.repository.get(person_id)
        except AggregateNotFoundError:
            raise KeyPersonNotFoundError(person_id) from None
        if not isinstance(person, KeyPerson):
            raise KeyPersonNotFoundError(person_id)
        return person

    def key_person_typed(self, name: str, id_number: str | None, phone: str | None) -> Identity:
        """A person typed in, fingerprinted (``domain.key_person.typed_identity``)."""
        return typed_identity(self._key_prints(), name, id_number, phone)

    def key_person_of_party(self, case_id: UUID, index: int) -> Identity:
        """A case's party as stored, fingerprinted."""
        case = self.get_case(case_id)
        return party_identity(self._key_prints(), source_party(case.parties, index))

    def _key_prints(self) -> Fingerprints:
        if self.fingerprints is None:
            raise InvalidInputError(
                "id_number", "this deployment has no cipher key to fingerprint by", "fingerprints"
            )
        return self.fingerprints

    def flag_key_person(
        self,
        actor: Actor,
        identity: Identity,
        reason: str,
        review_on: date,
        source: tuple[UUID, int] | None = None,
        at: datetime | None = None,
    ) -> FlagAnswer:
        """Puts a person on the key-person list of the supervisor's unit; a person on it
        already is answered as they are, one taken off it is put back."""
        now = at or self.clock()

        def once() -> FlagAnswer:
            try:
                person = self.key_person(identity.id)
            except KeyPersonNotFoundError:
                person = KeyPerson.flag(actor, now, identity, reason, review_on, source)
                return FlagAnswer(person, True, self._commit(person))
            if not person.reflag(actor, now, reason, review_on, source):
                return FlagAnswer(person, False, None)
            return FlagAnswer(person, True, self._commit(person))

        return self._retrying(once, lambda: 0)

    def assign_key_person_leader(
        self, actor: Actor, person_id: UUID, leader: str, at: datetime | None = None
    ) -> tuple[KeyPerson, int | None]:
        """包案: the leader, whose first visit falls due a visit interval from now."""
        now = at or self.clock()
        due = next_visit(self.policy.key_person_visit, self.calendar(), now)
        return self._change_key_person(
            person_id,
            lambda p: p.assign_leader(actor, now, leader, self.directory(), self.units(), due),
        )

    def record_key_person_visit(
        self, actor: Actor, person_id: UUID, note: str, at: datetime | None = None
    ) -> tuple[KeyPerson, int | None]:
        """A visit; the leader's next one falls due a visit interval from now."""
        now = at or self.clock()
        due = next_visit(self.policy.key_person_visit, self.calendar(), now)
        return self._change_key_person(person_id, lambda p: p.record_visit(actor, now, note, due))

    def review_key_person(
        self, actor: Actor, person_id: UUID, note: str, review_on: date, at: datetime | None = None
    ) -> tuple[KeyPerson, int | None]:
        now = at or self.clock()
        return self._change_key_person(person_id, lambda p: p.review(actor, now, note, review_on))

    def unflag_key_person(
        self, actor: Actor, person_id: UUID, reason: str, at: datetime | None = None
    ) -> tuple[KeyPerson, int | None]:
        now = at or self.clock()
        return self._change_key_person(person_id, lambda p: p.unflag(actor, now, reason))

    def flag_key_person_clocks(self, person_id: UUID, now: datetime) -> list[str]:
        """The scheduler: the visit overdue and the review due, when their time has come."""
        flagged: list[str] = []

        def change(person: KeyPerson) -> None:
            flagged[:] = person.flag_due_clocks(now)

        self._change_key_person(person_id, change)
        return flagged

    def _change_key_person(
        self, person_id: UUID, change: Callable[[KeyPerson], object]
    ) -> tuple[KeyPerson, int | None]:
        def once() -> tuple[KeyPerson, int | None]:
            person = self.key_person(person_id)
            change(person)
            return person, self._commit(person)

        return self._retrying(once, lambda: self.key_person(person_id).version)

    @staticmethod
    def _retrying(once: Callable[[], T], current_version: Callable[[], int]) -> T:
        """Runs ``once`` (load → decide → save) again from the start when another writer
        saved first; when they keep winning, a conflict carrying the current version."""
        for attempt in range(COMMAND_ATTEMPTS):
            try:
                return once()
            except IntegrityError:
                _back_off(attempt)
        raise VersionConflictError(current_version())


__all__ = ["CASE_KINDS", "FengqiaoApplication", "Recorded"]
