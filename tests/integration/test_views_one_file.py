"""On the embedded default every view lives in one SQLite file, and a batch commits once for
all of them (``projections.db.SqliteFile``, ``projections.fanout``): each view's part is a
savepoint in one transaction, so a view that fails rolls back its own part alone, and no view's
new position is believed (or its waiters woken) before the transaction has committed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from domain.application import FengqiaoApplication
from projections.db import Cursor, SqliteFile
from projections.engine import Batch
from projections.fanout import Fanout
from projections.viewset import VIEWS_FILE, ViewSet
from tests.integration.test_view_failure import BOOM, POISON, poison, register

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def counting_commits(file: SqliteFile, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the file's outer transactions (each is one commit), from now on."""
    outer: list[int] = []
    original = file.transaction

    @contextmanager
    def transaction(write: bool = True) -> Iterator[Cursor]:
        nested = getattr(file._local, "depth", 0)
        with original(write) as cursor:
            if not nested and write:
                outer.append(1)
            yield cursor

    monkeypatch.setattr(file, "transaction", transaction)
    return outer


def shared_file(views: ViewSet) -> SqliteFile:
    files = {id(view.db.file): view.db.file for view in views.views.values()}  # type: ignore[attr-defined]
    assert len(files) == 1, "every view in one file"
    (file,) = files.values()
    return file


def test_every_view_is_in_one_file_and_a_batch_commits_once(
    app: FengqiaoApplication, views: ViewSet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = shared_file(views)
    assert Path(file.path).name == VIEWS_FILE
    views.catch_up()
    for n in range(5):
        register(app, f"case {n}")
    commits = counting_commits(file, monkeypatch)

    fanout = Fanout(app, list(views.runners.values()))
    fanout.catch_up()

    assert len(commits) == 1  # twelve views, one batch, one commit
    head = app.recorder.max_notification_id()
    assert {
        name: runner.read_position() for name, runner in views.runners.items()
    } == dict.fromkeys(views.runners, head)


def test_the_views_named_first_commit_before_the_others(
    app: FengqiaoApplication, views: ViewSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    views.catch_up()
    _, position = register(app, "a case")
    file = shared_file(views)
    commits = counting_commits(file, monkeypatch)
    seen_by_history: list[int] = []
    original = views.history.process

    def process(cursor: Cursor, batch: Batch) -> None:
        # by the time a later view applies the batch, the first group's commit is visible
        # to any other connection: a reader of the cases view sees the case
        seen_by_history.append(committed_position(file, "cases"))
        original(cursor, batch)

    monkeypatch.setattr(views.history, "process", process)

    Fanout(app, list(views.runners.values()), first=("cases",)).catch_up()

    assert len(commits) == 2
    assert seen_by_history == [position]


def committed_position(file: SqliteFile, view: str) -> int:
    """The position of ``view`` as another connection reads it (what has committed)."""
    with sqlite3.connect(file.path) as conn:
        row = conn.execute(
            f"SELECT position FROM {view}_tracking WHERE view = ?", (view,)
        ).fetchone()
    return int(row[0])


def test_a_view_that_fails_rolls_back_its_own_part_and_the_others_commit(
    app: FengqiaoApplication, views: ViewSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    views.catch_up()
    before = views.runners["cases"].read_position()
    poison(views.cases, monkeypatch)
    bad_case, bad = register(app, POISON)
    _, last = register(app, "after it")
    file = shared_file(views)

    fanout = Fanout(app, list(views.runners.values()))
    fanout.catch_up()

    assert str(fanout.stopped["cases"]) == BOOM
    assert committed_position(file, "cases") == before
    assert views.runners["cases"].failure is not None
    for name in ("history", "statistics", "deadlines", "merkle"):
        assert committed_position(file, name) == last, name
        assert views.runners[name].position == last, name
    assert views.runners["cases"].position < bad
    assert [e.event_type for e in views.history.get_history(bad_case)] == ["Registered"]


def test_nothing_is_believed_applied_when_the_one_commit_fails(
    app: FengqiaoApplication, views: ViewSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    views.catch_up()
    positions = {name: runner.position for name, runner in views.runners.items()}
    register(app, "a case")
    file = shared_file(views)
    original = file.transaction

    @contextmanager
    def failing_commit(write: bool = True) -> Iterator[Cursor]:
        outer = not getattr(file._local, "depth", 0)
        with original(write) as cursor:
            yield cursor
            if outer and write:
                raise sqlite3.OperationalError("disk I/O error")  # as the commit would

    monkeypatch.setattr(file, "transaction", failing_commit)
    fanout = Fanout(app, list(views.runners.values()))
    with pytest.raises(sqlite3.OperationalError):
        fanout.catch_up()

    assert {name: runner.position for name, runner in views.runners.items()} == positions
    monkeypatch.undo()
    assert {name: runner.read_position() for name, runner in views.runners.items()} == positions
    views.catch_up()  # the next try applies the batch, once
    head = app.recorder.max_notification_id()
    assert {runner.read_position() for runner in views.runners.values()} == {head}
