"""In-app notices: a member's list, newest first, what they have read, and the bell's count.

An in-app notice is delivered by being written: the outbox's ``in_app`` rows (the view, from
the log) and the dispatcher's warnings (``swept``: a resolve deadline close, which no event
records). Read marks are kept per notice in ``reads``. ``swept`` and ``reads`` are created with
the view's tables but are not the view's: a rebuild drops and replays the outbox and leaves them
alone, so a rebuilt outbox (same notice ids) keeps what was read and what was warned.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from projections.db import Cursor, to_us
from projections.notifications import OUTBOX_COLUMNS, Notice, NotificationsView, insert_notices

IN_APP = "in_app"
MOST_LISTED = 200


@dataclass(frozen=True)
class InboxItem:
    notice: Notice
    read: bool


class Inbox:
    """The in-app side of the notifications view's database."""

    def __init__(self, view: NotificationsView) -> None:
        self.view = view
        self.db = view.db
        self.outbox = view.t("outbox")
        self.swept = view.t("swept")  # kept across rebuilds: see NotificationsView.KEPT
        self.reads = view.t("reads")

    def _mine(self) -> str:
        """The caller's in-app notices, from the outbox and the warnings (two ``?``: user)."""
        columns = ", ".join(OUTBOX_COLUMNS)
        return (
            f"SELECT {columns} FROM {self.outbox} WHERE recipient = ? AND channel = '{IN_APP}' "
            f"UNION ALL SELECT {columns} FROM {self.swept} "
            f"WHERE recipient = ? AND channel = '{IN_APP}'"
        )

    def add_swept(self, cursor: Cursor, notices: Iterable[Notice]) -> None:
        """Warnings the dispatcher made (in its transaction)."""
        insert_notices(cursor, self.swept, notices)

    def items(self, user: str, limit: int = 50) -> list[InboxItem]:
        """``user``'s in-app notices, newest first."""
        limit = max(1, min(limit, MOST_LISTED))
        with self.db.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT * FROM ({self._mine()}) mine "
                "ORDER BY created_us DESC, position DESC, id DESC LIMIT ?",
                (user, user, limit),
            )
            notices = [Notice.from_row(row) for row in cursor.fetchall()]
            read = self._read(cursor, [n.id for n in notices])
        return [InboxItem(notice, notice.id in read) for notice in notices]

    def positioned(self, first: int, last: int) -> list[Notice]:
        """The in-app notices of the log positions ``first``–``last`` (a batch just applied)."""
        with self.db.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT {', '.join(OUTBOX_COLUMNS)} FROM {self.outbox} "
                f"WHERE position BETWEEN ? AND ? AND channel = '{IN_APP}' ORDER BY position, id",
                (first, last),
            )
            return [Notice.from_row(row) for row in cursor.fetchall()]

    def unread(self, user: str) -> int:
        with self.db.transaction(write=False) as cursor:
            return self._unread(cursor, user)

    def _unread(self, cursor: Cursor, user: str) -> int:
        cursor.execute(
            f"SELECT COUNT(*) FROM ({self._mine()}) mine WHERE NOT EXISTS "
            f"(SELECT 1 FROM {self.reads} r WHERE r.notice_id = mine.id)",
            (user, user),
        )
        row = cursor.fetchone()
        return int(row[0]) if row else 0

    def mark_read(self, user: str, ids: Sequence[str] | None, at: datetime) -> int:
        """Marks ``user``'s notices read (``ids``; None: all of them); returns how many are
        left unread. Ids that are not the caller's are passed over."""
        with self.db.transaction() as cursor:
            cursor.execute(f"SELECT id FROM ({self._mine()}) mine", (user, user))
            mine = {str(row[0]) for row in cursor.fetchall()}
            chosen = mine if ids is None else mine.intersection(ids)
            cursor.executemany(
                f"INSERT INTO {self.reads} (notice_id, user_id, read_us) VALUES (?, ?, ?) "
                "ON CONFLICT (notice_id) DO NOTHING",
                [(notice, user, to_us(at)) for notice in sorted(chosen)],
            )
            return self._unread(cursor, user)

    def _read(self, cursor: Cursor, ids: list[str]) -> set[str]:
        if not ids:
            return set()
        marks = ", ".join("?" for _ in ids)
        cursor.execute(f"SELECT notice_id FROM {self.reads} WHERE notice_id IN ({marks})", ids)
        return {str(row[0]) for row in cursor.fetchall()}
