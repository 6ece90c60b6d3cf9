"""HTTP benchmark: commands per second through the API against the application called directly.

    .venv/bin/python -m benchmarks.http [--backend sqlite|postgres|both] [--clients 8]
        [--seconds 10] [--queue-cases 100000] [--workers 1,2,4]

For each backend, on a fresh store holding ``--queue-cases`` demo cases (generated once in
memory with real commands and copied in bulk, as ``benchmarks.views`` does):

0. the views are built and the scheduler acts on the deadlines the demo left missed (as a
   running deployment's would have), so neither happens during the measurements;
1. direct: one thread calls ``FengqiaoApplication`` for ``--seconds``, a realistic mix per case
   (register, sign, two notes), the cases spread over every sample village and category, on
   a store of its own seeded the same way (so the HTTP runs do not start among its cases);
2. HTTP: ``fengqiao serve`` starts as a subprocess on a loopback port, its views catch up, and
   ``--clients`` concurrent httpx clients send the same mix for ``--seconds``, each POST with an
   Idempotency-Key; every answer is read-your-writes (the views have applied the command);
3. ``GET /queues/{unit}`` latency for a county, a township and a village at that store size;
4. with ``--workers 1,2,4``: the HTTP run again against ``serve --workers N``
   (N API processes, the views and the scheduler in one ``fengqiao projections`` process).

Prints the rates, their ratio, p50/p99 latency per command, and the queue latencies. With
``--profile DIR`` the server runs under cProfile and its statistics are saved in DIR.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from api.demo.load import run_demo
from api.http.auth import mint_token
from api.http.runtime import build_sweeps
from api.wiring.bootstrap import OPERATOR, build_application
from api.wiring.settings import Settings, encryption_env, new_cipher_key, new_signing_key
from api.wiring.staff import enrol_missing
from api.wiring.views import build_views
from benchmarks.views import PG_URL, SECRET, UNITS, copy_log, percentiles
from domain.actors import Actor, Role
from domain.application import FengqiaoApplication
from domain.case import Registration
from domain.case.commands import AddNote, SignCase
from domain.directory import StaffMember
from domain.intake import DISPUTE_CATEGORIES
from domain.levels import Tier
from domain.samples import sample_units
from domain.status import Channel

VILLAGE = UNITS["village"]
START_TIMEOUT = 60.0
CATCH_UP_TIMEOUT = 3600.0
QUEUE_REQUESTS = 100
SETTLE_ROUNDS = 10

console = Console(width=None if sys.stdout.isatty() else 132)


@dataclass
class Run:
    """Commands done in a timed run, and each one's latency (ms)."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    # CPU the side under test used: the direct loop's process, or the server's processes
    # (API workers and the views' process; not PostgreSQL's, nor the clients')
    cpu_seconds: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        """CPU per command (ms): steadier than the rate on shared cores, which other
        processes take turns on."""
        return self.cpu_seconds * 1000 / len(self.latencies) if self.latencies else 0.0

    def merge(self, other: Run) -> None:
        self.latencies.extend(other.latencies)
        self.errors += other.errors


@dataclass
class Store:
    backend: str
    workdir: Path
    settings: Settings
    schema: str | None = None

    @property
    def server_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FENGQIAO_")}
        env["FENGQIAO_DATA_DIR"] = str(self.workdir)
        env["FENGQIAO_SECRET"] = SECRET
        env["FENGQIAO_CIPHER_KEY"] = self.settings.cipher_key or ""
        if self.settings.database_url:
            env["FENGQIAO_DATABASE_URL"] = self.settings.database_url
            env["FENGQIAO_SIGNING_KEY"] = self.settings.signing_key or ""
        return env

    def drop(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)
        if self.schema is not None:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'drop schema "{self.schema}" cascade')


def fresh_store(backend: str, cipher_key: str) -> Store:
    workdir = Path(tempfile.mkdtemp(prefix=f"fq-http-{backend}-"))
    if backend == "sqlite":
        return Store(backend, workdir, Settings(workdir, secret=SECRET, cipher_key=cipher_key))
    schema = f"bench_http_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'create schema "{schema}"')
    url = f"{PG_URL}?schema={schema}"
    settings = Settings(
        workdir,
        database_url=url,
        secret=SECRET,
        cipher_key=cipher_key,
        signing_key=new_signing_key(),
    )
    return Store(backend, workdir, settings, schema)


