"""The Litestar application, built by a factory from a ``Runtime`` (nothing at import time)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig

from api.http import web
from api.http.auth import jwt_auth
from api.http.bodies import strict_json
from api.http.errors import EXCEPTION_HANDLERS
from api.http.routes import audit, cases, commands, health, mode, reads, stream
from api.http.runtime import Runtime

MAX_BODY_BYTES = 1024 * 1024


def create_app(runtime: Runtime) -> Litestar:
    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncGenerator[None, None]:
        runtime.start()
        try:
            yield
        finally:
            runtime.stop()

    api = Router(
        path="/api/v1",
        route_handlers=[
            *cases.HANDLERS,
            *commands.HANDLERS,
            *reads.HANDLERS,
            *stream.HANDLERS,
            *mode.HANDLERS,
            *audit.HANDLERS,
        ],
        before_request=strict_json,  # every body: JSON only, no repeated keys, no coercion
    )
    return Litestar(
        route_handlers=[api, *health.HANDLERS, web.router()],
        dependencies={"runtime": Provide(lambda: runtime, use_cache=True, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,
        on_app_init=[jwt_auth(runtime.secret).on_app_init],
        openapi_config=OpenAPIConfig(title="fengqiao", version="1", path="/schema"),
        request_max_body_size=MAX_BODY_BYTES,
        lifespan=[lifespan],
    )
