"""Queues, statistics and the jurisdiction tree, as the caller may see them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import anyio.to_thread
from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.params import Parameter

from api.http.openapi import BOUND, READ_ERRORS, answers, contract
from api.http.permissions import require_known_unit, require_unit
from api.http.presenters import queue_item_out, unit_out
from api.http.runtime import Runtime
from api.http.schemas import (
    MAX_OFFSET,
    ChildFiguresOut,
    QueueOut,
    SeriesPointOut,
    StatisticsOut,
    UnitOut,
)
from domain.actors import Actor
from domain.calendar import SHANGHAI, start_of_day
from domain.errors import InvalidInputError
from projections.queue import get_queue
from projections.stats_queries import (
    SeriesPoint,
    Statistics,
    get_children,
    get_series,
    get_statistics,
)

Req = Request[Any, Any, Any]


def require_known(runtime: Runtime, code: str) -> None:
    """A unit in the path that does not exist is a missing resource (404)."""
    if code not in runtime.app.units() and code not in runtime.app.units(refresh=True):
        raise NotFoundException(f"unit {code} not found")


@get(
    "/queues/{unit:str}",
    responses=answers(200, QueueOut, "The unit's escalation queue.", READ_ERRORS),
    operation_class=contract(),
)
async def get_unit_queue(
    unit: str,
    request: Req,
    runtime: Runtime,
    limit: Annotated[int, Parameter(ge=1, le=1000)] = 200,
    offset: Annotated[int, Parameter(ge=0, le=MAX_OFFSET)] = 0,
) -> QueueOut:
    actor: Actor = request.user
    require_known(runtime, unit)
    require_unit(actor, runtime.app.units(), unit)

    def work() -> QueueOut:
        now = runtime.clock()
        items = get_queue(runtime.views.cases, unit, now, limit, offset)
        return QueueOut(unit=unit, now=now, items=[queue_item_out(i) for i in items])

    return await anyio.to_thread.run_sync(work)


MAX_PERIOD = timedelta(days=366 * 20)  # longer is a mistake, or a series of thousands of weeks
# Statistics cover 2000-01-01 (Shanghai) to a few years past now: nothing the system holds lies
# outside, and dates near year 1 or 9999 overflow the bucket and time arithmetic (a 500).
FIRST_DAY = date(2000, 1, 1)
EARLIEST = start_of_day(FIRST_DAY).astimezone(UTC)
MAX_AHEAD = timedelta(days=366 * 5)
DEFAULT_PERIOD = timedelta(days=30)


def parse_bound(text: str | None, field: str, default: datetime, end: bool) -> datetime:
    """An ISO date (a whole day in Shanghai; ``to`` includes it) or a date-time with offset."""
    if text is None:
        return default
    try:
        if len(text) == 10:
            day = date.fromisoformat(text) + (timedelta(days=1) if end else timedelta(0))
            return start_of_day(day).astimezone(UTC)
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            raise InvalidInputError(
                field, "a date-time needs its offset, like 2026-11-01T00:00:00+08:00"
            )
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):  # not a date, or one at the very edge of the calendar
        raise InvalidInputError(
            field, f"{text!r} is not an ISO 8601 date or date-time in range"
        ) from None


def stats_period(start: str | None, end: str | None, now: datetime) -> tuple[datetime, datetime]:
    """The period ``[from, to)`` of a statistics request: each bound inside ``EARLIEST`` to
    ``now + MAX_AHEAD``, ``from`` before ``to``, at most ``MAX_PERIOD`` long."""
    latest = now + MAX_AHEAD
    finish = _within(parse_bound(end, "to", now, end=True), "to", latest)
    default = max(finish - DEFAULT_PERIOD, EARLIEST)
    begin = _within(parse_bound(start, "from", default, end=False), "from", latest)
    if begin >= finish:  # ``to`` is a whole day: to=from is one day, to<from is nothing
        raise InvalidInputError("from", "must be earlier than to")
    if finish - begin > MAX_PERIOD:
        raise InvalidInputError("from", "a period may span at most 20 years")
    return begin, finish


def _within(moment: datetime, field: str, latest: datetime) -> datetime:
    if not EARLIEST <= moment <= latest:
        raise InvalidInputError(
            field,
            f"must lie between {FIRST_DAY.isoformat()} and "
            f"{latest.astimezone(SHANGHAI).date().isoformat()}",
        )
    return moment


@get(
    "/stats/{unit:str}",
    responses=answers(200, StatisticsOut, "The unit's statistics for the period.", READ_ERRORS),
    operation_class=contract(),
)
async def get_unit_statistics(
    unit: str,
    request: Req,
    runtime: Runtime,
    start: Annotated[str | None, Parameter(query="from", schema_extra=BOUND)] = None,
    end: Annotated[str | None, Parameter(query="to", schema_extra=BOUND)] = None,
    bucket: Annotated[str, Parameter(pattern="^(week|month)$")] = "week",
) -> StatisticsOut:
    actor: Actor = request.user
    require_known(runtime, unit)
    require_unit(actor, runtime.app.units(), unit)
    now = runtime.clock()
    begin, finish = stats_period(start, end, now)

    def work() -> StatisticsOut:
        runtime.current("statistics")
        view = runtime.views.statistics
        return statistics_out(
            unit,
            (begin, finish),
            get_statistics(view, unit, begin, finish, now),
            get_children(view, unit, begin, finish, now),
            get_series(view, unit, begin, finish, bucket),
        )

    return await anyio.to_thread.run_sync(work)


def statistics_out(
    unit: str,
    period: tuple[datetime, datetime],
    totals: Statistics,
    children: Iterable[tuple[str, Statistics]],
    series: Iterable[SeriesPoint],
) -> StatisticsOut:
    """The statistics answer, built by name from the view's figures: a figure added there and
    not to ``StatisticsOut`` (and so to the OpenAPI document) fails loudly, never goes unsaid."""
    return StatisticsOut(
        unit=unit,
        start=period[0],
        end=period[1],
        children=[ChildFiguresOut(unit=code, **asdict(figures)) for code, figures in children],
        series=[SeriesPointOut(**asdict(point)) for point in series],
        **asdict(totals),
    )


@get(
    "/units",
    responses=answers(200, list[UnitOut], "The caller's unit and its subtree.", (401, 403, 503)),
    operation_class=contract(),
)
async def list_units(request: Req, runtime: Runtime) -> list[UnitOut]:
    actor: Actor = request.user
    units = runtime.app.units()
    require_known_unit(actor, units)
    return [unit_out(u, units) for u in units.subtree(actor.unit)]


@get(
    "/units/{code:str}",
    responses=answers(200, UnitOut, "The unit.", (401, 403, 404, 503)),
    operation_class=contract(),
)
async def get_unit(code: str, request: Req, runtime: Runtime) -> UnitOut:
    actor: Actor = request.user
    require_known(runtime, code)
    units = runtime.app.units()
    require_unit(actor, units, code)
    return unit_out(units.get(code), units)


HANDLERS = [get_unit_queue, get_unit_statistics, list_units, get_unit]
