"""Idempotency-Key: a retried command returns the first answer and records nothing new.

Keys are kept per caller in the store's database (a SQLite file beside the event store, or a
PostgreSQL table), so they survive restarts; they are kept at least 24 hours. A key is reserved
before the command runs, so two identical requests racing each other run the command once.
"""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from api.http.errors import IdempotencyKeyReuseError
from projections.db import ViewDatabase, to_us

KEEP_FOR = timedelta(hours=48)
# Expired keys are deleted now and then, not on every command: a delete per command cost a
# scan of the table (20 ms a command at 300,000 keys before it had an index).
PRUNE_EVERY = timedelta(minutes=1)
PENDING = 0


@dataclass(frozen=True)
class Stored:
    status: int
    body: bytes
    headers: dict[str, str]


class BodyCipher(Protocol):
    def encrypt(self, plaintext: bytes) -> bytes: ...
    def decrypt(self, ciphertext: bytes) -> bytes: ...


class IdempotencyStore:
    """First answers kept per (caller, key). Answers carry parties' names, so with a cipher
    (the event store's own) they are kept encrypted, like everything else at rest."""

    def __init__(self, db: ViewDatabase, cipher: BodyCipher | None = None) -> None:
        self.db = db
        self.cipher = cipher
        self.table = db.table("idempotency")
        with db.transaction() as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} "
                "(caller TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL, "
                "status INTEGER NOT NULL, body TEXT NOT NULL, "
                "location TEXT NOT NULL, etag TEXT NOT NULL, created_us BIGINT NOT NULL, "
                "PRIMARY KEY (caller, key))"
            )
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {db.index('idempotency_created')} "
                f"ON {self.table} (created_us)"
            )
        self._pruned_at: datetime | None = None

    @staticmethod
    def fingerprint(method: str, path: str, body: bytes) -> str:
        return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()

    def reserve(self, caller: str, key: str, fingerprint: str) -> Stored | None:
        """None when this request may run (the key is now reserved); else the first answer."""
        now = datetime.now(UTC)
        with self.db.transaction() as cursor:
            if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
                cursor.execute(
                    f"DELETE FROM {self.table} WHERE created_us < ?", (to_us(now - KEEP_FOR),)
                )
                self._pruned_at = now
            cursor.execute(
                f"INSERT INTO {self.table} (caller, key, request_hash, status, body, location, "
                "etag, created_us) VALUES (?, ?, ?, ?, '', '', '', ?) "
                "ON CONFLICT (caller, key) DO NOTHING",
                (caller, key, fingerprint, PENDING, to_us(now)),
            )
            if cursor.rowcount == 1:
                return None
        return self._wait_for_answer(caller, key, fingerprint)

    def _wait_for_answer(self, caller: str, key: str, fingerprint: str) -> Stored:
        for _ in range(600):  # the first request is still running: wait up to ~30 s
            with self.db.transaction(write=False) as cursor:
                cursor.execute(
                    f"SELECT request_hash, status, body, location, etag FROM {self.table} "
                    "WHERE caller = ? AND key = ?",
                    (caller, key),
                )
                row = cursor.fetchone()
            if row is None:
                raise IdempotencyKeyReuseError("the first request with this key failed; retry")
            if row[0] != fingerprint:
                raise IdempotencyKeyReuseError("this Idempotency-Key was used with another request")
            if row[1] != PENDING:
                headers = {
                    name: value for name, value in (("location", row[3]), ("etag", row[4])) if value
                }
                return Stored(int(row[1]), self._open(str(row[2])), headers)
            time.sleep(0.05)
        raise IdempotencyKeyReuseError("the first request with this key is still running")

    def complete(self, caller: str, key: str, stored: Stored) -> None:
        with self.db.transaction() as cursor:
            cursor.execute(
                f"UPDATE {self.table} SET status = ?, body = ?, location = ?, etag = ? "
                "WHERE caller = ? AND key = ?",
                (stored.status, self._seal(stored.body), stored.headers.get("location", ""),
                 stored.headers.get("etag", ""), caller, key),
            )  # fmt: skip

    def _seal(self, body: bytes) -> str:
        if self.cipher is None:
            return body.decode()
        return base64.b64encode(self.cipher.encrypt(body)).decode("ascii")

    def _open(self, text: str) -> bytes:
        if self.cipher is None:
            return text.encode()
        return self.cipher.decrypt(base64.b64decode(text))

    def release(self, caller: str, key: str) -> None:
        """The command failed: forget the key so a retry runs it again."""
        with self.db.transaction() as cursor:
            cursor.execute(f"DELETE FROM {self.table} WHERE caller = ? AND key = ?", (caller, key))
