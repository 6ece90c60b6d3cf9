"""The one place that turns errors into RFC 9457 problem+json answers."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_401_UNAUTHORIZED,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_500_INTERNAL_SERVER_ERROR,
)

from domain.errors import (
    CaseNotFoundError,
    CommandNotAllowedError,
    InvalidInputError,
    NotPermittedError,
    PolicyError,
    UnknownUnitError,
    VersionConflictError,
)

PROBLEM = "application/problem+json"


class ForbiddenError(Exception):
    """The caller's role or unit does not reach this case, unit or command."""


class IdempotencyKeyReuseError(Exception):
    """An Idempotency-Key came back with a different request body."""

    field = "Idempotency-Key"


def problem(status: int, title: str, detail: str, **extra: Any) -> Response[bytes]:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return Response(msgspec.json.encode(body), status_code=status, media_type=PROBLEM)


# attribute of a domain error → member of the problem document
_DETAILS = {
    "field": "field",
    "reason": "reason",
    "current_version": "current_version",
    "command": "command",
    "status": "case_status",
    "key": "field",
}


def _fields(error: Exception) -> dict[str, Any]:
    """What a client needs beyond the message to act on the error."""
    fields = {out: getattr(error, name) for name, out in _DETAILS.items() if hasattr(error, name)}
    if isinstance(error, UnknownUnitError):
        fields["field"] = "unit"
    return fields


# error family → (status, title); the first matching class wins
_DOMAIN: list[tuple[type[Exception], int, str]] = [
    (InvalidInputError, HTTP_422_UNPROCESSABLE_ENTITY, "Invalid input"),
    (UnknownUnitError, HTTP_422_UNPROCESSABLE_ENTITY, "Unknown unit"),
    (CaseNotFoundError, HTTP_404_NOT_FOUND, "Not found"),
    (VersionConflictError, HTTP_409_CONFLICT, "Version conflict"),
    (CommandNotAllowedError, HTTP_409_CONFLICT, "Command not allowed"),
    (NotPermittedError, HTTP_403_FORBIDDEN, "Forbidden"),
    (ForbiddenError, HTTP_403_FORBIDDEN, "Forbidden"),
    (IdempotencyKeyReuseError, HTTP_422_UNPROCESSABLE_ENTITY, "Idempotency-Key reused"),
    (PolicyError, HTTP_422_UNPROCESSABLE_ENTITY, "Invalid policy"),
]


def _domain(request: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
    for family, status, title in _DOMAIN:
        if isinstance(error, family):
            return problem(status, title, str(error), **_fields(error))
    return problem(HTTP_500_INTERNAL_SERVER_ERROR, "Internal error", "unexpected error")


def _validation(request: Request[Any, Any, Any], error: ValidationException) -> Response[bytes]:
    status = (
        HTTP_400_BAD_REQUEST
        if "JSON is malformed" in str(error.detail)
        else HTTP_422_UNPROCESSABLE_ENTITY
    )
    return problem(status, "Invalid input", str(error.detail), errors=error.extra or [])


def _http(request: Request[Any, Any, Any], error: HTTPException) -> Response[bytes]:
    titles = {
        HTTP_400_BAD_REQUEST: "Bad request",
        HTTP_401_UNAUTHORIZED: "Unauthorized",
        HTTP_403_FORBIDDEN: "Forbidden",
        HTTP_404_NOT_FOUND: "Not found",
        413: "Request body too large",
    }
    title = titles.get(error.status_code, str(error.detail) or "Error")
    return problem(error.status_code, title, str(error.detail))


EXCEPTION_HANDLERS: dict[Any, Any] = {
    CaseNotFoundError: _domain,
    CommandNotAllowedError: _domain,
    InvalidInputError: _domain,
    NotPermittedError: _domain,
    PolicyError: _domain,
    UnknownUnitError: _domain,
    VersionConflictError: _domain,
    ForbiddenError: _domain,
    IdempotencyKeyReuseError: _domain,
    ValidationException: _validation,
    NotAuthorizedException: _http,
    PermissionDeniedException: _http,
    HTTPException: _http,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM", "MediaType", "problem"]
