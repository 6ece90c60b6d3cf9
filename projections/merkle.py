"""The Merkle tree over the event log (RFC 9162), kept as a view.

Every stored record, in log order, is a leaf: its hash is ``SHA-256(0x00 || leaf_data)``, where
``leaf_data`` is the record's canonical bytes (``projections.leaf``, format ``fengqiao.event/2``:
position, originator id and version, topic, the SHA-256 of the state as stored, and the export
digest of the record decoded and masked as an export shows it), so anyone holding the store and
its cipher key can recompute it, and anyone holding an export can recompute its records'
leaves (docs/audit-format.md, "The tree"). The view keeps two tables:

- ``leaves``: leaf index (0-based), the record's log position, the leaf hash;
- ``nodes``: the hash of every completed perfect subtree above the leaves (level >= 1, index),
  written as the leaf that completes it is appended.

Appending reads the tree's right edge (one subtree per set bit of its size) and writes each
leaf and the nodes it completes: O(log n) amortised, one node per leaf on average. A root or a
proof is folded from stored subtrees by ``projections.rfc9162`` in O(log n) reads.

It is a view like the others: applied exactly once by the runner, dropped and replayed by
``fengqiao rebuild merkle``. It takes the records raw (``View.raw``), not decoded events (it
reads each itself as plain data, for the export digest: ``projections.plain_events``), and
every record of every aggregate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from eventsourcing.application import Application
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import Mapper, Notification

from projections import rfc9162
from projections.audit_export import export_digest
from projections.db import Cursor, ViewDatabase
from projections.engine import RETRIED_ERRORS, Batch, View
from projections.leaf import NO_DIGEST, leaf_data
from projections.plain_events import PlainDecoder
from projections.rfc9162 import TreeRangeError

CHECK_TABLE = "store_check"
IN_CHUNK = 500  # the values one query's IN list holds
SPAN_FACTOR = 4  # a level's wanted subtrees are read as one range when it is at most this sparse
T = TypeVar("T")
UNDECODED: tuple[type[Exception], ...] = (Exception,)  # what leaves a record's digest empty


def record_export_digest(notification: Notification, decoder: PlainDecoder) -> bytes:
    """The export digest of a stored record (``projections.leaf``): its event masked as an
    export shows it; empty when the record cannot be decoded (a record no view and no export
    can read is still a leaf: the tree is of what is stored).

    The record is read as plain data even when the batch was decoded for other views already:
    flattening a decoded event again costs more than reading the stored JSON plain."""
    try:
        event = decoder.decode(notification)
    except RETRIED_ERRORS:
        raise
    except UNDECODED:
        return NO_DIGEST
    return export_digest(notification.id, event)


def notification_leaf(notification: Notification, decoder: PlainDecoder) -> bytes:
    """The leaf hash of one stored record."""
    return rfc9162.leaf_hash(
        leaf_data(
            notification.id,
            notification.originator_id,
            notification.originator_version,
            notification.topic,
            hashlib.sha256(bytes(notification.state)).digest(),
            record_export_digest(notification, decoder),
        )
    )


def _noting(wanted: dict[tuple[int, int], bytes]) -> rfc9162.Subtree:
    """A subtree function that notes which subtrees a computation asks for."""

    def note(level: int, index: int) -> bytes:
        wanted[(level, index)] = b""
        return rfc9162.EMPTY_ROOT

    return note


def _reading(stored: dict[tuple[int, int], bytes]) -> rfc9162.Subtree:
    """A subtree function over subtrees fetched beforehand."""

    def subtree(level: int, index: int) -> bytes:
        if (level, index) not in stored:
            raise TreeRangeError(f"no subtree at level {level}, index {index}")
        return stored[(level, index)]

    return subtree


@dataclass(frozen=True)
class Leaf:
    index: int  # 0-based, in log order
    position: int  # the record's log position (notification id)
    hash: bytes


class MerkleView(View):
    name = "merkle"
    raw = True
    # 2: leaves of format fengqiao.event/2 (the stored state's digest and the export digest)
    schema_version = 2
    handles = (DomainEvent,)  # every record of every aggregate is a leaf
    ignores = ()

    def __init__(self, db: ViewDatabase, mapper: Mapper[Any]) -> None:
        super().__init__(db)
        self.decoder = PlainDecoder(mapper)  # reads each record for its export digest

    @classmethod
    def over(cls, db: ViewDatabase, app: Application[Any]) -> View:
        return cls(db, app.mapper)

    def leaf_of(self, notification: Notification) -> bytes:
        """The leaf hash of one stored record, as this tree computes it."""
        return notification_leaf(notification, self.decoder)

    def create_statements(self) -> list[str]:
        if self.db.engine == "postgres":
            key, blob, clustered = "BIGINT", "BYTEA", ""
        else:  # SQLite: the leaf index is the rowid; the nodes' key is the table's order
            key, blob, clustered = "INTEGER", "BLOB", " WITHOUT ROWID"
        return [
            f"CREATE TABLE IF NOT EXISTS {self.t('leaves')} (idx {key} PRIMARY KEY, "
            f"position BIGINT NOT NULL UNIQUE, hash {blob} NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self.t('nodes')} (level INTEGER NOT NULL, "
            f"idx BIGINT NOT NULL, hash {blob} NOT NULL, PRIMARY KEY (level, idx)){clustered}",
            # the last store check's outcome (projections.store_check): not one of the view's
            # tables, so a rebuild keeps it and /ready goes on reporting a failed check
            f"CREATE TABLE IF NOT EXISTS {self.t(CHECK_TABLE)} (id INTEGER PRIMARY KEY, "
            "at_us BIGINT NOT NULL, ok INTEGER NOT NULL, checked BIGINT NOT NULL, "
            "summary TEXT NOT NULL)",
        ]

    def table_names(self) -> list[str]:
        return ["leaves", "nodes"]

    # --- appending ----------------------------------------------------------------------

    def process(self, cursor: Cursor, batch: Batch) -> None:
        size = self._size(cursor)
        edge = self._right_edge(cursor, size)  # level -> the perfect subtree ending at size
        leaves: list[tuple[int, int, bytes]] = []
        nodes: list[tuple[int, int, bytes]] = []
        for position, notification in batch:
            node = notification_leaf(notification, self.decoder)
            leaves.append((size, position, node))
            level, index = 0, size
            while index & 1:
                node = rfc9162.node_hash(edge.pop(level), node)
                level, index = level + 1, index >> 1
                nodes.append((level, index, node))
            edge[level] = node
            size += 1
        cursor.executemany(
            f"INSERT INTO {self.t('leaves')} (idx, position, hash) VALUES (?, ?, ?)", leaves
        )
        cursor.executemany(
            f"INSERT INTO {self.t('nodes')} (level, idx, hash) VALUES (?, ?, ?)", nodes
        )

    def _right_edge(self, cursor: Cursor, size: int) -> dict[int, bytes]:
        """The perfect subtrees the tree of ``size`` leaves is made of, by level."""
        keys = [
            (level, (size >> level) - 1) for level in range(size.bit_length()) if size >> level & 1
        ]
        found = self._fetch(cursor, keys)
        if len(found) != len(keys):
            raise TreeRangeError(f"the tree of {size} leaves lacks stored subtrees")
        return {level: found[(level, index)] for level, index in keys}

    # --- reading ------------------------------------------------------------------------

    def _size(self, cursor: Cursor) -> int:
        cursor.execute(f"SELECT MAX(idx) FROM {self.t('leaves')}")
        row = cursor.fetchone()
        return 0 if row is None or row[0] is None else int(row[0]) + 1

    def _answer(self, cursor: Cursor, compute: Callable[[rfc9162.Subtree], T]) -> T:
        """``compute`` over stored subtrees in two reads: it runs once to learn which subtrees
        it needs (O(log n) of them), which are then fetched together, and again over them."""
        wanted: dict[tuple[int, int], bytes] = {}
        compute(_noting(wanted))
        return compute(_reading(self._fetch(cursor, list(wanted))))

    def _fetch(self, cursor: Cursor, keys: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        found: dict[tuple[int, int], bytes] = {}
        leaves = [index for level, index in keys if level == 0]
        nodes = [key for key in keys if key[0] > 0]
        if leaves:
            marks = ", ".join("?" * len(leaves))
            cursor.execute(
                f"SELECT idx, hash FROM {self.t('leaves')} WHERE idx IN ({marks})", leaves
            )
            found.update(((0, int(row[0])), bytes(row[1])) for row in cursor.fetchall())
        if nodes:
            where = " OR ".join(["(level = ? AND idx = ?)"] * len(nodes))
            cursor.execute(
                f"SELECT level, idx, hash FROM {self.t('nodes')} WHERE {where}",
                [value for key in nodes for value in key],
            )
            found.update(((int(row[0]), int(row[1])), bytes(row[2])) for row in cursor.fetchall())
        return found

    def _fetch_many(
        self, cursor: Cursor, keys: list[tuple[int, int]]
    ) -> dict[tuple[int, int], bytes]:
        """Many stored subtrees, one level at a time: the span of a level's indexes when they
        lie close together (one range scan), else the indexes themselves in chunks."""
        by_level: dict[int, list[int]] = {}
        for level, index in keys:
            by_level.setdefault(level, []).append(index)
        found: dict[tuple[int, int], bytes] = {}
        for level, indexes in by_level.items():
            indexes.sort()
            table, where = (
                (self.t("leaves"), "") if level == 0 else (self.t("nodes"), "level = ? AND ")
            )
            first = (level,) if level else ()
            if indexes[-1] - indexes[0] < SPAN_FACTOR * len(indexes):
                cursor.execute(
                    f"SELECT idx, hash FROM {table} WHERE {where}idx BETWEEN ? AND ?",
                    (*first, indexes[0], indexes[-1]),
                )
                rows = cursor.fetchall()
            else:
                rows = []
                for start in range(0, len(indexes), IN_CHUNK):
                    chunk = indexes[start : start + IN_CHUNK]
                    marks = ", ".join("?" * len(chunk))
                    cursor.execute(
                        f"SELECT idx, hash FROM {table} WHERE {where}idx IN ({marks})",
                        (*first, *chunk),
                    )
                    rows.extend(cursor.fetchall())
            found.update(((level, int(row[0])), bytes(row[1])) for row in rows)
        return found

    def _within(self, cursor: Cursor, size: int | None) -> int:
        current = self._size(cursor)
        if size is None:
            return current
        if not 0 <= size <= current:
            raise TreeRangeError(f"the tree has {current} leaves, not {size}")
        return size

    def size(self) -> int:
        """How many records the tree holds."""
        with self.db.transaction(write=False) as cursor:
            return self._size(cursor)

    def root(self, size: int | None = None) -> bytes:
        """The root hash of the tree of the first ``size`` leaves (the whole tree when None)."""
        with self.db.transaction(write=False) as cursor:
            within = self._within(cursor, size)
            return self._answer(cursor, lambda subtree: rfc9162.root(within, subtree))

    def head(self) -> tuple[int, bytes]:
        """The tree's size and root, read together."""
        with self.db.transaction(write=False) as cursor:
            size = self._size(cursor)
            return size, self._answer(cursor, lambda subtree: rfc9162.root(size, subtree))

    def leaf(self, index: int) -> Leaf:
        with self.db.transaction(write=False) as cursor:
            cursor.execute(f"SELECT position, hash FROM {self.t('leaves')} WHERE idx = ?", (index,))
            row = cursor.fetchone()
        if row is None:
            raise TreeRangeError(f"no leaf {index}")
        return Leaf(index, int(row[0]), bytes(row[1]))

    def index_of(self, position: int) -> int | None:
        """The leaf index of the record at log ``position``; None when the tree has none."""
        with self.db.transaction(write=False) as cursor:
            cursor.execute(f"SELECT idx FROM {self.t('leaves')} WHERE position = ?", (position,))
            row = cursor.fetchone()
        return None if row is None else int(row[0])

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path of leaf ``index`` in the tree of ``size`` leaves (RFC 9162 PATH)."""
        with self.db.transaction(write=False) as cursor:
            within = self._within(cursor, size)
            return self._answer(
                cursor, lambda subtree: rfc9162.inclusion_proof(index, within, subtree)
            )

    def indexes_of(self, positions: Sequence[int]) -> dict[int, int]:
        """The leaf index of each of ``positions`` the tree holds, by position."""
        found: dict[int, int] = {}
        with self.db.transaction(write=False) as cursor:
            for start in range(0, len(positions), IN_CHUNK):
                chunk = list(positions[start : start + IN_CHUNK])
                marks = ", ".join("?" * len(chunk))
                cursor.execute(
                    f"SELECT position, idx FROM {self.t('leaves')} WHERE position IN ({marks})",
                    chunk,
                )
                found.update((int(row[0]), int(row[1])) for row in cursor.fetchall())
        return found

    def inclusion_proofs(self, indexes: Sequence[int], size: int) -> dict[int, list[bytes]]:
        """The audit paths of many leaves in the tree of ``size`` leaves, by index: one walk
        notes the stored subtrees all of them need, which are fetched level by level (a range
        per level for leaves side by side, as an export asks), and one walk folds them."""
        with self.db.transaction(write=False) as cursor:
            within = self._within(cursor, size)
            wanted: dict[tuple[int, int], bytes] = {}
            rfc9162.inclusion_proofs(indexes, within, _noting(wanted))
            stored = self._fetch_many(cursor, list(wanted))
            return rfc9162.inclusion_proofs(indexes, within, _reading(stored))

    def consistency_proof(self, old: int, new: int | None = None) -> list[bytes]:
        """The proof that the tree of ``new`` leaves extends that of ``old`` (RFC 9162 PROOF)."""
        with self.db.transaction(write=False) as cursor:
            within = self._within(cursor, new)
            return self._answer(
                cursor, lambda subtree: rfc9162.consistency_proof(old, within, subtree)
            )

    def leaves(self, start: int = 0, batch: int = 10_000) -> Iterator[Leaf]:
        """Every leaf from index ``start`` on, in order, read in batches."""
        while True:
            with self.db.transaction(write=False) as cursor:
                cursor.execute(
                    f"SELECT idx, position, hash FROM {self.t('leaves')} "
                    "WHERE idx >= ? ORDER BY idx LIMIT ?",
                    (start, batch),
                )
                rows = cursor.fetchall()
            for row in rows:
                yield Leaf(int(row[0]), int(row[1]), bytes(row[2]))
            if len(rows) < batch:
                return
            start = int(rows[-1][0]) + 1
