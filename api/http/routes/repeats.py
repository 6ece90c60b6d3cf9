"""重复纠纷 statistics: how many of a subtree's cases were registered as repeats, by unit and
by category (``/repeats/statistics``). The links themselves are on the case answer
(``repeat_of``, ``repeated_by``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import anyio.to_thread
import msgspec
from litestar import Request, get
from litestar.params import Parameter

from api.http.openapi import BOUND, READ_ERRORS, answers, contract
from api.http.permissions import require_unit
from api.http.routes.reads import require_known, stats_period
from api.http.runtime import Runtime
from domain.actors import Actor
from projections.repeats import RepeatFigures, repeat_statistics

Req = Request[Any, Any, Any]


class RepeatFiguresOut(msgspec.Struct, kw_only=True):
    """Cases registered, of which repeats, and the rate (None when none was registered)."""

    key: str  # a unit code (its subtree; the unit itself: cases located at it) or a category
    registered: int
    repeats: int
    rate: float | None


class RepeatStatisticsOut(msgspec.Struct, kw_only=True):
    unit: str
    since: datetime
    until: datetime
    total: RepeatFiguresOut
    by_unit: list[RepeatFiguresOut]
    by_category: list[RepeatFiguresOut]


def figures_out(figures: RepeatFigures) -> RepeatFiguresOut:
    return RepeatFiguresOut(
        key=figures.key,
        registered=figures.registered,
        repeats=figures.repeats,
        rate=figures.rate,
    )


@get(
    "/repeats/statistics",
    responses=answers(
        200, RepeatStatisticsOut, "The repeat rate of the unit's subtree.", READ_ERRORS
    ),
    operation_class=contract(),
)
async def get_repeat_statistics(
    request: Req,
    runtime: Runtime,
    unit: Annotated[str | None, Parameter(max_length=200)] = None,
    since: Annotated[str | None, Parameter(schema_extra=BOUND)] = None,
    until: Annotated[str | None, Parameter(schema_extra=BOUND)] = None,
) -> RepeatStatisticsOut:
    """The cases located in ``unit``'s subtree (the caller's unit by default) registered from
    ``since`` (a date in Shanghai or a date-time; 30 days ago by default) to ``until`` (now),
    how many were repeats, by child unit and by category."""
    actor: Actor = request.user
    code = unit or actor.unit
    require_known(runtime, code)
    require_unit(actor, runtime.app.units(), code)
    now = runtime.clock()
    begin, finish = stats_period(since, until, now)

    def work() -> RepeatStatisticsOut:
        found = repeat_statistics(runtime.views.repeats, code, begin, finish)
        return RepeatStatisticsOut(
            unit=code,
            since=begin,
            until=finish,
            total=figures_out(found.total),
            by_unit=[figures_out(f) for f in found.by_unit],
            by_category=[figures_out(f) for f in found.by_category],
        )

    return await anyio.to_thread.run_sync(work)


HANDLERS = [get_repeat_statistics]
