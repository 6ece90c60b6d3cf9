"""Read-model benchmark: rebuild throughput, queue and statistics latency, projection lag.

    .venv/bin/python -m benchmarks.views [--cases 100000] [--backend sqlite|postgres|both]
        [--reads-only]

The case load comes from the demo generator, run once against the in-memory store (its commands
are the real ones) and copied in bulk into each backend's event store, so a 100,000-case store
takes minutes rather than the better part of an hour of single commands. Prints one table.
With ``--reads-only`` the views are built once, all together (as a deployment's first start
does), instead of also one by one: for the read latencies at a size where a dozen single
rebuilds would take most of the run.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import psycopg
from eventsourcing.utils import get_topic
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from api.demo.load import run_demo
from api.wiring.settings import postgres_env
from domain.actors import Actor, Role
from domain.application import FengqiaoApplication
from domain.case import Registration
from domain.numbering import CaseNumbers
from domain.status import Channel
from projections.queue import get_queue
from projections.stats_queries import get_statistics
from projections.viewset import ViewSet

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
# The signing secret of the benchmarks' servers and exports (a token must be signed with it).
SECRET = "benchmark-secret-" + "0123456789abcdef" * 3
UNITS = {"county": "511123", "township": "511123001", "village": "511123001001"}
COPY_BATCH = 5000
COUNTER_STARTED = get_topic(CaseNumbers.Started)


def generate(cases: int, now: datetime) -> FengqiaoApplication:
    source = FengqiaoApplication(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: now
    )
    with Progress() as progress:
        task = progress.add_task(f"demo: {cases:,} cases in memory", total=cases)
        run_demo(source, cases, 2026, now, lambda: progress.advance(task))
    return source


def copy_log(source: FengqiaoApplication, target: FengqiaoApplication) -> int:
    """Copies every stored event, in log order, in large transactions; then snapshots the
    county counters, as the live store has them."""
    copied, start, counters = 0, 1, set[UUID]()
    while True:
        batch = source.recorder.select_notifications(start=start, limit=COPY_BATCH)
        if not batch:
            snapshot_counters(target, counters)
            return copied
        target.recorder.insert_events(list(batch))
        counters.update(UUID(str(n.originator_id)) for n in batch if n.topic == COUNTER_STARTED)
        copied += len(batch)
        start = batch[-1].id + 1


def snapshot_counters(app: FengqiaoApplication, counters: Iterable[UUID]) -> None:
    """Snapshots each county's counter of numbers. A live store snapshots one every hundred
    numbers (``FengqiaoApplication.snapshotting_intervals``); a store filled in bulk has none,
    and registrations would replay the county's whole year (on a 100,000-case store the
    projection lag's p99 was 233 ms without the snapshots, 26 ms with them)."""
    for counter in counters:
        app.take_snapshot(counter)


