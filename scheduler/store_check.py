"""The daily store check (``projections.store_check``): the tree brought up to the log's head,
every leaf recomputed from the store, the outcome recorded where ``/ready`` reads it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from projections.engine import ViewRunner
from projections.merkle import MerkleView
from projections.store_check import StoreCheckRecord, StoreCheckResult, check_store

log = logging.getLogger(__name__)
CATCH_UP_WAIT = 30.0  # seconds the check waits for the tree's follower to reach the head


class StoreCheck:
    def __init__(
        self, runner: ViewRunner, clock: Callable[[], datetime], follower: bool = True
    ) -> None:
        if not isinstance(runner.view, MerkleView):
            raise TypeError("the store check runs over the merkle view")
        self.runner = runner
        self.tree: MerkleView = runner.view
        self.clock = clock
        self.follower = follower  # a follower thread keeps the tree: wait for it, else apply
        self.record = StoreCheckRecord(self.tree.db)

    def run(self, progress: Callable[[int], None] | None = None) -> StoreCheckResult:
        """Checks the store against the tree and records the outcome; a failed check is
        logged loudly (and ``/ready`` reports it until a check passes)."""
        recorder = self.runner.app.recorder
        if self.follower:
            self.runner.wait(recorder.max_notification_id() or 0, CATCH_UP_WAIT)
        else:
            self.runner.catch_up()
        result = check_store(
            lambda start, limit: recorder.select_notifications(start=start, limit=limit),
            self.tree,
            progress=progress,
        )
        self.record.record(result, self.clock())
        if result.ok:
            log.info("store check: %s", result.summary())
        else:
            log.critical("store check failed: %s", result.summary())
        return result
