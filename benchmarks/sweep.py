"""Deadline sweep benchmark: 10,000 open deadlines, 1,000 of them due at one instant.

    .venv/bin/python -m benchmarks.sweep [--backend sqlite|postgres|both] [--cases 5000]

Each case registered holds two clocks (sign-for and resolve), so 5,000 cases are 10,000 open
deadlines. A policy with a one-hour resolve clock and a thirty-day sign-for clock makes the
first 1,000 cases' resolve clocks fall due at the same instant D and everything else later
(the other resolve clocks a minute apart after D, every sign-for clock a month out).

The sweep service then runs as deployed (``api.http.runtime.build_sweeps``: views followed in the
background, APScheduler on a 1 s interval, the single-sweeper lock) against a clock running at
wall-clock speed that reaches D a moment after it starts. The escalation delay is the clock
when a case's Escalated event was stored minus D; the target is every escalation within one
sweep interval plus one second. Prints one table.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from api.http.runtime import build_sweeps
from api.wiring.bootstrap import build_application
from api.wiring.settings import Settings, new_cipher_key
from api.wiring.views import build_views, split_schema
from domain.actors import Actor, Role
from domain.application import FengqiaoApplication
from domain.case import Registration
from domain.samples import sample_units
from domain.status import Channel
from projections.db import to_us
from scheduler.lock import AdvisoryLock, lock_key
from scheduler.sweep import SweepReport

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
VILLAGE = "511123001001"
D = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # when the 1,000 resolve clocks fall due (a Tuesday)
INTERVAL = 1.0
LEAD = timedelta(seconds=2.05)  # the sweep before D runs just before it: the worst case
POLICY = """version = "bench-sweep-1"

[clocks.yellow.village]
sign = "30d"
resolve = "1h"
"""


class ShiftedClock:
    """Wall-clock speed, shifted so the benchmark can choose when D arrives."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def reach(self, moment: datetime) -> None:
        self.offset = moment - datetime.now(UTC)


@dataclass
class Result:
    backend: str
    open_deadlines: int
    due: int
    idle_sweeps: list[float] = field(default_factory=list)  # seconds, nothing due
    busy_sweeps: list[tuple[float, float, int]] = field(default_factory=list)  # start, took, n
    delays: list[float] = field(default_factory=list)  # seconds after D, per escalation


@contextmanager
def settings_for(backend: str, root: Path) -> Iterator[Settings]:
    policy = root / "policy.toml"
    policy.write_text(POLICY, encoding="utf-8")
    if backend == "sqlite":
        yield Settings(root / "data", policy_path=policy, sweep_seconds=INTERVAL)
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield Settings(
            root / "data",
            database_url=f"{PG_URL}?schema={schema}",
            policy_path=policy,
            sweep_seconds=INTERVAL,
            cipher_key=new_cipher_key(),
        )
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def register(app: FengqiaoApplication, cases: int, due: int, console: Console) -> None:
    reporter = Actor("bench-reporter", Role.REPORTER, VILLAGE)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"registering {cases:,} cases", total=cases)
        for n in range(cases):
            later = timedelta(minutes=n - due + 1) if n >= due else timedelta(0)
            details = Registration("邻里纠纷", f"bench case {n}", VILLAGE, Channel.GRID_PATROL)
            app.register(reporter, "dispute", details, at=D - timedelta(hours=1) + later)
            progress.advance(task)


def count_rows(views: Any, where: str, params: tuple[Any, ...]) -> int:
    deadlines = views.deadlines
    with deadlines.db.transaction(write=False) as cursor:
        cursor.execute(f"SELECT count(*) FROM {deadlines.t('deadlines')} {where}", params)
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def run(backend: str, cases: int, due: int, ticks_only: bool, console: Console) -> Result:
    with tempfile.TemporaryDirectory() as tmp, settings_for(backend, Path(tmp)) as settings:
        clock = ShiftedClock()
        app = build_application(settings, clock=clock)
        app.add_units(Actor("bench-admin", Role.ADMIN, ""), sample_units())
        register(app, cases, due, console)
        views = build_views(settings, app)
        try:
            with console.status(f"{backend}: bringing the views up to date"):
                views.catch_up()
            result = Result(
                f"{backend} (ticks only)" if ticks_only else backend,
                open_deadlines=count_rows(views, "WHERE fired = 0", ()),
                due=count_rows(views, "WHERE fired = 0 AND due_us <= ?", (to_us(D),)),
            )
            with console.status(f"{backend}: sweeping every {INTERVAL:g} s"):
                sweep(settings, app, views, clock, result, ticks_only)
        finally:
            views.close()
            app.close()
    return result


