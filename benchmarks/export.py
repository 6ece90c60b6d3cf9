"""Audit export benchmark: a large export's speed, size and memory, and its verification.

    .venv/bin/python -m benchmarks.export [--events 200000] [--format jsonl|csv|both]
        [--backend sqlite|postgres]

A store (SQLite, or a fresh PostgreSQL schema; encrypted and compressed, as `fengqiao`
configures it) is filled with
``--events`` events: cases registered with a party each and seven notes apiece, built as
aggregates and saved hundreds per transaction, and the views are brought up to date. Then a
fresh process runs ``fengqiao export`` on it, reporting its resident memory once everything
is imported and an application has been opened (the start) and its high-water mark at the end
(the peak): the export streams, so the difference must stay small however big the log.
Last, ``fengqiao verify`` is timed on the file. Prints one table.

``tests/integration/test_large_export.py`` runs the same steps at 200,000 events.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import NAMESPACE_URL, uuid4, uuid5

import psycopg
from rich.console import Console
from rich.table import Table
from stdnum.cn import ric

from benchmarks.views import PG_URL, SECRET

ROOT = Path(__file__).resolve().parent.parent
NOTES_PER_CASE = 7  # with the registration, 8 events a case
SAVE_CASES = 500  # aggregates per save (one transaction)
T0 = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
MIB = 1024 * 1024
EXPORT_IMPORTS = (
    "api.cli.audit",
    "api.http.routes.reads",
    "projections.audit_export",
    "rich.progress",
)


def environ(data: Path) -> dict[str, str]:
    """The settings of the store in ``data``, with the FENGQIAO_ settings a PostgreSQL run
    hands its child processes (``postgres_environ``)."""
    given = {k: v for k, v in os.environ.items() if k.startswith("FENGQIAO_")}
    return {**given, "FENGQIAO_DATA_DIR": str(data)}


def postgres_environ(schema: str) -> dict[str, str]:
    """A fresh schema's settings: the database, and the secrets SQLite would generate."""
    from api.wiring.settings import new_cipher_key, new_signing_key

    return {
        "FENGQIAO_DATABASE_URL": f"{PG_URL}?schema={schema}",
        "FENGQIAO_SECRET": SECRET,
        "FENGQIAO_CIPHER_KEY": new_cipher_key(),
        "FENGQIAO_SIGNING_KEY": new_signing_key(),
    }


def resident_id_number(index: int) -> str:
    """A valid resident ID number (region, birth date, sequence, check digit) per index."""
    body = f"511123{date(1950, 1, 1) + timedelta(days=index % 18000):%Y%m%d}{index % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")  # it reads the first 17 of 18


