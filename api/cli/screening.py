"""``fengqiao screening completion`` and ``fengqiao screening missing``: 排查 as a township or
county reads it on the dashboard, from a terminal.

``completion`` prints the unit's villages × the last periods (已报 with the clues found, 零报告,
补报 for 逾期补报, 未报, 待报, 不适用), and a line with the current period's due time in Beijing
time and its on-time share; ``missing`` prints the township's queue of missing
reports. Both read the screening view brought up to the log's head, counted as the API counts
(``projections.screening``), so the terminal and the dashboard agree.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime

    from rich.table import Table

    from api.wiring.settings import Settings
    from domain.jurisdiction import Jurisdiction
    from projections.screening import Grid, ReportRow, Statistics

MAX_PERIODS = 24  # as GET /screening/completion
# a cell's words and colour, as the dashboard's grid shows them
CELLS = {
    "filed": ("已报", "bold green"),
    "zero": ("零报告", "dark_sea_green4"),
    "late": ("补报", "dark_orange"),  # 逾期补报, short: six periods fit 80 columns
    "missed": ("未报", "bold red"),
    "pending": ("待报", "dim"),
    "not_owed": ("不适用", "dim"),
}


def add_commands(commands: Any) -> None:
    screening = commands.add_parser("screening", help="排查: villages' screening reports")
    actions = screening.add_subparsers(title="commands", metavar="COMMAND", required=True)
    completion = actions.add_parser(
        "completion",
        help="print a unit's villages × the last periods: filed, 零报告, late, missed, pending",
        description="Each village under UNIT (a township or county) for the last N periods, "
        "and the current period's due time (北京时间) and on-time share.",
    )
    completion.add_argument("--unit", required=True, metavar="CODE", help="e.g. 511123001")
    completion.add_argument(
        "--periods", type=_periods, default=6, metavar="N", help="default %(default)s, at most 24"
    )
    completion.set_defaults(handler=_completion)
    missing = actions.add_parser(
        "missing",
        help="print the missing reports under a unit",
        description="The villages under UNIT the scheduler marked missed at a period's due time "
        "and that have filed nothing since, latest period first.",
    )
    missing.add_argument("--unit", required=True, metavar="CODE", help="e.g. 511123001")
    missing.set_defaults(handler=_missing)


def _periods(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= MAX_PERIODS:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_PERIODS}")
    return value


def _completion(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime

    from rich.console import Console

    from api.cli.checks import BadArgumentError, refuse, require_unit
    from api.wiring.bootstrap import build_application
    from api.wiring.views import build_views
    from projections.screening import completion, statistics

    now = datetime.now(UTC)
    app = build_application(settings)
    views = build_views(settings, app)
    try:
        units = app.units()
        try:
            require_unit(units, args.unit, "--unit")
        except BadArgumentError as error:
            return refuse(error)
        views.catch_up()
        rules = app.policy.screening
        periods = [rules.period_of(now)]
        while len(periods) < args.periods:
            periods.append(periods[-1].previous())
        since = app.screening_since()
        grid = completion(views.screening, units, args.unit, periods, now, rules.due_at, since)
        numbers = statistics(
            views.screening, units, args.unit, periods[0], now, rules.due_at, since
        )
    finally:
        views.close()
        app.close()
    console = Console()
    console.print(_grid_table(units, grid, now))
    console.print(_summary(numbers))
    return 0


def _grid_table(units: Jurisdiction, grid: Grid, now: datetime) -> Table:
    from rich import box
    from rich.table import Table

    from api.cli.display import labelled, unit_label

    # no inner rules: six periods and the village's name fit an 80-column terminal
    table = Table(title=f"排查 {unit_label(units, grid.unit)} · {labelled(now)}", box=box.SIMPLE)
    table.add_column("village", no_wrap=True)
    for period in grid.periods:
        table.add_column(period, justify="center", no_wrap=True)
    for row in grid.rows:
        cells = []
        for cell in row.cells:
            words, style = CELLS.get(cell.state, (cell.state, ""))
            if cell.state == "filed" or (cell.state == "late" and not cell.zero):
                words = f"{words} {cell.clues}"
            elif cell.state == "late":
                words = f"{words} 零"
            cells.append(f"[{style}]{words}[/]" if style else words)
        table.add_row(row.name, *cells)
    if not grid.rows:
        table.caption = "no villages under this unit"
    return table


def _due(text: str) -> str:
    """``2026-12-26 00:00`` (the instant after the due day) as ``12-25 24:00``."""
    from datetime import date, timedelta

    day, clock = text.split(" ")
    if clock != "00:00":
        return text[5:]
    before = date.fromisoformat(day) - timedelta(days=1)
    return f"{before.isoformat()[5:]} 24:00"


def _summary(numbers: Statistics) -> str:
    from api.cli.display import BEIJING, beijing

    share = "—" if numbers.on_time_share is None else f"{numbers.on_time_share * 100:.1f}%"
    return (
        f"本期 {numbers.period}: due {_due(beijing(numbers.due_at))} ({BEIJING}) · "
        f"on time {numbers.on_time}/{numbers.villages} ({share}) · late {numbers.late} · "
        f"missing {numbers.missing} · pending {numbers.pending} · 零报告 {numbers.zero} · "
        f"clues {numbers.clues}\n"
        "(已报 N: filed on time with N clues · 零报告: nothing found · 补报 N / 补报 零: "
        "逾期补报, filed late · 未报: nothing filed when due · 待报: not yet due · 不适用: "
        "begun before screening was)"
    )


def _missing(args: argparse.Namespace, settings: Settings) -> int:
    from rich.console import Console

    from api.cli.checks import BadArgumentError, refuse, require_unit
    from api.wiring.bootstrap import build_application
    from api.wiring.views import build_views
    from projections.screening import missed_under

    app = build_application(settings)
    views = build_views(settings, app)
    try:
        units = app.units()
        try:
            require_unit(units, args.unit, "--unit")
        except BadArgumentError as error:
            return refuse(error)
        views.catch_up()
        rows = missed_under(views.screening, args.unit)
    finally:
        views.close()
        app.close()
    Console().print(_missing_table(units, args.unit, rows))
    return 0


def _missing_table(units: Jurisdiction, unit: str, rows: list[ReportRow]) -> Table:
    from rich.table import Table

    from api.cli.display import beijing, headed, unit_label

    table = Table(title=f"排查 未报 {unit_label(units, unit)}")
    for column in ("village", "township", "period", headed("due"), headed("marked missed")):
        table.add_column(column)
    for row in rows:
        table.add_row(
            unit_label(units, row.village),
            unit_label(units, row.township),
            row.period,
            _due(beijing(row.due_at)),
            beijing(row.missed_at) if row.missed_at else "",
        )
    if not rows:
        table.caption = "no missing reports"
    return table
