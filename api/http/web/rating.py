"""好差评 by the public: the page a party opens from the SMS (``/rate/<token>``), no login.

``GET /rate/<token>`` shows the case's number and category and the form; ``POST`` records the
rating through the party's invitation (``RateByInvitation``) and answers the thank-you. The
form posts ``application/x-www-form-urlencoded``; a client may post JSON ``{grade, comment}``
instead and is answered in JSON (problem+json when refused, as the API answers).

- The token (``api.rating_links``) is the capability: signed with a key derived from the
  deployment's secret, it names the case and the invitation. A token not signed here, or
  altered, or naming an invitation the case never sent, is 404.
- The case decides the rest, and the page asks it before showing the form: an invitation
  used already is 409 (您已评价过，感谢), one past the rating window 410 (评价链接已过期), a case
  back in rework 409 with a polite notice. A second submit of the same form is the first
  case, so nothing is ever recorded twice, and no Idempotency-Key is needed.
- Bodies are read strictly (this router is outside ``/api/v1`` and its hook): JSON or a form
  only (415), no key twice (400), only ``grade`` (one of the five) and ``comment`` (at most
  500 characters), else 422 with the form shown again and what was typed kept.
- Every request to these routes counts against its client's address:
  ``FENGQIAO_RATE_PAGE_LIMIT`` a minute (30 by default), then 429 with ``Retry-After``. The
  address is the connection's as the server reports it; fengqiao reads no forwarding header
  itself (uvicorn takes ``X-Forwarded-For`` only from the proxies in ``FORWARDED_ALLOW_IPS``,
  by default one on the same machine). Each process counts on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl
from uuid import UUID

import anyio.to_thread
import msgspec
from litestar import MediaType, Request, Response, Router, get, post
from litestar.exceptions import HTTPException, TooManyRequestsException
from litestar.middleware.rate_limit import RateLimitConfig

from api.http.bodies import is_json, no_repeated_keys
from api.http.errors import EXCEPTION_HANDLERS, STORE_UNAVAILABLE, BodyRefusedError
from api.http.messages import when
from api.http.runtime import Runtime
from api.http.schemas import GradeName, RatingComment
from api.http.web.rating_page import (
    CONTENT_SECURITY_POLICY,
    GRADES,
    CaseView,
    form_page,
    notice_page,
    thanks_page,
)
from api.rating_links import BadRatingLinkError, read_link
from domain.actors import Actor, Role
from domain.case import Case
from domain.case.commands import RateByInvitation
from domain.errors import (
    CaseNotFoundError,
    CommandNotAllowedError,
    InvalidInputError,
    InvitationExpiredError,
    InvitationUsedError,
    UnknownInvitationError,
)
from domain.status import CONCLUDED, Grade, Status

PATH = "/rate"
DEFAULT_LIMIT = 30  # requests a minute from one address (FENGQIAO_RATE_PAGE_LIMIT)
FORM = "application/x-www-form-urlencoded"
# The invitation is the party's; the case records the rating as theirs (citizen:<invitation>).
CITIZEN = Actor("citizen", Role.CITIZEN, "")
RATEABLE = CONCLUDED | {Status.CLOSED}
REWORKED = "the case is being reworked"  # as the case says it

log = logging.getLogger(__name__)
Req = Request[Any, Any, Any]


class CitizenRating(msgspec.Struct, forbid_unknown_fields=True):
    """What a party sends: a grade, and a comment if they like."""

    grade: GradeName
    comment: RatingComment = ""


class RatingRecorded(msgspec.Struct):
    """The answer to a JSON client: the case's number, the grade recorded and when."""

    number: str
    grade: str
    rated_at: datetime


# --- reading the case -------------------------------------------------------------------------


def _invited(runtime: Runtime, token: str) -> tuple[Case, str]:
    """The case a token names and its invitation's id, when the invitation can still be used
    now; else the refusal the case would give (``BadRatingLinkError`` for a token not ours)."""
    link = read_link(runtime.secret, token)
    case = runtime.app.get_case(link.case_id)
    key = str(link.invitation)
    if key not in case.invitations:
        raise UnknownInvitationError(key)
    if key in case.used_invitations:
        raise InvitationUsedError(key)
    expires_at = case.invitations[key][1]
    if runtime.clock() > expires_at:
        raise InvitationExpiredError(key, expires_at)
    if case.status not in RATEABLE:
        raise CommandNotAllowedError(RateByInvitation.words, case.status.value, REWORKED)
    return case, key


def _view(case: Case, key: str) -> CaseView:
    return CaseView(case.number, case.category, case.kind, case.invitations[key][1])


def _record(runtime: Runtime, token: str, rating: CitizenRating) -> tuple[CaseView, datetime]:
    """Records the rating through the invitation; the case decides (the checks of
    ``_invited`` again, at the moment it saves)."""
    case, key = _invited(runtime, token)
    now = runtime.clock()
    command = RateByInvitation(UUID(key), Grade(rating.grade), rating.comment)
    recorded = runtime.app.execute(case.id, command, CITIZEN, at=now)
    runtime.saw(recorded.position)
    return _view(case, key), now


