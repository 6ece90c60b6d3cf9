"""Rich output for the command line: a progress bar while working, tables when done.

Kept apart from the commands so that they stay about what they do, and so that rich is only
imported by commands that print with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from rich.columns import Columns
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from api.demo.load import DemoReport
from domain.levels import Level, Tier
from domain.status import Status

LEVEL_ORDER = (Level.RED, Level.ORANGE, Level.YELLOW)
TIER_ORDER = (Tier.COUNTY, Tier.TOWNSHIP, Tier.VILLAGE)


@contextmanager
def progress_bar(console: Console, total: int, label: str) -> Iterator[Callable[[], None]]:
    """A progress bar for ``total`` items; yields the function that moves it one step."""
    columns = (
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(label, total=total)
        yield lambda: progress.advance(task)


def print_demo_summary(console: Console, report: DemoReport, store: str) -> None:
    """The demo's cases by status, level and owning tier, then what the run cost."""
    if report.requested:
        console.print(
            Columns(
                [
                    _counts("cases by status", report.statuses, [s.value for s in Status]),
                    _counts("cases by level", report.levels, [v.value for v in LEVEL_ORDER]),
                    _counts("cases by owning tier", report.tiers, [t.value for t in TIER_ORDER]),
                ]
            )
        )
    console.print(_facts(report, store))
    if report.errors:
        console.print(_errors(report))


def _counts(title: str, counts: dict[str, int], order: Sequence[str]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(title.removeprefix("cases by "))
    table.add_column("cases", justify="right")
    table.add_column("share", justify="right")
    total = sum(counts.values()) or 1
    for key in order:
        if counts.get(key):
            table.add_row(key, str(counts[key]), f"{counts[key] / total:.0%}")
    return table


def _facts(report: DemoReport, store: str) -> Table:
    table = Table(title="demo run", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    rows = (
        ("store", store),
        ("sample units added", str(report.units_added)),
        ("sample staff enrolled", str(report.staff_added)),
        ("cases asked for", str(report.requested)),
        ("cases created", str(report.created)),
        ("cases already present", str(report.existing)),
        ("events written", str(report.events)),
        ("seconds", f"{report.seconds:.1f}"),
        ("events/s", f"{report.events_per_second:.0f}"),
        ("domain errors", str(sum(report.errors.values()))),
    )
    for row in rows:
        table.add_row(*row)
    return table


def _errors(report: DemoReport) -> Table:
    table = Table(title="domain errors (each ended its case's story)", title_justify="left")
    table.add_column("command: error")
    table.add_column("count", justify="right")
    table.add_column("first message")
    for key, count in report.errors.most_common():
        table.add_row(key, str(count), report.first_errors[key])
    return table
