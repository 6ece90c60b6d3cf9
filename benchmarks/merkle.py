"""Merkle tree benchmark: leaves appended/s (rebuild and live), proof latency, the store check.

    .venv/bin/python -m benchmarks.merkle [--leaves 1000000] [--backend sqlite|postgres|both]

The records are synthetic (random originators, ~300 random bytes of state, the size of an
encrypted event). A leaf also holds the export digest of the record decoded, and these decode
to nothing, so the figures are of the tree's hashing and storage alone: the decoding a real
record adds is in ``benchmarks.views`` (the merkle view's rebuild rate over a demo store) and
in ``fengqiao rebuild merkle``. They are written in bulk to each backend's event store, then:

- *rebuild*: the merkle view replayed from nothing (batches of 2,000, as ``fengqiao rebuild``);
- *live*: 2,000 more records appended 5 at a time, the view catching up after each write (one
  transaction per small batch, as a follower does under commands);
- proofs: inclusion of a random leaf and consistency from a random older size, against the
  whole tree, each timed alone (p50/p99 of 1,000), and the root;
- the store check: every record re-read and re-hashed against its leaf;
- head signing: an Ed25519 signature over a head's bytes (size, root, time).

Prints one table.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import struct
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from api.wiring.settings import postgres_env
from projections.db import PostgresViews, SqliteViews, ViewDatabase
from projections.engine import ViewRunner
from projections.merkle import MerkleView
from projections.store_check import check_store

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
WRITE_BATCH = 5000
SAMPLES = 1000


def fill(app: Application[object], count: int, rng: random.Random) -> None:
    with Progress() as progress:
        task = progress.add_task(f"writing {count:,} records", total=count)
        for start in range(0, count, WRITE_BATCH):
            n = min(WRITE_BATCH, count - start)
            app.recorder.insert_events(
                [StoredEvent(uuid.UUID(int=rng.getrandbits(128)), 1, "t:T", os.urandom(300))
                 for _ in range(n)]
            )  # fmt: skip
            progress.advance(task, n)


def percentiles(run: Callable[[], object], samples: int = SAMPLES) -> tuple[float, float]:
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    cuts = statistics.quantiles(timings, n=100)
    return cuts[49] * 1000, cuts[98] * 1000


def bench(backend: str, leaves: int, workdir: Path) -> dict[str, str]:
    rng = random.Random(16)
    schema = f"bench_merkle_{uuid.uuid4().hex[:8]}"
    db: ViewDatabase
    if backend == "sqlite":
        env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(workdir / "e.db")}
        db = SqliteViews(workdir / "view-merkle.sqlite3")
    else:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        env = {**postgres_env(PG_URL), "POSTGRES_SCHEMA": schema}
        db = PostgresViews(PG_URL, schema, "merkle")
    app: Application[object] = Application(env=env)
    try:
        fill(app, leaves, rng)
        view = MerkleView(db, app.mapper)
        runner = ViewRunner(app, view)
        runner.setup()
        started = time.perf_counter()
        runner.catch_up()
        rebuild = leaves / (time.perf_counter() - started)

        live_count = 2000
        started = time.perf_counter()
        for _ in range(live_count // 5):
            app.recorder.insert_events(
                [StoredEvent(uuid.uuid4(), 1, "t:T", os.urandom(300)) for _ in range(5)]
            )
            runner.catch_up()
        live = live_count / (time.perf_counter() - started)  # includes writing the records

        size = view.size()
        inclusion = percentiles(lambda: view.inclusion_proof(rng.randrange(size), size))
        consistency = percentiles(lambda: view.consistency_proof(rng.randint(1, size), size))
        root = percentiles(lambda: view.root(size), 200)

        started = time.perf_counter()
        result = check_store(
            lambda start, limit: app.recorder.select_notifications(start=start, limit=limit), view
        )
        check = result.checked / (time.perf_counter() - started)
        assert result.ok, result.summary()
    finally:
        db.close()
        app.close()
        if backend == "postgres":
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    return {
        "leaves": f"{size:,}",
        "rebuild (leaves/s)": f"{rebuild:,.0f}",
        "live, 5 per write (leaves/s)": f"{live:,.0f}",
        "inclusion p50/p99 (ms)": f"{inclusion[0]:.2f} / {inclusion[1]:.2f}",
        "consistency p50/p99 (ms)": f"{consistency[0]:.2f} / {consistency[1]:.2f}",
        "root p50/p99 (ms)": f"{root[0]:.2f} / {root[1]:.2f}",
        "store check (records/s)": f"{check:,.0f}",
    }


def signing_cost() -> tuple[float, float]:
    key = Ed25519PrivateKey.generate()
    head = struct.pack(">Q", 1_000_000) + os.urandom(32) + struct.pack(">Q", time.time_ns())
    return percentiles(lambda: key.sign(head), 5000)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    rows: dict[str, dict[str, str]] = {}
    for backend in ("sqlite", "postgres") if args.backend == "both" else (args.backend,):
        with tempfile.TemporaryDirectory() as workdir:
            rows[backend] = bench(backend, args.leaves, Path(workdir))
    table = Table(title=f"Merkle tree, {args.leaves:,} leaves")
    table.add_column("measure")
    for backend in rows:
        table.add_column(backend, justify="right")
    for measure in next(iter(rows.values())):
        table.add_row(measure, *(rows[backend][measure] for backend in rows))
    p50, p99 = signing_cost()
    table.add_row("Ed25519 head signature p50/p99 (ms)", f"{p50:.3f} / {p99:.3f}")
    Console().print(table)


if __name__ == "__main__":
    main()
