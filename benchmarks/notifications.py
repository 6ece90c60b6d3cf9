"""Notifications benchmark: how many notices a second the dispatcher sends, and how long after
an event its notice reaches the channel while commands keep coming.

    .venv/bin/python -m benchmarks.notifications [--backend sqlite|postgres|both]
        [--notices 300] [--seconds 20] [--rates 5,15,25]

For each backend, on a fresh store (the sample units, a village supervisor and mediator):

1. throughput: ``--notices`` assignments are recorded (one webhook notice each), then the
   dispatcher (in this process) takes them in and sends them to a local webhook receiver that
   answers after 50 ms — and again to one that answers at once, which shows what the
   dispatcher itself costs per notice (its reads and writes of the delivery table);
2. lag: ``fengqiao serve`` runs as a subprocess with its webhook pointed at the 50 ms receiver,
   and an open-loop client sends ``POST /cases/{id}/assign`` at a steady rate (each rate of
   ``--rates`` for ``--seconds``); each notice's lag is from the event's time (in the request
   body, ``created_at``) to its arrival at the receiver, p50 and p99.

Sends are sequential per channel: a channel's notices go out in order, and the next is sent
only once the one before it was acknowledged (or failed and set its retry). Concurrent sends
would reorder a recipient's notices whenever one failed or was slow, and a retried head could
be overtaken by what came after it. Channels run side by side, one thread each, so a slow SMS
provider never holds email back. A channel's ceiling is therefore about one notice per round
trip: with 50 ms answers, under 20 a second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from rich.table import Table

from api.notify.addresses import Addresses
from api.notify.webhook import WebhookSender
from api.wiring.bootstrap import OPERATOR, build_application
from api.wiring.notify_settings import WebhookSettings
from api.wiring.settings import new_cipher_key
from api.wiring.views import build_views
from benchmarks.http import Server, Store, _bearer, console, fresh_store, seed
from benchmarks.views import UNITS, percentiles
from domain.actors import Actor, Role
from domain.case import Registration
from domain.case.commands import AssignCase
from domain.directory import StaffMember
from domain.status import Channel
from scheduler.dispatch import WEBHOOK, Dispatcher

VILLAGE = UNITS["village"]
SUPERVISOR = Actor("bench-supervisor", Role.SUPERVISOR, VILLAGE)
MEDIATOR = "bench-mediator"
ANSWER_SECONDS = 0.05
SECRET = "benchmark-webhook-secret-0123456789"
CASES = 50
DRAIN_WITHIN = 600.0


class Receiver:
    """A webhook receiver answering each POST after ``delay`` seconds, noting when each notice
    arrived (wall clock) and when it was created (the body's ``created_at``)."""

    def __init__(self, delay: float) -> None:
        self.arrivals: list[tuple[float, datetime]] = []
        owner = self

        class Answer(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                arrived = time.time()
                body = self.rfile.read(int(self.headers["Content-Length"]))
                owner.arrivals.append(
                    (arrived, datetime.fromisoformat(json.loads(body)["created_at"]))
                )
                time.sleep(delay)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def lags_ms(self) -> list[float]:
        return [(arrived - created.timestamp()) * 1000 for arrived, created in self.arrivals]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def receiving(delay: float) -> Iterator[Receiver]:
    receiver = Receiver(delay)
    try:
        yield receiver
    finally:
        receiver.close()


@dataclass
class Result:
    backend: str
    throughput: dict[float, float] = field(default_factory=dict)  # answer delay -> notices/s
    lag: dict[int, tuple[float, float, int]] = field(default_factory=dict)  # rate -> p50, p99, n


def prepare(store: Store) -> list[str]:
    """The staff the notices go to, and cases to assign (returned by id)."""
    app = build_application(store.settings)
    try:
        people = [
            StaffMember(SUPERVISOR.user, "压测主管", VILLAGE, (Role.SUPERVISOR,)),
            StaffMember(MEDIATOR, "压测调解员", VILLAGE, (Role.MEDIATOR,)),
        ]
        app.change_directory(OPERATOR, lambda d: d.enrol(OPERATOR, people, app.clock()), [VILLAGE])
        reporter = Actor("bench-reporter", Role.REPORTER, VILLAGE)
        details = Registration(
            "邻里纠纷", "压测：两户因排水沟堵塞发生争执", VILLAGE, Channel.HOTLINE
        )
        return [str(app.register(reporter, "dispute", details).case.id) for _ in range(CASES)]
    finally:
        app.close()


def throughput(store: Store, cases: list[str], notices: int, delay: float) -> float:
    """Notices a second the dispatcher sends to a webhook answering after ``delay``."""
    app = build_application(store.settings)
    views = build_views(store.settings, app)
    try:
        views.catch_up()
        start = app.recorder.max_notification_id() or 0
        assign = AssignCase(MEDIATOR)
        for n in range(notices):
            app.execute(uuid.UUID(cases[n % len(cases)]), assign, SUPERVISOR)
        views.catch_up()
        with receiving(delay) as receiver:
            sender = WebhookSender(WebhookSettings(receiver.url, SECRET), 10.0)
            clock = lambda: datetime.now(UTC)  # noqa: E731
            dispatcher = Dispatcher(
                views.notifications, views.deadlines, {WEBHOOK: sender},
                Addresses(app, None), clock, rules=lambda: app.policy.notices,
            )  # fmt: skip
            dispatcher.setup(start)  # the first run's start; a later run's is where it ended
            started = time.perf_counter()
            sent = 0
            while sent < notices and time.perf_counter() - started < DRAIN_WITHIN:
                report = dispatcher.run_once()
                sent += report.outcomes.get("sent", 0)
            seconds = time.perf_counter() - started
        return sent / seconds
    finally:
        views.close()
        app.close()


@dataclass
class NotifyStore(Store):
    """A store whose server sends its webhook notices to ``webhook``."""

    webhook: str = ""

    @property
    def server_env(self) -> dict[str, str]:
        env = super().server_env
        env.update({"FENGQIAO_WEBHOOK_URL": self.webhook, "FENGQIAO_WEBHOOK_SECRET": SECRET})
        return env


async def steady(url: str, cases: list[str], rate: int, seconds: float) -> int:
    """``rate`` assignments a second for ``seconds``, each sent on time whatever the answers
    before it (open loop); returns how many were refused."""
    headers = _bearer("supervisor", VILLAGE)
    refused = 0
    async with httpx.AsyncClient(base_url=url + "/api/v1", timeout=30) as http:

        async def assign(n: int) -> None:
            nonlocal refused
            answer = await http.post(
                f"/cases/{cases[n % len(cases)]}/assign",
                json={"assignee": MEDIATOR},
                headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
            )
            refused += answer.status_code >= 300

        started = time.perf_counter()
        sending = []
        for n in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
            sending.append(asyncio.create_task(assign(n)))
        await asyncio.gather(*sending)
    return refused


def lag(store: Store, cases: list[str], rates: list[int], seconds: float) -> dict[int, Any]:
    found = {}
    with receiving(ANSWER_SECONDS) as receiver:
        server = Server(NotifyStore(**vars(store), webhook=receiver.url), None)
        try:
            server.wait_ready()
            for rate in rates:
                receiver.arrivals.clear()
                console.log(f"{store.backend}: {rate} assignments/s for {seconds:g} s")
                refused = asyncio.run(steady(server.url, cases, rate, seconds))
                expected = int(rate * seconds) - refused
                deadline = time.monotonic() + 120
                while len(receiver.arrivals) < expected and time.monotonic() < deadline:
                    time.sleep(0.2)
                p50, p99 = percentiles(receiver.lags_ms())
                found[rate] = (p50, p99, len(receiver.arrivals))
                if refused:
                    console.log(f"[red]{store.backend}: {refused} assignments refused[/]")
        finally:
            server.stop()
    return found


def run_backend(backend: str, args: argparse.Namespace) -> Result:
    store = fresh_store(backend, new_cipher_key())
    result = Result(backend)
    try:
        seed(store, None)
        cases = prepare(store)
        for delay in (ANSWER_SECONDS, 0.0):
            console.log(f"{backend}: {args.notices} notices, webhook answering in {delay:g} s")
            result.throughput[delay] = throughput(store, cases, args.notices, delay)
        result.lag = lag(store, cases, args.rates, args.seconds)
    finally:
        store.drop()
    return result


def report(results: list[Result], args: argparse.Namespace) -> None:
    table = Table(
        title=f"notifications through the dispatcher: {args.notices} webhook notices; "
        f"lag while assignments arrive steadily for {args.seconds:g} s"
    )
    for column in ("backend", "notices/s (50 ms webhook)", "notices/s (instant webhook)",
                   *(f"lag p50 / p99 ms at {rate}/s" for rate in args.rates)):  # fmt: skip
        table.add_column(column, justify="right")
    for r in results:
        table.add_row(
            r.backend,
            f"{r.throughput[ANSWER_SECONDS]:.1f}",
            f"{r.throughput[0.0]:.1f}",
            *(
                f"{r.lag[rate][0]:.0f} / {r.lag[rate][1]:.0f} ({r.lag[rate][2]})"
                for rate in args.rates
            ),
        )
    table.caption = "sends are sequential per channel (in order); channels run side by side"
    console.print(table)


def _lag(found: tuple[float, float, int]) -> str:
    p50, p99, count = found
    return f"{p50:.0f} / {p99:.0f} ({count} notices)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--notices", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--rates", type=lambda text: [int(r) for r in text.split(",")], default=[5, 15, 25]
    )
    args = parser.parse_args()
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    report([run_backend(backend, args) for backend in backends], args)


if __name__ == "__main__":
    main()
