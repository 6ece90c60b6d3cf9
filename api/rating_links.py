"""The links in rating invitations: ``<public url>/rate/<token>``, one per party.

A token names the case and the invitation and says until when it works; it is signed
(HMAC-SHA256 under a key derived from the deployment's secret), so a link cannot be made up or
altered, and it carries no personal data (the party is the invitation's, recorded on the case).
That the link works once, and not after the invitation expired, is the case's own rule
(``domain.case._ratings``): the signature only proves the link came from us.

Format: ``base64url(case id 16 bytes + invitation id 16 bytes + expiry as 4-byte Unix seconds)``
``.`` ``base64url(first 16 bytes of the HMAC)``: 70 characters, short enough for an SMS.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

_CONTEXT = b"fengqiao rating links v1"
_BODY = struct.Struct(">16s16sI")
_TAG_BYTES = 16


class BadRatingLinkError(ValueError):
    """The link was not made here, or was altered, or cut short."""


@dataclass(frozen=True)
class RatingLink:
    case_id: UUID
    invitation: UUID
    expires_at: datetime


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), _CONTEXT, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    try:
        return base64.urlsafe_b64decode(padded.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise BadRatingLinkError("not a rating link") from None


def sign_link(secret: str, link: RatingLink) -> str:
    """The token of a link (the last part of its URL)."""
    seconds = int(link.expires_at.timestamp())
    body = _BODY.pack(link.case_id.bytes, link.invitation.bytes, seconds)
    tag = hmac.new(_key(secret), body, hashlib.sha256).digest()[:_TAG_BYTES]
    return f"{_b64(body)}.{_b64(tag)}"


def read_link(secret: str, token: str) -> RatingLink:
    """The link a token names, when we signed it; ``BadRatingLinkError`` otherwise."""
    if not isinstance(token, str) or len(token) > 200 or token.count(".") != 1:
        raise BadRatingLinkError("not a rating link")
    body_text, tag_text = token.split(".")
    body, tag = _unb64(body_text), _unb64(tag_text)
    expected = hmac.new(_key(secret), body, hashlib.sha256).digest()[:_TAG_BYTES]
    if len(body) != _BODY.size or not hmac.compare_digest(tag, expected):
        raise BadRatingLinkError("not a rating link")
    case_bytes, invitation_bytes, seconds = _BODY.unpack(body)
    expires_at = datetime.fromtimestamp(seconds, UTC)
    return RatingLink(UUID(bytes=case_bytes), UUID(bytes=invitation_bytes), expires_at)