def generate(cases: int, now: datetime, cipher_key: str) -> FengqiaoApplication:
    """The demo load in memory, stored encrypted with the benchmark's key (so it can be copied
    into a store the server reads with that key)."""
    env = {"PERSISTENCE_MODULE": "eventsourcing.popo", **encryption_env(cipher_key)}
    source = FengqiaoApplication(env=env, clock=lambda: now)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"demo: {cases:,} cases in memory", total=cases)
        run_demo(source, cases, 2026, now, lambda: progress.advance(task))
    return source


def seed(store: Store, source: FengqiaoApplication | None) -> None:
    """The demo log copied in (or just the sample units), and the policy adopted."""
    if source is not None:
        target = FengqiaoApplication(env=store.settings.event_store_env())
        try:
            started = time.perf_counter()
            events = copy_log(source, target)
            console.log(
                f"{store.backend}: copied {events:,} events "
                f"in {time.perf_counter() - started:.1f} s"
            )
        finally:
            target.close()
    app = build_application(store.settings)
    try:
        if source is None:
            app.add_units(OPERATOR, sample_units())
        enrol_missing(app, OPERATOR, bench_staff(), datetime.now(UTC))
        settle(store, app)
    finally:
        app.close()


def settle(store: Store, app: FengqiaoApplication) -> None:
    """Builds the views and lets the scheduler act on every deadline already missed, as a
    running deployment would have: otherwise the server's first sweeps (thousands of
    escalations on a large demo store) run during the measurement."""
    views = build_views(store.settings, app)
    sweeps = build_sweeps(store.settings, app, views, lambda: datetime.now(UTC))
    started = time.perf_counter()
    acted = 0
    try:
        with console.status(f"{store.backend}: views and scheduler catching up") as status:
            for _ in range(SETTLE_ROUNDS):
                views.catch_up()
                report = sweeps.run_once()
                views.catch_up()
                if report is None or not report.acted:
                    break
                acted += len(report.acted)
                status.update(f"{store.backend}: scheduler acted on {acted:,} deadlines")
    finally:
        sweeps.stop()
        views.close()
    console.log(
        f"{store.backend}: views built, scheduler acted on {acted:,} missed deadlines, "
        f"in {time.perf_counter() - started:.1f} s"
    )


def owning_units() -> list[str]:
    """Every unit that may own a case of the mix: its village, or above it when a repeat or a
    graver case goes up (the mediator who signs is the owner's)."""
    return [unit.code for unit in sample_units() if unit.tier is not Tier.CITY]


def mix_villages() -> list[str]:
    """Every sample village: the mix's cases are spread over them, as a province's are."""
    return [unit.code for unit in sample_units() if unit.tier is Tier.VILLAGE]


