"""Running a command for a request: permission, If-Match, Idempotency-Key, read-your-writes.

Every POST goes through ``run``: the blocking work happens in a worker thread so the event loop
stays free, and the answer is the case as the command left it (with its version as ETag).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import anyio.to_thread
import msgspec
from litestar import Request, Response

from api.http.errors import problem
from api.http.idempotency import Stored
from api.http.permissions import require_command
from api.http.presenters import case_out
from api.http.runtime import Runtime
from domain.actors import Actor
from domain.case import Case
from domain.case.commands import CaseCommand


def expected_version(request: Request[Any, Any, Any]) -> int | None:
    """``If-Match: 7`` or ``If-Match: "7"``; None when absent."""
    value = request.headers.get("if-match")
    if value is None:
        return None
    text = value.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise ValueError('If-Match must be a case version, like "7"')
    return int(text)


def answer(
    runtime: Runtime,
    case: Case,
    status: int = 200,
    location: str | None = None,
    unmasked: bool = False,
) -> Stored:
    body = msgspec.json.encode(case_out(case, runtime.clock(), unmasked))
    headers = {"etag": f'"{case.version}"'}
    if location:
        headers["location"] = location
    return Stored(status, body, headers)


def respond(stored: Stored) -> Response[bytes]:
    return Response(
        stored.body,
        status_code=stored.status,
        media_type="application/json",
        headers=stored.headers,
    )


async def run(
    runtime: Runtime,
    request: Request[Any, Any, Any],
    work: Callable[[Actor, int | None], Stored],
) -> Response[bytes]:
    """Runs ``work`` once per Idempotency-Key, off the event loop."""
    actor: Actor = request.user
    try:
        version = expected_version(request)
    except ValueError as error:
        return problem(400, "Invalid input", str(error), field="If-Match")
    key = request.headers.get("idempotency-key")
    if key is not None and not 1 <= len(key) <= 200:
        return problem(
            400,
            "Invalid input",
            "Idempotency-Key must be 1 to 200 characters",
            field="Idempotency-Key",
        )
    body = await request.body()

    def guarded() -> Stored:
        if key is None:
            return work(actor, version)
        fingerprint = runtime.idempotency.fingerprint(request.method, request.url.path, body)
        # An answer is replayed only to the caller it was given to, acting with the same role
        # in the same unit: anyone else runs the command afresh, permission checks included.
        caller = f"{actor.user}\x1f{actor.role.value}\x1f{actor.unit}"
        first = runtime.idempotency.reserve(caller, key, fingerprint)
        if first is not None:
            return first
        try:
            stored = work(actor, version)
        except BaseException:
            runtime.idempotency.release(caller, key)
            raise
        runtime.idempotency.complete(caller, key, stored)
        return stored

    return respond(await anyio.to_thread.run_sync(guarded))


def case_command(
    runtime: Runtime, case_id: UUID, command: CaseCommand
) -> Callable[[Actor, int | None], Stored]:
    """The work of a command on an existing case: check who may, decide, wait for the views."""

    def work(actor: Actor, version: int | None) -> Stored:
        case = runtime.app.get_case(case_id)
        require_command(actor, runtime.app.units(), case, type(command))
        recorded = runtime.app.execute(case_id, command, actor, expected_version=version)
        runtime.saw(recorded.position)
        return answer(runtime, recorded.case)

    return work
