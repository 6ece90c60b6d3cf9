"""The case file's attachments (一案一档): upload, list, download.

``POST /cases/{id}/attachments`` is the ``AddAttachment`` command with its bytes: whoever may
send the command (its ``roles``, on a case their subtree owns) uploads a form (``file``,
``kind``, optional ``latitude``/``longitude``). It runs like every command
(``api.http.commands.run``: Idempotency-Key, If-Match, the case as the answer), with three
steps of its own before the case records anything:

- the body is read as a bounded stream (``api.http.uploads``): over the limit is 413;
- the file's type is read from its content (``api.http.media_types``): anything but JPEG,
  PNG, PDF, DOCX, MP3 or M4A is refused with 422 naming what is accepted;
- the case decides on a copy first, so a refusal stores no byte; the bytes are then stored
  (``api.http.attachment_store``, encrypted, once per content) before the event records them.

The same content uploaded to a case again records nothing and answers the case unchanged.
Whoever may read the case lists its attachments and downloads them; each download is an
access record (kind ``download``), as an unmasking is.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote
from uuid import UUID

import anyio.to_thread
import msgspec
from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import (
    Encoding,
    OpenAPIFormat,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)
from litestar.params import Parameter

from api.http.attachment_store import AttachmentStore, attachment_store
from api.http.commands import Stored, Work, answer, run
from api.http.errors import PROBLEM, log
from api.http.media_types import ACCEPTED_MEDIA_TYPES, ACCEPTED_NAMES, sniff
from api.http.openapi import (
    COMMAND_ERRORS,
    COMMAND_HEADERS,
    ETAG,
    READ_ERRORS,
    TEXT,
    answers,
    contract,
    finish,
)
from api.http.permissions import require_command, require_read, require_role
from api.http.runtime import Runtime
from api.http.schemas import NO_NUL, CaseOut, ProblemOut
from api.http.uploads import FORM, Upload, fingerprinted, read_upload
from domain.actors import Actor
from domain.case import Case
from domain.case.commands import ATTACHMENT_KINDS, AddAttachment
from domain.errors import InvalidInputError, VersionConflictError
from domain.receipt import CommandReceipt, RequestKey

Req = Request[Any, Any, Any]
AttachmentKind = Literal["photo", "agreement", "evidence", "audio", "other"]
SHA256 = r"^[0-9a-f]{64}$"


class AttachmentOut(msgspec.Struct, kw_only=True):
    """One attachment of a case, as its ``AttachmentAdded`` event recorded it."""

    sha256: str  # of the plain bytes: the attachment's address, and a check on a download
    name: str  # the file name it was uploaded under
    kind: AttachmentKind
    media_type: str  # read from the content when it was uploaded
    size: int  # bytes
    latitude: float | None = None
    longitude: float | None = None
    added_at: datetime
    added_by: str
    role: str
    url: str  # where to download it


def _out(case_id: UUID, attachment: Case.AttachmentAdded) -> AttachmentOut:
    return AttachmentOut(
        sha256=attachment.sha256,
        name=attachment.name,
        kind=msgspec.convert(attachment.kind, AttachmentKind),
        media_type=attachment.media_type,
        size=attachment.size,
        latitude=attachment.latitude,
        longitude=attachment.longitude,
        added_at=attachment.timestamp,
        added_by=attachment.actor,
        role=attachment.role,
        url=f"/api/v1/cases/{case_id}/attachments/{attachment.sha256}",
    )


# --- upload ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """An upload named by its content: the command that records it, and the bytes."""

    content: bytes
    command: AddAttachment

    def fingerprint(self) -> bytes:
        """What identifies the upload for an Idempotency-Key: its content and fields, not
        their encoding. A client resending a form picks a new boundary: the same upload in
        other bytes, which a fingerprint of the raw body would call another request."""
        c = self.command
        fields = (c.sha256, c.name, c.kind, repr(c.latitude), repr(c.longitude))
        return "\x1f".join(("attachment", *fields)).encode()


def prepare(upload: Upload) -> Prepared:
    """The command for ``upload``: its type read from its bytes, its hash computed (off the
    event loop: a 20 MiB file takes tens of milliseconds)."""
    media_type = sniff(upload.content)
    if media_type is None:
        raise InvalidInputError("file", f"must be one of {ACCEPTED_NAMES} (read from its bytes)")
    command = AddAttachment(
        name=upload.name,
        media_type=media_type,
        size=len(upload.content),
        sha256=hashlib.sha256(upload.content).hexdigest(),
        kind=upload.kind,
        latitude=upload.latitude,
        longitude=upload.longitude,
    )
    return Prepared(upload.content, command)


def upload_work(runtime: Runtime, store: AttachmentStore, case_id: UUID, ready: Prepared) -> Work:
    """``case_command``'s work with the bytes stored between the decision and the record."""

    def work(
        actor: Actor, version: int | None, key: RequestKey | None, now: datetime
    ) -> Stored | CommandReceipt:
        app = runtime.app
        case = app.get_case(case_id)
        require_command(actor, app.units(), case, AddAttachment)
        if version is not None and case.version != version:
            raise VersionConflictError(case.version, version)
        # Decided on this copy first (it is never saved): what the case refuses stores nothing.
        ready.command.run(case, app.context(case, actor, now))
        store.put(ready.content)  # nothing new when these bytes are stored already
        outcome = app.execute_once(key, case_id, ready.command, actor, now, version)
        if isinstance(outcome, CommandReceipt):
            return outcome  # a copy of this request ran first
        runtime.saw(outcome.position)
        return answer(runtime, outcome.case, now)

    return work


