"""The sweep on a timer (APScheduler 3), holding the single-sweeper lock.

Deadlines live in the event log and the deadlines view, never only in the scheduler's memory:
after a restart the first sweep acts on everything that fell due while the service was down,
once (the case refuses a clock it has already acted on).

Besides its interval, the timer wakes when the next known deadline falls due, if that comes
first: a clock is acted on when it falls due rather than up to an interval later.

Beside the sweeps, a cron job draws the 督查回访 samples of the month before (``monthly``):
every day at 01:00 in Shanghai, so a service that was down on the 1st draws when it is back;
a township-month drawn already is found and left as it is. Only the lock holder draws.
Likewise at 03:00 the store check (``scheduler.store_check``) recomputes the Merkle tree's
leaves from the event store and records whether any row was edited, deleted or inserted.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Protocol

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.background import BackgroundScheduler

from domain.calendar import SHANGHAI
from projections.engine import RETRIED_ERRORS
from scheduler.heartbeat import Heartbeat
from scheduler.lock import SweepLock
from scheduler.sweep import Sweeper, SweepReport

log = logging.getLogger(__name__)
DRAW_HOUR = 1  # 01:00 in Shanghai: the month before has ended, the cases view caught up
DRAW_JOB = "inspection-draws"
HEADS_JOB = "tree-heads"
STORE_CHECK_HOUR = 3  # 03:00 in Shanghai: the quiet hours, after the draws
STORE_CHECK_JOB = "store-check"


class Watch(Protocol):
    """Clocks kept outside cases (a clue's triage, a key person's visit, the villages'
    screening reports): read from a view of their own and acted on in each sweep, after the
    cases' clocks."""

    def sweep(self, now: datetime) -> object:
        """Acts on everything of this watch due at ``now`` (once: repeats change nothing)."""
        ...

    def next_due(self, after: datetime) -> datetime | None:
        """The first due time after ``after``, for the timer to wake at."""
        ...


