"""The signed tree heads recorded in the log, one row each, latest first
(``GET /api/v1/ledger/heads``, and the head job's "when was the last one signed").

Each row keeps the head as signed and the log position of its own event: a head's event is
itself a leaf of the next tree, so the job tells "the log grew" from "only my own head was
recorded since" by that position.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.case import Case
from domain.tree_head import Head, TreeHead
from projections.db import Cursor
from projections.engine import Batch, View

COLUMNS = ("size", "root", "signed_at", "key_id", "signature", "position")


@dataclass(frozen=True)
class HeadRow:
    """A recorded head and where its own event is in the log."""

    head: Head
    position: int


def _row(position: int, event: TreeHead.Signed) -> tuple[object, ...]:
    return (
        str(event.originator_id), event.size, event.root, event.signed_at, event.key_id,
        event.signature, position,
    )  # fmt: skip


class TreeHeadsView(View):
    name = "heads"
    schema_version = 1
    handles = (TreeHead.Signed,)
    ignores = (Case.Event,)  # heads are about the log, not about any case

    def create_statements(self) -> list[str]:
        heads = self.t("heads")
        return [
            f"CREATE TABLE IF NOT EXISTS {heads} (id TEXT PRIMARY KEY, size BIGINT NOT NULL, "
            "root TEXT NOT NULL, signed_at TEXT NOT NULL, key_id TEXT NOT NULL, "
            "signature TEXT NOT NULL, position BIGINT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {self.db.index('heads_position')} ON {heads} (position)",
            f"CREATE INDEX IF NOT EXISTS {self.db.index('heads_size')} ON {heads} (size)",
        ]

    def table_names(self) -> list[str]:
        return ["heads"]

    def process(self, cursor: Cursor, batch: Batch) -> None:
        rows = [
            _row(position, event) for position, event in batch if isinstance(event, TreeHead.Signed)
        ]
        if rows:
            cursor.executemany(
                f"INSERT INTO {self.t('heads')} (id, size, root, signed_at, key_id, signature, "
                "position) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                rows,
            )

    # --- queries ------------------------------------------------------------------------

    def _select(self, tail: str, params: tuple[object, ...]) -> list[HeadRow]:
        sql = f"SELECT {', '.join(COLUMNS)} FROM {self.t('heads')} {tail}"
        with self.db.transaction(write=False) as cursor:
            cursor.execute(sql, params)
            found = cursor.fetchall()
        return [
            HeadRow(Head(int(size), root, signed_at, key_id, signature), int(position))
            for size, root, signed_at, key_id, signature, position in found
        ]

    def latest(self) -> HeadRow | None:
        found = self._select("ORDER BY position DESC LIMIT 1", ())
        return found[0] if found else None

    def page(self, limit: int = 50, offset: int = 0) -> list[HeadRow]:
        """Heads latest first."""
        return self._select("ORDER BY position DESC LIMIT ? OFFSET ?", (limit, offset))

    def count(self) -> int:
        with self.db.transaction(write=False) as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {self.t('heads')}")
            row = cursor.fetchone()
        return int(row[0]) if row else 0

    def of_size(self, size: int) -> HeadRow | None:
        """The latest head of a tree of ``size`` leaves, if one was signed."""
        found = self._select("WHERE size = ? ORDER BY position DESC LIMIT 1", (size,))
        return found[0] if found else None
