"""Ledger (台账) benchmark: a large export's speed, size and memory, and that the file opens.

    .venv/bin/python -m benchmarks.ledger [--cases 100000] [--format xlsx|csv|both]

A SQLite store (encrypted and compressed, as `fengqiao` configures it) is filled with
``--cases`` cases in the sample county's villages, registered over 2026 with two parties each
and taken along four paths (left registered; signed and assigned; resolved, followed up,
closed and rated; terminated), built as aggregates in memory and saved hundreds per
transaction. Only the ledger view is brought up to date (its rate is reported too). Then a
fresh process runs ``fengqiao ledger`` for the county and the year, reporting its resident
memory once everything is imported and the store opened (the start) and its high-water mark at
the end (the peak): the rows stream out of the view and XlsxWriter keeps constant memory, so
the difference must stay small however many rows. Last, the workbook is opened with openpyxl
(read-only, as a reader would) and its rows counted. Prints one table.

``tests/integration/test_ledger.py`` checks a 300-case workbook the same way.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import NAMESPACE_URL, uuid5

from rich.console import Console
from rich.table import Table

from benchmarks.export import ExportRun, memory_kib, run_module

if TYPE_CHECKING:
    from domain.actors import Actor
    from domain.case import Case
    from domain.case.commands import CaseCommand
    from domain.directory import Directory
    from domain.jurisdiction import Jurisdiction
    from domain.policy import Clocks

ROOT = Path(__file__).resolve().parent.parent
SAVE_CASES = 500  # aggregates per save (one transaction)
T0 = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
SPACING = timedelta(minutes=5)  # between registrations: 100,000 cases fit in 2026
COUNTY = "511123"
MIB = 1024 * 1024
LEDGER_IMPORTS = (
    "api.cli.ledger",
    "api.cli.checks",
    "api.http.routes.reads",
    "projections.ledger_files",
    "xlsxwriter",
)


def environ(data: Path) -> dict[str, str]:
    return {"FENGQIAO_DATA_DIR": str(data)}


def generate(data: Path, cases: int) -> tuple[int, float]:
    """Fills a SQLite store in ``data`` with ``cases`` cases and brings the ledger view up to
    date; returns how many events the log holds and the seconds the view took."""
    from api.wiring.bootstrap import OPERATOR, build_application
    from api.wiring.settings import Settings
    from api.wiring.views import build_views
    from domain.calendar import WorkingCalendar
    from domain.levels import Tier
    from domain.policy import Clocks
    from domain.samples import sample_units

    settings = Settings.from_env(environ(data))
    app = build_application(settings, clock=lambda: T0)
    try:
        app.add_units(OPERATOR, sample_units(), at=T0)
        units = app.units()
        villages = [
            u.code for u in sample_units() if u.tier is Tier.VILLAGE and u.code.startswith(COUNTY)
        ]
        clocks = Clocks(app.policy, WorkingCalendar(app.policy.holidays))
        staff = _mediators(villages)
        batch = []
        for index in range(cases):
            batch.append(_case(index, villages[index % len(villages)], units, clocks, staff))
            if len(batch) == SAVE_CASES:
                app.save(*batch)
                batch = []
        if batch:
            app.save(*batch)
        views = build_views(settings, app)
        try:
            started = time.perf_counter()
            views.runners["ledger"].catch_up()
            seconds = time.perf_counter() - started
        finally:
            views.close()
        return app.recorder.max_notification_id() or 0, seconds
    finally:
        app.close()


def _mediators(villages: list[str]) -> Directory:
    """A directory (in memory) with each village's mediator, whom its cases are assigned to."""
    from api.wiring.bootstrap import OPERATOR
    from domain.actors import Role
    from domain.directory import Directory, StaffMember

    staff = Directory.create(T0)
    people = [StaffMember(f"mediator-{v}", "调解员", v, (Role.MEDIATOR,)) for v in villages]
    staff.enrol(OPERATOR, people, T0)
    return staff


def _case(index: int, village: str, units: Jurisdiction, clocks: Clocks, staff: Directory) -> Case:
    """Case ``index``, registered in ``village`` and taken along one of four paths."""
    from domain.actors import Actor, Role
    from domain.case import Registration
    from domain.case.commands import (
        AssignCase,
        CloseCase,
        Context,
        RateCase,
        RecordFollowUp,
        RecordMediationSession,
        ResolveCase,
        SignCase,
        TerminateCase,
    )
    from domain.dispute import Dispute
    from domain.parties import Party
    from domain.status import AgreementForm, Channel, Grade, PartyRole

    at = T0 + index * SPACING
    reporter = Actor(f"grid-{village}", Role.REPORTER, village)
    mediator = Actor(f"mediator-{village}", Role.MEDIATOR, village)
    parties = (
        Party(f"张{index}", PartyRole.APPLICANT, phone=f"139{index % 10**8:08d}"),
        Party(f"李{index}", PartyRole.RESPONDENT),
    )
    details = Registration(
        "邻里纠纷", "两户因排水沟堵塞发生争执", village, Channel.GRID_PATROL,
        parties=parties, amount_involved=Decimal(index % 5000) + Decimal("0.50"),
    )  # fmt: skip
    case_id = uuid5(NAMESPACE_URL, f"https://fengqiao.example/bench-ledger/{index}")
    number = f"（2026）犍调字第{index + 1:06d}号"
    case = Dispute.register(case_id, reporter, at, units, clocks, details, number)
    path = index % 4
    steps: list[tuple[CaseCommand, Actor]] = []
    if path == 1:
        steps = [(SignCase(), mediator), (AssignCase(mediator.user), _supervisor())]
    elif path == 2:
        steps = [
            (SignCase(), mediator),
            (RecordMediationSession(at + timedelta(minutes=2), "双方到场", ["张", "李"]), mediator),
            (ResolveCase("疏通排水沟并赔偿", AgreementForm.ORAL), mediator),
            (RecordFollowUp(satisfied=True, agreement_honoured=True), mediator),
            (CloseCase(), mediator),
            (RateCase(Grade.SATISFIED), reporter),
        ]
    elif path == 3:
        steps = [(SignCase(), mediator), (TerminateCase("一方拒绝调解"), mediator)]
    for step, (command, actor) in enumerate(steps, start=1):
        when = at + timedelta(minutes=2 + step)
        command.run(case, Context(actor, when, lambda *_: units, lambda: clocks, lambda: staff))
    return case


