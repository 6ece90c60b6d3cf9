"""Write-side benchmark: what the store's insert path permits, and what sharing a commit gains.

    .venv/bin/python -m benchmarks.writes [--backend sqlite|postgres|both] [--seconds 5]

Real commands (``AddNote`` on signed cases: load, decide, save) straight into
``FengqiaoApplication``, no HTTP, each thread on cases of its own so no two writers meet on
a case. Rows:

- one command per transaction, 1 and 4 threads (``group_commits=False``): the store's own
  concurrency. On PostgreSQL every insert takes ``LOCK TABLE … IN EXCLUSIVE MODE`` (insert
  order must equal commit order for the views), so writers of one application queue there;
  SQLite takes one writer at a time;
- 4 threads, commits grouped (the product's default, ``domain.commit_groups``): the commands
  waiting for the writer's turn share the next transaction; the row says how many a
  transaction held on average;
- 8 commands per transaction, 1 thread: the ceiling of group commit (each command loaded and
  decided, the eight saved together);
- SQLite only, each insert transaction held 2 ms longer (the writer's lock held): a disk that
  takes that long to flush the log, as network block storage can; 1 and 4 threads one command
  per transaction, and 4 threads grouped;
- PostgreSQL only, ``POSTGRES_ENABLE_DB_FUNCTIONS=y``: the library's insert function, which
  skips the table lock. fengqiao cannot use it (without the lock a view can read a later
  position before an earlier one commits, and skip it for ever); it is measured to show what
  the lock costs.

Prints commands/s per row.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from rich.console import Console
from rich.table import Table

from api.wiring.bootstrap import OPERATOR
from benchmarks.views import drop_store, store_env
from domain.actors import Actor, Role
from domain.application import FengqiaoApplication
from domain.case import Registration
from domain.case.commands import AddNote, SignCase
from domain.samples import sample_units
from domain.status import Channel

VILLAGE = "511123001001"
REPORTER = Actor("bench-reporter", Role.REPORTER, VILLAGE)
MEDIATOR = Actor("bench-mediator", Role.MEDIATOR, VILLAGE)
CASES_PER_THREAD = 300
GROUP = 8
SLOW_FLUSH_MS = 2.0
SLOW = f"disk flushing in {SLOW_FLUSH_MS:g} ms:"

console = Console()


@contextmanager
def store(
    backend: str, functions: bool = False, grouped: bool = False
) -> Iterator[FengqiaoApplication]:
    """A fresh store with the sample units, closed and removed afterwards."""
    env, workdir, schema = store_env(backend, "fq-writes-")
    if backend == "postgres" and functions:
        env["POSTGRES_ENABLE_DB_FUNCTIONS"] = "y"
    app = FengqiaoApplication(env=env, group_commits=grouped)
    try:
        app.add_units(OPERATOR, sample_units())
        yield app
    finally:
        app.close()
        drop_store(backend, workdir, schema)


def signed_cases(app: FengqiaoApplication, count: int) -> list[UUID]:
    now = datetime.now(UTC)
    found = []
    for n in range(count):
        details = Registration("邻里纠纷", f"写入压测 {n}", VILLAGE, Channel.HOTLINE)
        case = app.register(REPORTER, "dispute", details, now).case
        app.execute(case.id, SignCase(), MEDIATOR, now)
        found.append(case.id)
    return found


def one_per_transaction(app: FengqiaoApplication, cases: list[UUID], until: float) -> int:
    done = 0
    while time.perf_counter() < until:
        app.execute(cases[done % len(cases)], AddNote("电话联系双方"), MEDIATOR)
        done += 1
    return done


def grouped_commands(app: FengqiaoApplication, cases: list[UUID], until: float) -> int:
    """Each command loaded and decided on its own case, ``GROUP`` of them saved together."""
    done = 0
    while time.perf_counter() < until:
        now = datetime.now(UTC)
        group = [app.get_case(cases[(done + i) % len(cases)]) for i in range(GROUP)]
        for case in group:
            AddNote("电话联系双方").run(case, app.context(case, MEDIATOR, now))
        app.save(*group)
        done += GROUP
    return done


def rate(
    app: FengqiaoApplication,
    threads: int,
    seconds: float,
    loop: Callable[[FengqiaoApplication, list[UUID], float], int],
) -> float:
    pools = [signed_cases(app, CASES_PER_THREAD) for _ in range(threads)]
    app.commits.commands = app.commits.transactions = 0  # the timed commands only
    counts = [0] * threads
    until = time.perf_counter() + seconds

    def work(i: int) -> None:
        counts[i] = loop(app, pools[i], until)

    started = time.perf_counter()
    runners = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join()
    return sum(counts) / (time.perf_counter() - started)


@dataclass(frozen=True)
class Row:
    """One way of writing: how many threads, each command's loop, and the store's set-up."""

    how: str
    threads: int
    loop: Callable[[FengqiaoApplication, list[UUID], float], int] = one_per_transaction
    grouped: bool = False
    functions: bool = False
    flush_ms: float = 0.0


def rows_for(backend: str) -> list[Row]:
    rows = [
        Row("one command per transaction", 1),
        Row("one command per transaction", 4),
        Row("commits grouped (the product's default)", 4, grouped=True),
        Row(f"{GROUP} commands per transaction (group commit's ceiling)", 1, grouped_commands),
    ]
    if backend == "postgres":
        rows.append(Row("insert function, no table lock (unsafe here)", 4, functions=True))
    else:
        rows += [
            Row(f"{SLOW} one command per transaction", n, flush_ms=SLOW_FLUSH_MS) for n in (1, 4)
        ]
        rows.append(Row(f"{SLOW} commits grouped", 4, grouped=True, flush_ms=SLOW_FLUSH_MS))
    return rows


def slow_flush(app: FengqiaoApplication, milliseconds: float) -> None:
    """Each insert transaction of the event store lasts ``milliseconds`` longer, the writer's
    lock held: a disk that takes that long to flush the log (network block storage)."""
    recorder: Any = app.recorder
    insert = recorder._insert_events

    def flushing(cursor: Any, stored_events: Any, **kwargs: Any) -> Any:
        time.sleep(milliseconds / 1000)
        return insert(cursor, stored_events, **kwargs)

    recorder._insert_events = flushing


def measure(backend: str, seconds: float, table: Table) -> None:
    for row in rows_for(backend):
        with store(backend, row.functions, row.grouped) as app:
            if row.flush_ms:
                slow_flush(app, row.flush_ms)
            per_second = rate(app, row.threads, seconds, row.loop)
            shared = app.commits.commands / max(app.commits.transactions, 1)
        how = f"{row.how}, {shared:.1f} per transaction" if row.grouped else row.how
        table.add_row(backend, how, str(row.threads), f"{per_second:,.0f}")
        console.log(f"{backend}: {how}, {row.threads} thread(s): {per_second:,.0f} commands/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    table = Table(title="Writes straight into the application: commands/s")
    for column in ("backend", "how", "threads", "commands/s"):
        table.add_column(column, justify="right" if column != "how" else "left")
    for backend in ("sqlite", "postgres") if args.backend == "both" else (args.backend,):
        measure(backend, args.seconds, table)
    console.print(table)


if __name__ == "__main__":
    main()
