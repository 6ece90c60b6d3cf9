"""The Merkle tree view on SQLite and PostgreSQL, and the store check against tampering.

The tree's roots and proofs are compared with RFC 9162's recursive definitions
(``tests/unit/test_rfc9162.py``) over leaves recomputed here from the store's rows with the
encoding docs/audit-format.md gives ("The tree"), not with the view's own code. The tampering
is done as a database administrator would: SQL on the event table.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
import struct
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent

from domain.application import FengqiaoApplication
from domain.case import Registration
from domain.status import Channel
from projections import rfc9162
from projections.audit_export import record_of
from projections.viewset import ViewSet
from scheduler.store_check import StoreCheck
from tests.support import backends
from tests.support.world import REPORTER, T0, VILLAGE
from tests.unit.test_rfc9162 import mth, path, proof

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def export_digest(app: FengqiaoApplication, row: Any) -> bytes:
    """SHA-256 of the record an export makes of the event, without its export-bound fields
    (key-sorted compact JSON); nothing for a record that cannot be decoded."""
    try:
        event = app.mapper.to_domain_event(row)
    except Exception:  # the synthetic records below decode to nothing
        return b""
    record = record_of(row.id, event, "")
    for name in ("unit", "at_local"):
        del record[name]
    text = json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).digest()


def documented_leaf(app: FengqiaoApplication, row: Any) -> bytes:
    """A record's leaf data as docs/audit-format.md spells it."""
    fields = [
        b"fengqiao.event/2",
        struct.pack(">Q", row.id),
        uuid.UUID(str(row.originator_id)).bytes,
        struct.pack(">Q", row.originator_version),
        row.topic.encode(),
        hashlib.sha256(bytes(row.state)).digest(),
        export_digest(app, row),
    ]
    return b"".join(struct.pack(">I", len(field)) + field for field in fields)


def store_leaves(app: FengqiaoApplication) -> list[bytes]:
    rows = app.recorder.select_notifications(1, 1_000_000)
    return [documented_leaf(app, row) for row in rows]


def register_cases(app: FengqiaoApplication, count: int) -> None:
    for i in range(count):
        details = Registration("邻里纠纷", f"第{i}起邻里排水纠纷", VILLAGE, Channel.GRID_PATROL)
        app.register(REPORTER, "dispute", details, at=T0 + timedelta(minutes=i))


def synthetic(app: FengqiaoApplication, count: int, rng: random.Random) -> None:
    """Records of any shape: the tree hashes what is stored, it never decodes."""
    for start in range(0, count, 500):
        app.recorder.insert_events(
            [
                StoredEvent(uuid.UUID(int=rng.getrandbits(128)), 1, "t:T", rng.randbytes(i % 97))
                for i in range(start, min(count, start + 500))
            ]
        )


def test_the_tree_of_the_log_equals_the_rfcs_tree_of_its_recomputed_leaves(
    app: FengqiaoApplication, views: ViewSet
) -> None:
    register_cases(app, 3)
    views.catch_up()
    data = store_leaves(app)
    tree = views.merkle

    assert tree.size() == len(data) > 20
    assert tree.root() == mth(data)
    for n in (1, 2, 7, len(data) - 1, len(data)):
        assert tree.root(n) == mth(data[:n])
    for position in (1, 5, app.recorder.max_notification_id()):
        index = tree.index_of(position)
        assert index is not None
        assert tree.leaf(index).hash == rfc9162.leaf_hash(data[index])
        assert tree.inclusion_proof(index) == path(index, data)


