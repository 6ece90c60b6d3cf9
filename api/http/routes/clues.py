"""线索研判: recording a clue, the triage queue of a unit's subtree, one clue, its dismissal or
promotion into a case, and the statistics of clues per period (``/clues``).

A write answers once the clues view has applied it (and, for a promotion, the cases views),
so the queue read next shows it.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import anyio.to_thread
from litestar import Request, Response, get, post
from litestar.params import Parameter

from api.http.clue_schemas import (
    ClueAttachmentOut,
    ClueCountsOut,
    ClueItemOut,
    ClueListOut,
    ClueOut,
    ClueState,
    ClueStatisticsOut,
    DismissClue,
    PromoteClue,
    PromotionOut,
    RecordClue,
)
from api.http.errors import ForbiddenError
from api.http.openapi import COMMAND_ERRORS, READ_ERRORS, REGISTER_ERRORS, answers, contract
from api.http.presenters import case_out, party_out
from api.http.routes.reads import require_known
from api.http.runtime import READ_YOUR_WRITES_TIMEOUT, Runtime
from domain.actors import Actor, Role
from domain.clue import RECORDERS, TRIAGERS, AttachmentRef, Clue, ClueReport, Source
from domain.jurisdiction import Jurisdiction
from domain.levels import Level
from domain.parties import Party
from domain.status import PartyRole
from projections.clues import ClueCounts, ClueRow

Req = Request[Any, Any, Any]
READERS = RECORDERS | {Role.AUDITOR}
VIEWS = ("clues",)


# --- who may --------------------------------------------------------------------------------


def _require_within(actor: Actor, units: Jurisdiction, code: str) -> None:
    if actor.unit not in units or code not in units or not units.is_within(code, actor.unit):
        raise ForbiddenError(
            f"unit {code} is outside {actor.unit}'s jurisdiction",
            f"{code} 不在 {actor.unit} 的管辖范围内。",
        )


def require_record(actor: Actor, units: Jurisdiction, code: str) -> None:
    """网格员、话务员、调解员或主管, in their own subtree."""
    if actor.role not in RECORDERS:
        raise ForbiddenError(
            f"a {actor.role} may not record a clue",
            "只有网格员、话务员、调解员或主管可以记录线索。",
        )
    require_known_code(units, code)
    _require_within(actor, units, code)


def require_read(actor: Actor, units: Jurisdiction, code: str) -> None:
    if actor.role not in READERS:
        raise ForbiddenError(f"a {actor.role} may not read clues", "你的角色无权查看线索。")
    _require_within(actor, units, code)


def require_triage(actor: Actor, units: Jurisdiction, clue: Clue) -> None:
    """A mediator or a supervisor of the clue's village or a unit above it."""
    if actor.role not in TRIAGERS:
        raise ForbiddenError(
            f"a {actor.role} may not triage a clue",
            "只有调解员或主管可以研判线索（不予立案或转为案件）。",
        )
    if actor.unit not in units or not units.is_within(clue.village, actor.unit):
        raise ForbiddenError(
            f"clue {clue.id} is at {clue.village}: only its village or a unit above triages it",
            f"线索位于 {clue.village}：只有该村（社区）或其上级单位可以研判。",
        )


def require_known_code(units: Jurisdiction, code: str) -> None:
    units.get(code)  # UnknownUnitError (422) for a code that is in no tree


# --- answers ------------------------------------------------------------------------------------


def clue_out(clue: Clue) -> ClueOut:
    return ClueOut(
        id=str(clue.id),
        unit=clue.unit,
        village=clue.village,
        township=clue.township,
        county=clue.county,
        category=clue.category,
        summary=clue.summary,
        source=clue.source.value,
        status=clue.status.value,
        overdue=clue.triage_overdue,
        recorded_at=clue.recorded_at,
        recorded_by=clue.recorded_by,
        triage_due_at=clue.triage_due_at,
        key_person=bool(clue.key_persons),
        suggested_level=clue.suggested_level,
        risk_triggers=list(clue.risk_triggers),
        parties=[party_out(party) for party in clue.parties],
        attachments=[ClueAttachmentOut(**a.to_dict()) for a in clue.attachments],
        reason=clue.reason or None,
        case_id=clue.case_id or None,
        case_number=clue.case_number or None,
        version=clue.version,
    )


