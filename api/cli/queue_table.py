"""The escalation queue as a rich table for the command line.

Each case is shown by its number (一案一码, what people say on the phone) with its id beneath
(what the API and the audit file use), its owner by code and name, and its deadline in Beijing
time. What came from users (summaries) is printed as text, never read as rich markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.table import Table
from rich.text import Text

from api.cli.display import beijing, duration, headed, labelled, unit_label
from domain.jurisdiction import Jurisdiction
from projections.queue import QueueItem

LEVEL_STYLES = {"red": "red", "orange": "dark_orange", "yellow": "yellow"}
SUMMARY_CHARACTERS = 40  # a longer summary is cut: the case page has all of it
UNNUMBERED = "(no number yet)"  # a case from before numbering, until ``serve`` numbers it


def queue_table(units: Jurisdiction, unit: str, at: datetime, items: Sequence[QueueItem]) -> Table:
    """Red → orange → yellow, then nearest deadline, as ``get_queue`` ordered them; overdue
    rows in bold red, "due in" negative for how long past due as of ``at``."""
    title = f"escalation queue {unit_label(units, unit)}: {len(items)} shown, at {labelled(at)}"
    table = Table(title=Text(title))
    table.add_column("case", no_wrap=True)
    table.add_column("level")
    table.add_column("owner")
    table.add_column("status")
    table.add_column(headed("due"), no_wrap=True)
    table.add_column("due in", justify="right", no_wrap=True)
    table.add_column("summary")
    for item in items:
        case = Text(item.number or UNNUMBERED)
        case.append(f"\n{item.id}", style="dim")
        table.add_row(
            case,
            Text(item.level, style=LEVEL_STYLES.get(item.level, "")),
            Text(unit_label(units, item.owner)),
            item.status,
            beijing(item.due_at) if item.due_at else "-",
            duration(item.seconds_to_breach) if item.seconds_to_breach is not None else "-",
            Text(_cut(item.summary)),
            style="bold red" if item.overdue else None,
        )
    return table


def _cut(text: str) -> str:
    return text if len(text) <= SUMMARY_CHARACTERS else text[: SUMMARY_CHARACTERS - 1] + "…"
