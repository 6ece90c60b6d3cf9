"""Liveness and readiness, outside ``/api/v1`` and without a token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
import anyio.to_thread
import msgspec
from litestar import Response, get

from api.http.errors import problem
from api.http.runtime import Runtime

MAX_READY_LAG = 10_000  # log positions a view may trail before the process reports unready
READY_WITHIN_SECONDS = 1.0  # a load balancer's probe gets an answer in this time, whatever
SWEEP_GRACE = timedelta(seconds=30)  # a sweep through a large backlog takes a while


@get("/health", opt={"public": True})
async def health() -> dict[str, str]:
    return {"status": "alive"}


@get("/ready", opt={"public": True})
async def ready(runtime: Runtime) -> Response[bytes]:
    """503 while the process cannot serve fresh reads or deadlines go unswept: the store
    unreachable or not answering within a second, a view stopped at a batch it cannot apply
    (named, with where and why), the sweeps stopped or late (whichever process runs them), or a
    view too far behind."""
    readings: tuple[dict[str, int], datetime | None] | None = None
    try:
        with anyio.move_on_after(READY_WITHIN_SECONDS):
            # abandoned, not awaited, when the store does not answer in time
            readings = await anyio.to_thread.run_sync(_read, runtime, abandon_on_cancel=True)
    except Exception as error:  # the store is unreachable: say so, do not crash
        return problem(503, "Not ready", f"store unreachable: {type(error).__name__}")
    if readings is None:
        return problem(503, "Not ready", f"store not answering within {READY_WITHIN_SECONDS} s")
    lag, last_sweep = readings
    failed = runtime.views.failures()
    sweeps_failed = runtime.sweeps is not None and runtime.sweeps.failure is not None
    sweeps_failed = sweeps_failed or sweeps_late(runtime, last_sweep, datetime.now(UTC))
    lagging = max(lag.values(), default=0) > MAX_READY_LAG
    status = 503 if failed or lagging or sweeps_failed else 200
    if failed:
        body: dict[str, object] = {"status": "view failed", "failed": failed, "lag": lag}
    else:
        state = "sweeps stopped" if sweeps_failed else "lagging" if lagging else "ready"
        body = {"status": state, "lag": lag}
    return Response(msgspec.json.encode(body), status_code=status, media_type="application/json")


def _read(runtime: Runtime) -> tuple[dict[str, int], datetime | None]:
    """The views' lag and when deadlines were last swept (by any process)."""
    beat = runtime.heartbeat if runtime.sweep_every is not None else None
    return runtime.views.lag(), beat.last() if beat is not None else None


def sweeps_late(runtime: Runtime, last: datetime | None, now: datetime) -> bool:
    """Deadlines not swept within two intervals (and a grace for a long sweep), counted from
    this process's start when none has been seen since: the sweeping process is dead, hung,
    or cannot take the lock."""
    if runtime.sweep_every is None:
        return False
    since = max(last, runtime.started) if last is not None else runtime.started
    return now - since > timedelta(seconds=2 * runtime.sweep_every) + SWEEP_GRACE


HANDLERS = [health, ready]
