"""A follower whose view another host applied only part of a subscribed batch reads the rest
from the store, instead of waiting for the next write (``projections.follow``).

On PostgreSQL two hosts race for each view's batches. When host A has applied p1-p5 and host
B's subscription delivered p2-p8, B's runner loses the race, rolls back and stops at p5 (no
further than what was applied, so its listeners hear of every batch). p6-p8 have already
passed B's subscription: without reading them from the store, a board on B missed the end of a
burst sent to A until somebody wrote again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import Notification

from projections.follow import Follower

APPLIED_ELSEWHERE = 5  # the other host's runner had applied the view up to here


class Tally(Aggregate):
    @event("Counted")
    def count(self) -> None:
        pass


class RacedRunner:
    """A view's runner in the race: a batch that starts at or before what the other host
    applied moves it no further than that. Its first batch is held (a long transaction) until
    the test lets it go, so the rest of the burst arrives meanwhile and comes as one batch."""

    name = "cases"
    batch_size = 100
    failure = None

    def __init__(self, app: Application[Any]) -> None:
        self.app = app
        self._position = 0
        self.batches: list[list[int]] = []
        self.busy = threading.Event()  # the first batch is being applied
        self.release = threading.Event()  # ... and may finish

    @property
    def position(self) -> int:
        return self._position

    def catch_up(self) -> int:
        notifications = self.app.recorder.select_notifications(
            start=self._position + 1, limit=self.batch_size
        )
        return self.process_notifications(notifications)

    def process_notifications(self, notifications: Sequence[Notification]) -> int:
        if not notifications:
            return 0
        ids = [n.id for n in notifications]
        if not self.batches:
            self.busy.set()
            self.release.wait(2.0)
        self.batches.append(ids)
        if ids[0] <= APPLIED_ELSEWHERE:  # lost the race: rolled back, moved to what was applied
            self._position = min(APPLIED_ELSEWHERE, ids[-1])
        else:
            self._position = ids[-1]
        return len(ids)


def _wait_for(condition: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_the_rest_of_a_batch_applied_in_part_elsewhere_is_read_without_a_further_write() -> None:
    app: Application[Any] = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    runner = RacedRunner(app)
    follower = Follower(runner, subscribe=True, poll_interval=0.05)
    follower.start()
    try:
        time.sleep(0.2)  # subscribed
        tally = Tally()
        app.save(tally)  # p1, taken alone
        assert runner.busy.wait(2.0)
        for _ in range(7):  # p2-p8 arrive while p1's transaction runs
            tally.count()
        app.save(tally)
        time.sleep(0.1)  # delivered by the subscription
        runner.release.set()
        assert _wait_for(lambda: runner.position == 8, 2.0), runner.batches
        straddling = [ids for ids in runner.batches if ids[0] <= APPLIED_ELSEWHERE < ids[-1]]
        assert straddling, f"the race this test is about did not happen: {runner.batches}"
    finally:
        follower.stop()
        follower.join(2.0)
