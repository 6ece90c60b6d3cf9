"""The operating modes: ``/api/v1/units/{code}/mode`` for a city's or county's subtree, and
``/api/v1/mode``, the city's (the root unit's). Switched by a supervisor or an admin of a city
or county, within their subtree; read by anyone who works at, above or below the unit."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar import Request, get, post

from api.http.openapi import answers, contract
from api.http.permissions import require_mode_read, require_mode_switch
from api.http.routes.reads import require_known
from api.http.runtime import Runtime
from api.http.schemas import ModeOut, SwitchMode, SwitchUnitMode, UnitModeOut
from domain.actors import Actor
from domain.operations import INHERIT, ModeInForce
from domain.policy import Mode

Req = Request[Any, Any, Any]
SWITCH_ERRORS = (400, 401, 403, 404, 409, 413, 415, 422, 503)


def unit_mode_out(found: ModeInForce) -> UnitModeOut:
    return UnitModeOut(
        unit=found.unit, mode=found.mode.value, source=found.source, set_here=found.set_here
    )


@get(
    "/mode",
    responses=answers(200, ModeOut, "The city's mode (the default below it).", (401, 503)),
    operation_class=contract(),
)
async def get_mode(runtime: Runtime) -> ModeOut:
    mode = await anyio.to_thread.run_sync(runtime.app.current_mode)
    return ModeOut(mode=mode.value)


@post(
    "/mode",
    status_code=200,
    responses=answers(
        200, ModeOut, "The city's mode, switched to.", (400, 401, 403, 409, 413, 415, 422, 503)
    ),
    operation_class=contract(),
)
async def switch_mode(data: SwitchMode, request: Req, runtime: Runtime) -> ModeOut:
    actor: Actor = request.user

    def work() -> ModeOut:
        app = runtime.app
        root = app.root_unit()
        require_mode_switch(actor, app.units(), root.code if root else actor.unit)
        app.switch_mode(actor, Mode(data.mode), data.reason)
        return ModeOut(mode=app.current_mode().value)

    return await anyio.to_thread.run_sync(work)


@get(
    "/units/{code:str}/mode",
    responses=answers(
        200,
        UnitModeOut,
        "The mode in force at the unit, and whose setting it is.",
        (401, 403, 404, 503),
    ),
    operation_class=contract(),
)
async def get_unit_mode(code: str, request: Req, runtime: Runtime) -> UnitModeOut:
    actor: Actor = request.user
    require_known(runtime, code)

    def work() -> UnitModeOut:
        require_mode_read(actor, runtime.app.units(), code)
        return unit_mode_out(runtime.app.mode_in_force(code))

    return await anyio.to_thread.run_sync(work)


@post(
    "/units/{code:str}/mode",
    status_code=200,
    responses=answers(200, UnitModeOut, "The mode now in force at the unit.", SWITCH_ERRORS),
    operation_class=contract(),
)
async def switch_unit_mode(
    code: str, data: SwitchUnitMode, request: Req, runtime: Runtime
) -> UnitModeOut:
    actor: Actor = request.user
    require_known(runtime, code)

    def work() -> UnitModeOut:
        require_mode_switch(actor, runtime.app.units(), code)
        mode = None if data.mode == INHERIT else Mode(data.mode)
        found = runtime.app.switch_mode(actor, mode, data.reason, unit=code)
        return unit_mode_out(found or runtime.app.mode_in_force(code))

    return await anyio.to_thread.run_sync(work)


HANDLERS = [get_mode, switch_mode, get_unit_mode, switch_unit_mode]
