"""When deadlines were last swept, kept where every process can read it.

Under ``serve --workers N`` the sweeps run in another process than the API workers answering
``/ready``; a sweeper that died or hangs would otherwise go unnoticed while deadlines pass
unswept. Each completed sweep writes the wall-clock time into a one-row table beside the
deadlines view (which a rebuild of the views leaves alone); ``/ready`` reads it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from projections.db import ViewDatabase, from_us, to_us

_ROW = "deadline-sweeps"


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
        swept = to_us(at or datetime.now(UTC))
        with self.db.transaction() as cursor:
            cursor.execute(
                f"INSERT INTO {self.table} (name, swept_us) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET swept_us = excluded.swept_us",
                (_ROW, swept),
            )

    def last(self) -> datetime | None:
        """When the last sweep completed; None when none has yet."""
        with self.db.transaction(write=False) as cursor:
            cursor.execute(f"SELECT swept_us FROM {self.table} WHERE name = ?", (_ROW,))
            row = cursor.fetchone()
        return from_us(int(row[0])) if row else None