class SweepService:
    def __init__(
        self,
        sweeper: Sweeper,
        lock: SweepLock,
        interval: float,
        refresh: Callable[[], None] = lambda: None,
        heartbeat: Heartbeat | None = None,
        monthly: Callable[[], object] | None = None,
        watches: Sequence[Watch] = (),
        heads: Callable[[], object] | None = None,
        head_seconds: float = 60.0,
        store_check: Callable[[], object] | None = None,
    ) -> None:
        self.sweeper = sweeper
        self.watches = tuple(watches)
        self.monthly = monthly  # the month before's 督查 draws (``scheduler.inspections``)
        # signs a tree head when one is due (``scheduler.tree_heads.HeadSigner.tick``); asked
        # twice per ``head_seconds``, it signs at most once per ``head_seconds`` itself
        self.heads = heads
        self.head_seconds = head_seconds
        self.store_check = store_check  # the daily store check (``scheduler.store_check``)
        self._locking = threading.Lock()  # the sweeps and the draws ask for the lock apart
        self.heartbeat = heartbeat  # every process reads when the sweeps last ran
        self.lock = lock
        self.interval = interval
        self.refresh = refresh  # bring the deadlines view up to the log's head first
        self._scheduler: BackgroundScheduler | None = None
        self.sweeps = 0
        self.failure: BaseException | None = None
        # Held while the job removes itself or stop() begins: shutdown() keeps the job-store
        # lock while it waits for a running job, so a job removing itself then would hang.
        self._control = threading.Lock()
        self._stopping = False

    def run_once(self) -> SweepReport | None:
        """One sweep if this instance holds the lock; None when another instance does."""
        if not self._holds_lock():
            return None
        self.refresh()
        report = self.sweeper.sweep()
        for watch in self.watches:
            watch.sweep(report.now)
        self.sweeps += 1
        if self.heartbeat is not None:
            self.heartbeat.beat()
        return report

    def _holds_lock(self) -> bool:
        with self._locking:
            return self.lock.acquire()

    def draw_monthly(self) -> bool:
        """The month before's 督查 draws, if this instance holds the lock; a failure is logged
        and tried again the next day (the draws already made stay made)."""
        if self.monthly is None or not self._holds_lock():
            return False
        try:
            self.monthly()
        except Exception as error:
            log.error("督查抽查 not drawn, tried again tomorrow: %r", error, exc_info=True)
            return False
        return True

    def sign_heads(self) -> bool:
        """A signed tree head when one is due, if this instance holds the lock; a failure is
        logged and tried again at the next tick (the log and the tree are left as they were)."""
        if self.heads is None or not self._holds_lock():
            return False
        try:
            self.heads()
        except Exception as error:
            log.error("tree head not signed, tried again shortly: %r", error, exc_info=True)
            return False
        return True

    def check_store(self) -> bool:
        """The daily store check, if this instance holds the lock; an error (not a failed
        check: that is recorded for /ready) is logged and the check runs again the next day."""
        if self.store_check is None or not self._holds_lock():
            return False
        try:
            self.store_check()
        except Exception as error:
            log.error("store check not run, tried again tomorrow: %r", error, exc_info=True)
            return False
        return True

    def start(self) -> None:
        self._stopping = False
        scheduler = BackgroundScheduler(timezone="UTC")
        scheduler.add_job(
            self._job,
            "interval",
            seconds=self.interval,
            id="sweep",
            max_instances=1,
            coalesce=True,
            next_run_time=None,
        )
        if self.monthly is not None:
            scheduler.add_job(
                self.draw_monthly,
                "cron",
                hour=DRAW_HOUR,
                timezone=SHANGHAI,
                id=DRAW_JOB,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=3600,
            )
        if self.store_check is not None:
            scheduler.add_job(
                self.check_store,
                "cron",
                hour=STORE_CHECK_HOUR,
                timezone=SHANGHAI,
                id=STORE_CHECK_JOB,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=3600,
            )
        if self.heads is not None:
            scheduler.add_job(
                self.sign_heads,
                "interval",
                seconds=max(1.0, self.head_seconds / 2),
                id=HEADS_JOB,
                max_instances=1,
                coalesce=True,
            )
        scheduler.start()
        scheduler.modify_job("sweep", next_run_time=_now())  # first sweep at once: catch up
        self._scheduler = scheduler

    def _job(self) -> None:
        """Expected refusals are handled per case inside the sweep; a store that cannot be
        reached for a moment (restarted, failed over) skips this sweep and the next interval
        tries again — what fell due meanwhile is acted on then, and ``/ready`` says the sweeps
        are late should it last; anything else stops the timer loudly rather than sweeping on
        in a broken state (``/ready`` reports it)."""
        try:
            report = self.run_once()
        except RETRIED_ERRORS as error:
            log.warning("deadline sweep skipped, the store is unavailable: %r", error)
            return
        except Exception as error:
            log.critical("deadline sweeps stopped: %r", error, exc_info=True)
            with self._control:
                if self._scheduler is not None and not self._stopping:
                    self._scheduler.remove_job("sweep")
                    if self.monthly is not None:  # a broken scheduler draws nothing either
                        self._scheduler.remove_job(DRAW_JOB)
                    if self.store_check is not None:  # nor checks the store
                        self._scheduler.remove_job(STORE_CHECK_JOB)
            self.failure = error  # last: whoever sees it sees the timer stopped already
            return
        if report is not None:
            try:
                self._wake_for_next_deadline(report.now)
            except Exception as error:  # only the wake-up is lost: the interval goes on
                log.warning("deadline sweeps: next deadline not read: %r", error)

    def _wake_for_next_deadline(self, swept_at: datetime) -> None:
        """Moves the next sweep forward to the next deadline after this sweep's time, when
        that comes before the next tick (the interval goes on from there)."""
        scheduler = self._scheduler
        known = [self.sweeper.deadlines.next_due(swept_at)]
        known += [watch.next_due(swept_at) for watch in self.watches]
        next_due = min((due for due in known if due is not None), default=None)
        if scheduler is None or next_due is None:
            return
        wait = max(0.0, (next_due - self.sweeper.clock()).total_seconds())
        if wait >= self.interval:
            return
        with suppress(JobLookupError, SchedulerNotRunningError):  # stopping
            scheduler.modify_job("sweep", next_run_time=_now() + timedelta(seconds=wait))

    def stop(self) -> None:
        with self._control:
            self._stopping = True
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        self.lock.release()


def _now() -> datetime:
    return datetime.now(UTC)