def place(n: int, villages: Sequence[str]) -> tuple[str, str]:
    """The village and category of the mix's ``n``-th registration: every village in turn,
    then the next category. Registrations sharing both are recorded as repeats of each
    other (重复纠纷), so one village and one category for every case (as this benchmark once
    had it) made each a repeat of the 50 before it, which no village sees."""
    village = villages[n % len(villages)]
    return village, DISPUTE_CATEGORIES[(n // len(villages)) % len(DISPUTE_CATEGORIES)]


def registration(n: int, villages: Sequence[str]) -> Registration:
    village, category = place(n, villages)
    return Registration(category, f"压测 {n}：两户因排水沟堵塞发生争执", village, Channel.HOTLINE)


# --- direct ----------------------------------------------------------------------------------


def run_direct(settings: Settings, seconds: float) -> Run:
    """The mix, one thread, straight into the application."""
    app = build_application(settings)
    run = Run()
    villages = mix_villages()
    try:
        started, cpu = time.perf_counter(), time.process_time()
        deadline = started + seconds
        n = 0
        while time.perf_counter() < deadline:
            n += 1
            details = registration(n, villages)
            t = time.perf_counter()
            case = app.register(_actor(Role.REPORTER, details.unit), "dispute", details).case
            run.latencies.append(_ms(t))
            mediator = _actor(Role.MEDIATOR, case.owner)  # a repeat may go to the township
            t = time.perf_counter()
            app.execute(case.id, SignCase(), mediator)
            run.latencies.append(_ms(t))
            for note in ("电话联系双方", "约定周五上门调解"):
                t = time.perf_counter()
                app.execute(case.id, AddNote(note), mediator)
                run.latencies.append(_ms(t))
        run.seconds = time.perf_counter() - started
        run.cpu_seconds = time.process_time() - cpu
    finally:
        app.close()
    return run


def _actor(role: Role, unit: str) -> Actor:
    return Actor(_bench_user(role.value, unit), role, unit)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


# --- HTTP ------------------------------------------------------------------------------------


class Server:
    """``fengqiao serve`` in a subprocess on a free loopback port."""

    def __init__(self, store: Store, profile: Path | None, workers: int = 1) -> None:
        self.store = store
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = store.workdir / "serve.log"
        self.profile = profile
        command = [sys.executable]
        if profile is not None:
            profile.mkdir(parents=True, exist_ok=True)
            command += ["-m", "cProfile", "-o", str(profile / f"serve-{store.backend}.prof")]
        command += ["-m", "api.cli.main", "serve", "--port", str(self.port)]
        if workers > 1:  # API processes beside one ``fengqiao projections`` process
            command += ["--workers", str(workers)]
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(
                command, env=store.server_env, stdout=sink, stderr=subprocess.STDOUT
            )

    def wait_ready(self) -> None:
        """Healthy, then every view caught up with the log."""
        deadline = time.monotonic() + START_TIMEOUT
        while not self._get_ok("/health"):
            self._check(deadline, "healthy")
            time.sleep(0.2)
        deadline = time.monotonic() + CATCH_UP_TIMEOUT
        started = time.perf_counter()
        with console.status(f"{self.store.backend}: views catching up") as status:
            while True:
                lag = self._lag()
                if lag is not None and max(lag.values(), default=0) == 0:
                    break
                status.update(f"{self.store.backend}: views catching up, lag {lag}")
                self._check(deadline, "caught up")
                time.sleep(0.5)
        console.log(
            f"{self.store.backend}: server ready, views caught up in "
            f"{time.perf_counter() - started:.1f} s"
        )

    def _get_ok(self, path: str) -> bool:
        try:
            return httpx.get(self.url + path, timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    def _lag(self) -> dict[str, int] | None:
        try:
            lag: dict[str, int] = httpx.get(self.url + "/ready", timeout=10).json()["lag"]
        except (httpx.TransportError, KeyError, ValueError):
            return None
        return lag

    def _check(self, deadline: float, what: str) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"serve exited ({self.process.returncode}):\n{self.output()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"serve not {what} in time:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT if self.profile else signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# Who the benchmarks act as: a token must name an active member of the directory.
BENCH_STAFF = (
    (Role.SUPERVISOR, VILLAGE),
    (Role.SUPERVISOR, UNITS["county"]),
)


def bench_staff() -> list[StaffMember]:
    """The supervisors above, a grid worker in every village of the mix, and a mediator in
    every unit that may own its cases (a repeat or a graver case goes to the township)."""
    staff = [*BENCH_STAFF, *((Role.REPORTER, v) for v in mix_villages())]
    staff += [(Role.MEDIATOR, unit) for unit in owning_units()]
    return [
        StaffMember(_bench_user(role.value, unit), f"压测{role.value}", unit, (role,))
        for role, unit in staff
    ]


def _bench_user(role: str, unit: str) -> str:
    return f"bench-{role}-{unit}"


def _bearer(role: str, unit: str) -> dict[str, str]:
    token = mint_token(SECRET, _bench_user(role, unit), role, unit, timedelta(hours=2))
    return {"Authorization": f"Bearer {token}"}


async def _client(url: str, deadline: float, worker: int, clients: int) -> Run:
    """One client's share of the mix: the registrations ``worker``, ``worker + clients``, ...
    of the direct run's sequence, so both spread their cases over villages alike."""
    run = Run()
    villages = mix_villages()
    bearers = {
        **{("reporter", v): _bearer("reporter", v) for v in villages},
        **{("mediator", u): _bearer("mediator", u) for u in owning_units()},
    }
    n = 0
    limits = httpx.Limits(max_connections=1)
    async with httpx.AsyncClient(base_url=url + "/api/v1", timeout=30, limits=limits) as http:

        async def post(path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
            t = time.perf_counter()
            answer = await http.post(
                path, json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
            )
            if answer.status_code >= 300:
                run.errors += 1
                return None
            run.latencies.append(_ms(t))
            return answer.json()

        while time.perf_counter() < deadline:
            n += 1
            village, category = place(n * clients + worker, villages)
            body = {
                "kind": "dispute",
                "unit": village,
                "category": category,
                "summary": f"压测 {worker}-{n}：两户因排水沟堵塞发生争执",
                "channel": "hotline",
            }
            created = await post("/cases", body, bearers["reporter", village])
            if created is None:
                continue
            case = created["id"]
            mediator = bearers["mediator", created["owner"]]  # a repeat may go to the township
            await post(f"/cases/{case}/sign", {}, mediator)
            for note in ("电话联系双方", "约定周五上门调解"):
                await post(f"/cases/{case}/notes", {"text": note}, mediator)
    return run


async def _run_http(url: str, clients: int, seconds: float) -> Run:
    started = time.perf_counter()
    deadline = started + seconds
    runs = await asyncio.gather(*(_client(url, deadline, w, clients) for w in range(clients)))
    total = Run(seconds=time.perf_counter() - started)
    for run in runs:
        total.merge(run)
    return total


def run_http(server: Server, clients: int, seconds: float) -> Run:
    asyncio.run(_run_http(server.url, 1, 1.0))  # warm-up: connections, code paths, caches
    cpu = tree_cpu_seconds(server.process.pid)
    run = asyncio.run(_run_http(server.url, clients, seconds))
    run.cpu_seconds = tree_cpu_seconds(server.process.pid) - cpu
    return run


def tree_cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a process and its live descendants (Linux ``/proc``)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, pending = 0.0, [pid]
    while pending:
        process = Path(f"/proc/{pending.pop()}")
        try:
            fields = (process / "stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in (process / "task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def queue_latency(url: str, unit: str) -> tuple[float, float, int]:
    """p50, p99 (ms) of GET /queues/{unit} (default page, 200 items), and the page size."""
    times = []
    size = 0
    with httpx.Client(
        base_url=url + "/api/v1", headers=_bearer("supervisor", UNITS["county"])
    ) as h:
        for _ in range(QUEUE_REQUESTS):
            t = time.perf_counter()
            answer = h.get(f"/queues/{unit}")
            times.append(_ms(t))
            answer.raise_for_status()
            size = len(answer.json()["items"])
    p50, p99 = percentiles(times)
    return p50, p99, size


# --- the run ---------------------------------------------------------------------------------


@dataclass
class Result:
    backend: str
    direct: Run
    http: Run
    queues: dict[str, tuple[float, float, int]]
    scaling: list[tuple[int, Run]] = field(default_factory=list)  # (API workers, run)


def run_backend(
    backend: str,
    source: FengqiaoApplication | None,
    cipher_key: str,
    args: argparse.Namespace,
) -> Result:
    direct = direct_on_own_store(backend, source, cipher_key, args.seconds)
    store = fresh_store(backend, cipher_key)
    try:
        seed(store, source)
        server = Server(store, args.profile)
        try:
            server.wait_ready()
            queues = {tier: queue_latency(server.url, unit) for tier, unit in UNITS.items()}
            console.log(f"{backend}: HTTP, {args.clients} clients, {args.seconds:g} s")
            http = run_http(server, args.clients, args.seconds)
        finally:
            server.stop()
        if http.errors:
            console.log(f"[red]{backend}: {http.errors} HTTP commands failed[/]")
        scaling = [(1, http), *((n, scaled(store, n, args)) for n in args.workers if n > 1)]
        return Result(backend, direct, http, queues, scaling)
    finally:
        store.drop()


def direct_on_own_store(
    backend: str, source: FengqiaoApplication | None, cipher_key: str, seconds: float
) -> Run:
    """The direct run, on a store seeded as the HTTP runs' is. On one store the HTTP runs
    would start where the direct run left off: its ten thousand registrations in 25 s would
    make every later registration a repeat (重复纠纷) of a dozen of them."""
    store = fresh_store(backend, cipher_key)
    try:
        seed(store, source)
        console.log(f"{backend}: direct, 1 thread, {seconds:g} s")
        return run_direct(store.settings, seconds)
    finally:
        store.drop()


def scaled(store: Store, workers: int, args: argparse.Namespace) -> Run:
    """The HTTP run against ``serve --workers N`` on the same store."""
    server = Server(store, None, workers)
    try:
        server.wait_ready()
        console.log(f"{store.backend}: HTTP, {workers} API workers, {args.clients} clients")
        return run_http(server, args.clients, args.seconds)
    finally:
        server.stop()


def report_scaling(results: list[Result], args: argparse.Namespace) -> None:
    rows = [(r, n, run) for r in results for n, run in r.scaling if len(r.scaling) > 1]
    if not rows:
        return
    table = Table(title=f"serve --workers N (views in their own process), {args.clients} clients")
    for column in ("backend", "API workers", "HTTP cmd/s", "HTTP/direct", "p50 / p99 ms",
                   "server CPU ms/cmd", "errors"):  # fmt: skip
        table.add_column(column, justify="right")
    for r, n, run in rows:
        p50, p99 = percentiles(run.latencies) if run.latencies else (0.0, 0.0)
        ratio = f"{run.rate / r.direct.rate:.2f}x"
        table.add_row(r.backend, str(n), f"{run.rate:,.0f}", ratio, f"{p50:.1f} / {p99:.1f}",
                      f"{run.cpu_ms:.2f}", str(run.errors))  # fmt: skip
    console.print(table)


def report(results: list[Result], args: argparse.Namespace) -> None:
    table = Table(
        title=f"fengqiao commands: HTTP ({args.clients} clients) vs direct (1 thread), "
        f"{args.seconds:g} s each, store of {args.queue_cases:,} demo cases"
    )
    for column in ("backend", "direct cmd/s", "HTTP cmd/s", "HTTP/direct",
                   "direct p50 / p99 ms", "HTTP p50 / p99 ms", "CPU ms/cmd direct / server",
                   "HTTP errors"):  # fmt: skip
        table.add_column(column, justify="right")
    for r in results:
        d50, d99 = percentiles(r.direct.latencies)
        h50, h99 = percentiles(r.http.latencies) if r.http.latencies else (0.0, 0.0)
        table.add_row(
            r.backend,
            f"{r.direct.rate:,.0f}",
            f"{r.http.rate:,.0f}",
            f"{r.http.rate / r.direct.rate:.2f}x",
            f"{d50:.1f} / {d99:.1f}",
            f"{h50:.1f} / {h99:.1f}",
            f"{r.direct.cpu_ms:.2f} / {r.http.cpu_ms:.2f}",
            str(r.http.errors),
        )
    table.caption = _machine()
    console.print(table)
    queues = Table(title=f"GET /api/v1/queues/{{unit}} over HTTP, {QUEUE_REQUESTS} requests")
    for column in ("backend", "unit", "items", "p50 ms", "p99 ms"):
        queues.add_column(column, justify="right")
    for r in results:
        for tier, (p50, p99, size) in r.queues.items():
            queues.add_row(
                r.backend, f"{tier} {UNITS[tier]}", str(size), f"{p50:.1f}", f"{p99:.1f}"
            )
    console.print(queues)
    report_scaling(results, args)


def _machine() -> str:
    """What the figures depend on: cores, load from elsewhere, the server's HTTP parser."""
    fast = all(importlib.util.find_spec(name) for name in ("httptools", "uvloop"))
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs shared by server, clients and PostgreSQL; load average {load}; "
        f"uvicorn on {'httptools + uvloop' if fast else 'h11 + asyncio (pure Python)'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--queue-cases", type=int, default=100_000)
    parser.add_argument("--profile", type=Path, default=None, help="cProfile the server into DIR")
    parser.add_argument(
        "--workers",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1],
        help="also run against serve --workers N for each N (e.g. 1,2,4)",
    )
    args = parser.parse_args()
    cipher_key = new_cipher_key()
    now = datetime.now(UTC).replace(microsecond=0)
    source = generate(args.queue_cases, now, cipher_key) if args.queue_cases else None
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    results = [run_backend(backend, source, cipher_key, args) for backend in backends]
    report(results, args)


if __name__ == "__main__":
    main()
