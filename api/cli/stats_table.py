"""Statistics as rich tables for the command line."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from rich.table import Table

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
    unit: str,
    start: datetime,
    end: datetime,
    totals: Statistics,
    children: list[tuple[str, Statistics]],
) -> list[Table]:
    """The unit's figures, its breakdowns, and one roll-up row per child unit."""
    figures = asdict(totals)
    main = Table(title=f"statistics {unit}  [{start:%Y-%m-%d %H:%M}, {end:%Y-%m-%d %H:%M}) UTC")
    main.add_column("measure")
    main.add_column("value", justify="right")
    breakdowns = Table(title="registered by")
    for column in ("breakdown", "key", "count"):
        breakdowns.add_column(column)
    for name, value in figures.items():
        if isinstance(value, dict):
            for key, count in sorted(value.items()):
                breakdowns.add_row(name, str(key), _cell(count))
        elif not isinstance(value, list):
            main.add_row(name, _cell(value))
    roll_up = Table(title="children")
    roll_up.add_column("unit")
    for name in _ROLL_UP:
        roll_up.add_column(name, justify="right")
    for code, child in children:
        row = asdict(child)
        roll_up.add_row(code, *(_cell(row.get(name)) for name in _ROLL_UP))
    return [main, breakdowns, roll_up]
