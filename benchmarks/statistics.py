"""Statistics benchmark: city-wide statistics of 30 days as the store grows.

    .venv/bin/python -m benchmarks.statistics [--cases 2000 20000] [--backend sqlite|postgres|both]

For each case count the demo generator tells the stories once in memory (real commands), the
log is copied into each backend's event store, the statistics view alone is rebuilt, and
``get_statistics`` for the city (511100) over the 30 days up to now is timed (p50/p99 of 50
runs after 3 warm-ups), with the children of the city's county. Prints one table: the time per
case count should stay nearly flat, the view holding day summaries rather than scanning cases.

p50 / p99 ms of the city (the county's children in brackets), 2 shared cores:

    backend     cases   v1 (scans)    v2 (day summaries)   v3 (rolled up to ancestors)
    SQLite      2,000   6.2 / 8.3     25.6 / 40.5          5.3 / 6.4    (1.0 / 1.2)
    SQLite     20,000   263 / 732     666 / 1,918          18.8 / 24.6  (6.1 / 9.9)
    PostgreSQL  2,000   9.3 / 12.6    21.9 / 39.0          10.2 / 19.9  (7.1 / 15.3)
    PostgreSQL 20,000   160 / 372     250 / 448            27.2 / 41.9  (13.3 / 29.0)

What still grows from 2,000 to 20,000 is the read of the two edge days' facts and the median's
bucket: the demo packs ten times the cases into the same days (docs/design.md, "Statistics").
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from rich.console import Console
from rich.table import Table

from benchmarks.views import (
    copy_log,
    drop_store,
    generate,
    percentiles,
    store_env,
    store_views,
    timed,
)
from domain.application import FengqiaoApplication
from projections.stats_queries import get_children, get_statistics

CITY, COUNTY = "511100", "511123"
RUNS, WARM_UPS = 50, 3


def run_backend(
    backend: str, cases: int, source: FengqiaoApplication, now: datetime, table: Table
) -> None:
    env, workdir, schema = store_env(backend, "fq-stats-bench-")
    app = FengqiaoApplication(env=env)
    try:
        events = copy_log(source, app)
        views = store_views(backend, app, workdir, schema)
        started = time.perf_counter()
        views.rebuild(["statistics"])
        rate = events / (time.perf_counter() - started)
        start, end = now - timedelta(days=30), now
        for name, query in (
            ("city 30 days", lambda: get_statistics(views.statistics, CITY, start, end, now)),
            ("county children", lambda: get_children(views.statistics, COUNTY, start, end, now)),
        ):
            timed(query, WARM_UPS)
            p50, p99 = percentiles(timed(query, RUNS))
            table.add_row(
                backend, f"{cases:,}", f"{events:,}", name, f"{p50:.1f}", f"{p99:.1f}",
                f"{rate:,.0f}",
            )  # fmt: skip
        views.close()
    finally:
        app.close()
        drop_store(backend, workdir, schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, nargs="+", default=[2_000, 20_000])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    now = datetime.now(UTC).replace(microsecond=0)
    table = Table(title="fengqiao statistics: city-wide, 30 days (ms)")
    for column in ("backend", "cases", "events", "query", "p50 ms", "p99 ms", "rebuild ev/s"):
        table.add_column(column, justify="right" if column[0] in "cepr" else "left")
    for cases in args.cases:
        source = generate(cases, now)
        for backend in ("sqlite", "postgres") if args.backend == "both" else (args.backend,):
            run_backend(backend, cases, source, now, table)
    Console().print(table)


if __name__ == "__main__":
    main()
