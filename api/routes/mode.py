"""``/api/v1/mode``: the operating mode, switched by an admin or a city/county supervisor."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar import Request, get, post

from api.errors import ForbiddenError
from api.runtime import Runtime
from api.schemas import ModeOut, SwitchMode
from domain.actors import Actor, Role
from domain.levels import Tier
from domain.policy import Mode

Req = Request[Any, Any, Any]
_SWITCHING_TIERS = (Tier.CITY, Tier.COUNTY)


@get("/mode")
async def get_mode(runtime: Runtime) -> ModeOut:
    mode = await anyio.to_thread.run_sync(runtime.app.current_mode)
    return ModeOut(mode=mode.value)


@post("/mode", status_code=200)
async def switch_mode(data: SwitchMode, request: Req, runtime: Runtime) -> ModeOut:
    actor: Actor = request.user

    def work() -> ModeOut:
        units = runtime.app.units()
        tier = units.get(actor.unit).tier if actor.unit in units else None
        allowed = actor.role is Role.ADMIN or (
            actor.role is Role.SUPERVISOR and tier in _SWITCHING_TIERS
        )
        if not allowed:
            raise ForbiddenError("only an admin or a city/county supervisor switches the mode")
        return ModeOut(mode=runtime.app.switch_mode(actor, Mode(data.mode), data.reason).value)

    return await anyio.to_thread.run_sync(work)


HANDLERS = [get_mode, switch_mode]
