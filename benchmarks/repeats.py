"""Repeat index benchmark: ``earlier_cases`` lookups at 1,000,000 indexed cases, and its size.

    .venv/bin/python -m benchmarks.repeats [--cases 1000000] [--backend sqlite|postgres|both]
                                           [--lookups 2000]

The repeat index (``projections.repeats``) is filled directly in its own tables, as its
``process`` writes them: synthetic cases over three years, each at one of 3,000 villages under
one of 12 categories, with two parties drawn from a population of 1.5 × cases people (so
families recur), each party fingerprinted by ID number and phone under a real key (four marks
a case). Then ``earlier_cases`` is timed as a registration calls it: the 4 fingerprints of a
new case's two parties, its village and category, the 180-day window; half the lookups are
of a party of a case inside the window (hits: at least one party match), half of people never
seen (misses, whose place may still
match). Prints p50/p99 per kind and the index's size on disk: the SQLite file (after a
checkpoint), or PostgreSQL's ``pg_total_relation_size`` of the view's tables.

Run by hand, never in CI (a million cases take a few minutes to fill on each backend).

At 1,000,000 cases (4,000,000 marks), 1,000 lookups of each kind, 2 shared cores:

    backend      lookup   p50 ms   p99 ms   size MiB   fill cases/s
    SQLite       hit        0.09     0.16        588          7,282
    SQLite       miss       0.08     0.13        588          7,282
    PostgreSQL   hit        0.72     4.22      1,293          5,887
    PostgreSQL   miss       0.66     3.73      1,293          5,887

A lookup is two index range scans (the marks' primary key by fingerprint and window, the
place index by unit, category and window), so it stays flat as the index grows; PostgreSQL's
size is the tables plus their primary keys and indexes (SQLite keeps the marks in their key).
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from rich.console import Console
from rich.table import Table

from benchmarks.views import PG_URL, percentiles
from domain.fingerprints import Fingerprints
from projections.db import PostgresViews, SqliteViews, ViewDatabase, to_us
from projections.repeats import CASE_COLUMNS, RepeatsView

VILLAGES, CATEGORIES = 3_000, 12
SPAN = timedelta(days=3 * 365)
WINDOW = timedelta(days=180)
CHUNK = 50_000  # cases written per transaction
SEED = 15
Row = tuple[object, ...]
Synthetic = tuple[Row, list[Row]]  # a case's row and its marks


def _unit(index: int) -> str:
    return f"511123{index // 100:03d}{index % 100:03d}"


def _category(index: int) -> str:
    return f"类别{index:02d}"


class Population:
    """People as fingerprints: person ``n``'s ID number and phone, hashed under one key."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.prints = Fingerprints.derived_from(os.urandom(32))
        self.recent: list[int] = []  # people of the cases inside the window: a lookup's hits

    def of(self, person: int) -> tuple[str, str]:
        return (
            self.prints.id_number(f"{511123000000000000 + person:018d}"),
            self.prints.phone(f"+86 139{person:08d}"),
        )


def synthetic(cases: int, people: Population, now: datetime) -> Iterator[Synthetic]:
    """(case row, its marks) for each synthetic case, oldest first."""
    rng = random.Random(SEED)
    start = to_us(now - SPAN)
    step = to_us(now) - start
    window = to_us(now - WINDOW)
    times = sorted(start + rng.randrange(step) for _ in range(cases))
    for n, at in enumerate(times):
        case_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        unit, category = _unit(rng.randrange(VILLAGES)), _category(rng.randrange(CATEGORIES))
        row = (case_id, "dispute", unit, category, at, f"（2026）犍调字第{n:07d}号", 0, "")
        marks: list[Row] = []
        for person in {rng.randrange(people.size), rng.randrange(people.size)}:
            marks += [(fingerprint, at, case_id) for fingerprint in people.of(person)]
            if at >= window:
                people.recent.append(person)
        yield row, marks


def fill(view: RepeatsView, cases: int, people: Population, now: datetime) -> float:
    """Writes the synthetic cases into the view's tables; returns the seconds it took."""
    started = time.perf_counter()
    batch: list[Synthetic] = []
    for item in synthetic(cases, people, now):
        batch.append(item)
        if len(batch) == CHUNK:
            _write(view, batch)
            batch = []
    if batch:
        _write(view, batch)
    return time.perf_counter() - started


