"""Liveness and readiness, outside ``/api/v1`` and without a token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import anyio
import anyio.to_thread
import msgspec
from litestar import Response, get

from api.http.errors import PROBLEM, problem
from api.http.openapi import answers, component, contract
from api.http.runtime import Runtime
from api.http.schemas import HealthOut, ReadyOut
from projections.store_check import StoreCheckRecord

MAX_READY_LAG = 10_000  # log positions a view may trail before the process reports unready
READY_WITHIN_SECONDS = 1.0  # a load balancer's probe gets an answer in this time, whatever
# what the store is given of that second: the rest is for the thread and the answer
STORE_WITHIN_SECONDS = 0.5
SWEEP_GRACE = timedelta(seconds=30)  # a sweep through a large backlog takes a while


@get(
    "/health",
    opt={"public": True},
    responses=answers(200, HealthOut, "The process is alive.", ()),
    operation_class=contract(public=True),
)
async def health() -> dict[str, str]:
    return {"status": "alive"}


@get(
    "/ready",
    opt={"public": True},
    responses={
        **answers(200, ReadyOut, "Ready: fresh reads, deadlines swept.", ()),
        **answers(503, ReadyOut, "Not ready: lagging, a view failed or the sweeps stopped.", ()),
    },
    # or the store unreachable, or not answering in time: a problem document
    operation_class=contract(public=True, content={503: {PROBLEM: component("ProblemOut")}}),
)
async def ready(runtime: Runtime) -> Response[bytes]:
    """503 while the process cannot serve fresh reads or deadlines go unswept: the store
    unreachable or not answering within a second, a view stopped at what it cannot apply
    (named, with where and why, whichever process follows it), the sweeps stopped or late
    (whichever process runs them), the last store check finding the event store changed by
    hand (named by position), or a view too far behind."""
    readings: Readings | None = None
    try:
        with anyio.move_on_after(STORE_WITHIN_SECONDS):
            # abandoned, not awaited, when the store does not answer in time
            readings = await anyio.to_thread.run_sync(_read, runtime, abandon_on_cancel=True)
    except Exception as error:  # the store is unreachable: say so, do not crash
        return problem(503, "Not ready", f"store unreachable: {type(error).__name__}")
    if readings is None:
        return problem(503, "Not ready", f"store not answering within {READY_WITHIN_SECONDS} s")
    verdict = _verdict(runtime, readings, datetime.now(UTC))
    status = 200 if verdict.status == "ready" else 503
    body = msgspec.json.encode(verdict)
    return Response(body, status_code=status, media_type="application/json")


def _verdict(runtime: Runtime, readings: Readings, now: datetime) -> ReadyOut:
    """Ready, or the first thing wrong: a view stopped, the views and sweeps process gone, the
    sweeps stopped or late, a view too far behind."""
    lag = readings.lag
    if readings.failed:
        return ReadyOut(status="view failed", failed=readings.failed, lag=lag)
    if readings.store_check is not None:
        return ReadyOut(status="store check failed", store_check=readings.store_check, lag=lag)
    if readings.process_down is not None:
        return ReadyOut(status="views process down", down_since=readings.process_down, lag=lag)
    stopped = runtime.sweeps is not None and runtime.sweeps.failure is not None
    if stopped or sweeps_late(runtime, readings.last_sweep, now):
        return ReadyOut(status="sweeps stopped", lag=lag)
    if max(lag.values(), default=0) > MAX_READY_LAG:
        return ReadyOut(status="lagging", lag=lag)
    return ReadyOut(status="ready", lag=lag)


@dataclass(frozen=True)
class Readings:
    """What ``/ready`` reads from the stores, within its time bound."""

    lag: dict[str, int]
    failed: dict[str, str]  # stopped views, each with where and why
    last_sweep: datetime | None
    process_down: datetime | None  # serve --workers: the views and sweeps process is gone
    store_check: str | None = None  # the last store check, when it found the store changed


def _read(runtime: Runtime) -> Readings:
    """The views' lag, the views stopped (in any process) and when deadlines were last swept
    (by any process)."""
    beat = runtime.heartbeat if runtime.sweep_every is not None else None
    lag = runtime.views.lag()
    last, down = (beat.last(), beat.down_since()) if beat is not None else (None, None)
    check = StoreCheckRecord(runtime.views.merkle.db).failed()
    found = f"{check.at.isoformat()}: {check.summary}" if check is not None else None
    return Readings(lag, runtime.views.failures(), last, down, found)


def sweeps_late(runtime: Runtime, last: datetime | None, now: datetime) -> bool:
    """Deadlines not swept within two intervals (and a grace for a long sweep), counted from
    this process's start when none has been seen since: the sweeping process is dead, hung,
    or cannot take the lock."""
    if runtime.sweep_every is None:
        return False
    since = max(last, runtime.started) if last is not None else runtime.started
    return now - since > timedelta(seconds=2 * runtime.sweep_every) + SWEEP_GRACE


HANDLERS = [health, ready]