UPLOAD_LIMIT = "at most FENGQIAO_ATTACHMENT_MAX_MIB (20 MiB by default)"
UPLOAD_FORM = Schema(
    type=OpenAPIType.OBJECT,
    required=["file", "kind"],
    additional_properties=False,
    properties={
        "file": Schema(
            type=OpenAPIType.STRING,
            format=OpenAPIFormat.BINARY,
            description=f"{ACCEPTED_NAMES}, {UPLOAD_LIMIT}: the type is read from the bytes, "
            "not the name; the file name is the attachment's name.",
        ),
        "kind": Schema(type=OpenAPIType.STRING, enum=list(ATTACHMENT_KINDS)),
        "latitude": Schema(type=OpenAPIType.NUMBER, minimum=-90, maximum=90),
        "longitude": Schema(type=OpenAPIType.NUMBER, minimum=-180, maximum=180),
    },
    dependent_required={"latitude": ["longitude"], "longitude": ["latitude"]},
)
UPLOAD_BODY = RequestBody(
    content={
        FORM: OpenAPIMediaType(
            schema=UPLOAD_FORM,
            encoding={"file": Encoding(content_type="application/octet-stream")},
        )
    },
    description="The file and what it is; where it was taken, if the phone knows.",
    required=True,
)


@dataclass
class UploadOperation(Operation):
    """A command's operation (the case and its ETag, If-Match, Idempotency-Key), with the form
    for its body: the handler reads the form itself, so Litestar documents none."""

    def __post_init__(self) -> None:
        finish(self, False, {200: {"ETag": ETAG}}, {}, COMMAND_HEADERS)
        self.request_body = UPLOAD_BODY


def _problem(description: str) -> ResponseSpec:
    return ResponseSpec(
        ProblemOut, description=description, media_type=PROBLEM, generate_examples=False
    )


UPLOAD_ANSWERS = {
    **answers(
        200, CaseOut, "The case as the attachment left it (ETag: its version).", COMMAND_ERRORS
    ),
    400: _problem(
        f"A {FORM} body that cannot be read, a field given twice, a bad If-Match or "
        "Idempotency-Key."
    ),
    413: _problem(f"The file is over the limit ({UPLOAD_LIMIT})."),
    415: _problem(f"The body is not {FORM}."),
    422: _problem(
        f"A field refused (named): a file that is not {ACCEPTED_NAMES}, an unknown kind, a "
        "position out of range or half given, or an Idempotency-Key reused."
    ),
}


