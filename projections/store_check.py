"""The store check: every leaf of the Merkle tree recomputed from the event store itself.

The merkle view hashed each record as it was appended. Reading the store's records again (in
batches, in log order) and hashing them the same way tells what changed in the store since:

- **edited**: a record at a position the tree holds, whose bytes hash differently now (its
  state, topic, originator or version was changed in place);
- **deleted**: a leaf whose position has no record any more;
- **inserted**: a record at a position the tree passed over, so it was not in the log when
  the tree took that stretch of it (written into a gap, or renumbered into the past).

Records past the tree's last leaf are not yet in the tree (the view follows the log a moment
behind): counted, never judged. The tree's own stored subtrees are checked too: the root
folded from its leaves must equal the root read from its nodes.

A result is recorded beside the tree (``StoreCheckRecord``), in a table a rebuild of the view
leaves alone, so ``/ready`` in any process reports a failed check until a later one passes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from eventsourcing.persistence import Notification

from projections import rfc9162
from projections.db import ViewDatabase, from_us, to_us
from projections.merkle import CHECK_TABLE, MerkleView

Kind = Literal["edited", "deleted", "inserted"]
READ_BATCH = 5000


@dataclass(frozen=True)
class Finding:
    position: int
    kind: Kind

    def __str__(self) -> str:
        return f"position {self.position}: {self.kind}"


@dataclass(frozen=True)
class StoreCheckResult:
    checked: int  # records compared with their leaves
    tree_size: int
    pending: int  # records past the tree's last leaf, not yet in it
    findings: list[Finding] = field(default_factory=list)
    nodes_agree: bool = True  # the root from the leaves equals the root from the stored nodes

    @property
    def ok(self) -> bool:
        return not self.findings and self.nodes_agree

    def summary(self, limit: int = 20) -> str:
        """One line: what differs (the first ``limit`` positions named), or what was checked."""
        if self.ok:
            return f"checked {self.checked} events"
        parts = [str(finding) for finding in self.findings[:limit]]
        if len(self.findings) > limit:
            parts.append(f"… {len(self.findings) - limit} more")
        if not self.nodes_agree:
            parts.append("the tree's stored nodes disagree with its leaves")
        return "; ".join(parts)


class CompactRange:
    """The root of a growing tree in O(log n) memory: the perfect subtrees of its right edge."""

    def __init__(self) -> None:
        self.size = 0
        self._edge: dict[int, bytes] = {}

    def append(self, leaf: bytes) -> None:
        node, level, index = leaf, 0, self.size
        while index & 1:
            node = rfc9162.node_hash(self._edge.pop(level), node)
            level, index = level + 1, index >> 1
        self._edge[level] = node
        self.size += 1

    def root(self) -> bytes:
        return rfc9162.root(self.size, lambda level, _index: self._edge[level])


def check_store(
    select: Callable[[int, int], Sequence[Notification]],
    tree: MerkleView,
    batch: int = READ_BATCH,
    progress: Callable[[int], None] | None = None,
) -> StoreCheckResult:
    """Compares the store's records (``select(start, limit)``: the recorder's
    ``select_notifications``, positions from ``start`` on) with the tree's leaves."""
    size, root = tree.head()
    last = tree.leaf(size - 1).position if size else 0
    rows = _records(select, batch)
    leaves = tree.leaves(batch=batch)
    findings: list[Finding] = []
    folded = CompactRange()
    checked = pending = 0
    row, leaf = next(rows, None), next(leaves, None)
    while row is not None or leaf is not None:
        if row is not None and row.id > last:
            pending += 1
            row = next(rows, None)
            continue
        if leaf is not None and leaf.index >= size:  # appended since the head was read
            leaf = None
            continue
        if row is not None and leaf is not None and row.id == leaf.position:
            if tree.leaf_of(row) != leaf.hash:
                findings.append(Finding(row.id, "edited"))
            checked += 1
            if progress is not None:
                progress(1)
            folded.append(leaf.hash)
            row, leaf = next(rows, None), next(leaves, None)
        elif leaf is not None and (row is None or leaf.position < row.id):
            findings.append(Finding(leaf.position, "deleted"))
            folded.append(leaf.hash)
            leaf = next(leaves, None)
        else:
            assert row is not None
            findings.append(Finding(row.id, "inserted"))
            row = next(rows, None)
    return StoreCheckResult(checked, size, pending, findings, folded.root() == root)


def _records(select: Callable[[int, int], Sequence[Notification]], batch: int) -> Iterator[Any]:
    start = 1
    while True:
        found = select(start, batch)
        yield from found
        if len(found) < batch:
            return
        start = found[-1].id + 1


@dataclass(frozen=True)
class RecordedCheck:
    at: datetime
    ok: bool
    checked: int
    summary: str


class StoreCheckRecord:
    """The last store check's outcome, in one row beside the tree (kept across rebuilds)."""

    def __init__(self, db: ViewDatabase) -> None:
        self.db = db
        self.table = db.table(CHECK_TABLE)  # created with the merkle view's tables

    def record(self, result: StoreCheckResult, at: datetime) -> None:
        with self.db.transaction() as cursor:
            cursor.execute(
                f"INSERT INTO {self.table} (id, at_us, ok, checked, summary) "
                "VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET at_us = excluded.at_us, "
                "ok = excluded.ok, checked = excluded.checked, summary = excluded.summary",
                (to_us(at), int(result.ok), result.checked, result.summary()),
            )

    def last(self) -> RecordedCheck | None:
        with self.db.transaction(write=False) as cursor:
            cursor.execute(f"SELECT at_us, ok, checked, summary FROM {self.table} WHERE id = 1")
            row = cursor.fetchone()
        if row is None:
            return None
        return RecordedCheck(from_us(int(row[0])), bool(row[1]), int(row[2]), str(row[3]))

    def failed(self) -> RecordedCheck | None:
        """The last check, when it failed."""
        last = self.last()
        return last if last is not None and not last.ok else None