# --- bodies -----------------------------------------------------------------------------------


def _fields_of_form(body: bytes) -> dict[str, str]:
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise BodyRefusedError(400, "body", "is not a form", "form") from None
    fields: dict[str, str] = {}
    for key, value in pairs:
        if key in fields:
            limits = {"key": key}
            raise BodyRefusedError(400, key, "is given more than once", "duplicate_key", limits)
        fields[key] = value
    return fields


def _decoded(body: bytes, media_type: str) -> CitizenRating:
    """The rating a body holds, read strictly: a form or JSON, each key once, no coercion."""
    if is_json(media_type):
        try:
            msgspec.json.decode(body)
        except msgspec.DecodeError:
            raise BodyRefusedError(400, "body", "is not valid JSON", "json") from None
        no_repeated_keys(body)
        return _converted(lambda: msgspec.json.decode(body, type=CitizenRating, strict=True))
    if media_type.strip().lower() != FORM:
        limits = {"given": media_type, "expected": FORM}
        raise BodyRefusedError(415, "Content-Type", f"must be {FORM}", "media_type", limits)
    fields = _fields_of_form(body)
    return _converted(lambda: msgspec.convert(fields, CitizenRating, strict=True))


def _converted(convert: Callable[[], CitizenRating]) -> CitizenRating:
    """msgspec's refusal said as the case says one: the field and the rule it broke."""
    try:
        return convert()
    except msgspec.ValidationError as error:
        message, _, where = str(error).partition(" - at `")
        field = where.rstrip("`").removeprefix("$").removeprefix(".")
        for opening in ("Object contains unknown field `", "Object missing required field `"):
            if message.startswith(opening):
                field = message.removeprefix(opening).partition("`")[0]
        raise _refusal(field or "body", message) from None


def _refusal(field: str, message: str) -> InvalidInputError:
    if field == "grade":
        if message.startswith("Object missing required field"):
            return InvalidInputError("grade", "is required", "required")
        return InvalidInputError(
            "grade", f"must be one of {', '.join(GRADES)}", "one_of", {"choices": list(GRADES)}
        )
    if field == "comment":
        if "regex" in message:
            return InvalidInputError("comment", "must not contain NUL characters", "no_nul")
        limit = {"max": 500}
        return InvalidInputError(
            "comment", "must be text of at most 500 characters", "max_length", limit
        )
    if field == "body":  # not an object at all
        return InvalidInputError("body", "must be an object {grade, comment}", "rating_body")
    return InvalidInputError(field, "is not a field of a rating", "unknown_field")


# --- answers ----------------------------------------------------------------------------------


def html(status: int, page: str, headers: Mapping[str, str] | None = None) -> Response[str]:
    """A page: never cached or framed, its style the only thing it may load."""
    return Response(
        page,
        status_code=status,
        media_type=MediaType.HTML,
        headers={
            "Content-Language": "zh-CN",
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            **(headers or {}),
        },
    )


def _reason(error: InvalidInputError) -> str:
    if error.field == "grade":
        return "请在下面五项中选择一项评价，再提交。"
    if error.field == "comment":
        return "意见建议请控制在 500 字以内，且不要包含特殊控制字符。"
    return "提交的内容有误，请重新选择评价后提交。"


def _wants_json(request: Req) -> bool:
    return request.method == "POST" and is_json(request.content_type[0])


def _retry_after(error: HTTPException) -> str:
    reset = (error.headers or {}).get("RateLimit-Reset", "60")
    return str(max(1, int(reset))) if reset.isdigit() else "60"


# What a party is told when the link does not work (now): (refusals, status, tone, heading,
# lines); ``{until}`` is when an expired invitation ran out.
NOTICES: tuple[tuple[tuple[type[Exception], ...], int, str, str, tuple[str, ...]], ...] = (
    (
        (BadRatingLinkError, CaseNotFoundError, UnknownInvitationError),
        404, "bad", "评价链接无效",
        (
            "这个评价链接无法识别，可能在复制时不完整或被改动。",
            "请直接点击短信中的链接重新打开；如有疑问，请联系为您办理的调解组织。",
        ),
    ),
    (
        (InvitationUsedError,),
        409, "ok", "您已评价过，感谢",
        ("这个评价链接已经提交过评价，每个链接只能评价一次。", "感谢您对我们工作的支持！"),
    ),
    (
        (InvitationExpiredError,),
        410, "warn", "评价链接已过期",
        (
            "这个评价链接的有效期至{until}，现已过期。",
            "如您对办理结果有意见，欢迎联系为您办理的调解组织或拨打服务热线。",
        ),
    ),
    (
        (CommandNotAllowedError,),
        409, "warn", "案件正在重新办理",
        (
            "您的案件目前正在重新办理中，暂时不能评价。",
            "办理完毕后，我们会再次通过短信邀请您评价。给您带来不便，敬请谅解。",
        ),
    ),
    (
        (TooManyRequestsException,),
        429, "warn", "访问过于频繁",
        ("请稍等一分钟后再打开或提交。",),
    ),
    (
        (BodyRefusedError, HTTPException),
        400, "bad", "无法处理该请求",
        ("请直接点击短信中的链接，在评价页面选择评价后提交。",),
    ),
)  # fmt: skip


