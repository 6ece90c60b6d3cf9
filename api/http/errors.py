"""The one place that turns errors into RFC 9457 problem+json answers.

Every answer is in the caller's language (``api.http.i18n``: Chinese unless English is asked
for), says so in ``Content-Language``, and names the refused field twice: by its JSON path in
``field``, which clients key on, and in words in ``detail`` (摘要, "party 1's phone number"),
with what the field expects (``api.http.expectations``, ``api.http.messages``). No regular
expression, type name or library message reaches the caller: those are for programmers, and
the people reading these answers fill in forms.
"""

from __future__ import annotations

import logging
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
    HTTP_410_GONE,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)

from api.http import expectations, i18n, messages
from api.http.i18n import EN, ZH, Language, pick
from api.http.labels import GLOSSES, label
from domain.clue import ClueNotFoundError
from domain.errors import (
    CaseNotFoundError,
    CommandNotAllowedError,
    InvalidInputError,
    InvitationExpiredError,
    InvitationUsedError,
    KeyPersonNotFoundError,
    KeyPersonRemovedError,
    NotPermittedError,
    PolicyError,
    UnknownInvitationError,
    UnknownUnitError,
    UnknownUserError,
    UserExistsError,
    VersionConflictError,
)
from projections.db import TRANSIENT_ERRORS

PROBLEM = "application/problem+json"

log = logging.getLogger(__name__)


class ForbiddenError(Exception):
    """The caller's role or unit does not reach this case, unit or command. ``zh`` says it
    in Chinese where the general words (你无权执行此操作) would not tell the caller what to do."""

    def __init__(self, english: str, zh: str = "") -> None:
        super().__init__(english)
        self.zh = zh


