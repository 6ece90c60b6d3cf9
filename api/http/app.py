"""The Litestar application, built by a factory from a ``Runtime`` (nothing at import time)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from litestar import HttpMethod, Litestar, Response, Router
from litestar.di import Provide
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig

from api.http import web
from api.http.auth import DIRECTORY_MAX_AGE, jwt_auth
from api.http.bodies import strict_json
from api.http.errors import EXCEPTION_HANDLERS
from api.http.openapi import StrictStructs
from api.http.routes import (
    attachments,
    audit,
    case_file,
    cases,
    clues,
    commands,
    documents,
    health,
    inspections,
    key_persons,
    ledger,
    mode,
    notifications,
    reads,
    repeats,
    screening,
    stream,
    tree_log,
    users,
)
from api.http.runtime import Runtime
from api.http.web import rating, schema_viewer
from domain.directory import Directory

MAX_BODY_BYTES = 1024 * 1024


def create_app(runtime: Runtime) -> Litestar:
    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncGenerator[None, None]:
        runtime.start()
        try:
            yield
        finally:
            runtime.stop()

    def staff() -> Directory:  # every caller is checked against it (api.http.auth)
        return runtime.app.directory(max_age=DIRECTORY_MAX_AGE)

    def recent_staff() -> Directory | None:
        return runtime.app.recent_directory(DIRECTORY_MAX_AGE)

    api = Router(
        path="/api/v1",
        route_handlers=with_options(
            [
                *cases.HANDLERS,
                *commands.HANDLERS,
                *attachments.HANDLERS,  # its own body limit: an upload is not JSON
                *case_file.HANDLERS,
                *documents.HANDLERS,
                *ledger.HANDLERS,
                *tree_log.HANDLERS,
                *reads.HANDLERS,
                *stream.HANDLERS,
                *notifications.HANDLERS,
                *mode.HANDLERS,
                *audit.HANDLERS,
                *users.HANDLERS,
                *inspections.HANDLERS,
                *screening.HANDLERS,
                *repeats.HANDLERS,
                *key_persons.HANDLERS,
                *clues.HANDLERS,
            ]
        ),
        before_request=strict_json,  # every body: JSON only, no repeated keys, no coercion
    )
    return Litestar(
        route_handlers=[
            api,
            *health.HANDLERS,
            rating.router(runtime.rate_page_limit),
            web.router(),
        ],
        dependencies={"runtime": Provide(lambda: runtime, use_cache=True, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,
        on_app_init=[jwt_auth(runtime.secret, staff, runtime.oidc, recent_staff).on_app_init],
        openapi_config=OpenAPIConfig(
            title="fengqiao",
            version="1",
            path="/schema",
            render_plugins=schema_viewer.render_plugins("/schema"),  # offline: no CDN
        ),
        plugins=[StrictStructs()],  # request bodies' schemas refuse unknown members
        request_max_body_size=MAX_BODY_BYTES,
        lifespan=[lifespan],
    )


def with_options(handlers: list[HTTPRouteHandler]) -> list[HTTPRouteHandler]:
    """``handlers``, preceded by an OPTIONS handler for each path served by more than one.

    Litestar 2 (litestar#4169, fixed in 3) adds a path's automatic OPTIONS handler with the
    first handler registered and never updates it: ``OPTIONS /cases`` answered ``Allow:
    OPTIONS, POST`` though ``GET`` is served too. An explicit handler registered first lists
    every method."""
    methods: dict[str, set[str]] = {}
    counts: dict[str, int] = {}
    for handler in handlers:
        for path in handler.paths:
            methods.setdefault(path, {"OPTIONS"}).update(handler.http_methods)
            counts[path] = counts.get(path, 0) + 1
    shared = [path for path, count in counts.items() if count > 1]
    return [*(_options(path, methods[path]) for path in shared), *handlers]


def _options(path: str, methods: set[str]) -> HTTPRouteHandler:
    allow = ", ".join(sorted(methods))

    def options() -> Response[None]:
        return Response(None, status_code=204, headers={"Allow": allow})

    return HTTPRouteHandler(
        path=path, http_method=[HttpMethod.OPTIONS], include_in_schema=False, sync_to_thread=False
    )(options)