def _status(error: Exception) -> int | None:
    """The status a refusal of the request itself carries (None: the case's refusals)."""
    if isinstance(error, BodyRefusedError):
        return error.status
    return error.status_code if isinstance(error, HTTPException) else None


def _page_for(request: Req, error: Exception) -> Response[str]:
    """The page that tells a party why the link does not work (now), or that it failed."""
    for families, default, tone, heading, lines in NOTICES:
        status = _status(error) or default
        if isinstance(error, families) and status < 500:
            until = when(error.expired_at) if isinstance(error, InvitationExpiredError) else ""
            page = notice_page(tone, heading, *(line.format(until=until) for line in lines))
            if isinstance(error, TooManyRequestsException):
                return html(status, page, {"Retry-After": _retry_after(error)})
            return html(status, page)
    if isinstance(error, STORE_UNAVAILABLE):
        log.warning("%s %s: store unavailable: %r", request.method, PATH, error)
        page = notice_page("warn", "系统繁忙", "暂时无法处理您的评价，请稍后再试。")
        return html(503, page, {"Retry-After": "5"})
    log.error("%s %s failed", request.method, PATH, exc_info=error)
    return html(500, notice_page("bad", "系统出错了", "很抱歉，请稍后再试。"))


def _on_error(request: Req, error: Exception) -> Response[Any]:
    """A JSON client is answered as the API answers (problem+json); a person, with a page."""
    if isinstance(error, TooManyRequestsException):
        error.headers = {**(error.headers or {}), "Retry-After": _retry_after(error)}
    if _wants_json(request):
        if isinstance(error, BadRatingLinkError):
            error = UnknownInvitationError("")  # a link not ours names no invitation we know
        for family in type(error).__mro__:
            handler = EXCEPTION_HANDLERS.get(family)
            if handler is not None:
                answer: Response[Any] = handler(request, error)
                return answer
    return _page_for(request, error)


# --- routes -----------------------------------------------------------------------------------


@get("/{token:str}", include_in_schema=False)
async def rating_page(token: str, request: Req, runtime: Runtime) -> Response[str]:
    """The form, when the link still works; else the page that says why not."""
    case, key = await anyio.to_thread.run_sync(_invited, runtime, token)
    return html(200, form_page(_view(case, key), request.url.path))


@post("/{token:str}", include_in_schema=False, status_code=200)
async def rate(token: str, request: Req, runtime: Runtime) -> Response[Any]:
    """Records the rating and thanks the party (a JSON client gets ``RatingRecorded``)."""
    media_type = request.content_type[0]
    body = await request.body()
    try:
        rating = _decoded(body, media_type)
    except InvalidInputError as error:
        if is_json(media_type):
            raise
        case, key = await anyio.to_thread.run_sync(_invited, runtime, token)
        chosen, comment = _typed(body)
        page = form_page(_view(case, key), request.url.path, chosen, comment, _reason(error))
        return html(422, page)
    view, at = await anyio.to_thread.run_sync(_record, runtime, token, rating)
    if is_json(media_type):
        answer = RatingRecorded(view.number, rating.grade, at)
        return Response(msgspec.json.encode(answer), media_type="application/json")
    return html(200, thanks_page(view, rating.grade))


def _typed(body: bytes) -> tuple[str | None, str]:
    """What the party chose and typed, to show again with the form (a form body that was
    refused: it parses, or it would have been a 400)."""
    fields = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    grade = fields.get("grade")
    return (grade if grade in GRADES else None), fields.get("comment", "")[:500]


def router(limit: int = DEFAULT_LIMIT) -> Router:
    """The public routes under ``/rate``: no token needed (``public``), ``limit`` requests a
    minute from one address, every refusal a page (or problem+json to a JSON client)."""
    throttle = RateLimitConfig(rate_limit=("minute", limit))
    handlers: dict[Any, Any] = dict.fromkeys(
        [*EXCEPTION_HANDLERS, TooManyRequestsException, BadRatingLinkError], _on_error
    )
    return Router(
        path=PATH,
        route_handlers=[rating_page, rate],
        middleware=[throttle.middleware],
        exception_handlers=handlers,
        opt={"public": True},
    )


__all__ = ["DEFAULT_LIMIT", "PATH", "CitizenRating", "RatingRecorded", "router"]
