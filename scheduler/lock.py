"""Only one scheduler sweeps at a time.

On PostgreSQL an instance sweeps while it holds a session-level advisory lock on its own
connection; when its process dies the connection closes, the lock is released, and another
instance takes it at its next attempt (within one sweep interval). On the embedded default
there is one process, so the lock is trivially held.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
from pathlib import Path
from typing import IO, Protocol

import psycopg

log = logging.getLogger(__name__)
LOCK_KEY = 0x6667_7169_616F  # "fgqiao": one number for every fengqiao scheduler of a database


def lock_key(schema: str, purpose: str = "scheduler") -> int:
    """A key of one deployment's own, for deployments that share a database in separate
    schemas (each with its own event store): with the one ``LOCK_KEY`` the scheduler of one
    would keep every other's from sweeping. Positive and below 2**62. ``purpose`` keeps
    apart the locks of different single workers (``notifications``: the dispatcher)."""
    digest = hashlib.blake2b(f"fengqiao-{purpose}:{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 2


class SweepLock(Protocol):
    def acquire(self) -> bool: ...
    def release(self) -> None: ...


class ProcessLock:
    """The embedded default: one process, so always held."""

    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        return None


class FileLock:
    """The embedded default with more than one process on a data directory (``serve`` and a
    ``fengqiao notifications dispatch`` beside it): an exclusive ``flock`` on a file, released
    by the kernel when the holder dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None

    def acquire(self) -> bool:
        if self._file is not None:
            return True
        handle = self.path.open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the file releases the lock
            self._file = None


class AdvisoryLock:
    """A PostgreSQL session advisory lock, held on a dedicated connection."""

    def __init__(self, conninfo: str, key: int = LOCK_KEY) -> None:
        self.conninfo = conninfo
        self.key = key
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None

    def acquire(self) -> bool:
        """True while this instance holds the lock (checked, not assumed, on every call)."""
        try:
            if self._conn is not None and not self._conn.closed:
                self._conn.execute("SELECT 1")
                return True
            self._conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5)
            row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
            if row is not None and row[0]:
                log.info("scheduler lock %s acquired", self.key)
                return True
        except psycopg.Error as error:
            log.warning("scheduler lock: %s", error)
        self._drop()
        return False

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None

    def release(self) -> None:
        self._drop()  # closing the session releases the lock
