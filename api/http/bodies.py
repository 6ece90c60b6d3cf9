"""Request bodies read strictly: JSON only, no duplicate keys, no coercion.

Litestar decodes a body whatever its Content-Type, keeps the last of two equal keys, and turns
the decoded JSON into the handler's Struct with msgspec in *lax* mode (its signature model
does so for query parameters too, where text must become numbers): ``"7"`` became 7 people and
``1700000000`` a date. ``strict_json``, the API router's ``before_request`` hook, checks every
request whose handler takes a body (``data``) before Litestar decodes it:

- a body that is not declared JSON is refused with 415 (``field`` ``Content-Type``);
- a key given twice in one object is refused with 400 naming the key;
- the body is decoded into the handler's own type with msgspec in strict mode, and a mismatch
  is refused as Litestar refuses one (422, the field named).

Being the API router's one hook, it also notes the caller's language (``api.http.i18n``) for
the answers built without the request at hand.

A body Litestar would itself refuse as malformed (or a missing one) is left to it, so those
answers stay as they were. The body is parsed up to three times; bodies are at most 1 MiB and
the parsers are fast, and a refusal here costs no store access.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException

from api.http import i18n
from api.http.errors import BodyRefusedError
from api.http.expectations import body_type as _body_type

JSON_TYPES = ("application/json",)


def is_json(media_type: str) -> bool:
    """``application/json`` or ``application/*+json`` (any case, parameters stripped)."""
    media_type = media_type.strip().lower()
    return media_type in JSON_TYPES or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise BodyRefusedError(
                400, key, f"the key {key!r} is given more than once", "duplicate_key", {"key": key}
            )
        seen[key] = value
    return seen


def no_repeated_keys(body: bytes) -> None:
    """Refuses (400, ``BodyRefusedError``) a JSON body that gives a key twice in one object;
    ``body`` is well-formed JSON."""
    # Numbers stay text: only the keys matter here, and Python limits an int's digits.
    json.loads(body, object_pairs_hook=_no_duplicates, parse_int=str, parse_float=str)


def _invalid(request: Request[Any, Any, Any], error: msgspec.ValidationError) -> Exception:
    """msgspec's message (``Expected `int`, got `str` - at `$.people_involved```) in the shape
    of Litestar's own validation errors, so ``api.http.errors`` answers both alike."""
    message, _, where = str(error).partition(" - at `")
    path = where.rstrip("`").removeprefix("$").removeprefix(".")
    extra = [{"message": message, "key": path or "data", "source": "body"}]
    detail = f"Validation failed for {request.method} {request.url.path}"
    return ValidationException(detail=detail, extra=extra)


async def strict_json(request: Request[Any, Any, Any]) -> None:
    """Refuses a body that is not JSON, repeats a key, or needs coercion to fit its type."""
    i18n.remember(request)
    body_type = _body_type(request.route_handler)
    if body_type is None:
        return
    body = await request.body()
    if not body:
        return  # Litestar answers a missing body (400)
    media_type = request.content_type[0]
    if not is_json(media_type):
        reason = f"must be application/json, not {media_type or 'missing'}"
        limits = {"given": media_type, "expected": JSON_TYPES[0]}
        raise BodyRefusedError(415, "Content-Type", reason, "media_type", limits)
    try:
        msgspec.json.decode(body)
    except msgspec.DecodeError:
        return  # malformed: Litestar's own decoding answers (400)
    no_repeated_keys(body)
    try:
        msgspec.json.decode(body, type=body_type, strict=True)
    except msgspec.ValidationError as error:
        raise _invalid(request, error) from error
