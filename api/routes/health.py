"""Liveness and readiness, outside ``/api/v1`` and without a token."""

from __future__ import annotations

import anyio.to_thread
import msgspec
from litestar import Response, get

from api.errors import problem
from api.runtime import Runtime

MAX_READY_LAG = 10_000  # log positions a view may trail before the process reports unready


@get("/health", opt={"public": True})
async def health() -> dict[str, str]:
    return {"status": "alive"}


@get("/ready", opt={"public": True})
async def ready(runtime: Runtime) -> Response[bytes]:
    try:
        lag = await anyio.to_thread.run_sync(runtime.views.lag)
    except Exception as error:  # the store is unreachable: say so, do not crash
        return problem(503, "Not ready", f"store unreachable: {type(error).__name__}")
    status = 200 if max(lag.values(), default=0) <= MAX_READY_LAG else 503
    body = {"status": "ready" if status == 200 else "lagging", "lag": lag}
    return Response(msgspec.json.encode(body), status_code=status, media_type="application/json")


HANDLERS = [health, ready]
