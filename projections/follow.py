"""Following the log: a thread that applies new events as they are recorded, to one view
(``ViewRunner``) or to all the views of a process from one read (``projections.fanout``).

SQLite has no subscriptions in eventsourcing 9.5, so its followers poll from the tracked
position (and are poked by the application after each command, so in one process the lag is
a few milliseconds). On PostgreSQL a follower uses the library's subscription (LISTEN/NOTIFY
plus a pull), draining what has arrived into one batch per transaction.

A failing batch is retried from the tracked position, unless the runner found that the view
itself cannot apply it (``ViewRunner.failure``): then the follower stops.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from projections.engine import TrackingConflictError, ViewFailure

log = logging.getLogger(__name__)


class Followed(Protocol):
    """What a follower keeps up: a view's runner, or a fan-out over several."""

    name: str
    app: Application[Any]
    batch_size: int

    @property
    def position(self) -> int: ...

    @property
    def failure(self) -> ViewFailure | None: ...

    def catch_up(self) -> int: ...

    def process_notifications(self, notifications: Sequence[Notification]) -> int: ...


class Follower(threading.Thread):
    def __init__(self, runner: Followed, subscribe: bool, poll_interval: float = 0.2) -> None:
        super().__init__(name=f"view-{runner.name}", daemon=True)
        self.runner = runner
        self.subscribe = subscribe
        self.poll_interval = poll_interval
        self.stopping = threading.Event()
        self.poked = threading.Event()

    def poke(self) -> None:
        self.poked.set()

    def stop(self) -> None:
        self.stopping.set()
        self.poked.set()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                if self.subscribe:
                    self._follow_subscription()
                else:
                    self._poll_once()
            except TrackingConflictError:
                continue  # another runner moved this view: re-read its position and go on
            except Exception:
                if self.runner.failure is not None:
                    return  # the runner has logged why; retrying would fail the same way
                log.exception(
                    "view %s failed; retrying from its tracked position", self.runner.name
                )
                self.stopping.wait(1.0)

    def _poll_once(self) -> None:
        if self.runner.catch_up() == 0:
            self.poked.wait(self.poll_interval)
            self.poked.clear()

    def _follow_subscription(self) -> None:
        self.runner.catch_up()
        arrived: queue.Queue[Notification] = queue.Queue()
        subscription: Any = self.runner.app.recorder.subscribe(gt=self.runner.position)
        with subscription:
            reader = threading.Thread(
                target=_pump,
                args=(subscription, arrived),
                name=f"sub-{self.runner.name}",
                daemon=True,
            )
            reader.start()
            try:
                while not self.stopping.is_set():
                    if self.poked.is_set():  # a local write: do not wait for its NOTIFY
                        self.poked.clear()
                        self.runner.catch_up()
                    batch = _drain(arrived, self.runner.batch_size, self.poll_interval)
                    if batch:
                        self.runner.process_notifications(batch)
                        if self.runner.position < batch[-1].id:
                            # another process applied only part of this batch first: the
                            # rest has passed the subscription, so it is read from the store
                            self.runner.catch_up()
                    elif not reader.is_alive():
                        return
            finally:
                subscription.stop()


def _pump(subscription: Any, into: queue.Queue[Notification]) -> None:
    for notification in subscription:
        into.put(notification)


def _drain(arrived: queue.Queue[Notification], limit: int, wait: float) -> list[Notification]:
    try:
        batch = [arrived.get(timeout=wait)]
    except queue.Empty:
        return []
    while len(batch) < limit:
        try:
            batch.append(arrived.get_nowait())
        except queue.Empty:
            break
    return batch
