"""Liveness and readiness, outside ``/api/v1`` and without a token."""

from __future__ import annotations

import anyio
import anyio.to_thread
import msgspec
from litestar import Response, get

from api.http.errors import problem
from api.http.runtime import Runtime

MAX_READY_LAG = 10_000  # log positions a view may trail before the process reports unready
READY_WITHIN_SECONDS = 1.0  # a load balancer's probe gets an answer in this time, whatever


@get("/health", opt={"public": True})
async def health() -> dict[str, str]:
    return {"status": "alive"}


@get("/ready", opt={"public": True})
async def ready(runtime: Runtime) -> Response[bytes]:
    """503 while the process cannot serve fresh reads: the store unreachable, a view stopped
    at a batch it cannot apply (named, with where and why), the sweeps stopped, or a view
    too far behind."""
    try:
        lag = None
        with anyio.move_on_after(READY_WITHIN_SECONDS):
            # abandoned, not awaited, when the store does not answer in time
            lag = await anyio.to_thread.run_sync(runtime.views.lag, abandon_on_cancel=True)
    except Exception as error:  # the store is unreachable: say so, do not crash
        return problem(503, "Not ready", f"store unreachable: {type(error).__name__}")
    if lag is None:
        return problem(503, "Not ready", f"store not answering within {READY_WITHIN_SECONDS} s")
    failed = runtime.views.failures()
    sweeps_failed = runtime.sweeps is not None and runtime.sweeps.failure is not None
    lagging = max(lag.values(), default=0) > MAX_READY_LAG
    status = 503 if failed or lagging or sweeps_failed else 200
    if failed:
        body: dict[str, object] = {"status": "view failed", "failed": failed, "lag": lag}
    else:
        state = "sweeps stopped" if sweeps_failed else "lagging" if lagging else "ready"
        body = {"status": state, "lag": lag}
    return Response(msgspec.json.encode(body), status_code=status, media_type="application/json")


HANDLERS = [health, ready]
