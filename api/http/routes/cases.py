"""Registering, reading and listing cases, and a case's history."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

import anyio.to_thread
from litestar import Request, Response, get, post
from litestar.params import Parameter

from api.http.commands import Stored, answer, case_location, respond, run
from api.http.openapi import (
    ETAG,
    IDEMPOTENCY_KEY,
    LOCATION,
    READ_ERRORS,
    REGISTER_ERRORS,
    answers,
    contract,
)
from api.http.permissions import (
    REGISTER_ROLES,
    require_read,
    require_role,
    require_unit,
    require_unmask,
)
from api.http.presenters import history_out, queue_item_out
from api.http.runtime import Runtime
from api.http.schemas import (
    MAX_OFFSET,
    NO_NUL,
    CallerIn,
    CaseListOut,
    CaseOut,
    HistoryEntryOut,
    Kind,
    LevelName,
    ReferralIn,
    RegisterCase,
    StatusName,
)
from domain.actors import Actor
from domain.case import Caller, InboundReferral, Registration
from domain.errors import InvalidInputError
from domain.levels import Level
from domain.parties import Party
from domain.receipt import CommandReceipt, RequestKey
from domain.status import Agency, Channel, PartyRole
from projections.queue import CaseFilter, list_cases

Req = Request[Any, Any, Any]
UNMASKED = ["id_number", "phone", "address"]
# a text filter: no NUL (PostgreSQL cannot compare text with one), at most 200 characters
Filter = Annotated[str | None, Parameter(pattern=NO_NUL, max_length=200)]


def _registration(data: RegisterCase) -> Registration:
    return Registration(
        category=data.category,
        summary=data.summary,
        unit=data.unit,
        channel=Channel(data.channel),
        level=Level(data.level),
        parties=tuple(
            Party(p.name, PartyRole(p.role), p.id_number, p.phone, p.address) for p in data.parties
        ),
        people_involved=data.people_involved,
        amount_involved=Decimal(data.amount_involved) if data.amount_involved else None,
        occurred_at=data.occurred_at,
        referral_in=_inbound(data.referral_in),
        caller=_caller(data.caller),
        police_callouts=data.police_callouts,
    )


def _caller(caller: CallerIn | None) -> Caller | None:
    if caller is None:
        return None
    return Caller(caller.name, caller.phone, caller.anonymous)


def _inbound(referral: ReferralIn | None) -> InboundReferral | None:
    if referral is None:
        return None
    return InboundReferral(Agency(referral.agency), referral.reference, referral.due_at)


@post(
    "/cases",
    status_code=201,
    responses=answers(201, CaseOut, "The case as registered (Location: its URL).", REGISTER_ERRORS),
    operation_class=contract(
        headers={201: {"ETag": ETAG, "Location": LOCATION}}, parameters=(IDEMPOTENCY_KEY,)
    ),
)
async def register_case(data: RegisterCase, request: Req, runtime: Runtime) -> Response[bytes]:
    def work(
        actor: Actor, _version: int | None, key: RequestKey | None, now: datetime
    ) -> Stored | CommandReceipt:
        require_role(actor, REGISTER_ROLES, "register a case")
        require_unit(actor, runtime.app.units(), data.unit)
        outcome = runtime.app.register_once(
            key, actor, data.kind, _registration(data), now, looked=key is not None
        )
        if isinstance(outcome, CommandReceipt):
            return outcome  # a copy of this request ran first
        runtime.saw(outcome.position)
        return answer(runtime, outcome.case, now, 201, case_location(outcome.case.id))

    return await run(runtime, request, work)


@get(
    "/cases/{case_id:uuid}",
    responses=answers(200, CaseOut, "The case (ETag: its version).", READ_ERRORS),
    operation_class=contract(headers={200: {"ETag": ETAG}}),
)
async def get_case(
    case_id: UUID,
    request: Req,
    runtime: Runtime,
    unmask: bool = False,
    reason: Annotated[str | None, Parameter(max_length=500)] = None,
) -> Response[bytes]:
    """The case; with ``unmask=true`` and a ``reason``, the assigned mediator or a supervisor
    of the owning unit sees parties' ID numbers, phones and addresses (and that is recorded)."""
    actor: Actor = request.user

    def work() -> Stored:
        case = runtime.app.get_case(case_id)
        require_read(actor, runtime.app.units(), case)
        if unmask:
            require_unmask(actor, runtime.app.units(), case)
            if not reason or not reason.strip() or "\x00" in reason:
                raise InvalidInputError("reason", "unmasking personal data needs a reason")
            runtime.app.record_access(actor, "unmask", case_id, {"fields": UNMASKED}, reason)
        return answer(runtime, case, runtime.clock(), unmasked=unmask)

    return respond(await anyio.to_thread.run_sync(work))


@get(
    "/cases/{case_id:uuid}/history",
    responses=answers(
        200, list[HistoryEntryOut], "The case's timeline, oldest first.", (401, 403, 404, 503)
    ),
    operation_class=contract(),
)
async def get_history(case_id: UUID, request: Req, runtime: Runtime) -> list[HistoryEntryOut]:
    actor: Actor = request.user

    def work() -> list[HistoryEntryOut]:
        case = runtime.app.get_case(case_id)
        require_read(actor, runtime.app.units(), case)
        return [history_out(entry) for entry in runtime.views.history.get_history(case_id)]

    return await anyio.to_thread.run_sync(work)


@get(
    "/cases",
    responses=answers(200, CaseListOut, "The cases in the filter.", (401, 403, 422, 503)),
    operation_class=contract(),
)
async def list_case_summaries(
    request: Req,
    runtime: Runtime,
    unit: Filter = None,
    status: StatusName | None = None,
    level: LevelName | None = None,
    kind: Kind | None = None,
    category: Filter = None,
    assignee: Filter = None,
    q: Filter = None,
    limit: Annotated[int, Parameter(ge=1, le=500)] = 50,
    offset: Annotated[int, Parameter(ge=0, le=MAX_OFFSET)] = 0,
) -> CaseListOut:
    actor: Actor = request.user
    root = unit or actor.unit
    require_unit(actor, runtime.app.units(), root)
    query = CaseFilter(root, status, level, kind, category, assignee, q, limit, offset)

    def work() -> CaseListOut:
        items = list_cases(runtime.views.cases, query, runtime.clock())
        return CaseListOut(items=[queue_item_out(i) for i in items], limit=limit, offset=offset)

    return await anyio.to_thread.run_sync(work)


HANDLERS = [register_case, get_case, get_history, list_case_summaries]