def test_random_proofs_over_thousands_of_leaves_match_the_reference_and_verify(
    app: FengqiaoApplication, views: ViewSet
) -> None:
    rng = random.Random(16)
    runner = views.runners["merkle"]
    runner.batch_size = 777  # batches end anywhere in the tree's shape
    synthetic(app, 1500, rng)
    runner.catch_up()
    synthetic(app, 1600, rng)  # a second run appends to the first's right edge
    runner.catch_up()
    data = store_leaves(app)
    tree = views.merkle
    size = tree.size()
    assert size == len(data) > 3000

    for _ in range(12):
        n = rng.randint(1, size)
        m = rng.randrange(n)
        old = rng.randint(1, n)
        root_n = tree.root(n)
        assert root_n == mth(data[:n])
        inclusion = tree.inclusion_proof(m, n)
        assert inclusion == path(m, data[:n])
        assert rfc9162.verify_inclusion(rfc9162.leaf_hash(data[m]), m, n, inclusion, root_n)
        consistency = tree.consistency_proof(old, n)
        assert consistency == (proof(old, data[:n]) if old < n else [])
        assert rfc9162.verify_consistency(old, n, tree.root(old), root_n, consistency)
    # many at once, as an export asks: a run side by side (read as ranges) and a scattered few
    n = rng.randint(size // 2, size)
    run = range(rng.randrange(n - 1200), n)[:1200]
    scattered = rng.sample(range(n), 40)
    for chosen in (run, scattered):
        assert tree.inclusion_proofs(chosen, n) == {m: path(m, data[:n]) for m in chosen}
    with pytest.raises(rfc9162.TreeRangeError):
        tree.inclusion_proof(0, size + 1)
    with pytest.raises(rfc9162.TreeRangeError):
        tree.consistency_proof(size, size + 1)


def test_rebuilding_the_tree_gives_the_same_roots(app: FengqiaoApplication, views: ViewSet) -> None:
    register_cases(app, 4)
    views.catch_up()
    size = views.merkle.size()
    roots = [views.merkle.root(n) for n in range(size + 1)]

    applied = views.rebuild(["merkle"])

    assert applied == {"merkle": size}
    assert [views.merkle.root(n) for n in range(size + 1)] == roots


# --- the store check ---------------------------------------------------------------------


class EventTable:
    """The application's event table, reached the way an administrator would."""

    def __init__(self, app: FengqiaoApplication, env: dict[str, str], backend: str) -> None:
        self.backend = backend
        self.name = app.recorder.events_table_name  # type: ignore[attr-defined]
        if backend == "sqlite":
            self.table, self.position = self.name, "rowid"
            self.path = env["SQLITE_DBNAME"]
        else:
            self.table = f'"{env["POSTGRES_SCHEMA"]}"."{self.name}"'
            self.position = "notification_id"

    @contextmanager
    def sql(self) -> Iterator[Any]:
        if self.backend == "sqlite":
            conn = sqlite3.connect(self.path)
            try:
                with conn:
                    yield conn
            finally:
                conn.close()
        else:
            with psycopg.connect(backends.test_database_url()) as pg:
                yield pg

    def run(self, statement: str, *params: Any) -> Any:
        if self.backend == "postgres":
            statement = statement.replace("?", "%s")
        with self.sql() as conn:
            cursor = conn.execute(statement.format(t=self.table, p=self.position), params)
            return cursor.fetchall() if cursor.description else []

    def edit(self, position: int) -> None:
        self.run("UPDATE {t} SET state = ? WHERE {p} = ?", b"\x00forged", position)

    def delete(self, position: int) -> None:
        self.run("DELETE FROM {t} WHERE {p} = ?", position)

    def make_gap(self) -> int:
        """A position left unused, as PostgreSQL leaves one after a failed insert."""
        if self.backend == "postgres":
            sequence = f"pg_get_serial_sequence('{self.table}', 'notification_id')"
            return int(self.run(f"SELECT nextval({sequence})")[0][0])
        last = int(self.run("SELECT MAX(rowid) FROM {t}")[0][0])
        self.run("UPDATE {t} SET rowid = rowid + 1 WHERE rowid = ?", last)
        return last

    def insert(self, position: int, like: int) -> None:
        """A row at ``position``: another row's state under a new originator."""
        rows = self.run("SELECT topic, state FROM {t} WHERE {p} = ?", like)
        topic, state = rows[0]
        originator: Any = uuid.uuid4().hex if self.backend == "sqlite" else uuid.uuid4()
        self.run(
            "INSERT INTO {t} ({p}, originator_id, originator_version, topic, state) "
            "VALUES (?, ?, 1, ?, ?)",
            position,
            originator,
            topic,
            state,
        )


def check(views: ViewSet) -> Any:
    return StoreCheck(views.runners["merkle"], lambda: T0, follower=False).run()


def test_an_untouched_store_passes_and_the_pass_is_recorded(
    app: FengqiaoApplication, views: ViewSet
) -> None:
    register_cases(app, 2)
    result = check(views)

    assert result.ok
    assert result.checked == views.merkle.size() == app.recorder.max_notification_id()
    assert result.summary() == f"checked {result.checked} events"
    assert StoreCheck(views.runners["merkle"], lambda: T0).record.failed() is None


def test_rows_edited_deleted_and_inserted_by_hand_are_named_by_position_and_kind(
    app: FengqiaoApplication, views: ViewSet, env: dict[str, str], backend: str
) -> None:
    register_cases(app, 2)
    table = EventTable(app, env, backend)
    gap = table.make_gap()
    register_cases(app, 2)  # the log goes on past the gap
    assert check(views).ok
    head = app.recorder.max_notification_id()
    assert head is not None
    assert gap < head

    table.edit(3)
    table.delete(7)
    table.insert(gap, like=5)
    result = check(views)

    assert not result.ok
    assert [(f.position, f.kind) for f in result.findings] == sorted(
        [(3, "edited"), (7, "deleted"), (gap, "inserted")]
    )
    assert result.nodes_agree  # the tree itself was not touched
    recorded = StoreCheck(views.runners["merkle"], lambda: T0).record.failed()
    assert recorded is not None
    assert "position 3: edited" in recorded.summary
    assert f"position {gap}: inserted" in recorded.summary


def test_a_row_deleted_at_the_head_and_a_changed_topic_are_found(
    app: FengqiaoApplication, views: ViewSet, env: dict[str, str], backend: str
) -> None:
    register_cases(app, 1)
    assert check(views).ok
    table = EventTable(app, env, backend)
    head = app.recorder.max_notification_id()
    assert head is not None

    table.delete(head)
    table.run("UPDATE {t} SET topic = topic || ' ' WHERE {p} = ?", 2)
    result = check(views)

    assert [(f.position, f.kind) for f in result.findings] == [(2, "edited"), (head, "deleted")]


def test_the_trees_own_nodes_changed_are_found(app: FengqiaoApplication, views: ViewSet) -> None:
    register_cases(app, 1)
    assert check(views).ok
    tree = views.merkle
    top = tree.size().bit_length() - 1  # the root's left subtree: a stored node
    with tree.db.transaction() as cursor:
        cursor.execute(
            f"UPDATE {tree.t('nodes')} SET hash = ? WHERE level = ? AND idx = 0", (b"0" * 32, top)
        )

    result = check(views)

    assert result.findings == []
    assert not result.nodes_agree
    assert not result.ok
