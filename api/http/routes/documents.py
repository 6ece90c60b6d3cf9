"""The case file's documents over HTTP (一案一档): each a printable A4 page or a Word file.

``GET /cases/{id}/documents`` lists what a case has now; each document is its own resource:

- ``/cases/{id}/documents/registration`` 受理登记表
- ``/cases/{id}/documents/mediation-record/{n}`` 调解笔录 of the n-th session (from 1)
- ``/cases/{id}/documents/mediation-agreement`` 人民调解协议书 (disputes, an agreement in force)
- ``/cases/{id}/documents/follow-up-record/{n}`` 回访记录 of the n-th follow-up visit
- ``/cases/{id}/documents/judicial-confirmation-application`` 司法确认申请书 (a written one)

``?format=html`` (the default) or ``docx``. Whoever may read the case gets a masked copy (脱敏副本,
which says so and is not for signing). ``?unmask=true&reason=…`` names the parties in full, for
the assigned mediator or a supervisor of the owning unit only, exactly as a case read unmasks
(``require_unmask``); each such document is recorded first, as an access record of kind
``unmask`` whose filter names the document. A document the case does not have is 404 when it
never will (an incident's agreement, a session not held); 409, with ``case_status``, when the
case's state does not hold it now (no agreement in force yet or any more; an oral agreement
for 司法确认).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

import anyio.to_thread
import msgspec
from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIHeader, OpenAPIType, Schema
from litestar.params import Parameter, QueryParameter

from api.documents import (
    DOCX,
    HTML,
    KINDS,
    Document,
    DocumentKind,
    DocumentRefusedError,
    Format,
    Generation,
    available,
    build_document,
    read_case_file,
    templates_from,
)
from api.documents.case_file import CaseFile
from api.http import i18n, messages
from api.http.errors import PROBLEM, document
from api.http.openapi import TEXT, answers, contract, problems
from api.http.permissions import require_read, require_unmask
from api.http.runtime import Runtime
from api.http.schemas import NO_NUL, ProblemOut
from domain.actors import Actor
from domain.errors import InvalidInputError

Req = Request[Any, Any, Any]
API = "/api/v1"
UNMASKED = ["name", "id_number", "phone", "address"]


class DocumentOut(msgspec.Struct, kw_only=True):
    """A document the case has now, and where to get it in each format."""

    kind: str  # registration, mediation-record, mediation-agreement, follow-up-record, …
    title: str  # 调解笔录（第1次）
    n: int | None = None  # the session or follow-up visit, for the kinds made once per each
    html: str  # the printable page
    docx: str  # the Word file


def document_path(case_id: UUID, kind: DocumentKind, n: int | None) -> str:
    return f"{API}/cases/{case_id}/documents/{kind.slug}" + (f"/{n}" if n is not None else "")


def _listed(case_id: UUID, kind: DocumentKind, n: int | None) -> DocumentOut:
    path = document_path(case_id, kind, n)
    title = kind.title + (f"（第{n}次）" if n is not None else "")
    return DocumentOut(
        kind=kind.slug, title=title, n=n, html=f"{path}?format=html", docx=f"{path}?format=docx"
    )


def _case_file(runtime: Runtime, actor: Actor, case_id: UUID) -> CaseFile:
    """The case (which the caller must be able to read) and its record, at one version."""
    case = runtime.app.get_case(case_id)
    require_read(actor, runtime.app.units(), case)
    events = runtime.app.repository.event_store.get(case_id, lte=case.version)
    return read_case_file(case, events)


@get(
    "/cases/{case_id:uuid}/documents",
    responses=answers(
        200,
        list[DocumentOut],
        "The documents the case has now, in the order of its file, with their URLs.",
        (401, 403, 404, 503),
    ),
    operation_class=contract(),
)
async def list_documents(case_id: UUID, request: Req, runtime: Runtime) -> list[DocumentOut]:
    actor: Actor = request.user

    def work() -> list[DocumentOut]:
        file = _case_file(runtime, actor, case_id)
        return [_listed(case_id, kind, n) for kind, n in available(file)]

    return await anyio.to_thread.run_sync(work)


# --- one document --------------------------------------------------------------------------


def _reason(reason: str | None) -> str:
    if not reason or not reason.strip():
        raise InvalidInputError("reason", "unmasking personal data needs a reason")
    return reason.strip()


def _build(
    runtime: Runtime,
    actor: Actor,
    case_id: UUID,
    kind: DocumentKind,
    n: int | None,
    form: Format,
    unmask: bool,
    reason: str | None,
) -> Document:
    """The document; a plain one only for those who may unmask, recorded before it is sent
    (and only once it exists: a refused request unmasked nothing)."""
    templates = templates_from(runtime.app.env)
    file = _case_file(runtime, actor, case_id)
    why = ""
    if unmask:
        require_unmask(actor, runtime.app.units(), file.case)
        why = _reason(reason)
    generation = Generation(actor.user, runtime.clock())
    built = build_document(templates, kind, file, n, runtime.app.units(), unmask, generation, form)
    if unmask:
        scope = {"document": kind.slug, "n": n, "format": form, "fields": UNMASKED}
        runtime.app.record_access(actor, "unmask", case_id, scope, why)
    return built


def disposition(built: Document) -> str:
    """An HTML page opens in the browser (to print), a Word file downloads; both carry the
    name (RFC 6266 ``filename*``, UTF-8) and an ASCII stand-in for old clients."""
    how = "inline" if built.media_type == HTML else "attachment"
    fallback = "".join(
        ch if ch.isascii() and ch.isprintable() and ch not in '"\\' else "_"
        for ch in built.file_name
    )
    return f"{how}; filename=\"{fallback}\"; filename*=UTF-8''{quote(built.file_name, safe='')}"


# An HTML document shows text typed by parties and mediators: it runs nothing and loads nothing.
PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'"
)


def _respond(built: Document) -> Response[bytes]:
    headers = {
        "content-disposition": disposition(built),
        "x-content-type-options": "nosniff",
        "cache-control": "private, no-store",  # personal data stays off shared caches
    }
    if built.media_type == HTML:
        headers["content-security-policy"] = PAGE_POLICY
    return Response(built.content, media_type=built.media_type, headers=headers)


def _refused(request: Req, refusal: DocumentRefusedError) -> Response[bytes]:
    """A problem document in the caller's language: the case has no such document."""
    language = i18n.of(request)
    english = "Not found" if refusal.status == 404 else "Document not available"
    title = messages.title(english, refusal.status, language)
    extra = {"case_status": refusal.case_status} if refusal.case_status else {}
    body = document(refusal.status, title, i18n.pick(refusal.said, language), **extra)
    answer = Response(msgspec.json.encode(body), status_code=refusal.status, media_type=PROBLEM)
    answer.headers["Content-Language"] = language
    answer.headers["Vary"] = "Accept-Language"
    return answer


