"""Reading an attachment upload: a ``multipart/form-data`` body, streamed and bounded.

The API's other bodies are JSON of at most 1 MiB, read whole by Litestar. An upload may be
``FENGQIAO_ATTACHMENT_MAX_MIB`` (20 MiB by default), so its route lifts Litestar's limit and
this module keeps its own: the body is parsed as it arrives (``multipart``, the parser
Litestar itself uses) and refused with 413 as soon as the file passes the limit (or at once,
when Content-Length says it will). Only the file is kept, in memory: Litestar's own form
reading spools large files to a temporary file, where they would lie in plain text.

The form holds ``file`` (its file name is the attachment's name), ``kind`` and, optionally,
``latitude`` and ``longitude``. Refusals answer as every other body does: 415 when the body
is not a form, 400 when it is malformed or gives a field twice, 422 naming a field that is
missing, unknown or not a number, 413 over the limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.exceptions import HTTPException
from litestar.status_codes import HTTP_413_REQUEST_ENTITY_TOO_LARGE
from litestar.types import HTTPReceiveMessage, Receive
from multipart import (  # type: ignore[import-untyped]  # no type information shipped
    MultipartError,
    MultipartSegment,
    PushMultipartParser,
)

from api.http.errors import BodyRefusedError
from domain.errors import InvalidInputError

FORM = "multipart/form-data"
FILE = "file"
TEXT_FIELDS = ("kind", "latitude", "longitude")
FIELDS = (FILE, *TEXT_FIELDS)
MAX_TEXT_BYTES = 64  # a kind or a coordinate: anything longer is not one
# Room for the form around the file: boundaries, part headers (each at most 4 KiB, 8 per
# part, as the parser bounds them) and the text fields.
FORM_OVERHEAD = 64 * 1024
# A JSON number, as a client's form sends one ("31.2304", "-1.5e1"); Python's float() would
# also take "nan", "1_0" and "٣".
NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


@dataclass(frozen=True)
class Upload:
    """The form as sent: the file's bytes and name, the fields as given (None when absent)."""

    content: bytes
    name: str
    kind: str
    latitude: float | None
    longitude: float | None


def too_large(max_bytes: int) -> HTTPException:
    mib = max_bytes / (1024 * 1024)
    return HTTPException(
        status_code=HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        detail=f"an attachment may be at most {mib:g} MiB (FENGQIAO_ATTACHMENT_MAX_MIB)",
    )


class _Form:
    """The parts of one form as the parser hands them over."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.content = bytearray()
        self.name: str | None = None
        self.texts: dict[str, bytearray] = {}
        self._part: str | None = None
        self._seen: set[str] = set()

    def start(self, segment: MultipartSegment) -> None:
        part = str(segment.name or "")
        if part not in FIELDS:
            known = ", ".join(FIELDS)
            raise InvalidInputError(part or "body", f"is not a field of the form ({known})")
        if part in self._seen:
            raise BodyRefusedError(400, part, f"the field {part!r} is given more than once")
        self._seen.add(part)
        self._part = part
        if part == FILE:
            self.name = segment.filename
        else:
            self.texts[part] = bytearray()

    def take(self, chunk: bytes) -> None:
        if self._part == FILE:
            self.content += chunk
            if len(self.content) > self.max_bytes:
                raise too_large(self.max_bytes)
            return
        text = self.texts[str(self._part)]
        text += chunk
        if len(text) > MAX_TEXT_BYTES:
            raise InvalidInputError(str(self._part), f"must be at most {MAX_TEXT_BYTES} bytes")

    def upload(self) -> Upload:
        if FILE not in self._seen:
            raise InvalidInputError(FILE, "is required")
        kind = self._text("kind")
        if kind is None:
            raise InvalidInputError("kind", "is required")
        return Upload(
            content=bytes(self.content),
            name=_file_name(self.name),
            kind=kind,
            latitude=_number("latitude", self._text("latitude")),
            longitude=_number("longitude", self._text("longitude")),
        )

    def _text(self, field: str) -> str | None:
        """A text field's value; None when absent or empty (as a blank form input sends)."""
        raw = self.texts.get(field)
        if not raw:
            return None
        try:
            return raw.decode("utf-8").strip() or None
        except UnicodeDecodeError:
            raise InvalidInputError(field, "must be UTF-8 text") from None


def _file_name(sent: str | None) -> str:
    """The name the file was sent under, without any folder an old browser put in front."""
    name = (sent or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name:
        raise InvalidInputError(FILE, "needs a file name (filename in its Content-Disposition)")
    return name


def _number(field: str, text: str | None) -> float | None:
    if text is None:
        return None
    if not NUMBER.fullmatch(text):
        raise InvalidInputError(field, "must be a number of degrees, like 29.5521")
    return float(text)


async def read_upload(request: Request[Any, Any, Any], max_bytes: int) -> Upload:
    """The form, read as it arrives: refused as soon as it cannot be an acceptable upload."""
    media_type, options = request.content_type
    boundary = options.get("boundary")
    if media_type != FORM or not boundary:
        shown = media_type or "missing"
        raise BodyRefusedError(415, "Content-Type", f"must be {FORM} with a boundary, not {shown}")
    announced = request.content_length
    if announced is not None and announced > max_bytes + FORM_OVERHEAD:
        raise too_large(max_bytes)
    form = _Form(max_bytes)
    received = 0
    try:
        with PushMultipartParser(boundary, max_segment_count=len(FIELDS)) as parser:
            async for chunk in request.stream():
                received += len(chunk)
                if received > max_bytes + FORM_OVERHEAD:
                    raise too_large(max_bytes)
                for event in parser.parse(chunk):
                    if isinstance(event, MultipartSegment):
                        form.start(event)
                    elif event:
                        form.take(event)
                if parser.closed:
                    break
    except MultipartError as error:
        reason = f"not a readable {FORM} body: {error}"
        raise BodyRefusedError(400, "body", reason) from None
    return form.upload()


def replaying(body: bytes) -> Receive:
    """An ASGI ``receive`` that hands over ``body`` once, as if the client had sent it."""
    sent = False

    async def receive() -> HTTPReceiveMessage:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def fingerprinted(request: Request[Any, Any, Any], body: bytes) -> Request[Any, Any, Any]:
    """The request as ``api.http.commands.run`` reads it to fingerprint an Idempotency-Key:
    the same caller, method and path, with ``body`` (what identifies the upload) for its
    body. The form was streamed, never cached on the connection, so this request reads
    ``receive``."""
    return Request(request.scope, replaying(body))
