"""A leaf of the Merkle tree over the event log: its data, format ``fengqiao.event/2``.

Seven fields, each a 4-byte big-endian length and its bytes (docs/audit-format.md, "The tree"):
the format's name, the position, the originator id (16 bytes), its version, the topic, the
SHA-256 of the state as stored (compressed and encrypted), and the **export digest**: the
SHA-256 of the event's audit record as an export shows it (masked), without the fields that
depend on the export (``seq``, ``unit``, ``at_local``, ``prev``, ``hash``).

So the leaf commits both to the bytes in the store (what the store check recomputes) and to the
masked content of an export (what an auditor holding only the file can recompute): a record
whose payload was changed and re-chained in a file is not in the signed tree. The masking is
part of the format: a change of what or how the export masks is a new format version.

No I/O and no imports beyond the standard library: the exporter, the tree and the file's
verifier all compute leaves here.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Mapping
from typing import Any
from uuid import UUID

LEAF_FORMAT = b"fengqiao.event/2"  # the first field of every leaf's data: the format's name
# the members of an audit record the export digest covers, in no particular order (the digest
# is over their JSON with sorted keys)
DIGEST_FIELDS = (
    "position", "case_id", "case_version", "event_type", "at_utc", "actor", "role", "payload",
)  # fmt: skip
NO_DIGEST = b""  # the export digest of a record that cannot be decoded (no export shows it)


def digest_of_record(record: Mapping[str, Any]) -> bytes:
    """The export digest of an audit record: SHA-256 of the compact, key-sorted UTF-8 JSON of
    its ``DIGEST_FIELDS``."""
    subset = {name: record[name] for name in DIGEST_FIELDS}
    text = json.dumps(subset, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).digest()


def leaf_data(
    position: int,
    originator_id: UUID | str,
    version: int,
    topic: str,
    stored_sha256: bytes,
    export_digest: bytes,
) -> bytes:
    """A record's leaf data: the format's name, the position (8-byte big-endian), the
    originator id (the UUID's 16 bytes), its version (8-byte big-endian), the topic (UTF-8),
    the SHA-256 of the state as stored and the export digest (32 bytes, or none)."""
    originator = originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))
    fields = (
        LEAF_FORMAT,
        struct.pack(">Q", position),
        originator.bytes,
        struct.pack(">Q", version),
        topic.encode("utf-8"),
        stored_sha256,
        export_digest,
    )
    return b"".join(struct.pack(">I", len(field)) + field for field in fields)


def leaf_of_record(record: Mapping[str, Any]) -> bytes:
    """The leaf data an export's record states (its tree fields and its content); ValueError or
    KeyError or TypeError when the record lacks them or they are malformed."""
    position, version = record["position"], record["case_version"]
    if not isinstance(position, int) or not isinstance(version, int):
        raise TypeError("position and case_version must be numbers")
    if not 0 <= position < 2**64 or not 0 <= version < 2**64:
        raise ValueError("position and case_version out of range")
    stored = bytes.fromhex(str(record["stored_sha256"]))
    if len(stored) != hashlib.sha256().digest_size:
        raise ValueError("stored_sha256 is not a SHA-256")
    return leaf_data(
        position, str(record["case_id"]), version, str(record["topic"]), stored,
        digest_of_record(record),
    )  # fmt: skip
