"""Runs a view over the event log: batches of events, exactly once, rebuildable.

A batch's view changes and the view's tracked position commit in one transaction. The
position is advanced with a conditional update (``WHERE position = <what we read>``), so two
runners of one view can never both apply a batch: the loser's transaction rolls back. Log
positions can have gaps (PostgreSQL burns sequence values on failed inserts), so the runner
never assumes ids are contiguous: it reads "everything after my position".

A batch the view itself cannot apply (its ``process`` raises anything but a transient database
error), or an event the runner cannot even decode (an unknown topic, a corrupt state), would fail
the same way on every retry, and the views would silently fall further behind. The runner
instead stops there: it keeps the failure (``ViewFailure``), logs it once, refuses further
batches and releases anyone waiting on it. It also records the failure in a one-row table beside
the view's tracking row, because the process that follows the views is often not the one asked
about them (``serve --workers``: ``/ready`` is answered by the API workers, ``fengqiao views
status`` by an operator's shell). Replaying after a fix (``fengqiao rebuild``, or a restart)
starts afresh: a rebuild deletes the record, and so does the first batch a restarted runner
applies past it. A record the view has moved past is never reported, whoever moved it.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import InterfaceError, Notification, OperationalError

from projections.db import TRANSIENT_ERRORS, Cursor, ViewDatabase

log = logging.getLogger(__name__)

# (log position, domain event; for a raw view the ``Notification`` as stored)
Batch = Sequence[tuple[int, Any]]
DEFAULT_BATCH = 2000
# Records one catch-up applies after which the view's planner statistics are gathered afresh
# (``ViewDatabase.analyze``): a rebuild, a first start over an existing log.
ANALYZE_AFTER = 100_000
MAX_MESSAGE = 1000  # characters of an error message kept: it is shown on /ready and stored
# Worth retrying as they are: the views' own databases' errors and the event store's.
RETRIED_ERRORS: tuple[type[Exception], ...] = (*TRANSIENT_ERRORS, OperationalError, InterfaceError)


@dataclass(frozen=True)
class Decoded:
    """A batch of records and the domain events decoded from them: up to the first record
    that cannot be decoded (``undecodable``: where, and why), if any."""

    notifications: Sequence[Notification]
    events: Sequence[tuple[int, Any]]
    undecodable: tuple[int, Exception] | None


def decode(app: Application[Any], notifications: Sequence[Notification]) -> Decoded:
    """The domain events of ``notifications``, up to the first record that cannot be decoded.
    Decoding reads no database: what fails here (an unknown topic, a state that will not
    decrypt or parse) is in the record and fails the same on every retry."""
    events: list[tuple[int, Any]] = []
    for notification in notifications:
        try:
            events.append((notification.id, app.mapper.to_domain_event(notification)))
        except RETRIED_ERRORS:
            raise
        except Exception as error:
            return Decoded(notifications, events, (notification.id, error))
    return Decoded(notifications, events, None)


class TrackingConflictError(RuntimeError):
    """Another runner advanced this view first; this batch was rolled back."""


class ViewFailedError(RuntimeError):
    """The view failed on a batch earlier and processes nothing more (see ``ViewFailure``)."""


@dataclass(frozen=True)
class ViewFailure:
    """Why a view stopped: the batch its ``process`` could not apply, or the one event that
    could not be decoded (``first == last``), and what was raised."""

    view: str
    first: int  # the batch's first and last log positions
    last: int
    error_type: str
    message: str

    @classmethod
    def of(cls, view: str, first: int, last: int, error: Exception) -> ViewFailure:
        """Kept short and free of NUL (which PostgreSQL's text refuses), to be stored."""
        message = str(error)[:MAX_MESSAGE].replace("\x00", "\\0")
        return cls(view, first, last, type(error).__name__, message)

    def __str__(self) -> str:
        if self.first == self.last:
            return f"position {self.first}: {self.error_type}: {self.message}"
        return f"positions {self.first}-{self.last}: {self.error_type}: {self.message}"


class View(ABC):
    """A read model: its tables and how a batch of events changes them.

    ``handles`` and ``ignores`` declare, by event class (bases cover their subclasses), which
    case events the view acts on and which it deliberately leaves alone; the test of event
    dispatch fails when an event class of the aggregate is in neither, so a new event cannot
    be silently skipped by a view."""

    name: str = ""
    handles: tuple[type, ...] = ()
    ignores: tuple[type, ...] = ()
    # The shape of the view's tables. Raised whenever they change: a deployment's tables of an
    # older shape are then dropped and rebuilt from the log when it starts, never read wrong.
    schema_version: int = 1
    # A view of the stored records themselves (the Merkle tree): its batches hold each
    # position's ``Notification`` as the recorder returned it, not decoded into an event.
    raw: bool = False

    def __init__(self, db: ViewDatabase) -> None:
        self.db = db

    @classmethod
    def over(cls, db: ViewDatabase, app: Application[Any]) -> View:
        """The view in ``db`` over ``app``'s log. A view that needs more of the application
        than its log (the fingerprint key) overrides this."""
        return cls(db)

    def t(self, table: str) -> str:
        return self.db.table(table)

    @abstractmethod
    def create_statements(self) -> list[str]:
        """DDL that creates the view's tables and indexes (idempotent)."""

    @abstractmethod
    def table_names(self) -> list[str]:
        """The view's tables, for a rebuild to drop."""

    @abstractmethod
    def process(self, cursor: Cursor, batch: Batch) -> None:
        """Applies a batch of events inside the runner's transaction."""


class ViewRunner:
    """Keeps one view up to date with one application's log."""

    def __init__(self, app: Application[Any], view: View, batch_size: int = DEFAULT_BATCH):
        self.app = app
        self.view = view
        self.batch_size = batch_size
        self._position: int | None = None
        self.failure: ViewFailure | None = None
        # The first batch applied after a start or a drop also deletes the failure recorded at
        # its positions (a stopped view's next batch starts where it stopped). One recorded
        # later by another process is left, but never reported once the view is past it
        # (``recorded_failure``), so no batch after the first pays for the check.
        self._clear_record = True
        self._changed = threading.Condition()
        self.analyze_after = ANALYZE_AFTER
        self.listeners: list[Callable[[int, Batch], None]] = []
        # called in the batch's transaction before the view applies it (to read rows as they
        # were); a batch rolled back afterwards reaches no listener
        self.preparers: list[Callable[[Cursor, Batch], None]] = []
        # called when what the preparers read belongs to a batch another process applied
        self.discarders: list[Callable[[], None]] = []

    @property
    def name(self) -> str:
        return self.view.name

    def _tracking(self) -> str:
        return self.view.t("tracking")

    def _failures(self) -> str:
        return self.view.t("failure")

    def setup(self) -> None:
        with self.view.db.transaction() as cursor:
            self._create_bookkeeping(cursor)
            if self._stored_shape(cursor) not in (None, self.view.schema_version):
                self._drop_in(cursor)  # built by an older release: rebuilt from the log
            for statement in self.view.create_statements():
                cursor.execute(statement)
            cursor.execute(
                f"INSERT INTO {self._shapes()} (view, version) VALUES (?, ?) "
                "ON CONFLICT (view) DO UPDATE SET version = excluded.version",
                (self.name, self.view.schema_version),
            )
            cursor.execute(
                f"INSERT INTO {self._tracking()} (view, position) VALUES (?, 0) "
                "ON CONFLICT (view) DO NOTHING",
                (self.name,),
            )
        self._position = None

    def _stored_shape(self, cursor: Cursor) -> int | None:
        """The schema version the view's tables were built with: None when there are none
        yet; 1 when they were built before versions were recorded."""
        cursor.execute(f"SELECT version FROM {self._shapes()} WHERE view = ?", (self.name,))
        row = cursor.fetchone()
        if row is not None:
            return int(row[0])
        cursor.execute(f"SELECT position FROM {self._tracking()} WHERE view = ?", (self.name,))
        return 1 if cursor.fetchone() is not None else None

    def _shapes(self) -> str:
        return self.view.t("schema_version")

    def _create_bookkeeping(self, cursor: Cursor) -> None:
        """The tables of the view's position, its recorded failure and its tables' schema
        version, which a rebuild empties but never drops."""
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {self._shapes()} "
            "(view TEXT PRIMARY KEY, version INTEGER NOT NULL)"
        )
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {self._tracking()} "
            "(view TEXT PRIMARY KEY, position BIGINT NOT NULL)"
        )
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {self._failures()} (view TEXT PRIMARY KEY, "
            "first_position BIGINT NOT NULL, last_position BIGINT NOT NULL, "
            "error_type TEXT NOT NULL, message TEXT NOT NULL)"
        )

    def read_position(self) -> int:
        """The position committed in the database (another process may have moved it)."""
        with self.view.db.transaction(write=False) as cursor:
            cursor.execute(f"SELECT position FROM {self._tracking()} WHERE view = ?", (self.name,))
            row = cursor.fetchone()
        return int(row[0]) if row else 0

    def recorded_failure(self) -> ViewFailure | None:
        """Where and why a runner of this view stopped, in whichever process, unless the view
        has been moved past that point since (by a rebuild, or a runner with the fix)."""
        with self.view.db.transaction(write=False) as cursor:
            cursor.execute(
                "SELECT f.first_position, f.last_position, f.error_type, f.message "
                f"FROM {self._failures()} f JOIN {self._tracking()} t ON t.view = f.view "
                "WHERE f.view = ? AND t.position < f.first_position",
                (self.name,),
            )
            row = cursor.fetchone()
        if row is None:
            return None
        return ViewFailure(self.name, int(row[0]), int(row[1]), str(row[2]), str(row[3]))

    @property
    def position(self) -> int:
        if self._position is None:
            self._position = self.read_position()
        return self._position

    def head(self) -> int:
        """The log's last position."""
        return self.app.recorder.max_notification_id() or 0

    def process_notifications(self, notifications: Sequence[Notification]) -> int:
        """Decodes and applies one batch in one transaction; returns how many were applied.

        Events after one that cannot be decoded are not applied; those before it are, so the
        view stops right before it."""
        fresh = [n for n in notifications if n.id > self.position]
        if not fresh or self.view.raw:
            return self.apply_decoded(Decoded(fresh, [], None))
        return self.apply_decoded(decode(self.app, fresh))

    def apply_decoded(self, decoded: Decoded) -> int:
        """Applies the part of a decoded batch past this view's position, in one transaction
        (the records themselves to a raw view); returns how many were applied. Several views
        share one ``Decoded`` (``projections.fanout``): each event is decoded once."""
        if self.failure is not None:
            raise ViewFailedError(f"view {self.name} failed at {self.failure}")
        start = self.position
        if self.view.raw:
            batch: Batch = [(n.id, n) for n in decoded.notifications if n.id > start]
            undecodable = None
        else:
            batch = [(position, event) for position, event in decoded.events if position > start]
            undecodable = decoded.undecodable
        applied = self._apply(start, batch) if batch else 0
        if undecodable is not None and undecodable[0] > start:
            position, error = undecodable
            self._failed(ViewFailure.of(self.name, position, position, error), error)
            raise error
        return applied

    def _apply(self, start: int, batch: Batch) -> int:
        """Applies decoded events and moves the tracked position past them, in one
        transaction; stops the view when its own ``process`` cannot apply them."""
        last = batch[-1][0]
        processing = False  # whether an error came from the view's own ``process``
        try:
            with self.view.db.transaction() as cursor:
                for prepare in self.preparers:
                    prepare(cursor, batch)
                processing = True
                self.view.process(cursor, batch)
                processing = False
                self._track(cursor, start, last)
        except TrackingConflictError:
            self._applied_elsewhere(batch)
            raise
        except Exception as error:
            self._position = None  # re-read: nothing of this batch was committed
            if self.read_position() > start:
                # Another runner applied these events first; its rows clashed with ours.
                self._applied_elsewhere(batch)
                raise TrackingConflictError(f"{self.name} moved past {start} elsewhere") from error
            if processing and not isinstance(error, RETRIED_ERRORS):
                self._failed(ViewFailure.of(self.name, batch[0][0], last, error), error)
            raise
        # the batch is this view's once its transaction commits: an outer one, when the
        # views share a file and a batch (``SqliteFile``), commits after every view's part
        self.view.db.after_commit(lambda: self._committed(last, batch))
        return len(batch)

    def _committed(self, last: int, batch: Batch) -> None:
        self._clear_record = False
        self._advanced(last, batch)

    def _track(self, cursor: Cursor, start: int, last: int) -> None:
        cursor.execute(
            f"UPDATE {self._tracking()} SET position = ? WHERE view = ? AND position = ?",
            (last, self.name, start),
        )
        if cursor.rowcount != 1:
            raise TrackingConflictError(f"{self.name} moved past {start} elsewhere")
        if self._clear_record:
            cursor.execute(
                f"DELETE FROM {self._failures()} WHERE view = ? AND first_position <= ?",
                (self.name, last),
            )

    def _failed(self, failure: ViewFailure, error: Exception) -> None:
        """Stops the view where it cannot go on: records it for every process, says so once,
        and wakes its waiters."""
        self._record(failure)
        log.critical(
            "view %s stopped at %s; it stays behind until fixed and rebuilt or restarted",
            self.name,
            failure,
            exc_info=error,
        )
        with self._changed:
            self.failure = failure
            self._changed.notify_all()

    def _record(self, failure: ViewFailure) -> None:
        """Writes the failure beside the view's position. Should the database not take it,
        this process still knows, and the next start stops (and records) at the same place."""
        try:
            with self.view.db.transaction() as cursor:
                cursor.execute(
                    f"INSERT INTO {self._failures()} "
                    "(view, first_position, last_position, error_type, message) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (view) DO UPDATE SET "
                    "first_position = excluded.first_position, "
                    "last_position = excluded.last_position, "
                    "error_type = excluded.error_type, message = excluded.message",
                    (self.name, failure.first, failure.last, failure.error_type, failure.message),
                )
        except Exception:  # the failure itself is what matters; it is logged next
            log.warning("could not record that view %s stopped", self.name, exc_info=True)

    def _applied_elsewhere(self, batch: Batch) -> None:
        """Another process's runner of this view (a second host, racing for the same shared
        tables) applied some of ``batch`` first and this transaction rolled back. This
        process's waiters and listeners are told of what was applied as if it had been
        applied here: a client's read-your-writes and a host's live streams must not depend on
        which host's follower won. What the preparers read in the rolled-back transaction may
        already be the other runner's result, so they are told to forget it (``discarders``).
        The runner moves no further than this batch even when the other got further: the
        batches after it are still offered here, so the listeners hear of each one."""
        for discard in self.discarders:
            discard()
        self._position = None
        position = min(self.read_position(), batch[-1][0])
        done = [(at, event) for at, event in batch if at <= position]
        with self._changed:
            self._position = position
            self._changed.notify_all()
        if done:
            for listener in self.listeners:
                listener(done[-1][0], done)

    def _advanced(self, position: int, batch: Batch) -> None:
        with self._changed:
            self._position = position
            self._changed.notify_all()
        for listener in self.listeners:
            listener(position, batch)

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Processes everything recorded so far; returns how many events were applied here.
        Where another process (a second host, the dispatcher's) applied a batch first, goes on
        from where that one got to."""
        applied = 0
        while True:
            notifications = self.app.recorder.select_notifications(
                start=self.position + 1, limit=self.batch_size
            )
            if not notifications:
                if applied >= self.analyze_after:
                    self.analyze()
                return applied
            try:
                count = self.process_notifications(notifications)
            except TrackingConflictError:
                continue  # the position was re-read: the rest is after it
            applied += count
            if progress is not None:
                progress(count)

    def analyze(self) -> None:
        """Fresh planner statistics for the view's tables after a bulk load. A failure is
        logged, not raised: the catch-up it follows stands, and autovacuum comes later."""
        try:
            self.view.db.analyze([self.view.t(table) for table in self.view.table_names()])
        except RETRIED_ERRORS as error:
            log.warning("view %s: planner statistics not gathered: %s", self.name, error)

    def drop(self) -> None:
        """Removes the view's tables, tracking row and recorded failure, for a rebuild from
        scratch."""
        with self.view.db.transaction() as cursor:
            self._create_bookkeeping(cursor)
            self._drop_in(cursor)
        self._position = None
        self._clear_record = True
        self.failure = None  # a replay from scratch starts afresh

    def _drop_in(self, cursor: Cursor) -> None:
        for table in self.view.table_names():
            cursor.execute(f"DROP TABLE IF EXISTS {self.view.t(table)}")
        for bookkeeping in (self._tracking(), self._failures(), self._shapes()):
            cursor.execute(f"DELETE FROM {bookkeeping} WHERE view = ?", (self.name,))

    def wait(self, position: int, timeout: float) -> bool:
        """Blocks until this runner has applied ``position`` (True) or time runs out; at once
        (False, unless applied already) when the view has failed."""
        with self._changed:
            self._changed.wait_for(
                lambda: self.position >= position or self.failure is not None, timeout
            )
            return self.position >= position
