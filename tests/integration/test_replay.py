"""The event log is the truth: a case rebuilt from its events equals the live object, every
process sees the same case, and concurrent writers never lose an update.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from domain.actors import SYSTEM
from domain.application import FengqiaoApplication
from domain.calendar import SHANGHAI
from domain.case import Case
from domain.case.commands import (
    ActOnDeadline,
    AddAttachment,
    AddNote,
    AssessCase,
    AssignCase,
    ExtendDeadline,
    PauseCase,
    RaiseLevel,
    RateCase,
    RecordFollowUp,
    RecordJudicialConfirmation,
    ReferCase,
    RejectCase,
    RequestJudicialConfirmation,
    ResumeCase,
    ReviewRating,
    SignCase,
)
from domain.clocks import DeadlineKind
from domain.errors import VersionConflictError
from domain.levels import Level
from domain.policy import Mode, Policy
from domain.samples import sample_units
from domain.status import Agency, Grade, ReviewDecision, Status
from tests.support.backends import store_env
from tests.support.builders import SHA, event_names, mediate, register, resolve
from tests.support.world import (
    ADMIN,
    MEDIATOR,
    REPORTER,
    SUPERVISOR,
    T0,
    TOWNSHIP_MEDIATOR,
    Clock,
)


def state(case: Case) -> dict[str, Any]:
    """Everything a case knows, as plain attributes (pending events aside: none after save)."""
    assert not case._pending_events
    return {k: v for k, v in vars(case).items() if k != "_pending_events"}


def rich_history(app: FengqiaoApplication, clock: Clock) -> Case:
    """A dispute that goes through most of the lifecycle, and ends reopened for rework."""
    case = register(
        app,
        amount_involved=Decimal("12800.50"),
        occurred_at=datetime(2026, 9, 27, 21, 30, tzinfo=SHANGHAI),
        people_involved=5,
    )
    cid = case.id
    app.execute(cid, AssessCase(Level.YELLOW, ["3-9人"], "邻里纠纷"), MEDIATOR)
    clock.advance(hours=2)
    app.execute(cid, AssignCase("mediator-3"), MEDIATOR)
    app.execute(cid, SignCase(), MEDIATOR)
    mediate(app, cid)
    clock.advance(hours=1)
    app.execute(cid, PauseCase("等待伤情鉴定", clock.now + timedelta(days=10)), MEDIATOR)
    clock.advance(days=1, hours=4)
    app.execute(cid, ResumeCase(), MEDIATOR)
    app.execute(cid, RaiseLevel(Level.ORANGE, "双方亲属聚集"), MEDIATOR)
    app.execute(cid, SignCase(), TOWNSHIP_MEDIATOR)
    app.execute(cid, ExtendDeadline(T0 + timedelta(days=30), "需现场勘验"), SUPERVISOR)
    app.execute(cid, AddAttachment("现场照片.jpg", "image/jpeg", 123456, SHA), MEDIATOR)
    clock.advance(days=2)
    mediate(app, cid)
    resolve(app, cid)
    app.execute(cid, RequestJudicialConfirmation("犍为县人民法院"), MEDIATOR)
    app.execute(cid, RecordJudicialConfirmation(confirmed=True, note="裁定有效"), MEDIATOR)
    clock.advance(days=5)
    app.execute(cid, RecordFollowUp(satisfied=False, agreement_honoured=False), MEDIATOR)
    app.execute(cid, RateCase(Grade.VERY_DISSATISFIED), REPORTER)
    app.execute(cid, ReviewRating(ReviewDecision.CONFIRM), SUPERVISOR)
    return app.execute(cid, AddNote("已重新组织调解"), MEDIATOR).case


def test_a_case_rebuilt_from_its_events_equals_the_live_one(
    app: FengqiaoApplication, clock: Clock
) -> None:
    live = rich_history(app, clock)
    assert live.status is Status.REOPENED
    rebuilt = app.get_case(live.id)
    assert rebuilt is not live
    assert type(rebuilt) is type(live)
    assert state(rebuilt) == state(live)
    assert rebuilt.version == len(event_names(app, live.id))


def test_a_second_application_rebuilds_the_same_case_without_recomputing_deadlines(
    app: FengqiaoApplication, env: dict[str, str], backend: str, clock: Clock
) -> None:
    if backend == "memory":
        pytest.skip("a second application needs a shared store")
    live = rich_history(app, clock)
    # Another process, another clock, another mode and policy: replay reads none of them.
    other = FengqiaoApplication(
        env=env,
        clock=lambda: T0 + timedelta(days=400),
        policy=Policy(version="other-policy"),
    )
    other.switch_mode(SUPERVISOR, Mode.EMERGENCY, "drill", at=T0 + timedelta(days=400))
    try:
        assert state(other.get_case(live.id)) == state(live)
    finally:
        other.close()


def test_every_application_on_a_store_sees_the_others_commands(
    app: FengqiaoApplication, env: dict[str, str], backend: str, clock: Clock
) -> None:
    if backend == "memory":
        pytest.skip("a second application needs a shared store")
    other = FengqiaoApplication(env=env, clock=clock)
    try:
        case = register(app)
        assert other.get_case(case.id).version == case.version
        signed = other.execute(case.id, SignCase(), MEDIATOR).case
        seen = app.get_case(case.id)
        assert (seen.version, seen.status) == (signed.version, Status.SIGNED)
        app.execute(case.id, ReferCase(Agency.PETITION_OFFICE, "转信访部门"), MEDIATOR)
        assert other.get_case(case.id).status is Status.REFERRED
        assert state(other.get_case(case.id)) == state(app.get_case(case.id))
    finally:
        other.close()


# --- expected versions and concurrent writers ---------------------------------------------


def test_a_stale_expected_version_is_refused_with_the_current_version(
    app: FengqiaoApplication,
) -> None:
    case = register(app)
    seen = case.version
    app.execute(case.id, AddNote("另一位调解员先记录了"), MEDIATOR)
    current = app.get_case(case.id).version
    with pytest.raises(VersionConflictError) as caught:
        app.execute(case.id, SignCase(), MEDIATOR, expected_version=seen)
    assert caught.value.current_version == current
    assert caught.value.expected_version == seen
    reloaded = app.get_case(case.id)
    assert reloaded.version == current
    assert reloaded.status is Status.REGISTERED
    assert (
        app.execute(case.id, SignCase(), MEDIATOR, expected_version=current).case.version
        == current + 1
    )


def test_the_scheduler_acts_whatever_version_the_case_is_at(
    app: FengqiaoApplication, clock: Clock
) -> None:
    case = register(app)
    app.execute(case.id, AddNote("x"), MEDIATOR)
    sign = case.deadlines["sign"]
    clock.now = sign.due_at
    assert (
        app.execute(case.id, ActOnDeadline(DeadlineKind.SIGN, sign.due_at), SYSTEM).position
        is not None
    )


@pytest.fixture
def postgres_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    with store_env("postgres", tmp_path) as env:
        yield env


@pytest.mark.postgres
def test_two_writers_on_one_case_lose_no_update(postgres_env: dict[str, str]) -> None:
    clock = Clock()
    first = FengqiaoApplication(env=postgres_env, clock=clock)
    second = FengqiaoApplication(env=postgres_env, clock=clock)
    try:
        first.add_units(ADMIN, sample_units(), at=T0)
        case_id = register(first).id
        notes_each = 25
        start = threading.Barrier(2)
        failures: list[BaseException] = []

        def write(app: FengqiaoApplication, name: str) -> None:
            start.wait()
            for n in range(notes_each):
                try:
                    app.execute(case_id, AddNote(f"{name}-{n}"), MEDIATOR)
                except BaseException as error:
                    failures.append(error)

        threads = [
            threading.Thread(target=write, args=(first, "first")),
            threading.Thread(target=write, args=(second, "second")),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert failures == []
        events = list(first.repository.event_store.get(case_id))
        assert [e.originator_version for e in events] == list(range(1, 2 * notes_each + 2))
        texts = [e.text for e in events if type(e).__name__ == "NoteAdded"]
        assert sorted(texts) == sorted(
            f"{name}-{n}" for name in ("first", "second") for n in range(notes_each)
        )
        # Each writer's own notes stay in the order it wrote them.
        for name in ("first", "second"):
            mine = [t for t in texts if t.startswith(name)]
            assert mine == [f"{name}-{n}" for n in range(notes_each)]
        assert second.get_case(case_id).version == 2 * notes_each + 1
    finally:
        first.close()
        second.close()


@pytest.mark.postgres
def test_a_writer_holding_a_stale_version_is_refused_and_stores_nothing(
    postgres_env: dict[str, str],
) -> None:
    clock = Clock()
    first = FengqiaoApplication(env=postgres_env, clock=clock)
    second = FengqiaoApplication(env=postgres_env, clock=clock)
    try:
        first.add_units(ADMIN, sample_units(), at=T0)
        case = register(first)
        seen_by_first = first.get_case(case.id).version
        second.execute(case.id, SignCase(), MEDIATOR, expected_version=seen_by_first)
        with pytest.raises(VersionConflictError) as caught:
            first.execute(case.id, RejectCase("不予受理"), MEDIATOR, expected_version=seen_by_first)
        assert caught.value.current_version == seen_by_first + 1
        assert first.get_case(case.id).status is Status.SIGNED
        assert event_names(first, case.id) == ["Registered", "Signed"]
    finally:
        first.close()
        second.close()
