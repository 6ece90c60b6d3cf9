"""One reader of the log for all the views of a process: read once, decode once, apply to each.

With a follower per view, every view read every record, decrypted and decoded it: a dozen
views did the same work a dozen times, in a dozen threads contending for one interpreter lock,
and a command's read-your-writes waited behind all of them. ``Fanout`` looks like one runner
to a ``projections.follow.Follower`` (it catches up, processes batches, reports a position),
but underneath it hands each decoded batch to every view's ``ViewRunner`` in turn, the views
a client reads right after a command first (``first``), so their waiters wake earliest.

Each view moves its own tracked position with its own part of the batch, so exactly once is
each view's, as before, and a view that fails stops alone. Views that share a database file
(all of them, on SQLite) apply the batch inside one transaction per group (``first``, then the
rest), each view's part a savepoint: a batch commits twice, not once per view. A view
whose database is briefly unreachable is skipped for this batch (the others go on) and the
error is raised after the batch so the follower retries from the slowest view's position; the
views already past it are given nothing twice (each applies only what is past its position).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from projections.engine import (
    ANALYZE_AFTER,
    DEFAULT_BATCH,
    RETRIED_ERRORS,
    Decoded,
    TrackingConflictError,
    ViewFailure,
    ViewRunner,
    decode,
)

log = logging.getLogger(__name__)


def _batched(runners: Sequence[ViewRunner]) -> ExitStack:
    """One outer transaction per database the ``runners`` share (``ViewDatabase.batch``)."""
    stack = ExitStack()
    seen: set[int] = set()
    for runner in runners:
        db = runner.view.db
        shared = id(getattr(db, "file", db))
        if shared not in seen:
            seen.add(shared)
            stack.enter_context(db.batch())
    return stack


class Fanout:
    """Every view's runner fed from one read of the log (see the module's docstring)."""

    name = "views"

    def __init__(
        self,
        app: Application[Any],
        runners: Sequence[ViewRunner],
        first: Sequence[str] = (),
        batch_size: int = DEFAULT_BATCH,
    ) -> None:
        self.app = app
        rank = {name: i for i, name in enumerate(first)}
        self.runners = sorted(runners, key=lambda runner: rank.get(runner.name, len(rank)))
        self.first = set(first)
        self.batch_size = batch_size
        self.analyze_after = ANALYZE_AFTER  # a catch-up this long ends with ``runner.analyze``
        self.applied: dict[str, int] = dict.fromkeys(self.names, 0)  # events applied, by view
        self.stopped: dict[str, Exception] = {}  # why each view that stopped here stopped

    @property
    def names(self) -> list[str]:
        return [runner.name for runner in self.runners]

    @property
    def active(self) -> list[ViewRunner]:
        return [runner for runner in self.runners if runner.failure is None]

    @property
    def position(self) -> int:
        """The slowest running view's position: the next read starts after it."""
        active = self.active
        return min(runner.position for runner in active) if active else self._head()

    @property
    def failure(self) -> ViewFailure | None:
        """A failure only when every view has stopped: then there is nothing left to follow."""
        if self.active or not self.runners:
            return None
        return self.runners[0].failure

    def _head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def catch_up(self, progress: Callable[[str, int], None] | None = None) -> int:
        """Processes everything recorded so far; returns how many records were read.
        ``progress`` is told, after each batch, how many events each view applied of it."""
        read = 0
        while self.active:
            notifications = self.app.recorder.select_notifications(
                start=self.position + 1, limit=self.batch_size
            )
            if not notifications:
                break
            before = dict(self.applied)
            self.process_notifications(notifications)
            read += len(notifications)
            if progress is not None:
                for name, count in self.applied.items():
                    progress(name, count - before[name])
        if read >= self.analyze_after:
            for runner in self.active:
                runner.analyze()
        return read

    def process_notifications(self, notifications: Sequence[Notification]) -> int:
        """Decodes the batch once (from the slowest decoding view's position) and applies it
        to every view; returns how many records were read."""
        if not notifications:
            return 0
        decoded = self._decode(notifications)
        retry: Exception | None = None
        for group in self._groups():
            with _batched(group):
                retry = self._apply(group, decoded) or retry
        if retry is not None:
            raise retry
        return len(notifications)

    def _groups(self) -> list[list[ViewRunner]]:
        """The views named first, then the others: each group's views that share a database
        file apply the batch in one transaction, so the first group's waiters wake when it
        commits, before the rest of the views have applied it."""
        active = self.active
        groups = [
            [runner for runner in active if runner.name in self.first],
            [runner for runner in active if runner.name not in self.first],
        ]
        return [group for group in groups if group]

    def _apply(self, runners: list[ViewRunner], decoded: Decoded) -> Exception | None:
        """Applies the batch to each view; the transient error to raise once every view was
        given the batch, if any."""
        retry: Exception | None = None
        for runner in runners:
            try:
                self.applied[runner.name] += runner.apply_decoded(decoded)
            except TrackingConflictError:
                continue  # another process moved this view: it re-reads its position
            except RETRIED_ERRORS as error:
                log.warning("view %s: %s; retried with the next batch", runner.name, error)
                retry = retry or error
            except Exception as error:
                if runner.failure is None:
                    raise
                # the runner stopped the view and said why; the others go on
                self.stopped.setdefault(runner.name, error)
        return retry

    def _decode(self, notifications: Sequence[Notification]) -> Decoded:
        decoding = [runner.position for runner in self.active if not runner.view.raw]
        if not decoding:
            return Decoded(notifications, [], None)
        needed = [n for n in notifications if n.id > min(decoding)]
        found = decode(self.app, needed)
        return Decoded(notifications, found.events, found.undecodable)
