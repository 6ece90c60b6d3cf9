"""The one place that turns errors into RFC 9457 problem+json answers."""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from eventsourcing.persistence import InterfaceError as StoreInterfaceError
from eventsourcing.persistence import OperationalError as StoreOperationalError
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
    HTTP_503_SERVICE_UNAVAILABLE,
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
from projections.db import TRANSIENT_ERRORS

PROBLEM = "application/problem+json"

log = logging.getLogger(__name__)


class ForbiddenError(Exception):
    """The caller's role or unit does not reach this case, unit or command."""


class BodyRefusedError(Exception):
    """A request body refused before it is decoded (``api.http.bodies``): not JSON (415) or a
    key given twice (400)."""

    def __init__(self, status: int, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.status = status
        self.field = field
        self.reason = reason


class IdempotencyKeyReuseError(Exception):
    """An Idempotency-Key came back with a different request body."""

    field = "Idempotency-Key"


def document(status: int, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    """An RFC 9457 problem document."""
    return {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}


def problem(status: int, title: str, detail: str, **extra: Any) -> Response[bytes]:
    body = document(status, title, detail, **extra)
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
        fields.setdefault("field", "unit")
        fields["reason"] = f"no unit has code {error.code!r}"
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


def _domain_document(error: Exception) -> dict[str, Any]:
    for family, status, title in _DOMAIN:
        if isinstance(error, family):
            return document(status, title, str(error), **_fields(error))
    return document(HTTP_500_INTERNAL_SERVER_ERROR, "Internal error", "unexpected error")


def _domain(request: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
    body = _domain_document(error)
    return Response(msgspec.json.encode(body), status_code=body["status"], media_type=PROBLEM)


# The refusals a case (or the jurisdiction, or the policy) decides on a request's content:
# the same request gets the same refusal, so a request sent with an Idempotency-Key keeps it
# (``api.http.commands``). Not among them: a stale If-Match or a lost race (sending again may
# succeed), a missing case, and the caller's permissions (checked afresh on every resend).
REFUSALS: tuple[type[Exception], ...] = (
    InvalidInputError,
    UnknownUnitError,
    CommandNotAllowedError,
    NotPermittedError,
    PolicyError,
)


def refusal(error: Exception) -> dict[str, Any]:
    """The problem document a refusal is answered with, to keep and tell again."""
    return _domain_document(error)


# msgspec names the object, not the member, for these: the member is in the message
_MEMBER = re.compile(r"(?:unknown field|missing required field) `([^`]+)`")


def _invalid_member(error: dict[str, Any]) -> tuple[str, str]:
    """(field, reason) of one of Litestar's validation messages, the field as a path like
    ``parties[0].name`` (``body`` for the request body as a whole)."""
    key = str(error.get("key") or "")
    message = str(error.get("message") or "invalid")
    path = "" if key == "data" and error.get("source") == "body" else key
    named = _MEMBER.search(message)
    if named:
        path = f"{path}.{named.group(1)}" if path else named.group(1)
    if message == f"'{key}'":  # the body (or parameter) is missing altogether
        message = "is required"
    elif "matching regex" in message and "x00" in message:  # schemas.NO_NUL
        message = "must not contain NUL characters"
    return path or "body", message


def _validation(request: Request[Any, Any, Any], error: ValidationException) -> Response[bytes]:
    errors = [e for e in (error.extra or []) if isinstance(e, dict)]
    malformed = "JSON is malformed" in str(error.detail)
    if not errors:
        detail = str(error.detail)
        return problem(HTTP_400_BAD_REQUEST, "Bad request", detail, field="body", reason=detail)
    field, reason = _invalid_member(errors[0])
    # No body at all where one is needed is as unreadable as malformed JSON.
    status = (
        HTTP_400_BAD_REQUEST
        if malformed or (field == "body" and reason == "is required")
        else HTTP_422_UNPROCESSABLE_ENTITY
    )
    return problem(
        status, "Invalid input", str(error.detail), field=field, reason=reason, errors=errors
    )


def _http(request: Request[Any, Any, Any], error: HTTPException) -> Response[bytes]:
    titles = {
        HTTP_400_BAD_REQUEST: "Bad request",
        HTTP_401_UNAUTHORIZED: "Unauthorized",
        HTTP_403_FORBIDDEN: "Forbidden",
        HTTP_404_NOT_FOUND: "Not found",
        413: "Request body too large",
    }
    title = titles.get(error.status_code, str(error.detail) or "Error")
    if error.status_code >= HTTP_500_INTERNAL_SERVER_ERROR:
        log.error("%s %s: %s", request.method, request.url.path, error.detail)
    detail = str(error.detail)
    if error.status_code == HTTP_400_BAD_REQUEST:  # Litestar's: a body it cannot decode
        answer = problem(error.status_code, title, detail, field="body", reason=detail)
    else:
        answer = problem(error.status_code, title, detail)
    # the exception's own headers, e.g. Allow on a 405 (RFC 9110 §15.5.6)
    answer.headers.update(error.headers or {})
    if error.status_code == HTTP_401_UNAUTHORIZED:  # RFC 7235 §3.1: say which scheme works
        answer.headers["WWW-Authenticate"] = 'Bearer realm="fengqiao"'
    return answer


def _body(request: Request[Any, Any, Any], error: BodyRefusedError) -> Response[bytes]:
    title = "Unsupported media type" if error.status == 415 else "Bad request"
    return problem(error.status, title, str(error), field=error.field, reason=error.reason)


def _unreadable(request: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
    """What Litestar's JSON decoding lets through: bytes that are not UTF-8, or nesting deeper
    than the decoder's recursion limit. Both are malformed bodies, not server faults."""
    if isinstance(error, RecursionError):
        reason = "JSON is malformed: nested too deeply"
    else:
        reason = "JSON is malformed: not valid UTF-8"
    return problem(HTTP_400_BAD_REQUEST, "Bad request", reason, field="body", reason=reason)


# Errors that mean the store cannot be reached right now (down, restarting, out of
# connections), whichever layer raised them: the request may be sent again shortly.
STORE_UNAVAILABLE: tuple[type[Exception], ...] = (
    StoreOperationalError,
    StoreInterfaceError,
    *TRANSIENT_ERRORS,
)
RETRY_AFTER_SECONDS = 5


def _unavailable(request: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
    """The store is unreachable: 503 with Retry-After, never a 500. Nothing was decided that
    the client cannot learn by sending the same request again (with its Idempotency-Key)."""
    log.warning("%s %s: store unavailable: %r", request.method, request.url.path, error)
    answer = problem(
        HTTP_503_SERVICE_UNAVAILABLE,
        "Service unavailable",
        "the store cannot be reached; try again shortly",
    )
    answer.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return answer


def _unexpected(request: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
    """A bug: logged with its traceback; the client learns only that it failed."""
    log.error("%s %s failed", request.method, request.url.path, exc_info=error)
    return problem(HTTP_500_INTERNAL_SERVER_ERROR, "Internal error", "unexpected error")


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
    BodyRefusedError: _body,
    ValidationException: _validation,
    NotAuthorizedException: _http,
    PermissionDeniedException: _http,
    HTTPException: _http,
    RecursionError: _unreadable,
    UnicodeDecodeError: _unreadable,
    **dict.fromkeys(STORE_UNAVAILABLE, _unavailable),
    Exception: _unexpected,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM", "MediaType", "problem"]
