"""Group commit (``domain.commit_groups``): commands saved at the same moment by different
threads share one transaction, and each still gets exactly its own outcome.

What a user relies on: every command answered as saved is in the log once, at the position
its answer gives (read-your-writes waits for that position); a command that lost a race is
decided again on the case as it now stands, and does not take the commands saved beside it
down with it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import pytest

from domain.application import FengqiaoApplication
from domain.case.commands import AddNote, SignCase
from domain.commit_groups import CommitGroups, UnsavedError, _Member
from domain.recorded import Recorded
from tests.support.builders import register
from tests.support.world import MEDIATOR

QUEUED = 4  # commands that queue behind a held save, and so share the next transaction


class HeldFirst:
    """The application's save, holding the first call until ``QUEUED`` commands are waiting
    behind it (and running ``meanwhile`` while it holds), so the next transaction takes them
    all: the moment of many requests at once, made certain."""

    def __init__(self, app: FengqiaoApplication, meanwhile: Callable[[], None]) -> None:
        self.app = app
        self.save = app.commits._save
        self.meanwhile = meanwhile
        self.held = False

    def __call__(self, *aggregates: Any) -> Any:
        if not self.held:
            self.held = True
            deadline = time.monotonic() + 10
            while len(self.app.commits._queue) < QUEUED and time.monotonic() < deadline:
                time.sleep(0.005)
            self.meanwhile()
        return self.save(*aggregates)


@contextmanager
def held_first(
    app: FengqiaoApplication, monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[], None]
) -> Iterator[None]:
    monkeypatch.setattr(app.commits, "_save", HeldFirst(app, meanwhile))
    yield
    monkeypatch.undo()


def signed_cases(app: FengqiaoApplication, count: int) -> list[UUID]:
    cases = [register(app).id for _ in range(count)]
    for case in cases:
        app.execute(case, SignCase(), MEDIATOR)
    return cases


def noted_at_once(app: FengqiaoApplication, cases: list[UUID]) -> dict[UUID, Recorded]:
    """A note on each case, each from its own thread, all at once; what each command gave."""
    answers: dict[UUID, Recorded] = {}
    errors: list[BaseException] = []

    def note(case: UUID) -> None:
        try:
            answers[case] = app.execute(case, AddNote(f"并发记录 {case}"), MEDIATOR)
        except BaseException as error:  # the test's own thread: report it, do not lose it
            errors.append(error)

    threads = [threading.Thread(target=note, args=(case,)) for case in cases]
    for thread in threads:
        thread.start()
        time.sleep(0.01)  # the first one takes the writer's turn and is held there
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    return answers


def positions_of(app: FengqiaoApplication, case: UUID) -> list[tuple[int, str]]:
    """The log positions and event names of a case's events, in log order."""
    log = app.recorder.select_notifications(start=1, limit=10**6)
    return [(n.id, n.topic.rsplit(".", 1)[-1]) for n in log if n.originator_id == case]


def notes_of(app: FengqiaoApplication, case: UUID) -> list[str]:
    return [str(e.text) for e in app.repository.event_store.get(case) if hasattr(e, "text")]


