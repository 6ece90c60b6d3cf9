"""Arguments argparse cannot judge alone: a unit code the jurisdiction must hold, a period whose
ends come in order, a time in range.

Each refusal is one line on stderr and exit status 2, as argparse's own usage errors are, so a
script can tell a mistyped argument (2) from a failure (1). Without them a mistyped code or
swapped dates printed an empty queue or zero statistics, which read as an answer.
"""

from __future__ import annotations

import sys
from datetime import date, datetime, timedelta

from domain.calendar import SHANGHAI
from domain.errors import InvalidInputError
from domain.jurisdiction import Jurisdiction

USAGE = 2  # the exit status of a refused argument, as argparse's
DEFAULT_DAYS = 30  # ``stats`` without --from: the last 30 days up to --to


class BadArgumentError(Exception):
    """An argument refused; the message names it and says why."""


def refuse(error: BadArgumentError) -> int:
    """Prints the refusal (``fengqiao: …`` on stderr) and returns the exit status."""
    print(f"fengqiao: {error}", file=sys.stderr)
    return USAGE


def require_unit(units: Jurisdiction, code: str, argument: str = "UNIT") -> None:
    """``code`` names a unit of the tree; an empty tree says how to load one."""
    if code in units:
        return
    hint = "" if units.units else " (none is loaded: `fengqiao demo --cases 0` loads the sample)"
    raise BadArgumentError(f"{argument}: no unit has code {code!r}{hint}")


def day_period(start: date | None, end: date | None, now: datetime) -> tuple[datetime, datetime]:
    """Whole days in Beijing time, ``[start 00:00, the day after end 00:00)`` in UTC; by default
    the last ``DEFAULT_DAYS`` days up to today. Refused: ``--from`` after ``--to``, and what the
    API's statistics refuse (before 2000, years ahead, longer than 20 years)."""
    from api.http.routes.reads import stats_period

    last = end or now.astimezone(SHANGHAI).date()
    first = start or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        to = last.isoformat() if end is not None else f"{last.isoformat()} (today)"
        raise BadArgumentError(f"the period is reversed: --from {first} is after --to {to}")
    try:
        return stats_period(first.isoformat(), last.isoformat(), now)
    except InvalidInputError as error:
        raise BadArgumentError(f"--{error.field}: {error.reason}") from None


def require_order(start: datetime, end: datetime, first: str, last: str) -> None:
    """``[start, end)`` from ``--from first`` and ``--to last`` must hold some time."""
    if start >= end:
        order = f"--from {first} is not before --to {last}"
        raise BadArgumentError(f"the period is empty or reversed: {order}")


def moment(text: str | None, argument: str, default: datetime) -> datetime:
    """An ISO date (its start, Beijing time) or a date-time with its offset; ``default`` when
    absent."""
    from api.http.routes.reads import parse_bound

    try:
        return parse_bound(text, argument, default, end=False)
    except InvalidInputError as error:
        raise BadArgumentError(f"--{error.field}: {error.reason}") from None