def item_out(row: ClueRow) -> ClueItemOut:
    return ClueItemOut(
        id=str(row.id),
        unit=row.unit,
        village=row.village,
        category=row.category,
        summary=row.summary,
        source=row.source,
        status=row.status,
        overdue=row.overdue,
        recorded_at=row.recorded_at,
        triage_due_at=row.triage_due_at,
        key_person=row.key_persons > 0,
        suggested_level=row.suggested_level,
        people=row.people,
        case_id=row.case_id,
        case_number=row.case_number,
    )


def counts_out(counts: ClueCounts) -> ClueCountsOut:
    return ClueCountsOut(
        unit=counts.unit,
        recorded=counts.recorded,
        open=counts.open,
        overdue=counts.overdue,
        dismissed=counts.dismissed,
        promoted=counts.promoted,
        share_promoted=counts.share_promoted,
    )


def _report(data: RecordClue) -> ClueReport:
    return ClueReport(
        unit=data.unit,
        category=data.category,
        summary=data.summary,
        source=Source(data.source),
        parties=tuple(
            Party(p.name, PartyRole(p.role), p.id_number, p.phone, p.address) for p in data.parties
        ),
        attachments=tuple(AttachmentRef(a.sha256, a.name, a.media_type) for a in data.attachments),
    )


def _saw(runtime: Runtime, position: int | None, names: tuple[str, ...] = VIEWS) -> None:
    runtime.views.poke()
    runtime.views.wait(position, READ_YOUR_WRITES_TIMEOUT, names)


# --- handlers -----------------------------------------------------------------------------------


@post(
    "/clues",
    status_code=201,
    responses=answers(201, ClueOut, "The clue as recorded.", REGISTER_ERRORS),
    operation_class=contract(),
)
async def record_clue(data: RecordClue, request: Req, runtime: Runtime) -> Response[ClueOut]:
    """记录线索: a grid worker, a hotline operator, a mediator or a supervisor records what they
    found at a village or grid of their subtree; its triage clock starts (one working day)."""
    actor: Actor = request.user

    def work() -> Response[ClueOut]:
        require_record(actor, runtime.app.units(), data.unit)
        clue, position = runtime.app.record_clue(actor, _report(data), runtime.clock())
        _saw(runtime, position)
        return Response(
            clue_out(clue), status_code=201, headers={"Location": f"/api/v1/clues/{clue.id}"}
        )

    return await anyio.to_thread.run_sync(work)


@get(
    "/clues",
    responses=answers(200, ClueListOut, "The clues of the unit's subtree.", READ_ERRORS),
    operation_class=contract(),
)
async def list_clues(
    request: Req,
    runtime: Runtime,
    unit: Annotated[str | None, Parameter(max_length=200)] = None,
    status: ClueState | None = None,
    limit: Annotated[int, Parameter(ge=1, le=1000)] = 200,
    offset: Annotated[int, Parameter(ge=0, le=1_000_000_000)] = 0,
) -> ClueListOut:
    """线索研判 queue: the clues recorded in ``unit``'s subtree (the caller's unit by default),
    open ones first, the overdue among them first, then oldest first."""
    actor: Actor = request.user
    code = unit or actor.unit
    require_known(runtime, code)
    require_read(actor, runtime.app.units(), code)

    def work() -> ClueListOut:
        rows = runtime.views.clues.queue(code, status, limit, offset)
        return ClueListOut(unit=code, now=runtime.clock(), items=[item_out(r) for r in rows])

    return await anyio.to_thread.run_sync(work)


