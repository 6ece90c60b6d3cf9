"""排查: a village files its screening report for a period (``POST /screening/reports``); a
township or county reads its villages' completion grid, the queue of missing reports and the
period's statistics (``/screening/…``).

A filing answers once the screening view has applied it, so the grid read next shows it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import anyio.to_thread
from litestar import Request, Response, get, post
from litestar.params import Parameter

from api.http.errors import ForbiddenError
from api.http.openapi import READ_ERRORS, REGISTER_ERRORS, answers, contract
from api.http.permissions import require_role, require_unit
from api.http.routes.reads import require_known
from api.http.runtime import READ_YOUR_WRITES_TIMEOUT, Runtime
from api.http.screening_schemas import (
    CellOut,
    CompletionOut,
    FileScreeningReport,
    GridRowOut,
    MissingOut,
    MissingReportOut,
    ScreeningReportOut,
    ScreeningStatisticsOut,
)
from domain.actors import Actor, Role
from domain.screening import Period
from domain.screening_report import ScreeningReport, may_file, village_of
from projections.screening import Grid, completion, missed_under, statistics

Req = Request[Any, Any, Any]
# staff who may read a subtree's screening: everyone but the parties and the scheduler
READERS = frozenset(
    {Role.REPORTER, Role.MEDIATOR, Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR, Role.INSPECTOR}
)
MAX_PERIODS = 24


def report_out(report: ScreeningReport) -> ScreeningReportOut:
    return ScreeningReportOut(
        id=str(report.id),
        unit=report.village,
        township=report.township,
        county=report.county,
        period=report.period,
        due_at=report.due_at,
        state=report.state or "missed",  # type: ignore[arg-type]
        zero=report.zero,
        late=report.late,
        clue_ids=list(report.clue_ids),
        declaration=report.declaration,
        filed_at=report.filed_at,
        filed_by=report.filed_by,
        missed_at=report.missed_at,
    )


@post(
    "/screening/reports",
    status_code=201,
    responses=answers(201, ScreeningReportOut, "The village's report, filed.", REGISTER_ERRORS),
    operation_class=contract(),
)
async def file_screening_report(
    data: FileScreeningReport, request: Req, runtime: Runtime
) -> Response[ScreeningReportOut]:
    """排查报告: the village's grid worker (or a mediator or supervisor of the village or above)
    files the village's report for a period that has begun: the clues found, or a 零报告 with
    the declaration. Filed after the due time it is marked late; a second filing is refused."""
    actor: Actor = request.user
    app = runtime.app

    def work() -> Response[ScreeningReportOut]:
        if data.unit not in app.units():
            app.units(refresh=True)
        village_of(app.units(), data.unit)
        if not may_file(actor, app.units(), data.unit):
            raise ForbiddenError(
                f"a {actor.role} at {actor.unit} may not file {data.unit}'s screening report",
                "排查报告由本村（社区）网格员，或本村及上级单位的调解员、主管上报。",
            )
        period = app.policy.screening.parse(data.period)
        answer = app.file_screening_report(
            actor, data.unit, period, data.clue_ids, data.zero, data.declaration, runtime.clock()
        )
        runtime.views.wait(answer.position, READ_YOUR_WRITES_TIMEOUT, ("screening",))
        return Response(report_out(answer.report), status_code=201)

    return await anyio.to_thread.run_sync(work)


def _readable(runtime: Runtime, actor: Actor, unit: str | None) -> str:
    code = unit or actor.unit
    require_known(runtime, code)
    require_role(actor, READERS, "read the screening reports")
    require_unit(actor, runtime.app.units(), code)
    return code


def last_periods(runtime: Runtime, now: datetime, count: int) -> list[Period]:
    """The current period and the ``count - 1`` before it, oldest first."""
    periods = [runtime.app.policy.screening.period_of(now)]
    while len(periods) < count:
        periods.append(periods[-1].previous())
    return sorted(periods)


def grid_out(grid: Grid, now: datetime) -> CompletionOut:
    rows = [
        GridRowOut(
            village=row.village,
            name=row.name,
            township=row.township,
            cells=[
                CellOut(
                    period=c.period,
                    state=c.state,  # type: ignore[arg-type]
                    zero=c.zero,
                    clues=c.clues,
                    filed_at=c.filed_at,
                )
                for c in row.cells
            ],
        )
        for row in grid.rows
    ]
    return CompletionOut(unit=grid.unit, now=now, periods=grid.periods, due=grid.due, rows=rows)


@get(
    "/screening/completion",
    responses=answers(
        200, CompletionOut, "The villages × periods of the unit's subtree.", READ_ERRORS
    ),
    operation_class=contract(),
)
async def get_completion(
    request: Req,
    runtime: Runtime,
    unit: Annotated[str | None, Parameter(max_length=200)] = None,
    periods: Annotated[int, Parameter(ge=1, le=MAX_PERIODS)] = 6,
) -> CompletionOut:
    """排查完成情况: each village of ``unit``'s subtree (the caller's unit by default) × the
    last ``periods`` periods: filed, zero (零报告), late, missed (due, nothing filed), pending
    (not yet due) or not_owed (begun before screening did)."""
    actor: Actor = request.user
    code = _readable(runtime, actor, unit)

    def work() -> CompletionOut:
        now = runtime.clock()
        app = runtime.app
        grid = completion(
            runtime.views.screening,
            app.units(),
            code,
            last_periods(runtime, now, periods),
            now,
            app.policy.screening.due_at,
            app.screening_since(),
        )
        return grid_out(grid, now)

    return await anyio.to_thread.run_sync(work)


@get(
    "/screening/missing",
    responses=answers(200, MissingOut, "The missing reports under the unit.", READ_ERRORS),
    operation_class=contract(),
)
async def get_missing(
    request: Req,
    runtime: Runtime,
    unit: Annotated[str | None, Parameter(max_length=200)] = None,
) -> MissingOut:
    """The township's queue of missing reports: each village under ``unit`` the scheduler
    marked missed at a period's due time and that has filed nothing since."""
    actor: Actor = request.user
    code = _readable(runtime, actor, unit)

    def work() -> MissingOut:
        rows = missed_under(runtime.views.screening, code)
        items = [
            MissingReportOut(
                village=r.village,
                township=r.township,
                period=r.period,
                due_at=r.due_at,
                missed_at=r.missed_at,
            )
            for r in rows
        ]
        return MissingOut(unit=code, items=items)

    return await anyio.to_thread.run_sync(work)


