"""Bounds on what a command may carry: times in a sane range, lists of a sane length.

Why here, in the domain: an event is stored for ever and every view replays it. A time the views
cannot convert (``9999-12-31T23:59:59-14:00`` is past the end of ``datetime`` once in UTC) was
once accepted, stored, and then stopped every read model; 10,000 triggers would be stored as
faithfully. The case refuses such values itself, whoever sends the command (HTTP, the command
line, the demo, the scheduler). The HTTP schemas repeat the list lengths so clients can read them
in the OpenAPI document, but the rule is this module's.

Each refusal names its rule and limits (``InvalidInputError.rule``) so that the API can tell it
in the caller's language. These are named constants, not policy fields: a policy version's
rules are stored in the policy book, and adding a field would make every stored version differ
from the code's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from domain.errors import InvalidInputError

# No case in this system happened, or was decided, before this.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
# The time a command is decided at (its ``at``) comes from a clock; one past this is broken.
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
# How far ahead of the command's own time a deadline may be set.
YEARS_AHEAD = 5
MAX_AHEAD = timedelta(days=365 * YEARS_AHEAD + 2)  # leap days included
# How far ahead of the command's time a past event (when it occurred) may claim to be: clients'
# clocks drift a little.
CLOCK_SKEW = timedelta(minutes=5)
# How much an extension may add to the deadline it extends: three times the policy's default
# mediation limit (30 days); a longer wait is better handled by pausing the case.
MAX_EXTENSION = timedelta(days=90)
# List lengths (parties are capped in ``domain.parties``).
MAX_TRIGGERS = 20
MAX_ATTENDEES = 50

T = TypeVar("T")


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _aware(field: str, value: datetime) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidInputError(field, "must be a date and time with a time zone", "aware_time")
    return value


def _not_before_earliest(field: str, value: datetime) -> None:
    # Comparing aware datetimes never converts them, so even year 1 or 9999 compares safely.
    if value < EARLIEST:
        raise InvalidInputError(
            field, f"must not be before {_iso(EARLIEST)}", "not_before", {"earliest": EARLIEST}
        )


def decision_time(at: datetime) -> datetime:
    """The time a command is decided at (``at``): between 2000 and 2100 UTC."""
    _aware("at", at)
    _not_before_earliest("at", at)
    if at >= LATEST:
        raise InvalidInputError(
            "at", f"must be before {_iso(LATEST)}", "before", {"latest": LATEST}
        )
    return at


def in_the_past(
    field: str, value: datetime, at: datetime, skew: timedelta = CLOCK_SKEW
) -> datetime:
    """A time something happened (``occurred_at``, ``held_at``): from 2000 to the command's
    time, give or take ``skew`` for a client's clock."""
    decision_time(at)
    _aware(field, value)
    _not_before_earliest(field, value)
    if value > at + skew:
        slack = f" (give or take {_minutes(skew)})" if skew else ""
        raise InvalidInputError(
            field,
            f"must not be later than now, {_iso(at)}{slack}",
            "not_future",
            {"now": at, "skew_minutes": int(skew.total_seconds() // 60)},
        )
    return value


def ahead(field: str, value: datetime, at: datetime) -> datetime:
    """A time something is due (an extension's ``until``): from 2000 to ``YEARS_AHEAD`` years
    after the command's time."""
    decision_time(at)
    _aware(field, value)
    _not_before_earliest(field, value)
    latest = at + MAX_AHEAD
    if value > latest:
        raise InvalidInputError(
            field,
            f"must be at most {YEARS_AHEAD} years ahead, not after {_iso(latest)}",
            "years_ahead",
            {"years": YEARS_AHEAD, "latest": latest},
        )
    return value


def future(field: str, value: datetime, at: datetime) -> datetime:
    """A time something is due that a person sets (a review date, an answer's due time):
    within ``ahead``'s bounds, and later than now."""
    ahead(field, value, at)
    if value <= at:
        raise InvalidInputError(
            field, f"must be later than now ({_iso(at)})", "after_now", {"now": at}
        )
    return value


def extension(field: str, until: datetime, due_at: datetime) -> datetime:
    """A new due time: later than the current one, by at most ``MAX_EXTENSION``."""
    if until <= due_at:
        raise InvalidInputError(
            field,
            f"must be later than the current {_iso(due_at)}",
            "later_than",
            {"current": due_at},
        )
    longest = due_at + MAX_EXTENSION
    if until > longest:
        raise InvalidInputError(
            field,
            f"may extend by at most {MAX_EXTENSION.days} days, to {_iso(longest)}; "
            "pause the case for a longer wait",
            "extension",
            {"days": MAX_EXTENSION.days, "latest": longest},
        )
    return until


def at_most(field: str, items: Sequence[T], limit: int) -> Sequence[T]:
    """A list of at most ``limit`` items."""
    if len(items) > limit:
        raise InvalidInputError(
            field,
            f"must have at most {limit} items, not {len(items)}",
            "max_items",
            {"limit": limit, "count": len(items)},
        )
    return items


def _minutes(span: timedelta) -> str:
    return f"{int(span.total_seconds() // 60)} minutes"


def non_negative_amount(field: str, value: Decimal | None) -> Decimal | None:
    """An amount in 元: finite and not negative (a registration's, an agreement's, an
    assessment's correction)."""
    if value is not None and (not value.is_finite() or value < 0):
        raise InvalidInputError(field, "must be a non-negative amount")
    return value
