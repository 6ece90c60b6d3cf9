"""Where attachments' bytes live: encrypted, addressed by the SHA-256 of the plain bytes.

The event log records an attachment's identity (``AttachmentAdded``: name, type, size, hash);
the bytes are kept here, once per content however many cases or uploads bring them. They are
encrypted with the event store's own cipher (AES-GCM, ``FENGQIAO_CIPHER_KEY``), so a photo of
an ID card sits no plainer on disk than the party's ID number in an event. Reading checks the
hash of what was decrypted against the address: bytes swapped or damaged in storage are an
error, never served.

The store follows the event store: files under the data directory beside ``events.sqlite3``
(``attachments/ab/cdef…``) on the embedded default, a table in the deployment's PostgreSQL
schema (so every API host sees every attachment), a dictionary for an in-memory store.
Without a cipher (only test stores have none) the bytes are kept as they are.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import weakref
from pathlib import Path
from typing import Protocol

from eventsourcing.persistence import Cipher, IntegrityError
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from psycopg import sql

from api.wiring.settings import attachment_max_mib
from domain.application import FengqiaoApplication

MIB = 1024 * 1024
TABLE = "fengqiao_attachments"


class DamagedAttachmentError(Exception):
    """Stored bytes that do not decrypt, or decrypt to other bytes than their address says."""


class Contents(Protocol):
    """Encrypted bytes by address; writing an address twice keeps the first."""

    def has(self, sha256: str) -> bool: ...
    def put(self, sha256: str, stored: bytes) -> bool: ...
    def get(self, sha256: str) -> bytes | None: ...


class MemoryContents:
    """For an in-memory event store: gone with it."""

    def __init__(self) -> None:
        self._items: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def has(self, sha256: str) -> bool:
        return sha256 in self._items

    def put(self, sha256: str, stored: bytes) -> bool:
        with self._lock:
            return self._items.setdefault(sha256, stored) is stored

    def get(self, sha256: str) -> bytes | None:
        return self._items.get(sha256)


class FileContents:
    """One file per content, ``root/ab/cdef…``: 256 directories keep each one small.

    A file appears whole or not at all (written beside its place, flushed to disk, then
    renamed into it), so a crash leaves at most a ``.part`` file, never a torn attachment.
    Files and directories are private to the service's user."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:]

    def has(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def put(self, sha256: str, stored: bytes) -> bool:
        target = self.path(sha256)
        if target.exists():
            return False
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        target.parent.mkdir(mode=0o700, exist_ok=True)
        descriptor, part = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".part")
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(stored)
                file.flush()
                os.fsync(file.fileno())
            os.replace(part, target)  # a racing writer of the same content: either file is it
        except BaseException:
            Path(part).unlink(missing_ok=True)
            raise
        _sync_directory(target.parent)
        return True

    def get(self, sha256: str) -> bytes | None:
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError:
            return None


