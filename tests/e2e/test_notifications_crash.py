"""The dispatcher killed mid-send (SIGKILL, again and again) and started again: nothing it had
recorded as delivered is sent again, and nothing is lost.

The real ``fengqiao notifications dispatch`` runs against a store (a SQLite data directory, or
a PostgreSQL schema) with the webhook channel pointed at a local receiver that takes 150 ms to
answer, so a kill often lands while a request is in flight. Notices are written meanwhile (a
mediator assigned again and again). Each time the dispatcher is killed, the notices its table
says were delivered are noted; afterwards:

* every notice reached the receiver (nothing lost), in the order they were queued;
* no notice recorded as delivered before a kill reached the receiver again after it;
* a notice that reached the receiver twice was one in flight when a kill came, and both
  requests carried the same idempotency key (``X-Fengqiao-Delivery``), for the receiver to drop.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from api.wiring.bootstrap import OPERATOR, build_application
from api.wiring.settings import Settings
from api.wiring.views import build_views
from domain.actors import Role
from domain.case.commands import AssignCase
from domain.samples import sample_units
from scheduler.delivery import Deliveries, Delivery, State
from tests.support.notify import (
    STAFF,
    VILLAGE,
    WEBHOOK_SECRET,
    Receiver,
    Story,
    actor,
    fresh_store,
    with_staff,
)
from tests.support.server import fengqiao
from tests.support.world import Clock

pytestmark = pytest.mark.slow

NOTICES = 40
KILLS = 5
SECRET = "notifications-crash-secret-0123456789abcdef"


class Dispatcher:
    """``fengqiao notifications dispatch`` as a subprocess, killed and started at will."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [*fengqiao(), "notifications", "dispatch"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while b"dispatching notifications" not in self.log.read_bytes().split(b"\n")[-2:][0]:
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.05)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(20)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_dispatcher_killed_mid_send_sends_nothing_acknowledged_twice_and_loses_nothing(
    backend: str, tmp_path: Path
) -> None:
    chance = random.Random(int(os.environ.get("FENGQIAO_CRASH_SEED", "14")))
    with (
        Receiver() as receiver,
        fresh_store(
            backend,
            tmp_path,
            FENGQIAO_WEBHOOK_URL=receiver.url,
            FENGQIAO_WEBHOOK_SECRET=WEBHOOK_SECRET,
        ) as env,
    ):
        receiver.delay = 0.15
        settings = Settings.from_env(env)
        app = build_application(settings)
        views = build_views(settings, app)
        app.add_units(OPERATOR, sample_units())
        with_staff(app, STAFF)
        dispatcher = Dispatcher(env, tmp_path / "dispatch.log")
        try:
            dispatcher.start()  # switched on now: what follows is sent
            story = Story(app, Clock(app.clock()), views.deadlines, views.catch_up)
            case = story.register("case", VILLAGE)
            assign = AssignCase(f"mediator-{VILLAGE}")
            deliveries = Deliveries(views.notifications)
            delivered_at_kill: list[tuple[float, set[str]]] = []
            written = 0
            for kill in range(KILLS + 1):
                for _ in range(NOTICES // (KILLS + 1) + 1):
                    if written < NOTICES:
                        story.clock.now = app.clock()
                        app.execute(case, assign, actor(Role.SUPERVISOR, VILLAGE))
                        written += 1
                time.sleep(chance.uniform(0.3, 1.2))
                if kill < KILLS:
                    dispatcher.kill()
                    killed = time.monotonic()
                    delivered = {
                        d.notice.id for d in _all(deliveries) if d.state is State.DELIVERED
                    }
                    delivered_at_kill.append((killed, delivered))
                    dispatcher.start()
            views.catch_up()
            expected = _queued(deliveries, wait_for=NOTICES)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                states = {d.notice.id: d.state for d in _all(deliveries)}
                if len(states) == NOTICES and set(states.values()) == {State.DELIVERED}:
                    break
                time.sleep(0.2)
            else:
                pytest.fail(f"not all delivered: {Counter(states.values())}")
        finally:
            dispatcher.stop()
            views.close()
            app.close()

        received = [(r.at, r.headers["x-fengqiao-delivery"]) for r in receiver.requests]
        ids = [notice for _, notice in received]
        assert set(ids) == set(expected)  # nothing lost
        firsts = list(dict.fromkeys(ids))
        assert firsts == expected  # in the order queued
        for killed, delivered in delivered_at_kill:
            again = [n for at, n in received if at > killed and n in delivered]
            assert again == [], f"sent again after a kill though recorded delivered: {again}"
        twice = {n for n, count in Counter(ids).items() if count > 1}
        assert len(twice) <= KILLS  # at most the one in flight at each kill
        assert any(delivered for _, delivered in delivered_at_kill)


def _all(deliveries: Deliveries) -> list[Delivery]:
    found = deliveries.pending("webhook", 10_000)
    with deliveries.db.transaction(write=False) as cursor:
        cursor.execute(
            f"SELECT id FROM {deliveries.table} WHERE state <> 'pending' AND channel = 'webhook'"
        )
        done = [str(row[0]) for row in cursor.fetchall()]
    return [*found, *(d for d in map(deliveries.get, done) if d is not None)]


def _queued(deliveries: Deliveries, wait_for: int) -> list[str]:
    """The webhook's notices in queue order, once all ``wait_for`` are queued."""
    deadline = time.monotonic() + 30
    while True:
        with deliveries.db.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT id FROM {deliveries.table} WHERE channel = 'webhook' ORDER BY seq"
            )
            found = [str(row[0]) for row in cursor.fetchall()]
        if len(found) >= wait_for or time.monotonic() > deadline:
            return found
        time.sleep(0.1)
