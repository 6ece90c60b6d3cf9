"""``POST /api/v1/cases/{id}/<path>``: one route per command, made from one table.

Each route decodes its payload (a ``CasePayload`` Struct, named as its domain command), turns
it into the command and sends it through ``api.commands.run`` (Idempotency-Key, If-Match,
permission, read-your-writes). The path segment is the command's own ``path``.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, post
from litestar.handlers import HTTPRouteHandler

from api import schemas
from api.commands import case_command, run
from api.runtime import Runtime

Req = Request[Any, Any, Any]

# The commands sent over HTTP, by payload; payloads with no fields take no body.
PAYLOADS: tuple[type[schemas.CasePayload], ...] = (
    schemas.AssessCase, schemas.SignCase, schemas.AssignCase, schemas.RecordMediationSession,
    schemas.ResolveCase, schemas.TerminateCase, schemas.ReferCase, schemas.AnswerReferral,
    schemas.JudicialConfirmation, schemas.RecordFollowUp, schemas.RateCase, schemas.PauseCase,
    schemas.ResumeCase, schemas.ExtendDeadline, schemas.EscalateCase, schemas.LowerLevel,
    schemas.ReopenCase, schemas.CloseCase, schemas.RejectCase, schemas.AddNote,
)  # fmt: skip


def command_route(payload: type[schemas.CasePayload]) -> HTTPRouteHandler:
    """The route of one command; its name and summary are the payload's."""
    has_body = bool(payload.__struct_fields__)

    async def handler(
        case_id: UUID, request: Req, runtime: Runtime, data: Any = None
    ) -> Response[bytes]:
        command = (data if has_body else payload()).to_command()
        return await run(runtime, request, case_command(runtime, case_id, command))

    handler.__name__ = handler.__qualname__ = payload.__name__
    handler.__annotations__ = {
        "case_id": UUID,
        "request": Req,
        "runtime": Runtime,
        "return": Response[bytes],
    }
    if has_body:
        handler.__annotations__["data"] = payload
        handler.__defaults__ = None
    return post(
        f"/cases/{{case_id:uuid}}/{payload.command.path}",
        status_code=200,
        name=payload.__name__,
        summary=payload.__name__,
    )(handler)


HANDLERS = [command_route(payload) for payload in PAYLOADS]