class BodyRefusedError(Exception):
    """A request body refused before it is decoded (``api.http.bodies``): not JSON (415) or a
    key given twice (400). ``rule`` and ``limits`` say it in other languages: ``media_type``
    (``given``, ``expected``) or ``duplicate_key`` (``key``)."""

    def __init__(
        self,
        status: int,
        field: str,
        reason: str,
        rule: str = "",
        limits: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{field}: {reason}")
        self.status = status
        self.field = field
        self.reason = reason
        self.rule = rule
        self.limits = limits or {}


class IdempotencyKeyReuseError(Exception):
    """An Idempotency-Key came back with a different request body."""

    field = "Idempotency-Key"


class TokenRefusedError(NotAuthorizedException):
    """A bearer token refused (401), with what was wrong in ``code``: ``missing``,
    ``expired``, ``not_yet_valid`` or ``invalid`` (``api.http.messages.TOKEN``)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail=detail)
        self.code = code


def document(status: int, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    """An RFC 9457 problem document."""
    return {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}


def _answer(body: dict[str, Any], language: Language) -> Response[bytes]:
    """A problem document as the answer, with the language its words are in."""
    answer = Response(msgspec.json.encode(body), status_code=body["status"], media_type=PROBLEM)
    answer.headers["Content-Language"] = language
    answer.headers["Vary"] = "Accept-Language"
    return answer


def problem(status: int, title: str, detail: str, **extra: Any) -> Response[bytes]:
    """A problem answer from English words (the command runner's header checks, ``/ready``),
    told in the language of the request being answered (``api.http.i18n.current``)."""
    language = i18n.current()
    if language == ZH:
        title = messages.title(title, status, ZH)
        detail = _header_rule(status, extra.get("field")) or _in_general(status, detail, ZH)
    return _answer(document(status, title, detail, **extra), language)


def _header_rule(status: int, field: object) -> str | None:
    """The command runner's refusals of a request header, in Chinese."""
    if status != HTTP_400_BAD_REQUEST:
        return None
    if field == "If-Match":
        return '请求头 If-Match 应为案件的版本号，如 "7"。'
    if field == "Idempotency-Key":
        from api.http.commands import MAX_KEY_LENGTH  # the runner imports this module

        return f"请求头 Idempotency-Key 应为 1 到 {MAX_KEY_LENGTH} 个字符。"
    return None


def _in_general(status: int, english: str, language: Language) -> str:
    """What an answer of ``status`` means in ``language``, with the English words beside it
    when they say more than the status does."""
    general = messages.general(status, language)
    if language == EN:
        return english or general
    plain = {messages.general(status, EN).lower(), messages.phrase(status).lower()}
    said_more = english and english.strip(" .").lower() not in plain
    return f"{general}（{english}）。" if said_more else f"{general}。"


# attribute of a domain error → member of the problem document
_DETAILS = {
    "field": "field",
    "reason": "reason",
    "current_version": "current_version",
    "command": "command",
    "status": "case_status",
    "key": "field",
    "user": "user",
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
    (KeyPersonNotFoundError, HTTP_404_NOT_FOUND, "Not found"),
    (KeyPersonRemovedError, HTTP_409_CONFLICT, "Command not allowed"),
    (ClueNotFoundError, HTTP_404_NOT_FOUND, "Not found"),
    (UnknownUserError, HTTP_404_NOT_FOUND, "Not found"),
    (UserExistsError, HTTP_409_CONFLICT, "User exists"),
    (UnknownInvitationError, HTTP_404_NOT_FOUND, "Not found"),
    (InvitationUsedError, HTTP_409_CONFLICT, "Invitation used"),
    (InvitationExpiredError, HTTP_410_GONE, "Invitation expired"),
    (VersionConflictError, HTTP_409_CONFLICT, "Version conflict"),
    (CommandNotAllowedError, HTTP_409_CONFLICT, "Command not allowed"),
    (NotPermittedError, HTTP_403_FORBIDDEN, "Forbidden"),
    (ForbiddenError, HTTP_403_FORBIDDEN, "Forbidden"),
    (IdempotencyKeyReuseError, HTTP_422_UNPROCESSABLE_ENTITY, "Idempotency-Key reused"),
    (PolicyError, HTTP_422_UNPROCESSABLE_ENTITY, "Invalid policy"),
]


def _domain_document(error: Exception, language: Language, scope: str = "") -> dict[str, Any]:
    for family, status, title in _DOMAIN:
        if isinstance(error, family):
            fields = _fields(error)
            detail = str(error)
            if language == ZH:
                detail, reason = _in_chinese(error, scope)
                if reason is not None:
                    fields["reason"] = reason
            elif isinstance(error, InvalidInputError | UnknownUnitError):
                detail = f"{label(fields['field'], EN, scope)}: {fields['reason']}"
            return document(status, messages.title(title, status, language), detail, **fields)
    return document(
        HTTP_500_INTERNAL_SERVER_ERROR,
        messages.title("Internal error", HTTP_500_INTERNAL_SERVER_ERROR, language),
        messages.general(HTTP_500_INTERNAL_SERVER_ERROR, language),
    )


def _in_chinese(error: Exception, scope: str) -> tuple[str, str | None]:
    """(detail, reason) of a domain error in Chinese, from its attributes."""
    if isinstance(error, InvalidInputError):
        said = messages.rule(error.rule, error.limits) if error.rule else None
        reason = said or f"不符合要求（{error.reason}）"
        return f"{label(error.field, ZH, scope)}：{reason}。", reason
    if isinstance(error, UnknownUnitError):
        reason = f"没有代码为 {error.code} 的单位"
        return f"{label(_fields(error)['field'], ZH, scope)}：{reason}。", reason
    if isinstance(error, PolicyError):
        reason = f"无效（{error.reason}）"
        return f"政策配置项 {error.key} {reason}。", reason
    if isinstance(error, UnknownInvitationError | InvitationUsedError | InvitationExpiredError):
        return messages.invitation(error), None
    if isinstance(error, UnknownUserError | UserExistsError):
        return _staff_detail(error), None
    said = messages.clue_refusal(error) or messages.key_person_refusal(error)
    return said or _chinese_detail(error), None


def _staff_detail(error: UnknownUserError | UserExistsError) -> str:
    if isinstance(error, UnknownUserError):
        return f"人员名录中没有用户 {error.user}。"
    return f"人员名录中已有用户 {error.user}；修改其信息请用 PUT /api/v1/users/{error.user}。"


def _chinese_detail(error: Exception) -> str:
    """The detail of a domain error that names no field, in Chinese."""
    if isinstance(error, CaseNotFoundError):
        return f"找不到案件 {error.case_id}。"
    if isinstance(error, VersionConflictError):
        seen = error.expected_version
        now = f"案件现在是第 {error.current_version} 版；请重新读取后再试。"
        return f"你看到的是第 {seen} 版，{now}" if seen else f"案件在办理期间不断被他人修改，{now}"
    if isinstance(error, CommandNotAllowedError):
        status = GLOSSES.get(error.status, error.status)
        command = messages.COMMANDS.get(error.command, error.command)
        why = f"（{messages.not_allowed(error.detail)}）" if error.detail else ""
        return f"案件当前为「{status}」，不能{command}{why}。"
    if isinstance(error, NotPermittedError):
        command = messages.COMMANDS.get(error.command, error.command)
        return f"只有{messages.APPROVERS.get(error.needs, error.needs)}可以{command}。"
    if isinstance(error, IdempotencyKeyReuseError):
        return "这个 Idempotency-Key 已用于另一个请求；新的请求请使用新的键。"
    return _forbidden(error)


def _forbidden(error: Exception) -> str:
    """A ForbiddenError in its own Chinese words when it has them, else in general ones."""
    if isinstance(error, ForbiddenError) and error.zh:
        return error.zh
    return _in_general(HTTP_403_FORBIDDEN, str(error), ZH)


def _handler(request: Request[Any, Any, Any]) -> Any:
    """The route handler a request reached (None before routing, as for an unknown path)."""
    return request.scope.get("route_handler")


def _scope(request: Request[Any, Any, Any]) -> str:
    """The name of the body type a request decodes into: a few fields mean other things in
    other bodies (``kind`` of a deadline, not of a case)."""
    handler = _handler(request)
    named = getattr(expectations.body_type(handler), "__name__", "")
    # or the handler's own, for a query whose names mean something else there (``opt``)
    return named or (str(handler.opt.get("fields", "")) if handler is not None else "")


def _domain(request: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
    language = i18n.of(request)
    return _answer(_domain_document(error, language, _scope(request)), language)


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
    """The problem document a refusal is answered with, to keep and tell again: in the
    language of the request that was refused."""
    return _domain_document(error, i18n.current())


def told_headers(told: dict[str, Any]) -> dict[str, str]:
    """The headers of a kept refusal told again (``refusal``): the language it was told in,
    read from its title (each title is one of a fixed set, in one language or the other)."""
    chinese = told.get("title") in messages.TITLES.values()
    return {"Content-Language": ZH if chinese else EN, "Vary": "Accept-Language"}


def _invalid_member(error: dict[str, Any]) -> tuple[str, str]:
    """(field, msgspec's message) of one of Litestar's validation errors, the field as a path
    like ``parties[0].name`` (``body`` for the request body as a whole)."""
    key = str(error.get("key") or "")
    message = str(error.get("message") or "invalid")
    path = "" if key == "data" and error.get("source") == "body" else key
    for opening in ("Object contains unknown field `", "Object missing required field `"):
        if message.startswith(opening):  # msgspec names the object; the member is here
            member = message.removeprefix(opening).partition("`")[0]
            path = f"{path}.{member}" if path else member
    if message == f"'{key}'":  # the body (or parameter) is missing altogether
        message = "is required"
    return path or "body", message


def _reason(
    request: Request[Any, Any, Any], error: dict[str, Any], language: Language
) -> tuple[str, str]:
    """(field, why) of one validation error, why said as what the field expects."""
    field, message = _invalid_member(error)
    handler = _handler(request)
    if error.get("source") == "body":
        path = "" if field == "body" else field
        kind = expectations.type_at(expectations.body_type(handler), path)
    else:
        kind = expectations.type_at(expectations.parameter_type(handler, field), "")
    return field, expectations.reason(message, kind, language)


def _validation(request: Request[Any, Any, Any], error: ValidationException) -> Response[bytes]:
    language = i18n.of(request)
    errors = [e for e in (error.extra or []) if isinstance(e, dict)]
    malformed = "JSON is malformed" in str(error.detail)
    if not errors:
        return _malformed(str(error.detail), language)
    field, reason = _reason(request, errors[0], language)
    # No body at all where one is needed is as unreadable as malformed JSON.
    missing_body = field == "body" and _invalid_member(errors[0])[1] == "is required"
    status = HTTP_400_BAD_REQUEST if malformed or missing_body else HTTP_422_UNPROCESSABLE_ENTITY
    # each error as Litestar lists them, its message said as the field's expectation
    told = [{**each, "message": _reason(request, each, language)[1]} for each in errors]
    separator = "：" if language == ZH else ": "
    detail = f"{label(field, language, _scope(request))}{separator}{reason}"
    detail += "。" if language == ZH else ""
    title = messages.title("Invalid input", status, language)
    return _answer(
        document(status, title, detail, field=field, reason=reason, errors=told), language
    )


def _malformed(english: str, language: Language) -> Response[bytes]:
    """A body that is not JSON at all (400)."""
    reason = english if language == EN else "不是有效的 JSON"
    detail = f"{label('body', EN)}: {english}" if language == EN else "请求内容不是有效的 JSON。"
    title = messages.title("Bad request", HTTP_400_BAD_REQUEST, language)
    return _answer(
        document(HTTP_400_BAD_REQUEST, title, detail, field="body", reason=reason), language
    )


_TITLES = {
    HTTP_400_BAD_REQUEST: "Bad request",
    HTTP_401_UNAUTHORIZED: "Unauthorized",
    HTTP_403_FORBIDDEN: "Forbidden",
    HTTP_404_NOT_FOUND: "Not found",
    405: "Method not allowed",
    413: "Request body too large",
    429: "Too many requests",
    HTTP_500_INTERNAL_SERVER_ERROR: "Internal error",
    HTTP_503_SERVICE_UNAVAILABLE: "Service unavailable",
}


def _http(request: Request[Any, Any, Any], error: HTTPException) -> Response[bytes]:
    language = i18n.of(request)
    status = error.status_code
    detail = str(error.detail)
    if status >= HTTP_500_INTERNAL_SERVER_ERROR:
        log.error("%s %s: %s", request.method, request.url.path, error.detail)
        if status != HTTP_503_SERVICE_UNAVAILABLE:  # a fault here: the client learns no more
            detail = messages.general(status, EN)
    if status == HTTP_400_BAD_REQUEST:  # Litestar's: a body it cannot decode
        return _malformed(detail, language)
    english_title = _TITLES.get(status, detail or "Error")
    title = messages.title(english_title, status, language)
    if status == HTTP_401_UNAUTHORIZED:
        code = error.code if isinstance(error, TokenRefusedError) else "invalid"
        answer = _answer(document(status, title, pick(messages.TOKEN[code], language)), language)
        # RFC 7235 §3.1: say which scheme works; RFC 6750 §3.1: and why this token did not
        problem_with_token = ', error="invalid_token"' if code != "missing" else ""
        answer.headers["WWW-Authenticate"] = f'Bearer realm="fengqiao"{problem_with_token}'
        return answer
    answer = _answer(document(status, title, _in_general(status, detail, language)), language)
    # the exception's own headers, e.g. Allow on a 405 (RFC 9110 §15.5.6)
    answer.headers.update(error.headers or {})
    return answer


def _body(request: Request[Any, Any, Any], error: BodyRefusedError) -> Response[bytes]:
    language = i18n.of(request)
    english_title = "Unsupported media type" if error.status == 415 else "Bad request"
    title = messages.title(english_title, error.status, language)
    reason = error.reason
    if language == ZH:
        if error.rule == "media_type":
            expected = error.limits.get("expected", "application/json")
            reason = f"应为 {expected}，而不是 {error.limits.get('given') or '空'}"
        elif error.rule == "duplicate_key":
            reason = "在同一个 JSON 对象里出现了不止一次（只能出现一次）"
        else:
            reason = f"不符合要求（{error.reason}）"
        detail = f"{label(error.field, ZH, _scope(request))}：{reason}。"
    else:
        detail = f"{label(error.field, EN, _scope(request))}: {reason}"
    return _answer(
        document(error.status, title, detail, field=error.field, reason=reason), language
    )


def _unreadable(request: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
    """What Litestar's JSON decoding lets through: bytes that are not UTF-8, or nesting deeper
    than the decoder's recursion limit. Both are malformed bodies, not server faults."""
    language = i18n.of(request)
    if isinstance(error, RecursionError):
        said = ("不是有效的 JSON：嵌套层数过多", "JSON is malformed: nested too deeply")
    else:
        said = ("不是有效的 JSON：不是 UTF-8 编码", "JSON is malformed: not valid UTF-8")
    reason = pick(said, language)
    detail = f"{label('body', language)}{'' if language == ZH else ': '}{reason}"
    title = messages.title("Bad request", HTTP_400_BAD_REQUEST, language)
    return _answer(
        document(HTTP_400_BAD_REQUEST, title, detail, field="body", reason=reason), language
    )


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
    language = i18n.of(request)
    detail = pick(
        ("暂时无法访问数据存储，请稍后再试。", "the store cannot be reached; try again shortly"),
        language,
    )
    title = messages.title("Service unavailable", HTTP_503_SERVICE_UNAVAILABLE, language)
    answer = _answer(document(HTTP_503_SERVICE_UNAVAILABLE, title, detail), language)
    answer.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return answer


def _unexpected(request: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
    """A bug: logged with its traceback; the client learns only that it failed."""
    log.error("%s %s failed", request.method, request.url.path, exc_info=error)
    language = i18n.of(request)
    return _answer(_domain_document(error, language), language)


EXCEPTION_HANDLERS: dict[Any, Any] = {
    CaseNotFoundError: _domain,
    KeyPersonNotFoundError: _domain,
    KeyPersonRemovedError: _domain,
    CommandNotAllowedError: _domain,
    ClueNotFoundError: _domain,
    InvalidInputError: _domain,
    NotPermittedError: _domain,
    PolicyError: _domain,
    UnknownUnitError: _domain,
    UnknownUserError: _domain,
    UserExistsError: _domain,
    UnknownInvitationError: _domain,
    InvitationUsedError: _domain,
    InvitationExpiredError: _domain,
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
