"""The tamper-evident log's answers (``api.http.routes.tree_log``): the signing key, signed tree
heads, inclusion and consistency proofs (docs/audit-format.md, "Signed tree heads")."""

from __future__ import annotations

import msgspec


class SigningKeyOut(msgspec.Struct, kw_only=True):
    """The public half of the key tree heads are signed with: raw (base64) and PEM, and its id
    (SHA-256 of the raw 32-byte public key, hex), which every head names."""

    algorithm: str
    key_id: str
    public_key: str
    pem: str


class HeadOut(msgspec.Struct, kw_only=True):
    """A signed tree head: the tree of ``size`` leaves (the log's first ``size`` records) has
    root ``root``; signed at ``signed_at`` (UTC) with key ``key_id``; ``signature`` is base64
    of the Ed25519 signature over the documented five lines. ``position`` is where the head's
    own record is in the log."""

    size: int
    root: str
    signed_at: str
    key_id: str
    algorithm: str
    signature: str
    position: int | None = None


class HeadsOut(msgspec.Struct, kw_only=True):
    """Recorded heads, latest first, and how many there are in all."""

    heads: list[HeadOut]
    total: int
    limit: int
    offset: int


class InclusionOut(msgspec.Struct, kw_only=True):
    """The record at log ``position`` is leaf ``index`` (0-based) of the tree of ``size``
    leaves: ``leaf`` is its leaf hash, ``path`` the audit path (RFC 9162 §2.1.3, deepest sibling
    first, hex), ``root`` the root of that tree; ``head`` the signed head of that size if one
    was recorded."""

    position: int
    index: int
    size: int
    leaf: str
    path: list[str]
    root: str
    head: HeadOut | None


class ConsistencyOut(msgspec.Struct, kw_only=True):
    """The proof (RFC 9162 §2.1.4, hex) that the tree of ``to`` leaves extends the tree of
    ``from`` leaves; both roots, and the signed heads of those sizes if recorded."""

    from_size: int = msgspec.field(name="from")
    to_size: int = msgspec.field(name="to")
    from_root: str
    to_root: str
    path: list[str]
    from_head: HeadOut | None
    to_head: HeadOut | None