def generate(data: Path, events: int) -> int:
    """Fills a SQLite store in ``data`` with at least ``events`` events and brings the views
    up to date; returns how many events the log holds."""
    from api.wiring.bootstrap import OPERATOR, build_application
    from api.wiring.settings import Settings
    from api.wiring.views import build_views
    from domain.actors import Actor, Role
    from domain.calendar import WorkingCalendar
    from domain.case import Registration
    from domain.dispute import Dispute
    from domain.levels import Tier
    from domain.parties import Party
    from domain.policy import Clocks
    from domain.samples import sample_units
    from domain.status import Channel, PartyRole

    settings = Settings.from_env(environ(data))
    app = build_application(settings, clock=lambda: T0)
    try:
        app.add_units(OPERATOR, sample_units(), at=T0)
        units = app.units()
        villages = [unit.code for unit in sample_units() if unit.tier is Tier.VILLAGE]
        clocks = Clocks(app.policy, WorkingCalendar(app.policy.holidays))
        cases = -(-events // (1 + NOTES_PER_CASE))
        batch = []
        for index in range(cases):
            village = villages[index % len(villages)]
            actor = Actor(f"grid-{village}", Role.REPORTER, village)
            at = T0 + timedelta(minutes=index)
            person = Party(
                f"当事人{index}",
                PartyRole.APPLICANT,
                resident_id_number(index),
                f"139{index % 10**8:08d}",
                f"四川省乐山市犍为县罗城镇石溪村三组{index}号",
            )
            details = Registration(
                "邻里纠纷", "两户因排水沟堵塞发生争执", village, Channel.GRID_PATROL,
                parties=(person,),
            )  # fmt: skip
            case_id = uuid5(NAMESPACE_URL, f"https://fengqiao.example/bench/{index}")
            case = Dispute.register(case_id, actor, at, units, clocks, details)
            for note in range(NOTES_PER_CASE):
                case.add_note(
                    actor, at + timedelta(seconds=note + 1), f"第{note + 1}次回访：情况稳定"
                )
            batch.append(case)
            if len(batch) == SAVE_CASES:
                app.save(*batch)
                batch = []
        if batch:
            app.save(*batch)
        views = build_views(settings, app)
        try:
            views.catch_up()
        finally:
            views.close()
        return app.recorder.max_notification_id() or 0
    finally:
        app.close()


def memory_kib() -> tuple[int, int]:
    """This process's resident memory now and its high-water mark, in KiB."""
    status = Path("/proc/self/status")
    if status.exists():
        fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak = peak // 1024 if sys.platform == "darwin" else peak  # bytes there, KiB on Linux
    return peak, peak


def _export_in_this_process(data: Path, out: Path, form: str) -> dict[str, float]:
    """What the child process does: ready everything an export needs, note the memory, run
    ``fengqiao export`` and note the time and the memory's high-water mark."""
    for module in EXPORT_IMPORTS:  # what an export imports, in place before the start
        importlib.import_module(module)
    from api.cli.main import main
    from api.wiring.bootstrap import build_application
    from api.wiring.settings import Settings
    from api.wiring.views import build_views

    settings = Settings.from_env(environ(data))
    app = build_application(settings)  # opens the store once: its modules, its cipher
    build_views(settings, app).close()
    app.close()
    start_kib, start_peak_kib = memory_kib()
    started = time.perf_counter()
    status = main(["export", "--format", form, "--out", str(out)], environ=environ(data))
    seconds = time.perf_counter() - started
    end_kib, peak_kib = memory_kib()
    return {
        "status": status,
        "seconds": seconds,
        "start_kib": start_kib,
        "start_peak_kib": start_peak_kib,
        "end_kib": end_kib,
        "peak_kib": peak_kib,
        "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


@dataclass(frozen=True)
class ExportRun:
    """One export, as measured by the process that ran it."""

    status: int
    seconds: float
    start_kib: int
    peak_kib: int

    @property
    def growth_mib(self) -> float:
        return (self.peak_kib - self.start_kib) / 1024


def _child(*args: str, settings: dict[str, str] | None = None) -> str:
    return run_module("benchmarks.export", *args, settings=settings)


def run_module(module: str, *args: str, settings: dict[str, str] | None = None) -> str:
    """Runs ``module`` in a fresh interpreter (no FENGQIAO_ settings of this one, only
    ``settings``); returns its last line of output."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("FENGQIAO_")},
            **(settings or {}),
        },
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} {args[0]} failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip().splitlines()[-1]


def generate_in_child(data: Path, events: int, settings: dict[str, str] | None = None) -> int:
    return int(_child("--child-generate", str(data), str(events), settings=settings))


def export_in_child(
    data: Path, out: Path, form: str = "jsonl", settings: dict[str, str] | None = None
) -> ExportRun:
    figures = json.loads(_child("--child-export", str(data), str(out), form, settings=settings))
    return ExportRun(
        int(figures["status"]),
        float(figures["seconds"]),
        int(figures["start_kib"]),
        int(figures["peak_kib"]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--format", choices=("jsonl", "csv", "both"), default="both")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--child-generate", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--child-export", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_generate:
        print(generate(Path(args.child_generate[0]), int(args.child_generate[1])))
        return
    if args.child_export:
        data, out, form = args.child_export
        print(json.dumps(_export_in_this_process(Path(data), Path(out), form)))
        return
    forms = ("jsonl", "csv") if args.format == "both" else (args.format,)
    if args.backend == "sqlite":
        run(args.events, forms)
        return
    schema = f"bench_export_{uuid4().hex[:8]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'create schema "{schema}"')
    try:
        run(args.events, forms, postgres_environ(schema))
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'drop schema "{schema}" cascade')


def run(events: int, forms: tuple[str, ...], settings: dict[str, str] | None = None) -> None:
    """The run on SQLite, or with ``settings`` (a PostgreSQL schema's)."""
    from projections.audit_trail import verify

    console = Console()
    workdir = Path(tempfile.mkdtemp(prefix="fq-export-bench-"))
    data = workdir / "data"
    with console.status(f"generating {events:,} events (and the views)"):
        started = time.perf_counter()
        stored = generate_in_child(data, events, settings)
        generated = time.perf_counter() - started
    where = "PostgreSQL" if settings else "SQLite"
    size = ""
    if not settings:
        size = f" ({sum(p.stat().st_size for p in data.iterdir()) / MIB:,.0f} MiB)"
    table = Table(title=f"fengqiao audit export: {where}, {stored:,} events{size}")
    for column in ("measure", *forms):
        table.add_column(column, justify="left" if column == "measure" else "right")
    rows: dict[str, list[str]] = {}
    for form in forms:
        out = workdir / f"export.{form}"
        with console.status(f"exporting ({form}) in a fresh process"):
            export = export_in_child(data, out, form, settings)
        if export.status != 0:
            raise RuntimeError(f"fengqiao export exited {export.status}")
        with console.status(f"verifying ({form})"):
            started = time.perf_counter()
            verdict = verify(out)
            verified = time.perf_counter() - started
        if not verdict.ok:
            raise RuntimeError(verdict.message)
        cells = {
            "records exported": f"{verdict.count:,}",
            "export time": f"{export.seconds:,.1f} s",
            "export rate": f"{verdict.count / export.seconds:,.0f} events/s",
            "file size": f"{out.stat().st_size / MIB:,.1f} MiB",
            "process memory at start (RSS)": f"{export.start_kib / 1024:,.1f} MiB",
            "process peak memory (VmHWM)": f"{export.peak_kib / 1024:,.1f} MiB",
            "peak − start": f"{export.growth_mib:,.1f} MiB",
            "verify time": f"{verified:,.1f} s",
            "verify rate": f"{verdict.count / verified:,.0f} events/s",
        }
        for measure, cell in cells.items():
            rows.setdefault(measure, []).append(cell)
        out.unlink()
    for measure, cells_of_forms in rows.items():
        table.add_row(measure, *cells_of_forms)
    console.print(table)
    console.print(
        f"store generated in {generated:,.1f} s ({stored / generated:,.0f} events/s, "
        "views included)"
    )
    shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
