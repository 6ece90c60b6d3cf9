"""``POST /api/v1/cases/{id}/<path>``: one route per command payload, made by one factory.

Each route decodes its payload (a ``CasePayload`` Struct, named as its domain command), turns
it into the command and sends it through ``api.http.commands.run`` (Idempotency-Key, If-Match,
permission, read-your-writes). The path segment is the command's own ``path``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from litestar import Request, Response, post
from litestar.handlers import HTTPRouteHandler

from api.http import schemas
from api.http.commands import case_command, run
from api.http.openapi import (
    BODYLESS_COMMAND_ERRORS,
    COMMAND_ERRORS,
    COMMAND_HEADERS,
    ETAG,
    answers,
    contract,
)
from api.http.runtime import Runtime

Req = Request[Any, Any, Any]


async def _send(
    runtime: Runtime, request: Req, case_id: UUID, payload: schemas.CasePayload
) -> Response[bytes]:
    command = payload.to_command()
    return await run(runtime, request, case_command(runtime, case_id, command))


# What a command can answer, for the OpenAPI document: the case, or a problem document (one
# with a body also refuses a body that is not JSON, 415).
ANSWER = "The case as the command left it (ETag: its version)."
COMMAND_ANSWERS = answers(200, schemas.CaseOut, ANSWER, COMMAND_ERRORS)
BODYLESS_COMMAND_ANSWERS = answers(200, schemas.CaseOut, ANSWER, BODYLESS_COMMAND_ERRORS)
COMMAND = contract(headers={200: {"ETag": ETAG}}, parameters=COMMAND_HEADERS)
OPTIONAL_BODY_COMMAND = contract(
    headers={200: {"ETag": ETAG}}, parameters=COMMAND_HEADERS, optional_body=True
)

# The handler names of the first release: the OpenAPI document's operation ids and summaries
# are made from them, and clients generated from it call them by these names. Frozen.
HANDLER_NAMES: dict[type[schemas.CasePayload], str] = {
    schemas.AssessCase: "assess",
    schemas.SignCase: "sign",
    schemas.AssignCase: "assign",
    schemas.RecordMediationSession: "mediation_session",
    schemas.ResolveCase: "resolve",
    schemas.TerminateCase: "terminate",
    schemas.ReferCase: "refer",
    schemas.AnswerReferral: "answer_referral",
    schemas.JudicialConfirmation: "judicial_confirmation",
    schemas.RecordFollowUp: "follow_up",
    schemas.RateCase: "rate",
    schemas.PauseCase: "pause",
    schemas.ResumeCase: "resume",
    schemas.ExtendDeadline: "extend",
    schemas.EscalateCase: "escalate",
    schemas.LowerLevel: "lower",
    schemas.ReopenCase: "reopen",
    schemas.CloseCase: "close_case",
    schemas.RejectCase: "reject",
    schemas.AddNote: "add_note",
}


def command_route(payload: type[schemas.CasePayload]) -> HTTPRouteHandler:
    """The route of one command. Litestar reads the body's type from the handler's
    annotations, so they are set to the real payload class."""
    annotations: dict[str, Any] = {"case_id": UUID, "request": Req, "runtime": Runtime}
    handler: Callable[..., Any]
    if payload.__struct_fields__ and len(payload.__struct_defaults__) == len(
        payload.__struct_fields__
    ):
        # every field optional: a body may be left out (the command before it had none)

        async def maybe_body(
            case_id: UUID, request: Req, runtime: Runtime, data: Any = None
        ) -> Any:
            return await _send(runtime, request, case_id, data or payload())

        handler, annotations["data"] = maybe_body, payload
        responses, operation = COMMAND_ANSWERS, OPTIONAL_BODY_COMMAND
    elif payload.__struct_fields__:

        async def with_body(case_id: UUID, request: Req, runtime: Runtime, data: Any) -> Any:
            return await _send(runtime, request, case_id, data)

        handler, annotations["data"] = with_body, payload
        responses, operation = COMMAND_ANSWERS, COMMAND
    else:

        async def without_body(case_id: UUID, request: Req, runtime: Runtime) -> Any:
            return await _send(runtime, request, case_id, payload())

        handler, responses, operation = without_body, BODYLESS_COMMAND_ANSWERS, COMMAND

    # A payload added later is named after itself.
    handler.__name__ = handler.__qualname__ = HANDLER_NAMES.get(payload, payload.__name__)
    handler.__annotations__ = {**annotations, "return": Response[bytes]}
    return post(
        f"/cases/{{case_id:uuid}}/{payload.command.path}",
        status_code=200,
        name=payload.__name__,
        responses=responses,
        operation_class=operation,
    )(handler)


# Every payload defined in api.http.schemas is a route.
HANDLERS = [command_route(payload) for payload in schemas.CasePayload.__subclasses__()]