async def _answer(
    runtime: Runtime,
    request: Req,
    case_id: UUID,
    kind: DocumentKind,
    n: int | None,
    form: Format,
    unmask: bool,
    reason: str | None,
) -> Response[bytes]:
    actor: Actor = request.user
    try:
        built = await anyio.to_thread.run_sync(
            _build, runtime, actor, case_id, kind, n, form, unmask, reason
        )
    except DocumentRefusedError as refusal:
        return _refused(request, refusal)
    return _respond(built)


# --- the OpenAPI document ------------------------------------------------------------------

FormatParameter = Annotated[
    Format,
    QueryParameter(name="format", description="html: a printable A4 page; docx: a Word file."),
]
UnmaskParameter = Annotated[
    bool,
    Parameter(
        description="Name the parties in full (the assigned mediator or a supervisor of the "
        "owning unit, with a reason; recorded). Otherwise a masked copy, not for signing."
    ),
]
ReasonParameter = Annotated[
    str | None,
    Parameter(max_length=500, pattern=NO_NUL, description="Why, when unmasking (required)."),
]
NumberParameter = Annotated[
    int, Parameter(ge=1, description="Which one, from 1, in the order they were recorded.")
]
DISPOSITION = {
    "Content-Disposition": OpenAPIHeader(
        schema=TEXT,
        description="inline (html) or attachment (docx); filename=…; filename*=UTF-8''"
        "（2026）犍调字第0001号-人民调解协议书.docx",
        required=True,
    )
}
WORD = {DOCX: Schema(type=OpenAPIType.STRING, content_media_type=DOCX)}


def _problem(description: str) -> ResponseSpec:
    return ResponseSpec(
        ProblemOut, description=description, media_type=PROBLEM, generate_examples=False
    )


def _responses(kind: DocumentKind) -> dict[int, ResponseSpec]:
    missing = "No such case"
    if kind.numbered:
        missing += ", or no such session or follow-up visit (yet)"
    if kind.disputes_only:
        missing += ", or the case is an incident, which has none"
    unavailable = "The case has no agreement in force (not resolved, or reopened since)"
    if kind.slug == "judicial-confirmation-application":
        unavailable += ", or it is oral"
    success = ResponseSpec(
        str,
        description=f"{kind.title}: a printable A4 page (format=html) or a Word file "
        "(format=docx), masked unless unmasked.",
        media_type=HTML,
        generate_examples=False,
    )
    responses = {200: success, **problems(401, 403, 422, 503), 404: _problem(missing + ".")}
    if kind.disputes_only:
        responses[409] = _problem(unavailable + " (case_status says its status).")
    return responses


def document_route(kind: DocumentKind) -> HTTPRouteHandler:
    """The route of one kind of document; a kind made once per session or visit is addressed
    by its number (``/{n}``)."""
    handler: Callable[..., Any]
    if kind.numbered:

        async def numbered(
            case_id: UUID,
            n: NumberParameter,
            request: Req,
            runtime: Runtime,
            form: FormatParameter = "html",
            unmask: UnmaskParameter = False,
            reason: ReasonParameter = None,
        ) -> Response[bytes]:
            return await _answer(runtime, request, case_id, kind, n, form, unmask, reason)

        handler, path = numbered, f"/cases/{{case_id:uuid}}/documents/{kind.slug}/{{n:int}}"
    else:

        async def single(
            case_id: UUID,
            request: Req,
            runtime: Runtime,
            form: FormatParameter = "html",
            unmask: UnmaskParameter = False,
            reason: ReasonParameter = None,
        ) -> Response[bytes]:
            return await _answer(runtime, request, case_id, kind, None, form, unmask, reason)

        handler, path = single, f"/cases/{{case_id:uuid}}/documents/{kind.slug}"
    name = kind.slug.replace("-", "_") + "_document"
    handler.__name__ = handler.__qualname__ = name
    handler.__doc__ = f"{kind.title} of the case, masked unless unmasked with a reason."
    return get(
        path,
        name=name,
        responses=_responses(kind),
        operation_class=contract(headers={200: DISPOSITION}, content={200: WORD}),
    )(handler)


HANDLERS: list[HTTPRouteHandler] = [list_documents, *(document_route(kind) for kind in KINDS)]
