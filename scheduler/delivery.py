"""The dispatcher's own record of each notice it sends: the queue, attempts, dead letters.

The outbox is a view (``projections.notifications``): dropped and replayed by a rebuild. What
was sent must survive that, or a rebuild would send everything again. So the dispatcher keeps
its own tables beside the view's, which no rebuild touches:

- ``deliveries``: one row per notice it has taken in (every channel but in-app, which is
  delivered by being written), in the order taken (``seq``), with its state (``pending``,
  ``delivered``, ``dead``, ``skipped``), attempts, when to try next, since when it has been
  tried (its give-up age counts from there) and the last error (never an address);
- ``dispatch``: how far into the outbox it has taken notices in (``intake``, a log position).

Taking in reads the view's tracking position first and then the outbox rows up to it, so a
batch the view commits meanwhile is taken next time, whole. A rebuilt outbox holds the same
notice ids: what was taken in is not taken again. The first time the dispatcher starts, the
intake starts at the log's head: notices of events recorded before notifications were switched
on stay in the outbox (and in-app) but are never sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from projections.db import Cursor, ViewDatabase, from_us, to_us
from projections.notifications import OUTBOX_COLUMNS, Notice, NotificationsView

IN_APP = "in_app"
INTAKE = "intake"
MAX_ERROR = 300  # characters of an error kept (codes and reasons, never an address)


class State(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"  # 死信: given up, listed for admins, retried by hand
    SKIPPED = "skipped"  # nobody to send it to: the channel off, the member disabled...


@dataclass(frozen=True)
class Delivery:
    """A notice as the dispatcher holds it."""

    notice: Notice
    seq: int
    state: State
    attempts: int
    next_at: datetime
    since: datetime  # the give-up age counts from here (its creation, or a retry by hand)
    done_at: datetime | None
    last_error: str


_NOTICE = OUTBOX_COLUMNS  # a queued notice is an outbox row, then its delivery state
_STATE = ("seq", "state", "attempts", "next_us", "since_us", "done_us", "last_error")
_COLUMNS = (*_NOTICE, *_STATE)


class Deliveries:
    """The dispatcher's tables in the notifications view's database."""

    def __init__(self, view: NotificationsView) -> None:
        self.view = view
        self.db: ViewDatabase = view.db
        self.table = view.t("deliveries")
        self.marks = view.t("dispatch")

    def setup(self, head: int) -> None:
        """The first time, the intake starts at ``head`` (the log's). The tables are created
        with the view (``NotificationsView.KEPT``)."""
        with self.db.transaction() as cursor:
            cursor.execute(
                f"INSERT INTO {self.marks} (name, position) VALUES (?, ?) "
                "ON CONFLICT (name) DO NOTHING",
                (INTAKE, head),
            )

    # --- taking notices in -------------------------------------------------------------------

    def intake(self) -> int:
        """Takes in the outbox's new notices (up to the view's committed position), in log
        order; returns how many. Looks first without taking the write lock."""
        with self.db.transaction(write=False) as cursor:
            if self._taken_in(cursor) >= self._applied(cursor):
                return 0
        with self.db.transaction() as cursor:
            start = self._taken_in(cursor)
            end = self._applied(cursor)  # read first: a batch committed after it waits
            if end <= start:
                return 0
            cursor.execute(
                f"SELECT {', '.join(_NOTICE)} FROM {self.view.t('outbox')} "
                f"WHERE position > ? AND position <= ? AND channel <> '{IN_APP}' "
                "ORDER BY position, id",
                (start, end),
            )
            notices = [Notice.from_row(r) for r in cursor.fetchall()]
            self.add(cursor, notices)
            cursor.execute(f"UPDATE {self.marks} SET position = ? WHERE name = ?", (end, INTAKE))
        return len(notices)

    def _taken_in(self, cursor: Cursor) -> int:
        cursor.execute(f"SELECT position FROM {self.marks} WHERE name = ?", (INTAKE,))
        row = cursor.fetchone()
        return int(row[0]) if row else 0

    def _applied(self, cursor: Cursor) -> int:
        """The view's position: every notice of the log up to it is in the outbox."""
        cursor.execute(
            f"SELECT position FROM {self.view.t('tracking')} WHERE view = ?", (self.view.name,)
        )
        row = cursor.fetchone()
        return int(row[0]) if row else 0

    def add(self, cursor: Cursor, notices: Iterable[Notice]) -> None:
        """Queues notices after everything queued so far (one already queued stays as it
        is), each from its creation time."""
        cursor.execute(f"SELECT COALESCE(MAX(seq), 0) FROM {self.table}")
        row = cursor.fetchone()
        seq = int(row[0]) if row else 0
        rows = []
        for notice in notices:
            if notice.channel == IN_APP:
                continue
            seq += 1
            created = to_us(notice.created_at)
            state = (seq, State.PENDING.value, 0, created, created, None, "")
            rows.append((*notice.row(), *state))
        cursor.executemany(
            f"INSERT INTO {self.table} ({', '.join(_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in _COLUMNS)}) ON CONFLICT (id) DO NOTHING",
            rows,
        )

    # --- the queue ---------------------------------------------------------------------------

    def pending(self, channel: str, limit: int, urgent_only: bool = False) -> list[Delivery]:
        """A channel's pending notices in queue order (only urgent ones, in quiet hours)."""
        urgent = " AND urgent = 1" if urgent_only else ""
        return self._select(
            f"WHERE channel = ? AND state = ?{urgent} ORDER BY seq, id LIMIT ?",
            (channel, State.PENDING.value, limit),
        )

    def has_pending(self, channel: str) -> bool:
        return bool(self.pending(channel, 1))

    def get(self, notice: str) -> Delivery | None:
        found = self._select("WHERE id = ?", (notice,))
        return found[0] if found else None

    def delivered(self, notice: str, attempts: int, at: datetime) -> None:
        self._finish(notice, State.DELIVERED, attempts, at, "")

    def dead(self, notice: str, attempts: int, at: datetime, error: str) -> None:
        self._finish(notice, State.DEAD, attempts, at, error)

    def skipped(self, notice: str, attempts: int, at: datetime, reason: str) -> None:
        self._finish(notice, State.SKIPPED, attempts, at, reason)

    def skip_channel(self, channel: str, at: datetime, reason: str) -> int:
        """Every pending notice of a channel that is not configured: recorded, never sent
        (turning the channel on later does not send the backlog)."""
        with self.db.transaction() as cursor:
            cursor.execute(
                f"UPDATE {self.table} SET state = ?, done_us = ?, last_error = ? "
                "WHERE channel = ? AND state = ?",
                (State.SKIPPED.value, to_us(at), reason, channel, State.PENDING.value),
            )
            return cursor.rowcount

    def failed(self, notice: str, attempts: int, retry_at: datetime, error: str) -> None:
        """A failure worth retrying: stays pending, tried again at ``retry_at``."""
        with self.db.transaction() as cursor:
            cursor.execute(
                f"UPDATE {self.table} SET attempts = ?, next_us = ?, last_error = ? "
                "WHERE id = ? AND state = ?",
                (attempts, to_us(retry_at), error[:MAX_ERROR], notice, State.PENDING.value),
            )

    def _finish(self, notice: str, state: State, attempts: int, at: datetime, error: str) -> None:
        with self.db.transaction() as cursor:
            cursor.execute(
                f"UPDATE {self.table} SET state = ?, attempts = ?, done_us = ?, last_error = ? "
                "WHERE id = ? AND state = ?",
                (state.value, attempts, to_us(at), error[:MAX_ERROR], notice,
                 State.PENDING.value),
            )  # fmt: skip

    # --- dead letters --------------------------------------------------------------------------

    def dead_letters(self, limit: int = 100) -> list[Delivery]:
        """Notices given up on, the latest first."""
        return self._select(
            "WHERE state = ? ORDER BY done_us DESC, seq DESC LIMIT ?", (State.DEAD.value, limit)
        )

    def retry(self, notice: str, at: datetime) -> bool:
        """A dead letter back in its place in the queue, tried at once, its give-up age from
        now; False when there is no such dead letter."""
        with self.db.transaction() as cursor:
            cursor.execute(
                f"UPDATE {self.table} SET state = ?, attempts = 0, next_us = ?, since_us = ?, "
                "done_us = NULL WHERE id = ? AND state = ?",
                (State.PENDING.value, to_us(at), to_us(at), notice, State.DEAD.value),
            )
            return cursor.rowcount == 1

    def counts(self) -> dict[str, int]:
        """How many notices are in each state."""
        with self.db.transaction(write=False) as cursor:
            cursor.execute(f"SELECT state, COUNT(*) FROM {self.table} GROUP BY state")
            return {str(state): int(count) for state, count in cursor.fetchall()}

    def _select(self, where: str, params: tuple[Any, ...]) -> list[Delivery]:
        with self.db.transaction(write=False) as cursor:
            cursor.execute(f"SELECT {', '.join(_COLUMNS)} FROM {self.table} {where}", params)
            rows = cursor.fetchall()
        return [_delivery(row) for row in rows]


def _delivery(row: tuple[Any, ...]) -> Delivery:
    notice = Notice.from_row(row[: len(_NOTICE)])
    seq, state, attempts, next_us, since_us, done_us, error = row[len(_NOTICE) :]
    return Delivery(
        notice=notice,
        seq=int(seq),
        state=State(state),
        attempts=int(attempts),
        next_at=from_us(int(next_us)),
        since=from_us(int(since_us)),
        done_at=None if done_us is None else from_us(int(done_us)),
        last_error=str(error),
    )
