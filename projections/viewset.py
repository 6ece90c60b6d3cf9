"""All the views of one deployment: where they live, following, waiting and rebuilding."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventsourcing.application import Application

from domain.application import FengqiaoApplication
from projections.cases import CasesView
from projections.clues import CluesView
from projections.db import PostgresViews, SqliteFile, SqliteViews, ViewDatabase
from projections.deadlines import DeadlinesView
from projections.engine import View, ViewFailedError, ViewFailure, ViewRunner
from projections.fanout import Fanout
from projections.follow import Follower
from projections.history import HistoryView
from projections.key_persons import KeyPersonsView
from projections.ledger import LedgerView
from projections.merkle import MerkleView
from projections.notifications import NotificationsView
from projections.ports import CurrentRepeats, CurrentWatchList
from projections.repeats import RepeatsView
from projections.screening import ScreeningView
from projections.statistics import StatisticsView
from projections.tree_heads import TreeHeadsView

log = logging.getLogger(__name__)

# Connections at most each view holds to PostgreSQL (a follower's batch, the API's reads): with a
# dozen views, four each took two API workers and the views' process past PostgreSQL's 100.
VIEW_POOL = 2
# On the embedded default every view lives in this one file beside the event store (before
# issue 17 each had its own ``view-<name>.sqlite3``, which this release neither reads nor needs:
# the views are rebuilt from the log into the one file on the first start).
VIEWS_FILE = "views.sqlite3"
# Seconds between a follower's polls of a SQLite log when nothing pokes it (in one process every
# command pokes it). A process that follows for API processes beside it polls far more often
# (``SHARED_POLL_INTERVAL``): nothing crosses the process boundary to poke it, and an API
# process's read-your-writes waits for it. One poll is one indexed read of the log's tail.
POLL_INTERVAL = 0.2
SHARED_POLL_INTERVAL = 0.005


def poll_interval_for_others(subscribe: bool) -> float:
    """A follower's poll interval in a process that keeps the views for API processes beside
    it: short on SQLite; on PostgreSQL the subscription brings each write, so the usual one."""
    return POLL_INTERVAL if subscribe else SHARED_POLL_INTERVAL


VIEW_CLASSES: dict[str, type[View]] = {
    cls.name: cls
    for cls in (
        CasesView,
        DeadlinesView,
        StatisticsView,
        HistoryView,
        LedgerView,
        NotificationsView,
        CluesView,
        ScreeningView,
        RepeatsView,
        KeyPersonsView,
        TreeHeadsView,
        MerkleView,
    )
}


@dataclass(frozen=True)
class ViewStatus:
    """Where one view stands against the log, and where and why it stopped if it did."""

    name: str
    position: int
    head: int
    failure: ViewFailure | None

    @property
    def lag(self) -> int:
        return max(0, self.head - self.position)


class ViewSet:
    """The views over one application's log, each in its own database (SQLite file) or
    table prefix (PostgreSQL schema)."""

    def __init__(self, app: Application[Any], databases: dict[str, ViewDatabase]) -> None:
        self.app = app
        self.views: dict[str, View] = {
            name: VIEW_CLASSES[name].over(db, app) for name, db in databases.items()
        }
        self.runners = {name: ViewRunner(app, view) for name, view in self.views.items()}
        self.followers: list[Follower] = []
        # another process (``fengqiao projections``) applies the log to these views
        self.followed_elsewhere = False
        self._plug_ports()
        for runner in self.runners.values():
            runner.setup()

    @classmethod
    def sqlite(cls, app: Application[Any], directory: Path) -> ViewSet:
        """Every view in one file (``VIEWS_FILE``), each view's tables prefixed with its name,
        so the follower commits a batch once for all of them (``projections.fanout``)."""
        directory.mkdir(parents=True, exist_ok=True)
        file = SqliteFile(directory / VIEWS_FILE)
        return cls(app, {name: SqliteViews(file, prefix=name) for name in VIEW_CLASSES})

    @classmethod
    def postgres(cls, app: Application[Any], conninfo: str, schema: str) -> ViewSet:
        return cls(
            app,
            {name: PostgresViews(conninfo, schema, name, VIEW_POOL) for name in VIEW_CLASSES},
        )

    def _plug_ports(self) -> None:
        """Hands the application the views a registration consults (``domain.repeats``), each
        brought up to the log before it answers (``projections.ports``)."""
        if not isinstance(self.app, FengqiaoApplication):
            return
        if "key_persons" in self.views:
            self.app.watch_list = CurrentWatchList(self.key_persons, self.caught_up)
        if "repeats" in self.views:
            self.app.repeat_finder = CurrentRepeats(self.repeats, self.caught_up)

    def bring_up(self, name: str, timeout: float) -> bool:
        """Brings the view up to the log's head as it is now: waits up to ``timeout`` for the
        followers (this process's, or another's when ``followed_elsewhere``); a process that
        follows nothing (the demo, a CLI command, a one-off sweep) applies the view's backlog
        itself, raising what stops it. True once the view holds everything recorded."""
        head = self.app.recorder.max_notification_id() or 0
        if self.followers or self.followed_elsewhere:
            return self.wait(head, timeout, names=[name])
        runner = self.runners[name]
        runner.catch_up()
        return runner.position >= head

    def caught_up(self, name: str, timeout: float) -> bool:
        """``bring_up`` for a read model a command consults: whatever stops it (the view
        failed, its database is out of reach) leaves the view where it is, because a read
        model behind must never fail the command."""
        if self.runners[name].failure is not None:
            return False  # stopped, and said so once
        try:
            return self.bring_up(name, timeout)
        except Exception:  # the runner records a failure of its own; an outage passes
            log.warning("view %s not brought up to date here", name, exc_info=True)
            return False

    @property
    def cases(self) -> CasesView:
        return self.views["cases"]  # type: ignore[return-value]

    @property
    def deadlines(self) -> DeadlinesView:
        return self.views["deadlines"]  # type: ignore[return-value]

    @property
    def statistics(self) -> StatisticsView:
        return self.views["statistics"]  # type: ignore[return-value]

    @property
    def history(self) -> HistoryView:
        return self.views["history"]  # type: ignore[return-value]

    @property
    def notifications(self) -> NotificationsView:
        return self.views["notifications"]  # type: ignore[return-value]

    @property
    def clues(self) -> CluesView:
        return self.views["clues"]  # type: ignore[return-value]

    @property
    def screening(self) -> ScreeningView:
        return self.views["screening"]  # type: ignore[return-value]

    @property
    def repeats(self) -> RepeatsView:
        return self.views["repeats"]  # type: ignore[return-value]

    @property
    def key_persons(self) -> KeyPersonsView:
        return self.views["key_persons"]  # type: ignore[return-value]

    @property
    def heads(self) -> TreeHeadsView:
        return self.views["heads"]  # type: ignore[return-value]

    @property
    def merkle(self) -> MerkleView:
        return self.views["merkle"]  # type: ignore[return-value]

    # --- keeping up ---------------------------------------------------------------------

    def catch_up(self) -> None:
        """Brings every view up to the log's head, reading and decoding the log once for all
        of them (``projections.fanout``). A view that stops raises its error once the others
        are up; one stopped before raises ViewFailedError."""
        fanout = Fanout(self.app, list(self.runners.values()))
        fanout.catch_up()
        self._raise_failures(fanout)

    def follow(
        self, subscribe: bool, first: Iterable[str] = (), poll_interval: float = POLL_INTERVAL
    ) -> None:
        """Starts one follower thread that reads the log once for every view
        (``projections.fanout``), applying to the views named ``first`` before the others.
        Without a subscription it polls every ``poll_interval`` seconds between pokes."""
        fanout = Fanout(self.app, list(self.runners.values()), tuple(first))
        self.followers = [Follower(fanout, subscribe, poll_interval)]
        for follower in self.followers:
            follower.start()

    def poke(self, position: int | None = None) -> None:
        """Tells the followers something was recorded (saves a poll interval in-process)."""
        for follower in self.followers:
            follower.poke()

    def wait(
        self, position: int | None, timeout: float = 2.0, names: Iterable[str] | None = None
    ) -> bool:
        """Read your writes: True once the named views (all when none named) have applied
        ``position``."""
        if position is None:
            return True
        runners = [self.runners[name] for name in names] if names else list(self.runners.values())
        if any(runner.failure is not None and runner.position < position for runner in runners):
            return False  # a failed view never gets there: waiting would only take the timeout
        deadline = time.monotonic() + timeout
        if self.followers:
            self.poke()
            return all(
                runner.wait(position, max(0.0, deadline - time.monotonic())) for runner in runners
            )
        while time.monotonic() < deadline:
            if all(runner.read_position() >= position for runner in runners):
                return True
            time.sleep(0.01)
        return False

    def failures(self) -> dict[str, str]:
        """The views that stopped at what they cannot apply, each with where and why: stopped
        in this process, or recorded by the process that follows them (reads the views'
        databases)."""
        found = {name: self.failure(name) for name in self.runners}
        return {name: str(failure) for name, failure in found.items() if failure is not None}

    def failure(self, name: str) -> ViewFailure | None:
        """This process's failure of the view, else one recorded by another process."""
        runner = self.runners[name]
        return runner.failure or runner.recorded_failure()

    def status(self) -> list[ViewStatus]:
        """Each view's position, the log head and any failure, for an operator. Positions are
        read before the head, as ``measure_lag`` explains."""
        positions = {name: runner.read_position() for name, runner in self.runners.items()}
        head = self.app.recorder.max_notification_id() or 0
        return [
            ViewStatus(name, position, head, self.failure(name))
            for name, position in positions.items()
        ]

    def lag(self) -> dict[str, int]:
        """How many log positions each view is behind the head (never negative)."""
        positions = {name: runner.read_position for name, runner in self.runners.items()}
        return measure_lag(self.app.recorder.max_notification_id, positions)

    def rebuild(
        self, names: Iterable[str] | None = None, progress: Callable[[str, int], None] | None = None
    ) -> dict[str, int]:
        """Drops and replays the named views (all when none named), reading and decoding the
        log once for all of them; events applied per view. ``progress`` is told after each
        batch how many each view applied."""
        runners = [self.runners[name] for name in names or list(self.runners)]
        for runner in runners:
            runner.drop()
            runner.setup()
        fanout = Fanout(self.app, runners)
        fanout.catch_up(progress)
        self._raise_failures(fanout)
        return fanout.applied

    def _raise_failures(self, fanout: Fanout) -> None:
        """What a view-by-view catch-up raised: the error a view stopped at, else that a view
        had stopped already."""
        for error in fanout.stopped.values():
            raise error
        failed = [f"{run.name} at {run.failure}" for run in fanout.runners if run.failure]
        if failed:
            raise ViewFailedError(f"views stopped: {'; '.join(failed)}")

    def close(self) -> None:
        for follower in self.followers:
            follower.stop()
        for follower in self.followers:
            follower.join(timeout=5)
        self.followers = []
        for view in self.views.values():
            view.db.close()


def measure_lag(
    head: Callable[[], int | None], positions: Mapping[str, Callable[[], int]]
) -> dict[str, int]:
    """Each view's distance behind the log head, read positions first and the head last.

    Read the other way round, a follower that applies events between the two reads puts its
    view past the head that was read, and ``/ready`` reported a negative lag. The head only
    grows and a view only applies what is in the log, so this order cannot go negative; the
    clamp keeps it so should a recorder's head ever be read behind its own notifications.
    """
    read = {name: position() for name, position in positions.items()}
    top = head() or 0
    return {name: max(0, top - position) for name, position in read.items()}