def sweep(
    settings: Settings,
    app: FengqiaoApplication,
    views: Any,
    clock: ShiftedClock,
    result: Result,
    ticks_only: bool,
) -> None:
    service = build_sweeps(settings, app, views, clock)
    if ticks_only:  # no wake-up at the next deadline: sweeps on the interval alone
        service._wake_for_next_deadline = lambda swept_at: None  # type: ignore[method-assign]
    if settings.database_url is not None:
        conninfo, schema = split_schema(settings.database_url)
        service.lock = AdvisoryLock(conninfo, lock_key(schema))
    escalated = threading.Event()
    lock = threading.Lock()

    def timed_save(*objs: Any, **kwargs: Any) -> Any:
        recordings = original_save(*objs, **kwargs)
        stored_at = clock()
        with lock:
            for recording in recordings:
                if type(recording.domain_event).__name__ == "Escalated":
                    result.delays.append((stored_at - D).total_seconds())
            if len(result.delays) >= result.due:
                escalated.set()
        return recordings

    original_save = app.save
    app.save = timed_save  # type: ignore[method-assign]
    original_sweep = service.sweeper.sweep

    def timed_sweep() -> SweepReport:
        started = time.perf_counter()
        report = original_sweep()
        took = time.perf_counter() - started
        if report.acted:
            began = (report.now - D).total_seconds()
            result.busy_sweeps.append((began, took, len(report.acted)))
        else:
            result.idle_sweeps.append(took)
        return report

    service.sweeper.sweep = timed_sweep  # type: ignore[method-assign]
    views.follow(subscribe=settings.database_url is not None)
    clock.reach(D - LEAD)
    service.start()
    try:
        escalated.wait(60)
        time.sleep(INTERVAL * 1.5)  # an idle sweep or two after the burst
    finally:
        service.stop()
        app.save = original_save  # type: ignore[method-assign]


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else float("nan")


def table(results: list[Result]) -> Table:
    limit = INTERVAL + 1
    out = Table(
        title=f"Deadline sweep: {INTERVAL:g} s interval, escalation target ≤ {limit:g} s after D"
    )
    columns = (
        "backend",
        "open clocks",
        "due at D",
        "idle sweep (ms)",
        "busy sweep: began after D (s), took (s), acted",
        "escalated",
        "delay p50 (s)",
        "p99 (s)",
        "max (s)",
        "on time",
    )
    for column in columns:
        out.add_column(column, justify="right")
    for r in results:
        busy = "; ".join(f"+{b:.2f}, {took:.2f}, {n:,}" for b, took, n in r.busy_sweeps) or "-"
        idle = statistics.median(r.idle_sweeps) * 1000 if r.idle_sweeps else float("nan")
        worst = max(r.delays, default=float("inf"))
        ok = len(r.delays) == r.due and worst <= limit
        out.add_row(
            r.backend,
            f"{r.open_deadlines:,}",
            f"{r.due:,}",
            f"{idle:.1f}",
            busy,
            f"{len(r.delays):,}",
            f"{percentile(r.delays, 0.5):.2f}",
            f"{percentile(r.delays, 0.99):.2f}",
            f"{worst:.2f}",
            "[green]yes[/]" if ok else "[red]no[/]",
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--cases", type=int, default=5000, help="two open clocks each")
    parser.add_argument("--due", type=int, default=1000, help="resolve clocks due at D")
    parser.add_argument(
        "--ticks-only",
        action="store_true",
        help="also run without the wake-up at the next deadline (the interval alone)",
    )
    args = parser.parse_args(argv)
    console = Console() if sys.stdout.isatty() else Console(width=150)
    # A sweep longer than the interval makes APScheduler skip a tick, with a warning each.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    modes = (False, True) if args.ticks_only else (False,)
    results = [
        run(backend, args.cases, args.due, ticks_only, console)
        for backend in backends
        for ticks_only in modes
    ]
    console.print(table(results))
    deployed = [r for r in results if not r.backend.endswith("(ticks only)")]
    return 0 if all(max(r.delays, default=99) <= INTERVAL + 1 for r in deployed) else 1


if __name__ == "__main__":
    raise SystemExit(main())
