"""What the OpenAPI document says an endpoint answers: its success type, and the problem
documents (``application/problem+json``) of every error status it can return.

The handlers that answer with prepared bytes (commands, registration, a case) would otherwise be
documented as a string, and their errors in Litestar's default shape, which is not what is sent.
"""

from __future__ import annotations

from litestar.openapi import ResponseSpec

from api.http.errors import PROBLEM
from api.http.schemas import ProblemOut

ERRORS = {
    400: "Malformed JSON, a key given twice, a bad If-Match or Idempotency-Key header.",
    401: "No token, or a bad or expired one.",
    403: "Outside the caller's subtree or role, or it needs an approver.",
    404: "No such case.",
    409: "A stale If-Match (current_version), or not allowed in this status.",
    413: "A body over 1 MiB.",
    415: "A body not declared JSON.",
    422: "A field refused (named, with the limit), or an Idempotency-Key reused.",
    503: "The store cannot be reached; Retry-After says when to try again.",
}
READ_ERRORS = (400, 401, 403, 404, 422, 503)
REGISTER_ERRORS = (400, 401, 403, 413, 415, 422, 503)


def answers(
    status: int, answer: type, description: str, errors: tuple[int, ...] = tuple(ERRORS)
) -> dict[int, ResponseSpec]:
    """The ``responses`` of a route: ``answer`` on ``status``, problem documents on ``errors``."""
    problems = {
        code: ResponseSpec(
            ProblemOut, description=ERRORS[code], media_type=PROBLEM, generate_examples=False
        )
        for code in errors
    }
    return {status: ResponseSpec(answer, description=description), **problems}