def _write(view: RepeatsView, batch: list[Synthetic]) -> None:
    rows = [row for row, _ in batch]
    marks = [mark for _, found in batch for mark in found]
    if isinstance(view.db, PostgresViews):
        with psycopg.connect(PG_URL) as conn:
            for table, columns, values in (
                ("cases", CASE_COLUMNS, rows),
                ("marks", ("fingerprint", "registered_us", "case_id"), marks),
            ):
                with conn.cursor().copy(
                    f"COPY {view.t(table)} ({', '.join(columns)}) FROM STDIN"
                ) as copy:
                    for value in values:
                        copy.write_row(value)
        return
    with view.db.transaction() as cursor:
        names, places = ", ".join(CASE_COLUMNS), ", ".join("?" for _ in CASE_COLUMNS)
        cursor.executemany(f"INSERT INTO {view.t('cases')} ({names}) VALUES ({places})", rows)
        cursor.executemany(
            f"INSERT INTO {view.t('marks')} (fingerprint, registered_us, case_id) VALUES (?, ?, ?)",
            marks,
        )


def lookups(
    view: RepeatsView, people: Population, count: int, now: datetime
) -> dict[str, list[float]]:
    """Times ``count`` lookups of a new case, half of them of people indexed."""
    rng = random.Random(SEED + 1)
    since = now - WINDOW
    timings: dict[str, list[float]] = {"hit": [], "miss": []}
    found = {"hit": 0, "miss": 0}
    for n in range(count):
        kind = "hit" if n % 2 == 0 else "miss"
        if kind == "hit":
            persons = [rng.choice(people.recent), rng.randrange(people.size)]
        else:
            persons = [people.size + rng.randrange(10**9) for _ in range(2)]
        fingerprints = [fp for person in persons for fp in people.of(person)]
        unit, category = _unit(rng.randrange(VILLAGES)), _category(rng.randrange(CATEGORIES))
        started = time.perf_counter()
        earlier = view.earlier_cases(fingerprints, unit, category, since)
        timings[kind].append((time.perf_counter() - started) * 1000)
        found[kind] += sum(1 for e in earlier if "party" in e.matched_by)
    print(f"party matches found: hits {found['hit']}, misses {found['miss']}")
    return timings


def size_of(view: RepeatsView) -> int:
    """Bytes on disk of the view's tables and indexes."""
    if isinstance(view.db, SqliteViews):
        with view.db.transaction(write=False) as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        path = Path(view.db.path)
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    with view.db.transaction(write=False) as cursor:
        total = 0
        for table in view.table_names():
            cursor.execute("SELECT pg_total_relation_size(?::regclass)", (view.t(table),))
            row = cursor.fetchone()
            total += int(row[0]) if row else 0
        return total


def run_backend(backend: str, cases: int, count: int, table: Table) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    people = Population(cases * 3 // 2)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    db: ViewDatabase
    if backend == "sqlite":
        workdir = Path(tempfile.mkdtemp(prefix="fq-repeats-bench-"))
        db = SqliteViews(workdir / "view-repeats.sqlite3")
    else:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'create schema "{schema}"')
        db = PostgresViews(PG_URL, schema, "repeats")
    view = RepeatsView(db, people.prints)
    try:
        with db.transaction() as cursor:
            for statement in view.create_statements():
                cursor.execute(statement)
        seconds = fill(view, cases, people, now)
        if backend == "postgres":
            with db.transaction() as cursor:
                for name in ("cases", "marks"):
                    cursor.execute(f"ANALYZE {view.t(name)}")
        lookups(view, people, 50, now)  # warm-up
        timings = lookups(view, people, count, now)
        size = size_of(view)
        marks = _count(view, "marks")
        for kind, samples in timings.items():
            p50, p99 = percentiles(samples)
            table.add_row(
                backend, f"{cases:,}", f"{marks:,}", kind, f"{len(samples):,}", f"{p50:.2f}",
                f"{p99:.2f}", f"{size / 2**20:,.0f}", f"{cases / seconds:,.0f}",
            )  # fmt: skip
    finally:
        db.close()
        if backend == "postgres":
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'drop schema "{schema}" cascade')


def _count(view: RepeatsView, name: str) -> int:
    with view.db.transaction(write=False) as cursor:
        cursor.execute(f"SELECT count(*) FROM {view.t(name)}")
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=2_000)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    table = Table(title="fengqiao repeat index: earlier_cases over a 180-day window (ms)")
    for column in (
        "backend", "cases", "marks", "lookup", "runs", "p50 ms", "p99 ms", "size MiB",
        "fill cases/s",
    ):  # fmt: skip
        table.add_column(column, justify="left" if column in ("backend", "lookup") else "right")
    for backend in ("sqlite", "postgres") if args.backend == "both" else (args.backend,):
        run_backend(backend, args.cases, args.lookups, table)
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