def _supervisor() -> Actor:
    from domain.actors import Actor, Role

    return Actor("supervisor-bench", Role.SUPERVISOR, COUNTY)


def _ledger_in_this_process(data: Path, out: Path, form: str) -> dict[str, float]:
    """What the child process does: ready everything a ledger export needs, note the memory,
    run ``fengqiao ledger`` and note the time and the memory's high-water mark."""
    for module in LEDGER_IMPORTS:  # what an export imports, in place before the start
        importlib.import_module(module)
    from api.cli.main import main
    from api.wiring.bootstrap import build_application
    from api.wiring.settings import Settings
    from api.wiring.views import build_views

    settings = Settings.from_env(environ(data))
    app = build_application(settings)  # opens the store once: its modules, its cipher
    build_views(settings, app).close()
    app.close()
    start_kib, _ = memory_kib()
    started = time.perf_counter()
    args = ["ledger", COUNTY, "--from", "2026-01-01", "--to", "2026-12-31"]
    status = main([*args, "--format", form, "--out", str(out)], environ=environ(data))
    seconds = time.perf_counter() - started
    _, peak_kib = memory_kib()
    return {"status": status, "seconds": seconds, "start_kib": start_kib, "peak_kib": peak_kib}


def _child(*args: str) -> str:
    return run_module("benchmarks.ledger", *args)


def generate_in_child(data: Path, cases: int) -> tuple[int, float]:
    events, seconds = json.loads(_child("--child-generate", str(data), str(cases)))
    return int(events), float(seconds)


def ledger_in_child(data: Path, out: Path, form: str) -> ExportRun:
    figures = json.loads(_child("--child-ledger", str(data), str(out), form))
    return ExportRun(
        int(figures["status"]),
        float(figures["seconds"]),
        int(figures["start_kib"]),
        int(figures["peak_kib"]),
    )


def count_rows(path: Path, form: str) -> int:
    """The data rows of the file as a reader finds them: openpyxl (read-only) for a workbook,
    the csv module for CSV."""
    if form == "csv":
        with path.open(encoding="utf-8-sig", newline="") as text:
            return sum(1 for _ in csv.reader(text)) - 1
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        return sum(1 for _ in workbook["台账"].iter_rows(values_only=True)) - 1
    finally:
        workbook.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--format", choices=("xlsx", "csv", "both"), default="xlsx")
    parser.add_argument("--child-generate", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--child-ledger", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_generate:
        print(json.dumps(generate(Path(args.child_generate[0]), int(args.child_generate[1]))))
        return
    if args.child_ledger:
        data, out, form = args.child_ledger
        print(json.dumps(_ledger_in_this_process(Path(data), Path(out), form)))
        return
    run(args.cases, ("xlsx", "csv") if args.format == "both" else (args.format,))


def run(cases: int, forms: tuple[str, ...]) -> None:
    console = Console()
    workdir = Path(tempfile.mkdtemp(prefix="fq-ledger-bench-"))
    data = workdir / "data"
    with console.status(f"generating {cases:,} cases (and the ledger view)"):
        started = time.perf_counter()
        events, view_seconds = generate_in_child(data, cases)
        generated = time.perf_counter() - started
    store_mib = sum(p.stat().st_size for p in data.iterdir()) / MIB
    table = Table(
        title=f"fengqiao ledger: SQLite, {cases:,} cases, {events:,} events ({store_mib:,.0f} MiB)"
    )
    for column in ("measure", *forms):
        table.add_column(column, justify="left" if column == "measure" else "right")
    rows: dict[str, list[str]] = {}
    for form in forms:
        out = workdir / f"ledger.{form}"
        with console.status(f"exporting ({form}) in a fresh process"):
            export = ledger_in_child(data, out, form)
        if export.status != 0:
            raise RuntimeError(f"fengqiao ledger exited {export.status}")
        with console.status(f"reading ({form}) back"):
            found = count_rows(out, form)
        if found != cases:
            raise RuntimeError(f"the {form} file holds {found:,} rows, not {cases:,}")
        cells = {
            "rows (read back)": f"{found:,}",
            "export time": f"{export.seconds:,.1f} s",
            "export rate": f"{found / export.seconds:,.0f} rows/s",
            "file size": f"{out.stat().st_size / MIB:,.1f} MiB",
            "process memory at start (RSS)": f"{export.start_kib / 1024:,.1f} MiB",
            "process peak memory (VmHWM)": f"{export.peak_kib / 1024:,.1f} MiB",
            "peak − start": f"{export.growth_mib:,.1f} MiB",
        }
        for measure, cell in cells.items():
            rows.setdefault(measure, []).append(cell)
        out.unlink()
    for measure, cells_of_forms in rows.items():
        table.add_row(measure, *cells_of_forms)
    console.print(table)
    console.print(
        f"store generated in {generated:,.1f} s; the ledger view applied {events:,} events in "
        f"{view_seconds:,.1f} s ({events / view_seconds:,.0f} events/s)"
    )
    shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