@get(
    "/clues/statistics",
    responses=answers(200, ClueStatisticsOut, "Clues of a period.", READ_ERRORS),
    operation_class=contract(),
)
async def clue_statistics(
    request: Req,
    runtime: Runtime,
    unit: Annotated[str | None, Parameter(max_length=200)] = None,
    period: Annotated[str | None, Parameter(max_length=20)] = None,
) -> ClueStatisticsOut:
    """Clues recorded in ``unit``'s subtree in a screening period (``2026-03``; the current one
    by default), and in each unit below it: how many were dismissed, promoted, still open."""
    actor: Actor = request.user
    code = unit or actor.unit
    require_known(runtime, code)
    require_read(actor, runtime.app.units(), code)
    rules = runtime.app.policy.screening
    chosen = rules.parse(period) if period else rules.period_of(runtime.clock())

    def work() -> ClueStatisticsOut:
        total, below = runtime.views.clues.statistics(code, chosen.start, chosen.end)
        return ClueStatisticsOut(
            unit=code,
            period=chosen.id,
            start=chosen.start,
            end=chosen.end,
            total=counts_out(total),
            units=[counts_out(c) for c in below],
        )

    return await anyio.to_thread.run_sync(work)


@get(
    "/clues/{clue_id:uuid}",
    responses=answers(200, ClueOut, "The clue, its people masked.", READ_ERRORS),
    operation_class=contract(),
)
async def get_clue(clue_id: UUID, request: Req, runtime: Runtime) -> ClueOut:
    """One clue: its people with ID numbers, phones and addresses masked."""
    actor: Actor = request.user

    def work() -> ClueOut:
        clue = runtime.app.get_clue(clue_id)
        require_read(actor, runtime.app.units(), clue.unit)
        return clue_out(clue)

    return await anyio.to_thread.run_sync(work)


@post(
    "/clues/{clue_id:uuid}/dismissals",
    status_code=200,
    responses=answers(200, ClueOut, "The clue, dismissed.", COMMAND_ERRORS),
    operation_class=contract(),
)
async def dismiss_clue(clue_id: UUID, data: DismissClue, request: Req, runtime: Runtime) -> ClueOut:
    """不予立案: a mediator or a supervisor of the clue's village or above dismisses it, with the
    reason. A clue triaged already is refused (409)."""
    actor: Actor = request.user

    def work() -> ClueOut:
        require_triage(actor, runtime.app.units(), runtime.app.get_clue(clue_id))
        clue, position = runtime.app.dismiss_clue(actor, clue_id, data.reason, runtime.clock())
        _saw(runtime, position)
        return clue_out(clue)

    return await anyio.to_thread.run_sync(work)


@post(
    "/clues/{clue_id:uuid}/promotions",
    status_code=201,
    responses=answers(201, PromotionOut, "The clue and the case it became.", COMMAND_ERRORS),
    operation_class=contract(),
)
async def promote_clue(
    clue_id: UUID, data: PromoteClue, request: Req, runtime: Runtime
) -> Response[PromotionOut]:
    """转为案件: registers the case the clue becomes (numbered by its county, linked back to the
    clue, the clue's text its first note) and marks the clue promoted, in one transaction."""
    actor: Actor = request.user

    def work() -> Response[PromotionOut]:
        require_triage(actor, runtime.app.units(), runtime.app.get_clue(clue_id))
        level = Level(data.level) if data.level else None
        now = runtime.clock()
        clue, recorded = runtime.app.promote_clue(actor, clue_id, data.kind, level, now)
        _saw(runtime, recorded.position, ("clues", "cases", "history"))
        body = PromotionOut(clue=clue_out(clue), case=case_out(recorded.case, now))
        location = f"/api/v1/cases/{recorded.case.id}"
        return Response(body, status_code=201, headers={"Location": location})

    return await anyio.to_thread.run_sync(work)


HANDLERS = [record_clue, list_clues, clue_statistics, get_clue, dismiss_clue, promote_clue]