def store_env(backend: str, prefix: str) -> tuple[dict[str, str], Path, str]:
    """The library settings of a fresh store: a SQLite file in a new directory, or a new
    PostgreSQL schema (the caller drops it); with the directory and the schema's name."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    if backend == "sqlite":
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(workdir / "events.sqlite3"),
        }
    else:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'create schema "{schema}"')
        env = {**postgres_env(PG_URL), "POSTGRES_SCHEMA": schema}
    return env, workdir, schema


def store_views(backend: str, app: FengqiaoApplication, workdir: Path, schema: str) -> ViewSet:
    """The views of a store ``store_env`` made: in its directory, or in its schema."""
    if backend == "sqlite":
        return ViewSet.sqlite(app, workdir / "views")
    return ViewSet.postgres(app, PG_URL, schema)


def drop_store(backend: str, workdir: Path, schema: str) -> None:
    """Removes what ``store_env`` made: the directory (a SQLite store is gigabytes at scale)
    and, on PostgreSQL, the schema."""
    shutil.rmtree(workdir, ignore_errors=True)
    if backend == "postgres":
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'drop schema "{schema}" cascade')


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def timed(fn: object, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return times


def measure_lag(
    app: FengqiaoApplication, views: ViewSet, subscribe: bool, commands: int
) -> list[float]:
    """Write → visible in every view, under a steady load of ~50 commands/s."""
    views.follow(subscribe)
    reporter = Actor("bench", Role.REPORTER, UNITS["village"])
    lags = []
    try:
        for n in range(commands):
            details = Registration("邻里纠纷", f"lag probe {n}", UNITS["village"], Channel.HOTLINE)
            written = time.perf_counter()
            recorded = app.register(reporter, "dispute", details, at=datetime.now(UTC))
            views.poke()
            if not views.wait(recorded.position, timeout=10):
                raise RuntimeError("a view fell more than 10 s behind")
            lags.append((time.perf_counter() - written) * 1000)
            time.sleep(0.02)
    finally:
        for follower in views.followers:
            follower.stop()
        for follower in views.followers:
            follower.join(5)
        views.followers = []
    return lags


def run_backend(
    backend: str, source: FengqiaoApplication, now: datetime, table: Table, reads_only: bool
) -> None:
    env, workdir, schema = store_env(backend, "fq-bench-")
    app = FengqiaoApplication(env=env)
    try:
        started = time.perf_counter()
        events = copy_log(source, app)
        table.add_row(
            backend,
            "copy log (bulk insert)",
            f"{events / (time.perf_counter() - started):,.0f} events/s",
        )
        views = store_views(backend, app, workdir, schema)
        for name in [] if reads_only else views.runners:
            started = time.perf_counter()
            applied = views.rebuild([name])[name]
            rate = applied / (time.perf_counter() - started)
            table.add_row(backend, f"rebuild {name}", f"{rate:,.0f} events/s ({applied:,} events)")
        started = time.perf_counter()
        views.rebuild()  # every view at once: the log read and decoded once for all of them
        seconds = time.perf_counter() - started
        table.add_row(
            backend,
            f"rebuild all {len(views.runners)} views together",
            f"{events / seconds:,.0f} records/s ({seconds:,.1f} s)",
        )
        for tier, unit in UNITS.items():
            p50, p99 = percentiles(
                timed(lambda u=unit: get_queue(views.cases, u, now, limit=50), 200)
            )
            table.add_row(
                backend, f"queue {tier} {unit} (50 items)", f"p50 {p50:.2f} ms, p99 {p99:.2f} ms"
            )
        start, end = now - timedelta(days=30), now
        p50, p99 = percentiles(
            timed(lambda: get_statistics(views.statistics, "511100", start, end, now), 20)
        )
        table.add_row(
            backend, "statistics city 511100, 30 days", f"p50 {p50:.1f} ms, p99 {p99:.1f} ms"
        )
        p50, p99 = percentiles(
            timed(lambda: get_statistics(views.statistics, UNITS["county"], start, end, now), 20)
        )
        table.add_row(backend, "statistics county, 30 days", f"p50 {p50:.1f} ms, p99 {p99:.1f} ms")
        lags = measure_lag(app, views, subscribe=backend == "postgres", commands=200)
        p50, p99 = percentiles(lags)
        table.add_row(
            backend,
            "projection lag, write → visible in all views",
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms",
        )
        views.close()
    finally:
        app.close()
        drop_store(backend, workdir, schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--reads-only", action="store_true", help="no single-view rebuilds")
    args = parser.parse_args()
    now = datetime.now(UTC).replace(microsecond=0)
    started = time.perf_counter()
    source = generate(args.cases, now)
    events = source.recorder.max_notification_id() or 0
    table = Table(title=f"fengqiao views: {args.cases:,} cases, {events:,} events")
    for column in ("backend", "measure", "result"):
        table.add_column(column)
    table.add_row(
        "memory",
        "demo generation (real commands)",
        f"{events / (time.perf_counter() - started):,.0f} events/s",
    )
    for backend in ("sqlite", "postgres") if args.backend == "both" else (args.backend,):
        run_backend(backend, source, now, table, args.reads_only)
    Console().print(table)


if __name__ == "__main__":
    main()
