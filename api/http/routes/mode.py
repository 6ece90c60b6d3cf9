"""``/api/v1/mode``: the operating mode, switched by an admin or a city/county supervisor."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar import Request, get, post

from api.http.openapi import answers, contract
from api.http.permissions import require_mode_switch
from api.http.runtime import Runtime
from api.http.schemas import ModeOut, SwitchMode
from domain.actors import Actor
from domain.policy import Mode

Req = Request[Any, Any, Any]


@get(
    "/mode",
    responses=answers(200, ModeOut, "The operating mode.", (401, 503)),
    operation_class=contract(),
)
async def get_mode(runtime: Runtime) -> ModeOut:
    mode = await anyio.to_thread.run_sync(runtime.app.current_mode)
    return ModeOut(mode=mode.value)


@post(
    "/mode",
    status_code=200,
    responses=answers(
        200, ModeOut, "The mode switched to.", (400, 401, 403, 409, 413, 415, 422, 503)
    ),
    operation_class=contract(),
)
async def switch_mode(data: SwitchMode, request: Req, runtime: Runtime) -> ModeOut:
    actor: Actor = request.user

    def work() -> ModeOut:
        require_mode_switch(actor, runtime.app.units())
        return ModeOut(mode=runtime.app.switch_mode(actor, Mode(data.mode), data.reason).value)

    return await anyio.to_thread.run_sync(work)


HANDLERS = [get_mode, switch_mode]