def _sync_directory(path: Path) -> None:
    """Makes a rename in ``path`` durable (POSIX: the directory entry is the directory's)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class PostgresContents:
    """A table in the event store's schema, on the event store's own connections: one row per
    content, written in the transaction of its insert (ON CONFLICT keeps the first)."""

    def __init__(self, datastore: PostgresDatastore) -> None:
        self._datastore = datastore
        self._table = sql.Identifier(datastore.schema, TABLE)
        self._ready = False
        self._lock = threading.Lock()

    def _setup(self) -> None:
        """Creates the table on first use (not at start-up: an API process starts while the
        database is away). STORAGE EXTERNAL: ciphertext does not compress, so PostgreSQL
        should not try. A table that exists is left alone: altering it would lock it."""
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            exists = sql.SQL("SELECT to_regclass(%s) IS NOT NULL AS found")
            create = sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (sha256 text PRIMARY KEY, content bytea NOT NULL,"
                " stored_at timestamptz NOT NULL DEFAULT now())"
            ).format(self._table)
            external = sql.SQL("ALTER TABLE {} ALTER COLUMN content SET STORAGE EXTERNAL")
            name = self._table.as_string()
            for attempt in range(2):
                try:
                    with self._datastore.transaction(commit=True) as cursor:
                        cursor.execute(exists, (name,))
                        row = cursor.fetchone()
                        if row is None or not row["found"]:
                            cursor.execute(create)
                            cursor.execute(external.format(self._table))
                    break
                except IntegrityError:  # another host created it at the same moment
                    if attempt:
                        raise
            self._ready = True

    def has(self, sha256: str) -> bool:
        self._setup()
        query = sql.SQL("SELECT 1 FROM {} WHERE sha256 = %s").format(self._table)
        with self._datastore.transaction(commit=False) as cursor:
            cursor.execute(query, (sha256,))
            return cursor.fetchone() is not None

    def put(self, sha256: str, stored: bytes) -> bool:
        self._setup()
        query = sql.SQL(
            "INSERT INTO {} (sha256, content) VALUES (%s, %s) ON CONFLICT (sha256) DO NOTHING"
        ).format(self._table)
        with self._datastore.transaction(commit=True) as cursor:
            cursor.execute(query, (sha256, stored))
            return cursor.rowcount == 1

    def get(self, sha256: str) -> bytes | None:
        self._setup()
        query = sql.SQL("SELECT content FROM {} WHERE sha256 = %s").format(self._table)
        with self._datastore.transaction(commit=False) as cursor:
            cursor.execute(query, (sha256,), binary=True)  # bytes as they are, not as hex
            row = cursor.fetchone()
        return None if row is None else bytes(row["content"])


class AttachmentStore:
    """Encrypts, addresses and checks; ``contents`` keeps the bytes."""

    def __init__(self, contents: Contents, cipher: Cipher | None, max_bytes: int) -> None:
        self.contents = contents
        self.max_bytes = max_bytes
        self._cipher = cipher

    def put(self, plain: bytes) -> tuple[str, bool]:
        """Keeps ``plain`` (once); its address, and whether it was new."""
        sha256 = hashlib.sha256(plain).hexdigest()
        if self.contents.has(sha256):
            return sha256, False  # nothing to encrypt or send
        stored = self._cipher.encrypt(plain) if self._cipher else plain
        return sha256, self.contents.put(sha256, stored)

    def get(self, sha256: str) -> bytes | None:
        """The plain bytes at ``sha256``, checked; None when nothing is stored there."""
        stored = self.contents.get(sha256)
        if stored is None:
            return None
        try:
            plain = self._cipher.decrypt(stored) if self._cipher else stored
        except ValueError as error:  # the cipher's "invalid tag": another key, or damage
            raise DamagedAttachmentError(f"attachment {sha256} does not decrypt") from error
        if hashlib.sha256(plain).hexdigest() != sha256:
            raise DamagedAttachmentError(f"attachment {sha256} does not match its hash")
        return plain


def contents_for(app: FengqiaoApplication) -> Contents:
    """Beside the application's event store."""
    datastore = getattr(app.recorder, "datastore", None)
    if isinstance(datastore, PostgresDatastore):
        return PostgresContents(datastore)
    database = app.env.get("SQLITE_DBNAME") if isinstance(datastore, SQLiteDatastore) else None
    if database and ":memory:" not in database and "mode=memory" not in database:
        return FileContents(Path(database).parent / "attachments")
    return MemoryContents()


_STORES: weakref.WeakKeyDictionary[FengqiaoApplication, AttachmentStore] = (
    weakref.WeakKeyDictionary()
)
_STORES_LOCK = threading.Lock()


def attachment_store(app: FengqiaoApplication) -> AttachmentStore:
    """The store of ``app``'s deployment, made on first use; its size limit comes with the
    application's environment (``Settings.application_env``)."""
    with _STORES_LOCK:
        store = _STORES.get(app)
        if store is None:
            max_bytes = attachment_max_mib(app.env) * MIB
            store = _STORES[app] = AttachmentStore(contents_for(app), app.mapper.cipher, max_bytes)
        return store
