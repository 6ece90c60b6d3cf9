"""Deadlines: every pending clock of every case, with its due time and policy version.

This is what the scheduler sweeps. A clock-changing event carries the case's whole set of
pending clocks, so the view replaces a case's rows with the last set a batch saw.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.case import Case
from domain.clocks import Deadline
from domain.dispute import Dispute
from projections.db import Cursor, from_us, to_us
from projections.engine import Batch, View
from projections.events import (
    CLOCK_EVENTS,
    is_case_event,
    lookup,
)


@dataclass(frozen=True)
class PendingDeadline:
    case_id: UUID
    kind: str
    due_at: datetime
    started_at: datetime
    rule: str
    policy_version: str


_IN_CHUNK = 500  # case ids per IN (...) list
_FLAGGED_KIND: Mapping[type, str] = {
    Case.SignOverdueFlagged: "sign",
    Case.ResolveOverdueFlagged: "resolve",
}


class DeadlinesView(View):
    name = "deadlines"
    # Every event that carries the case's clocks, and the two that flag one as missed.
    handles = (*CLOCK_EVENTS, *_FLAGGED_KIND)
    ignores = (
        Case.Assessed,
        Case.LevelRaised,
        Case.Assigned,
        Case.Rated,
        Case.RatingInvited,
        Case.NoteAdded,
        Case.Numbered,
        Case.AttachmentAdded,
        Case.ReferralResultReported,
        Dispute.JudicialConfirmationRecorded,
    )

    def create_statements(self) -> list[str]:
        table = self.t("deadlines")
        return [
            f"CREATE TABLE IF NOT EXISTS {table} (case_id TEXT NOT NULL, kind TEXT NOT NULL, "
            "due_us BIGINT NOT NULL, started_us BIGINT NOT NULL, rule TEXT NOT NULL, "
            "calendar TEXT NOT NULL, mode TEXT NOT NULL, policy_version TEXT NOT NULL, "
            "fired INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (case_id, kind))",
            f"CREATE INDEX IF NOT EXISTS {self.db.index('deadlines_due')} ON {table} (due_us)",
        ]

    def table_names(self) -> list[str]:
        return ["deadlines"]

    def process(self, cursor: Cursor, batch: Batch) -> None:
        latest: dict[str, Mapping[str, Deadline]] = {}
        fired: list[tuple[str, str, int]] = []
        for _, event in batch:
            if not is_case_event(event):
                continue
            case_id = str(event.originator_id)
            if hasattr(event, "deadlines"):
                latest[case_id] = event.deadlines
            kind = lookup(_FLAGGED_KIND, type(event))
            if kind is not None:
                fired.append((case_id, kind, to_us(event.due_at)))
        self._replace(cursor, latest)
        # A flagged clock stays pending (the case shows it overdue) but is not swept again;
        # matching on its due time leaves a newer clock of the same kind untouched.
        cursor.executemany(
            f"UPDATE {self.t('deadlines')} SET fired = 1 WHERE case_id = ? AND kind = ? "
            "AND due_us = ?",
            fired,
        )

    def _replace(self, cursor: Cursor, latest: dict[str, Mapping[str, Deadline]]) -> None:
        """Replaces each case's rows with its latest set of clocks. A clock flagged earlier
        and carried over unchanged (same kind, same due time) stays flagged: otherwise any
        later change to the case (a status report firing, an extension) would offer it to
        every sweep again, and enough such rows would crowd newly due clocks out of a
        sweep's batch."""
        if not latest:
            return
        table = self.t("deadlines")
        flagged = self._flagged(cursor, list(latest))
        cursor.executemany(f"DELETE FROM {table} WHERE case_id = ?", [(k,) for k in latest])
        rows = []
        for case_id, deadlines in latest.items():
            for kind, d in deadlines.items():
                due_us = to_us(d.due_at)
                rows.append(
                    (case_id, kind, due_us, to_us(d.started_at), d.rule, d.calendar, d.mode,
                     d.policy_version, int((case_id, kind, due_us) in flagged))
                )  # fmt: skip
        cursor.executemany(
            f"INSERT INTO {table} (case_id, kind, due_us, started_us, rule, calendar, mode, "
            "policy_version, fired) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def _flagged(self, cursor: Cursor, case_ids: list[str]) -> set[tuple[str, str, int]]:
        """The flagged clocks of these cases, as (case, kind, due time)."""
        flagged: set[tuple[str, str, int]] = set()
        for start in range(0, len(case_ids), _IN_CHUNK):
            chunk = case_ids[start : start + _IN_CHUNK]
            cursor.execute(
                f"SELECT case_id, kind, due_us FROM {self.t('deadlines')} "
                f"WHERE fired = 1 AND case_id IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            flagged.update((r[0], r[1], int(r[2])) for r in cursor.fetchall())
        return flagged

    # --- queries ------------------------------------------------------------------------

    def list_due(
        self, now: datetime, limit: int = 1000, after: PendingDeadline | None = None
    ) -> list[PendingDeadline]:
        """Clocks due at or before ``now`` and not yet flagged, oldest first; ``after`` (the
        last of a previous page) pages on from there."""
        params: tuple[Any, ...] = (to_us(now),)
        where = "WHERE due_us <= ? AND fired = 0"
        if after is not None:
            where += (
                " AND (due_us > ? OR (due_us = ? AND (case_id > ? OR (case_id = ? AND kind > ?))))"
            )
            due_us, case_id = to_us(after.due_at), str(after.case_id)
            params += (due_us, due_us, case_id, case_id, after.kind)
        return self._select(f"{where} ORDER BY due_us, case_id, kind LIMIT ?", (*params, limit))

    def next_due(self, after: datetime) -> datetime | None:
        """When the earliest clock not yet flagged falls due after ``after`` (None: none)."""
        with self.db.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT MIN(due_us) FROM {self.t('deadlines')} WHERE due_us > ? AND fired = 0",
                (to_us(after),),
            )
            row = cursor.fetchone()
        return None if row is None or row[0] is None else from_us(row[0])

    def upcoming(self, kind: str, after: datetime, until: datetime) -> list[PendingDeadline]:
        """Clocks of ``kind`` not yet flagged that fall due after ``after``, up to ``until``
        (a deadline about to be missed, for its owner's warning)."""
        return self._select(
            "WHERE due_us > ? AND due_us <= ? AND kind = ? AND fired = 0 ORDER BY due_us, case_id",
            (to_us(after), to_us(until), kind),
        )

    def list_for_case(self, case_id: UUID) -> list[PendingDeadline]:
        return self._select("WHERE case_id = ? ORDER BY due_us", (str(case_id),))

    def _select(self, where: str, params: tuple[Any, ...]) -> list[PendingDeadline]:
        with self.db.transaction(write=False) as cursor:
            cursor.execute(
                "SELECT case_id, kind, due_us, started_us, rule, policy_version "
                f"FROM {self.t('deadlines')} {where}",
                params,
            )
            rows = cursor.fetchall()
        return [
            PendingDeadline(UUID(r[0]), r[1], from_us(r[2]), from_us(r[3]), r[4], r[5])
            for r in rows
        ]