@get(
    "/screening/statistics",
    responses=answers(
        200, ScreeningStatisticsOut, "The unit's screening of one period.", READ_ERRORS
    ),
    operation_class=contract(),
)
async def get_statistics(
    request: Req,
    runtime: Runtime,
    unit: Annotated[str | None, Parameter(max_length=200)] = None,
    period: Annotated[str | None, Parameter(max_length=20)] = None,
) -> ScreeningStatisticsOut:
    """排查统计: of ``unit``'s villages for ``period`` (the current one by default): how many
    owed a report, filed on time, late, are missing or pending, filed 零报告; the clues
    reported, and the share filed on time."""
    actor: Actor = request.user
    code = _readable(runtime, actor, unit)
    app = runtime.app

    def work() -> ScreeningStatisticsOut:
        now = runtime.clock()
        rules = app.policy.screening
        chosen = rules.period_of(now) if period is None else rules.parse(period)
        numbers = statistics(
            runtime.views.screening, app.units(), code, chosen, now, rules.due_at,
            app.screening_since(),
        )  # fmt: skip
        return ScreeningStatisticsOut(
            unit=numbers.unit,
            period=numbers.period,
            due_at=numbers.due_at,
            villages=numbers.villages,
            on_time=numbers.on_time,
            late=numbers.late,
            missing=numbers.missing,
            pending=numbers.pending,
            zero=numbers.zero,
            clues=numbers.clues,
            on_time_share=numbers.on_time_share,
        )

    return await anyio.to_thread.run_sync(work)


HANDLERS = [file_screening_report, get_completion, get_missing, get_statistics]