@post(
    "/cases/{case_id:uuid}/attachments",
    status_code=200,
    request_max_body_size=None,  # the upload keeps its own limit (api.http.uploads)
    responses=UPLOAD_ANSWERS,
    operation_class=UploadOperation,
)
async def add_attachment(case_id: UUID, request: Req, runtime: Runtime) -> Response[bytes]:
    actor: Actor = request.user
    # Who may never attach is refused before a byte of the file is read.
    require_role(actor, AddAttachment.roles, f"{AddAttachment.words} a case")
    store = attachment_store(runtime.app)
    upload = await read_upload(request, store.max_bytes)
    ready = await anyio.to_thread.run_sync(prepare, upload)
    work = upload_work(runtime, store, case_id, ready)
    return await run(runtime, fingerprinted(request, ready.fingerprint()), work, case_id)


# --- list and download --------------------------------------------------------------------


@get(
    "/cases/{case_id:uuid}/attachments",
    responses=answers(
        200, list[AttachmentOut], "The case's attachments, oldest first.", READ_ERRORS
    ),
    operation_class=contract(),
)
async def list_attachments(case_id: UUID, request: Req, runtime: Runtime) -> list[AttachmentOut]:
    actor: Actor = request.user

    def work() -> list[AttachmentOut]:
        case = runtime.app.get_case(case_id)
        require_read(actor, runtime.app.units(), case)
        return [_out(case_id, attachment) for attachment in case.attachments]

    return await anyio.to_thread.run_sync(work)


def content_disposition(name: str) -> str:
    """``attachment`` with the file name: an ASCII stand-in for old clients, and the name
    itself as RFC 6266 ``filename*`` (a Chinese name survives; quotes and line breaks
    cannot break out of the header)."""
    fallback = "".join(
        ch if ch.isascii() and ch.isprintable() and ch not in '"\\' else "_" for ch in name
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


# Each type an attachment may have, as OpenAPI 3.1 describes raw bytes of that type.
BINARY = {t: Schema(type=OpenAPIType.STRING, content_media_type=t) for t in ACCEPTED_MEDIA_TYPES}
DOWNLOAD_HEADERS = {
    "Content-Disposition": OpenAPIHeader(
        schema=TEXT,
        description="attachment; filename=…; filename*=UTF-8''… (the name it was uploaded under)",
        required=True,
    ),
}


@get(
    "/cases/{case_id:uuid}/attachments/{sha256:str}",
    responses=answers(
        200,
        bytes,
        "The attachment's bytes, as uploaded, in its media type.",
        READ_ERRORS,
        media_type=ACCEPTED_MEDIA_TYPES[0],
    ),
    operation_class=contract(
        headers={200: DOWNLOAD_HEADERS},
        content={200: BINARY},
    ),
)
async def download_attachment(
    case_id: UUID,
    sha256: Annotated[str, Parameter(pattern=SHA256, description="The attachment's SHA-256.")],
    request: Req,
    runtime: Runtime,
    reason: Annotated[str | None, Parameter(max_length=500, pattern=NO_NUL)] = None,
) -> Response[bytes]:
    """The bytes, to whoever may read the case; each download is recorded (who, when, which
    attachment, and ``reason`` when one is given)."""
    actor: Actor = request.user
    store = attachment_store(runtime.app)

    def work() -> tuple[Case.AttachmentAdded, bytes]:
        case = runtime.app.get_case(case_id)
        require_read(actor, runtime.app.units(), case)
        attachment = case.attachment(sha256)
        if attachment is None:
            raise NotFoundException(f"case {case_id} has no attachment {sha256}")
        content = store.get(sha256)
        if content is None:
            log.error("attachment %s of case %s is not in the store", sha256, case_id)
            raise NotFoundException(f"the content of attachment {sha256} is not in the store")
        # Recorded before a byte is sent: no download goes unrecorded.
        runtime.app.record_access(actor, "download", case_id, {"sha256": sha256}, reason or "")
        return attachment, content

    attachment, content = await anyio.to_thread.run_sync(work)
    return Response(
        content,
        media_type=attachment.media_type,
        headers={
            "content-disposition": content_disposition(attachment.name),
            "x-content-type-options": "nosniff",  # never rendered as something else
            "cache-control": "private, no-store",  # personal data stays off shared caches
        },
    )


HANDLERS = [add_attachment, list_attachments, download_attachment]
