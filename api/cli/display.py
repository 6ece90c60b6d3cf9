"""How the command line writes units and times for the people who read it.

A unit is written as its code and its name (``511123 犍为县``): a county's staff know their units
by name, and a bare code sends them to a lookup table. A time is written in Beijing time and says
so (``2026-12-01 18:30 (北京时间)``, or a column headed 北京时间): the store keeps UTC, and an
unlabelled time invites reading it as the wrong one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta

from rich.cells import cell_len

from domain.calendar import SHANGHAI
from domain.jurisdiction import Jurisdiction

BEIJING = "北京时间"


def unit_label(units: Jurisdiction, code: str) -> str:
    """``code name``; the code alone for a unit the tree does not hold (a case from an old
    jurisdiction must still print)."""
    unit = units.units.get(code)
    return f"{code} {unit.name}" if unit is not None else code


def beijing(moment: datetime) -> str:
    """``2026-12-01 18:30``, in Beijing time; for a column whose header names the zone."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def labelled(moment: datetime) -> str:
    """``2026-12-01 18:30 (北京时间)``: a time standing alone says which clock it is on."""
    return f"{beijing(moment)} ({BEIJING})"


def period(start: datetime, end: datetime) -> str:
    """``[start, end)`` as a reader says it: ``2026-11-02 to 2026-12-01 (北京时间, whole days)``
    when both bounds are midnights in Beijing, else both times."""
    first, after = start.astimezone(SHANGHAI), end.astimezone(SHANGHAI)
    if first.time() == after.time() == time(0):
        last = (after - timedelta(days=1)).date()
        return f"{first.date().isoformat()} to {last.isoformat()} ({BEIJING}, whole days)"
    return f"{beijing(start)} to {beijing(end)} ({BEIJING})"


def headed(column: str) -> str:
    """A column of times: ``due (北京时间)``."""
    return f"{column} ({BEIJING})"


def duration(seconds: int) -> str:
    """``2d3h`` or ``-4h05m`` (negative: that long past due)."""
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds >= 86400:
        return f"{sign}{seconds // 86400}d{seconds % 86400 // 3600}h"
    return f"{sign}{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def aligned(texts: Sequence[str]) -> list[str]:
    """``texts`` padded to one width in terminal cells: a Chinese character takes two, so
    ``str.ljust`` would misalign a column of unit names."""
    width = max((cell_len(text) for text in texts), default=0)
    return [text + " " * (width - cell_len(text)) for text in texts]
