"""The log's Ed25519 signing key, and signing and checking tree heads with it.

The key is set as base64 of its 32-byte private seed (``FENGQIAO_SIGNING_KEY``, printed by
``fengqiao keygen --signing``): one line, like the cipher key. It is published as its public
half (raw, base64, and PEM for ``openssl``) and named by its id, the SHA-256 of the raw 32-byte
public key in hex. Only this module and whoever calls it hold the private key: the domain
records heads already signed (``domain.tree_head``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)

from domain.tree_head import Head, signed_at_text, signed_bytes

SEED_BYTES = 32


class KeyFormatError(ValueError):
    """A key that cannot be read; the message says why."""


def raw_public(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(public: Ed25519PublicKey) -> str:
    """The key's id: SHA-256 of its raw 32-byte public key, lower-case hex."""
    return hashlib.sha256(raw_public(public)).hexdigest()


def public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def describe_public(public: Ed25519PublicKey) -> dict[str, str]:
    """The public key as ``GET /api/v1/ledger/key`` answers it and an auditor saves it."""
    return {
        "algorithm": "Ed25519",
        "key_id": key_id(public),
        "public_key": base64.b64encode(raw_public(public)).decode("ascii"),
        "pem": public_pem(public),
    }


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey

    @classmethod
    def from_text(cls, text: str) -> SigningKey:
        """From base64 of the 32-byte seed (``FENGQIAO_SIGNING_KEY``)."""
        try:
            seed = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise KeyFormatError("not base64 (`fengqiao keygen --signing` prints one)") from None
        if len(seed) != SEED_BYTES:
            raise KeyFormatError("must be 32 bytes (an Ed25519 seed), base64-encoded")
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public)

    def sign(self, size: int, root: str, at: datetime) -> Head:
        """The head of the tree of ``size`` leaves with root ``root``, signed at ``at``."""
        when = signed_at_text(at)
        signature = self.private.sign(signed_bytes(size, root, when, self.key_id))
        return Head(size, root, when, self.key_id, base64.b64encode(signature).decode("ascii"))


def load_public_key(text: str) -> Ed25519PublicKey:
    """A public key as it is published: PEM, base64 of the raw 32 bytes, or the JSON of
    ``GET /api/v1/ledger/key``."""
    text = text.strip()
    if text.startswith("{"):
        try:
            document: Any = json.loads(text)
            text = str(document["public_key"])
        except (ValueError, KeyError, TypeError):
            raise KeyFormatError("a JSON key must have a public_key member") from None
    if text.startswith("-----BEGIN"):
        try:
            found = load_pem_public_key(text.encode("ascii"))
        except ValueError as error:
            raise KeyFormatError(f"not a PEM public key: {error}") from None
        if not isinstance(found, Ed25519PublicKey):
            raise KeyFormatError("not an Ed25519 public key")
        return found
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise KeyFormatError("neither PEM nor base64") from None
    if len(raw) != SEED_BYTES:
        raise KeyFormatError("a raw Ed25519 public key is 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def head_problem(head: Head, public: Ed25519PublicKey) -> str | None:
    """None when ``head`` was signed by ``public``'s key, else what is wrong."""
    if head.key_id != key_id(public):
        return f"the head names key {head.key_id[:16]}…, not this key ({key_id(public)[:16]}…)"
    try:
        public.verify(base64.b64decode(head.signature), head.signed_bytes())
    except (InvalidSignature, binascii.Error, ValueError):
        return "the head's signature does not verify with this key"
    return None
