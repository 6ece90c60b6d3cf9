"""When deadlines were last swept, kept where every process can read it.

Under ``serve --workers N`` the sweeps run in another process than the API workers answering
``/ready``; a sweeper that died or hangs would otherwise go unnoticed while deadlines pass
unswept. Each completed sweep writes the wall-clock time into a one-row table beside the
deadlines view (which a rebuild of the views leaves alone); ``/ready`` reads it.

A late sweep shows a dead sweeper only after two intervals. The supervisor of that process knows
at once: when the process exits it marks it down in the same table, and the process marks itself
up again once it runs, so ``/ready`` answers 503 for exactly as long as it is gone.
"""

from __future__ import annotations

from datetime import UTC, datetime

from projections.db import ViewDatabase, from_us, to_us

_ROW = "deadline-sweeps"
_DOWN = "views-process-down"  # present while the views and sweeps process is gone: since when


class Heartbeat:
    def __init__(self, db: ViewDatabase) -> None:
        self.db = db
        self.table = db.table("sweeps")

    def setup(self) -> None:
        with self.db.transaction() as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} "
                "(name TEXT PRIMARY KEY, swept_us BIGINT NOT NULL)"
            )

    def beat(self, at: datetime | None = None) -> None:
        """Records that a sweep completed (now, on the wall clock, unless told)."""
        self._put(_ROW, at or datetime.now(UTC))

    def last(self) -> datetime | None:
        """When the last sweep completed; None when none has yet."""
        return self._get(_ROW)

    def _put(self, name: str, at: datetime) -> None:
        with self.db.transaction() as cursor:
            cursor.execute(
                f"INSERT INTO {self.table} (name, swept_us) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET swept_us = excluded.swept_us",
                (name, to_us(at)),
            )

    def _get(self, name: str) -> datetime | None:
        with self.db.transaction(write=False) as cursor:
            cursor.execute(f"SELECT swept_us FROM {self.table} WHERE name = ?", (name,))
            row = cursor.fetchone()
        return from_us(int(row[0])) if row else None

    def mark_down(self, at: datetime | None = None) -> None:
        """The views and sweeps process exited (its supervisor says so; now, unless told)."""
        self._put(_DOWN, at or datetime.now(UTC))

    def mark_up(self) -> None:
        """The views and sweeps process runs again."""
        with self.db.transaction() as cursor:
            cursor.execute(f"DELETE FROM {self.table} WHERE name = ?", (_DOWN,))

    def down_since(self) -> datetime | None:
        """When the views and sweeps process went down; None while it runs."""
        return self._get(_DOWN)
