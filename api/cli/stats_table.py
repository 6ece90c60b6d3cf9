"""Statistics as rich tables for the command line: units by code and name, the period in
Beijing time, as ``fengqiao stats`` prints them."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from api.cli.display import period, unit_label
from domain.jurisdiction import Jurisdiction
from projections.statistics import Statistics

_ROLL_UP = ("registered", "resolved", "local_resolution_rate", "escalation_rate", "county_share",
            "on_time_rate", "overdue_open")  # fmt: skip


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1%}" if value <= 1 else f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def statistics_tables(
    units: Jurisdiction,
    unit: str,
    start: datetime,
    end: datetime,
    totals: Statistics,
    children: list[tuple[str, Statistics]],
) -> list[RenderableType]:
    """A heading naming the unit and period (a line of its own: as a table's title it would
    wrap to the table's width), the unit's figures, its breakdowns, and one roll-up row per
    child unit."""
    figures = asdict(totals)
    heading = Text(f"statistics of {unit_label(units, unit)}, {period(start, end)}", style="bold")
    main = Table(title="figures")
    main.add_column("measure")
    main.add_column("value", justify="right")
    breakdowns = Table(title="registered by")
    for column in ("breakdown", "key", "count"):
        breakdowns.add_column(column)
    for name, value in figures.items():
        if isinstance(value, dict):
            for key, count in sorted(value.items()):
                breakdowns.add_row(name, Text(str(key)), _cell(count))  # users' words
        elif not isinstance(value, list):
            main.add_row(name, _cell(value))
    roll_up = Table(title=Text(f"children of {unit_label(units, unit)}"))
    roll_up.add_column("unit")
    for name in _ROLL_UP:
        roll_up.add_column(name, justify="right")
    for code, child in children:
        row = asdict(child)
        label = Text(unit_label(units, code))
        roll_up.add_row(label, *(_cell(row.get(name)) for name in _ROLL_UP))
    return [heading, main, breakdowns, roll_up]
