"""Running a command for a request: permission, If-Match, Idempotency-Key, read-your-writes.

Every POST goes through ``run``: the blocking work happens in a worker thread so the event loop
stays free, and the answer is the case as the command left it (with its version as ETag).

With an ``Idempotency-Key`` the command runs once per caller and key: its receipt
(``domain.receipt``) is saved in the same transaction as its events, and a resend — after a
timeout, a dropped connection or a crash, whenever it comes — is answered from that receipt:
the case at the version the command left, as of the time it ran. A refusal the case decided
is kept and told again the same way. Nothing is reserved beforehand, so nothing can be
stranded, and two copies racing each other meet at the store's uniqueness, not in a wait.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import anyio.to_thread
import msgspec
from litestar import Request, Response

from api.http.errors import (
    PROBLEM,
    REFUSALS,
    IdempotencyKeyReuseError,
    problem,
    refusal,
    told_headers,
)
from api.http.permissions import require_command, require_read
from api.http.presenters import case_out, repeat_links
from api.http.runtime import Runtime
from domain.actors import Actor
from domain.case import Case
from domain.case.commands import CaseCommand
from domain.receipt import CommandReceipt, Outcome, RequestKey

MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class Stored:
    """An answer: status, body and headers (the case's ETag, a new case's Location)."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str = "application/json"


# The work of a request: the caller, the version it saw (If-Match), its key (if it sent one)
# and the time the command runs at. It answers, or hands back the receipt a copy of the same
# request left first.
Work = Callable[[Actor, int | None, RequestKey | None, datetime], Stored | CommandReceipt]


def expected_version(request: Request[Any, Any, Any]) -> int | None:
    """``If-Match: 7`` or ``If-Match: "7"``; None when absent."""
    value = request.headers.get("if-match")
    if value is None:
        return None
    text = value.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise ValueError('If-Match must be a case version, like "7"')
    return int(text)


def case_location(case_id: UUID) -> str:
    return f"/api/v1/cases/{case_id}"


def answer(
    runtime: Runtime,
    case: Case,
    at: datetime,
    status: int = 200,
    location: str | None = None,
    unmasked: bool = False,
) -> Stored:
    """The case as an answer, its clocks' "overdue" as of ``at``, with its repeat links."""
    body = msgspec.json.encode(case_out(case, at, unmasked, repeat_links(runtime.views, case)))
    headers = {"etag": f'"{case.version}"'}
    if location:
        headers["location"] = location
    return Stored(status, body, headers)


def respond(stored: Stored) -> Response[bytes]:
    return Response(
        stored.body,
        status_code=stored.status,
        media_type=stored.media_type,
        headers=stored.headers,
    )


def request_key(actor: Actor, key: str, method: str, path: str, body: bytes) -> RequestKey:
    """The caller's key and a fingerprint of the request. An answer is replayed only to the
    caller it was given to, acting with the same role in the same unit: anyone else's
    identical key is their own request."""
    caller = f"{actor.user}\x1f{actor.role.value}\x1f{actor.unit}"
    digest = hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()
    return RequestKey(caller, key, digest)


async def run(
    runtime: Runtime,
    request: Request[Any, Any, Any],
    work: Work,
    case_id: UUID | None = None,
) -> Response[bytes]:
    """Runs ``work`` (once per Idempotency-Key) off the event loop; ``case_id`` is the case
    a command acts on (None for a registration)."""
    actor: Actor = request.user
    try:
        version = expected_version(request)
    except ValueError as error:
        return problem(400, "Invalid input", str(error), field="If-Match")
    key = request.headers.get("idempotency-key")
    if key is not None and not 1 <= len(key) <= MAX_KEY_LENGTH:
        reason = f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters"
        return problem(400, "Invalid input", reason, field="Idempotency-Key")
    if key is None:
        return respond(await anyio.to_thread.run_sync(_without_key, runtime, actor, version, work))
    body = await request.body()
    once = request_key(actor, key, request.method, request.url.path, body)
    stored = await anyio.to_thread.run_sync(_once, runtime, actor, version, once, work, case_id)
    return respond(stored)


def _without_key(runtime: Runtime, actor: Actor, version: int | None, work: Work) -> Stored:
    outcome = work(actor, version, None, runtime.clock())
    if isinstance(outcome, CommandReceipt):  # only keyed work can meet a receipt
        raise RuntimeError("a receipt answered a request sent without a key")
    return outcome


def _once(
    runtime: Runtime,
    actor: Actor,
    version: int | None,
    key: RequestKey,
    work: Work,
    case_id: UUID | None,
) -> Stored:
    """The receipt's answer when the request ran before; else run it (its receipt saved with
    its events) and answer, a refusal the case decided kept as the receipt."""
    earlier = runtime.app.receipt(key)
    if earlier is not None:
        return replay(runtime, actor, key, earlier)
    now = runtime.clock()
    try:
        outcome = work(actor, version, key, now)
    except REFUSALS as error:
        outcome = runtime.app.remember_refusal(key, now, case_id, refusal(error))
    if isinstance(outcome, CommandReceipt):
        return replay(runtime, actor, key, outcome)
    return outcome


def replay(runtime: Runtime, actor: Actor, key: RequestKey, receipt: CommandReceipt) -> Stored:
    """What the request was first answered, told again: to the same request only, and only
    while the caller may still see the case (it may since have moved out of their reach)."""
    if not receipt.answers(key):
        raise IdempotencyKeyReuseError("this Idempotency-Key was used with another request")
    if receipt.case_id is not None:
        require_read(actor, runtime.app.units(), runtime.app.get_case(receipt.case_id))
    if receipt.outcome is Outcome.REFUSED:
        told = receipt.refusal or {}
        return Stored(int(told["status"]), msgspec.json.encode(told), told_headers(told), PROBLEM)
    if receipt.case_id is None or receipt.case_version is None:
        raise RuntimeError(f"receipt {receipt.id} of a recorded command names no case")
    case = runtime.app.get_case(receipt.case_id, receipt.case_version)
    if receipt.outcome is Outcome.REGISTERED:
        return answer(runtime, case, receipt.answered_at, 201, case_location(case.id))
    return answer(runtime, case, receipt.answered_at)


def case_command(runtime: Runtime, case_id: UUID, command: CaseCommand) -> Work:
    """The work of a command on an existing case, in one pass: load the case, check who may
    and decide on that one instance, wait for the views. A keyed request's receipt was looked
    for by ``run`` already (``looked``)."""

    def work(
        actor: Actor, version: int | None, key: RequestKey | None, now: datetime
    ) -> Stored | CommandReceipt:
        units = runtime.app.units()

        def may(case: Case) -> None:
            require_command(actor, units, case, type(command))

        outcome = runtime.app.execute_once(
            key, case_id, command, actor, now, version, check=may, looked=key is not None
        )
        if isinstance(outcome, CommandReceipt):
            return outcome  # a copy of this request ran first
        runtime.saw(outcome.position)
        return answer(runtime, outcome.case, now)

    return work
