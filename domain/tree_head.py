"""A signed tree head: the Merkle tree over the event log at one size, its root hash, when it was
signed and by which key, and the Ed25519 signature over those (docs/audit-format.md, "Signed
tree heads").

Each head is recorded as an event, so the log itself says which heads were handed out. One
small aggregate per head, its id derived from the size and the root (``head_id``): a head
signed twice at one size (the periodic job and an export at the same moment) is recorded once.
The domain never sees the private key: it receives the signature already made, and knows only
which bytes are signed (``signed_bytes``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.errors import InvalidInputError

# uuid5 namespace of the heads' ids; fixed forever, since stored heads are found by it
HEADS_NAMESPACE = UUID("8d1c6f0a-4b7e-5a92-b3d5-61e0f9a2c7b4")
# the first line of the signed bytes: what they are, and the version of their layout
SIGNED_PREFIX = "fengqiao tree head v1"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_SIGNED_AT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
_BASE64 = re.compile(r"[A-Za-z0-9+/]{86}==")  # 64 bytes: an Ed25519 signature


def head_id(size: int, root: str) -> UUID:
    """The id of the head of the tree of ``size`` leaves whose root is ``root``."""
    return uuid5(HEADS_NAMESPACE, f"{size}:{root}")


def signed_at_text(moment: datetime) -> str:
    """A moment as a head states it: UTC, microseconds, ``Z`` (one spelling per moment)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def signed_bytes(size: int, root: str, signed_at: str, key_id: str) -> bytes:
    """What the signature covers: five lines of ASCII, each ended by a line feed::

    fengqiao tree head v1
    size=<leaves, decimal>
    root=<root hash, 64 lower-case hex digits>
    signed_at=<UTC, YYYY-MM-DDTHH:MM:SS.ffffffZ>
    key_id=<SHA-256 of the raw 32-byte public key, 64 lower-case hex digits>
    """
    lines = (SIGNED_PREFIX, f"size={size}", f"root={root}", f"signed_at={signed_at}")
    return ("\n".join((*lines, f"key_id={key_id}")) + "\n").encode("ascii")


@dataclass(frozen=True)
class Head:
    """A signed tree head as it is handed out (``as_json``) and saved by an auditor."""

    size: int
    root: str  # hex
    signed_at: str  # signed_at_text
    key_id: str  # hex
    signature: str  # base64 of the 64-byte Ed25519 signature over ``signed_bytes``

    def signed_bytes(self) -> bytes:
        return signed_bytes(self.size, self.root, self.signed_at, self.key_id)

    def as_json(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "root": self.root,
            "signed_at": self.signed_at,
            "key_id": self.key_id,
            "algorithm": "Ed25519",
            "signature": self.signature,
        }

    @classmethod
    def of(cls, document: Any) -> Head:
        """A head read back from its JSON (a saved file); refused when malformed."""
        if not isinstance(document, dict):
            raise InvalidInputError("head", "a head is a JSON object")
        try:
            head = cls(
                size=document["size"],
                root=document["root"],
                signed_at=document["signed_at"],
                key_id=document["key_id"],
                signature=document["signature"],
            )
        except KeyError as missing:
            raise InvalidInputError("head", f"no {missing.args[0]!r}") from None
        head.check()
        return head

    def check(self) -> None:
        """Refuses a head whose fields are not of their documented shapes."""
        if not isinstance(self.size, int) or isinstance(self.size, bool) or self.size < 0:
            raise InvalidInputError("size", "must be a whole number, 0 or more")
        for name in ("root", "key_id"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _HEX64.fullmatch(value):
                raise InvalidInputError(name, "must be 64 lower-case hex digits")
        if not isinstance(self.signed_at, str) or not _SIGNED_AT.fullmatch(self.signed_at):
            raise InvalidInputError("signed_at", "must be YYYY-MM-DDTHH:MM:SS.ffffffZ")
        if not isinstance(self.signature, str) or not _BASE64.fullmatch(self.signature):
            raise InvalidInputError("signature", "must be a base64 Ed25519 signature")


class TreeHead(Aggregate):
    class Signed(Aggregate.Created):
        size: int
        root: str
        signed_at: str
        key_id: str
        signature: str

    def __init__(self, size: int, root: str, signed_at: str, key_id: str, signature: str) -> None:
        self.size = size
        self.root = root
        self.signed_at = signed_at
        self.key_id = key_id
        self.signature = signature

    @property
    def head(self) -> Head:
        return Head(self.size, self.root, self.signed_at, self.key_id, self.signature)

    @classmethod
    def record(cls, at: datetime, head: Head) -> TreeHead:
        """Records ``head`` (signed already), at ``at``."""
        head.check()
        return cls._create(
            cls.Signed, id=head_id(head.size, head.root), timestamp=at, size=head.size,
            root=head.root, signed_at=head.signed_at, key_id=head.key_id,
            signature=head.signature,
        )  # fmt: skip
