"""督查回访: the sampled cases of a subtree (``/inspections``), a township's draw by hand and
a draw as recorded, checked against its seed (``/inspections/draws``).

The callback itself is a command on the case (``POST /cases/{id}/inspections``, the
``RecordInspection`` payload), made like every other command.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio.to_thread
from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.openapi import ResponseSpec
from litestar.params import Parameter

from api.http.openapi import READ_ERRORS, answers, contract
from api.http.permissions import require_inspection_draw, require_inspection_read
from api.http.presenters import inspection_item_out
from api.http.routes.reads import require_known
from api.http.runtime import Runtime
from api.http.schemas import (
    MAX_OFFSET,
    DrawInspection,
    InspectionDrawOut,
    InspectionListOut,
)
from domain.actors import Actor
from domain.inspection import InspectionDraw, Month
from projections.inspections import list_inspections
from scheduler.inspections import MonthlyDraw

Req = Request[Any, Any, Any]
DRAW_ERRORS = (400, 401, 403, 413, 415, 422, 503)
# How a draw's sample is derived, for anyone checking one by hand.
RULE = (
    "k = max(minimum, ceil(population × percentage / 100)), at most the population; the "
    'sample is the k case ids whose SHA-256 of "<seed>:<case id>" (hexadecimal) is lowest, '
    "sorted"
)
VIEW_CATCH_UP = 5.0  # seconds a hand draw waits for the cases view to reach the log's head


@get(
    "/inspections",
    responses=answers(
        200, InspectionListOut, "The sampled cases located in the unit's subtree.", READ_ERRORS
    ),
    operation_class=contract(),
)
async def get_inspections(
    request: Req,
    runtime: Runtime,
    unit: Annotated[str | None, Parameter(max_length=200)] = None,
    callback: Annotated[
        Literal["pending", "overdue", "done", "done_late"] | None, Parameter(query="state")
    ] = None,
    month: Annotated[str | None, Parameter(pattern=r"^[0-9]{4}-[0-9]{2}$")] = None,
    limit: Annotated[int, Parameter(ge=1, le=1000)] = 200,
    offset: Annotated[int, Parameter(ge=0, le=MAX_OFFSET)] = 0,
) -> InspectionListOut:
    """督查回访: the cases a monthly draw sampled in ``unit``'s subtree (the caller's unit by
    default), those awaiting their callback first (soonest due), with their state as of now."""
    actor: Actor = request.user
    code = unit or actor.unit
    require_known(runtime, code)
    require_inspection_read(actor, runtime.app.units(), code)

    def work() -> InspectionListOut:
        now = runtime.clock()
        items = list_inspections(runtime.views.cases, code, now, callback, month, limit, offset)
        return InspectionListOut(unit=code, now=now, items=[inspection_item_out(i) for i in items])

    return await anyio.to_thread.run_sync(work)


def draw_out(draw: InspectionDraw, new: bool = False) -> InspectionDrawOut:
    rederived = draw.rederived()
    recorded = ("township", "month", "role", "seed", "percentage", "minimum", "population")
    return InspectionDrawOut(
        id=str(draw.id),
        drawn_at=draw.drawn_at,
        drawn_by=draw.actor,
        population_size=len(draw.population),
        sample=list(draw.sample),
        rederived=rederived,
        verified=rederived == draw.sample,
        rule=RULE,
        new=new,
        **{name: getattr(draw, name) for name in recorded},
    )


_DRAWN = ResponseSpec(
    InspectionDrawOut, description="Drawn before: that draw, unchanged.", generate_examples=False
)


@post(
    "/inspections/draws",
    status_code=201,
    responses={
        **answers(201, InspectionDrawOut, "The township's draw, made now.", DRAW_ERRORS),
        200: _DRAWN,
    },
    operation_class=contract(),
)
async def draw_inspection(
    data: DrawInspection, request: Req, runtime: Runtime
) -> Response[InspectionDrawOut]:
    """督查抽查 by hand: an inspector of the county or city above the township (or an admin)
    draws its sample of the cases closed in ``month``, a month that has ended. A township-month
    drawn before (by the scheduler on the 1st, or by anyone) is answered as it was drawn."""
    actor: Actor = request.user
    month = Month.parse(data.month)

    def work() -> Response[InspectionDrawOut]:
        require_inspection_draw(actor, runtime.app.units(), data.township)
        head = runtime.app.recorder.max_notification_id()
        runtime.views.wait(head, VIEW_CATCH_UP, ("cases",))  # every closing in the population
        draws = MonthlyDraw(runtime.app, runtime.views.cases, runtime.clock)
        report = draws.draw(data.township, month, actor)
        runtime.saw(report.answer.position)
        new = report.answer.new
        return Response(draw_out(report.answer.draw, new), status_code=201 if new else 200)

    return await anyio.to_thread.run_sync(work)


@get(
    "/inspections/draws/{township:str}/{month:str}",
    responses=answers(
        200, InspectionDrawOut, "The draw as recorded, and derived again.", READ_ERRORS
    ),
    operation_class=contract(),
)
async def get_inspection_draw(
    township: str, month: str, request: Req, runtime: Runtime
) -> InspectionDrawOut:
    """A township's draw for a month: its seed, the population it was drawn from, the sample,
    and the sample derived again from them (``verified``)."""
    actor: Actor = request.user
    require_known(runtime, township)
    require_inspection_read(actor, runtime.app.units(), township)
    drawn_month = Month.parse(month)

    def work() -> InspectionDrawOut:
        draw = runtime.app.inspection_draw(township, drawn_month)
        if draw is None:
            raise NotFoundException(f"{township} has no draw for {drawn_month}")
        return draw_out(draw)

    return await anyio.to_thread.run_sync(work)


HANDLERS = [get_inspections, draw_inspection, get_inspection_draw]
