"""Runs a view over the event log: batches of events, exactly once, rebuildable.

A batch's view changes and the view's tracked position commit in one transaction. The
position is advanced with a conditional update (``WHERE position = <what we read>``), so two
runners of one view can never both apply a batch: the loser's transaction rolls back. Log
positions can have gaps (PostgreSQL burns sequence values on failed inserts), so the runner
never assumes ids are contiguous: it reads "everything after my position".

A batch the view itself cannot apply (its ``process`` raises anything but a transient database
error) would fail the same way on every retry, and the views would silently fall further
behind. The runner instead stops at it: it keeps the failure (``ViewFailure``), logs it once,
refuses further batches and releases anyone waiting on it; ``/ready`` reports it. Replaying
after a fix (``fengqiao rebuild``, or a restart) starts afresh.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from projections.db import TRANSIENT_ERRORS, Cursor, ViewDatabase

log = logging.getLogger(__name__)

Batch = Sequence[tuple[int, Any]]  # (log position, domain event)
DEFAULT_BATCH = 2000


class TrackingConflictError(RuntimeError):
    """Another runner advanced this view first; this batch was rolled back."""


class ViewFailedError(RuntimeError):
    """The view failed on a batch earlier and processes nothing more (see ``ViewFailure``)."""


@dataclass(frozen=True)
class ViewFailure:
    """Why a view stopped: the batch it could not apply and what its ``process`` raised."""

    view: str
    first: int  # the batch's first and last log positions
    last: int
    error_type: str
    message: str

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

    def __init__(self, db: ViewDatabase) -> None:
        self.db = db

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
        self._changed = threading.Condition()
        self.listeners: list[Callable[[int, Batch], None]] = []
        # called in the batch's transaction before the view applies it (to read rows as they
        # were); a batch rolled back afterwards reaches no listener
        self.preparers: list[Callable[[Cursor, Batch], None]] = []

    @property
    def name(self) -> str:
        return self.view.name

    def _tracking(self) -> str:
        return self.view.t("tracking")

    def setup(self) -> None:
        with self.view.db.transaction() as cursor:
            for statement in self.view.create_statements():
                cursor.execute(statement)
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self._tracking()} "
                "(view TEXT PRIMARY KEY, position BIGINT NOT NULL)"
            )
            cursor.execute(
                f"INSERT INTO {self._tracking()} (view, position) VALUES (?, 0) "
                "ON CONFLICT (view) DO NOTHING",
                (self.name,),
            )
        self._position = None

    def read_position(self) -> int:
        """The position committed in the database (another process may have moved it)."""
        with self.view.db.transaction(write=False) as cursor:
            cursor.execute(f"SELECT position FROM {self._tracking()} WHERE view = ?", (self.name,))
            row = cursor.fetchone()
        return int(row[0]) if row else 0

    @property
    def position(self) -> int:
        if self._position is None:
            self._position = self.read_position()
        return self._position

    def head(self) -> int:
        """The log's last position."""
        return self.app.recorder.max_notification_id() or 0

    def process_notifications(self, notifications: Sequence[Notification]) -> int:
        """Decodes and applies one batch in one transaction; returns how many were applied."""
        if self.failure is not None:
            raise ViewFailedError(f"view {self.name} failed at {self.failure}")
        start = self.position
        fresh = [n for n in notifications if n.id > start]
        if not fresh:
            return 0
        batch = [(n.id, self.app.mapper.to_domain_event(n)) for n in fresh]
        last = fresh[-1].id
        processing = False  # whether an error came from the view's own ``process``
        try:
            with self.view.db.transaction() as cursor:
                for prepare in self.preparers:
                    prepare(cursor, batch)
                processing = True
                self.view.process(cursor, batch)
                processing = False
                cursor.execute(
                    f"UPDATE {self._tracking()} SET position = ? WHERE view = ? AND position = ?",
                    (last, self.name, start),
                )
                if cursor.rowcount != 1:
                    raise TrackingConflictError(f"{self.name} moved past {start} elsewhere")
        except TrackingConflictError:
            self._position = None
            raise
        except Exception as error:
            self._position = None  # re-read: nothing of this batch was committed
            if self.read_position() > start:
                # Another runner applied these events first; its rows clashed with ours.
                raise TrackingConflictError(f"{self.name} moved past {start} elsewhere") from error
            if processing and not isinstance(error, TRANSIENT_ERRORS):
                self._failed(
                    ViewFailure(self.name, fresh[0].id, last, type(error).__name__, str(error))
                )
            raise
        self._advanced(last, batch)
        return len(batch)

    def _failed(self, failure: ViewFailure) -> None:
        """Stops the view at the batch it cannot apply, says so once, and wakes its waiters."""
        log.critical(
            "view %s stopped at %s; it stays behind until fixed and rebuilt or restarted",
            self.name,
            failure,
            exc_info=True,
        )
        with self._changed:
            self.failure = failure
            self._changed.notify_all()

    def _advanced(self, position: int, batch: Batch) -> None:
        with self._changed:
            self._position = position
            self._changed.notify_all()
        for listener in self.listeners:
            listener(position, batch)

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Processes everything recorded so far; returns how many events were applied."""
        applied = 0
        while True:
            notifications = self.app.recorder.select_notifications(
                start=self.position + 1, limit=self.batch_size
            )
            if not notifications:
                return applied
            count = self.process_notifications(notifications)
            applied += count
            if progress is not None:
                progress(count)

    def drop(self) -> None:
        """Removes the view's tables and tracking row, for a rebuild from scratch."""
        with self.view.db.transaction() as cursor:
            for table in self.view.table_names():
                cursor.execute(f"DROP TABLE IF EXISTS {self.view.t(table)}")
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self._tracking()} "
                "(view TEXT PRIMARY KEY, position BIGINT NOT NULL)"
            )
            cursor.execute(f"DELETE FROM {self._tracking()} WHERE view = ?", (self.name,))
        self._position = None
        self.failure = None  # a replay from scratch starts afresh

    def wait(self, position: int, timeout: float) -> bool:
        """Blocks until this runner has applied ``position`` (True) or time runs out; at once
        (False, unless applied already) when the view has failed."""
        with self._changed:
            self._changed.wait_for(
                lambda: self.position >= position or self.failure is not None, timeout
            )
            return self.position >= position
