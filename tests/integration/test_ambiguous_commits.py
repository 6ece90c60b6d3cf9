"""A command whose commit reached the store but whose acknowledgement was lost (the connection
dropped right after COMMIT, and the store's own retry of the insert then met the rows it had
written) is stored once and answered as if nothing had gone wrong: never decided twice.

The fault is injected at the recorder: the insert runs, and then runs again, as the PostgreSQL
recorder's retry does after a dropped connection; the second attempt meets the first's rows
and raises the store's own ``IntegrityError``. Runs on memory, SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.application import FengqiaoApplication
from domain.case.commands import AddNote, SignCase
from domain.operations import OPERATIONS_ID
from domain.policy import Mode
from tests.support.builders import event_names, register, registration
from tests.support.world import MEDIATOR, REPORTER, SUPERVISOR, Clock


def lose_the_next_acknowledgement(app: FengqiaoApplication) -> None:
    """The next insert commits, then is retried as after a dropped connection."""
    recorder = app.recorder
    real = recorder.insert_events

    def insert_twice(stored_events: Sequence[Any], **kwargs: Any) -> Any:
        recorder.insert_events = real  # type: ignore[method-assign]
        real(stored_events, **kwargs)
        return real(stored_events, **kwargs)

    recorder.insert_events = insert_twice  # type: ignore[method-assign]


def test_a_note_whose_commit_was_not_acknowledged_is_stored_once(
    app: FengqiaoApplication, clock: Clock
) -> None:
    case = register(app)
    app.execute(case.id, SignCase(), MEDIATOR)
    clock.advance(minutes=5)

    lose_the_next_acknowledgement(app)
    answered = app.execute(case.id, AddNote("已电话联系申请人"), MEDIATOR)

    assert answered.case.version == 3
    assert answered.events == ("NoteAdded",)
    assert answered.position is not None
    assert event_names(app, case.id) == ["Registered", "Signed", "NoteAdded"]
    assert app.get_case(case.id).version == 3


def test_a_registration_whose_commit_was_not_acknowledged_creates_one_case(
    app: FengqiaoApplication,
) -> None:
    first = app.register(REPORTER, "dispute", registration()).case  # the county's counter
    before = app.recorder.max_notification_id() or 0

    lose_the_next_acknowledgement(app)
    answered = app.register(REPORTER, "dispute", registration())

    assert event_names(app, answered.case.id) == ["Registered"]
    assert app.recorder.max_notification_id() == before + 2  # the number issued, and the case
    assert answered.position == before + 2
    assert first.number.endswith("第0001号")
    assert answered.case.number.endswith("第0002号")


def test_a_mode_switch_whose_commit_was_not_acknowledged_is_recorded_once(
    app: FengqiaoApplication,
) -> None:
    lose_the_next_acknowledgement(app)
    app.switch_mode(SUPERVISOR, Mode.EMERGENCY, "汛期")

    assert app.current_mode() is Mode.EMERGENCY
    assert event_names(app, OPERATIONS_ID) == ["Created", "ModeSwitched"]


def test_someone_elses_events_at_those_versions_are_still_a_conflict_retried_in_full(
    app: FengqiaoApplication, clock: Clock, backend: str
) -> None:
    """Not every IntegrityError is our own commit: another writer's note took the version,
    so the command is decided again on the case as it now stands (both notes kept)."""
    case = register(app)
    recorder = app.recorder
    real = recorder.insert_events
    # another process on a shared store; in memory, another request of this one
    writer = app if backend == "memory" else FengqiaoApplication(env=app.env, clock=clock)

    def another_writer_first(stored_events: Sequence[Any], **kwargs: Any) -> Any:
        recorder.insert_events = real  # type: ignore[method-assign]
        writer.execute(case.id, AddNote("另一位调解员的备注"), SUPERVISOR)
        return real(stored_events, **kwargs)

    recorder.insert_events = another_writer_first  # type: ignore[method-assign]
    answered = app.execute(case.id, AddNote("已电话联系申请人"), MEDIATOR)

    texts = [getattr(e, "text", None) for e in app.repository.event_store.get(case.id)]
    assert texts[1:] == ["另一位调解员的备注", "已电话联系申请人"]
    assert answered.case.version == 3