def test_commands_at_once_share_a_transaction_and_each_answers_its_own_position(
    app: FengqiaoApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = signed_cases(app, QUEUED + 1)
    with held_first(app, monkeypatch, lambda: None):
        answers = noted_at_once(app, cases)
    assert app.commits.largest == QUEUED  # the held one alone, then the four waiting together
    for case in cases:
        assert notes_of(app, case) == [f"并发记录 {case}"]  # saved once
        last_position, last_event = positions_of(app, case)[-1]
        assert last_event == "NoteAdded"
        assert answers[case].position == last_position
        assert answers[case].events == ("NoteAdded",)


def test_a_stale_command_in_a_group_is_decided_again_alone_and_the_rest_are_saved(
    app: FengqiaoApplication, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the first save is held, another host writes to one of the waiting cases: the
    group holding that case's now stale version fails as a whole; each of its commands is then
    saved on its own, the stale one loses its race and is decided again on the case as it now
    stands."""
    if backend == "memory":
        pytest.skip("another host needs a shared store")
    cases = signed_cases(app, QUEUED + 1)
    stale = cases[-1]
    other_host = FengqiaoApplication(env=app.env, clock=app.clock)

    def written_elsewhere() -> None:
        other_host.execute(stale, AddNote("另一台服务器的记录"), MEDIATOR)

    try:
        with held_first(app, monkeypatch, written_elsewhere):
            answers = noted_at_once(app, cases)
    finally:
        other_host.close()
    assert app.commits.largest == QUEUED  # the stale one was in the group
    for case in cases[:-1]:
        assert notes_of(app, case) == [f"并发记录 {case}"]
        assert answers[case].position == positions_of(app, case)[-1][0]
    assert notes_of(app, stale) == ["另一台服务器的记录", f"并发记录 {stale}"]
    assert answers[stale].position == positions_of(app, stale)[-1][0]


def test_one_command_at_a_time_is_saved_alone(app: FengqiaoApplication) -> None:
    for case in signed_cases(app, 3):
        app.execute(case, AddNote("逐条记录"), MEDIATOR)
    assert app.commits.largest == 1


# --- the groups' own rules, with a save that records what it was given -------------------------


class Item:
    """An aggregate as the groups see one: an id and its new events."""

    def __init__(self, name: str, events: int = 1) -> None:
        self.id = name
        self.pending_events = [f"{name}.{n}" for n in range(events)]


class Recorder:
    """A save that takes the items' events off (as the library does) and records them; fails
    for any transaction holding an item named in ``refuse``."""

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.refuse = refuse
        self.transactions: list[list[str]] = []

    def __call__(self, *items: Item) -> list[str]:
        events = [event for item in items for event in item.pending_events]
        for item in items:
            item.pending_events.clear()
        if any(item.id in self.refuse for item in items):
            raise ValueError("refused")
        self.transactions.append([item.id for item in items])
        return events


def run_group(groups: CommitGroups[str], members: list[list[Item]]) -> list[Any]:
    """Saves ``members`` as one group, as the leader would; each member's outcome."""
    group = [_Member[str](m, sum(len(i.pending_events) for i in m)) for m in members]
    groups._run(group)
    return [m.error if m.error is not None else m.recordings for m in group]


def test_each_member_gets_its_own_events_back_in_order() -> None:
    save = Recorder()
    outcome = run_group(CommitGroups(save), [[Item("a", 2), Item("r")], [Item("b")]])
    assert save.transactions == [["a", "r", "b"]]
    assert outcome == [["a.0", "a.1", "r.0"], ["b.0"]]


def test_a_failed_group_is_saved_member_by_member_with_the_events_put_back() -> None:
    save = Recorder(refuse=frozenset({"b"}))
    outcome = run_group(CommitGroups(save), [[Item("a")], [Item("b")], [Item("c", 2)]])
    assert save.transactions == [["a"], ["c"]]
    assert outcome[0] == ["a.0"]
    assert isinstance(outcome[1], ValueError)
    assert outcome[2] == ["c.0", "c.1"]


def test_two_commands_on_one_aggregate_are_never_grouped() -> None:
    save = Recorder()
    run_group(CommitGroups(save), [[Item("a")], [Item("a")]])
    assert save.transactions == [["a"], ["a"]]


def test_members_a_interrupted_leader_never_reached_learn_they_are_unsaved() -> None:
    def interrupted(*items: Item) -> list[str]:
        raise KeyboardInterrupt

    groups = CommitGroups[str](interrupted)
    waiting = _Member[str]([Item("b")], 1)
    groups._queue = [waiting]  # queued behind the thread about to lead
    with pytest.raises(KeyboardInterrupt):
        groups.save(Item("a"))
    assert waiting.done
    assert isinstance(waiting.error, UnsavedError)
    with pytest.raises(UnsavedError):
        waiting.outcome()


def test_a_save_made_within_a_groups_own_save_goes_through_alone() -> None:
    """In one process a save can reach another (the in-memory store's tests do: a second
    request's save inside the first's); waiting for the group it is inside would wait for
    ever."""
    save = Recorder()
    groups = CommitGroups[str](save)

    def nested(*items: Item) -> list[str]:
        if items[0].id == "outer":
            groups.save(Item("inner"))
        return save(*items)

    groups._save = nested
    finished = threading.Thread(target=groups.save, args=(Item("outer"),), daemon=True)
    finished.start()
    finished.join(5)
    assert not finished.is_alive(), "the nested save waited for its own group"
    assert save.transactions == [["inner"], ["outer"]]
