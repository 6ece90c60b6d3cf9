"""What a command saves is kept, as a copy, in the repository's cache (``_commit``), so the
case's next command does not decode its events again; the store stays the truth.

What a user relies on: the case a command runs on is the case as stored, whatever this
process cached and whatever another host wrote since; and an answer built from the saved
case cannot change the case the next command sees.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from api.demo.load import run_demo
from domain.application import FengqiaoApplication
from domain.case import Case
from domain.case.commands import AddNote, SignCase
from tests.support.builders import register
from tests.support.world import MEDIATOR, T0

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
CACHED = {"AGGREGATE_CACHE_MAXSIZE": "1000"}  # as the API's settings turn it on
DEMO_CASES = 25


@pytest.fixture
def cached_env(env: dict[str, str]) -> dict[str, str]:
    return {**env, **CACHED}


@pytest.fixture
def cached(cached_env: dict[str, str], app: FengqiaoApplication) -> Iterator[FengqiaoApplication]:
    """An application with the cache on, on ``app``'s store (units and staff loaded)."""
    application = FengqiaoApplication(env=cached_env, clock=app.clock)
    try:
        yield application
    finally:
        application.close()


def test_every_aggregate_the_cache_holds_equals_its_replay(cached: FengqiaoApplication) -> None:
    """After the demo's stories (every command the demo tells), each aggregate in the cache is
    the very state a replay of its stored events gives at that version."""
    run_demo(cached, DEMO_CASES, 2026, T0 + timedelta(days=60))
    ids = {n.originator_id for n in cached.recorder.select_notifications(start=1, limit=10**6)}
    cache = cached.repository.cache
    assert cache is not None
    compared = cases = 0
    for aggregate_id in ids:
        try:
            held: Any = cache.get(aggregate_id)
        except KeyError:
            continue
        replayed = cached.repository.get(aggregate_id, version=held.version)
        assert type(held) is type(replayed)
        assert vars(held) == vars(replayed), aggregate_id
        compared += 1
        cases += isinstance(held, Case)
    assert cases >= DEMO_CASES, "every demo case was saved, so every one is cached"
    assert compared > DEMO_CASES


def test_the_next_command_does_not_replay_the_case(
    cached: FengqiaoApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = register(cached)
    replays: list[UUID] = []
    replay = cached.repository._reconstruct_aggregate

    def counted(aggregate_id: UUID, *args: Any) -> Any:
        replays.append(aggregate_id)
        return replay(aggregate_id, *args)

    monkeypatch.setattr(cached.repository, "_reconstruct_aggregate", counted)
    cached.execute(case.id, SignCase(), MEDIATOR)
    cached.execute(case.id, AddNote("电话联系双方"), MEDIATOR)
    assert case.id not in replays


def test_a_command_through_another_host_is_seen_by_the_next_command(
    cached: FengqiaoApplication, cached_env: dict[str, str]
) -> None:
    case = register(cached)
    cached.execute(case.id, SignCase(), MEDIATOR)
    other = FengqiaoApplication(env=cached_env, clock=cached.clock)  # another host
    try:
        other.execute(case.id, AddNote("另一台主机记的"), MEDIATOR)
    finally:
        other.close()
    after = cached.execute(case.id, AddNote("这台主机记的"), MEDIATOR).case
    assert after.version == case.version + 3, "decided on the case with the other's note"
    notes = [e.text for e in cached.repository.event_store.get(case.id) if hasattr(e, "text")]
    assert notes == ["另一台主机记的", "这台主机记的"]
    assert vars(cached.get_case(case.id)) == vars(after)


def test_the_saved_case_an_answer_is_built_from_is_not_the_cached_one(
    cached: FengqiaoApplication,
) -> None:
    case = register(cached)
    saved = cached.execute(case.id, SignCase(), MEDIATOR).case
    saved.flags.add("只在回答里")  # whatever the answer's builder did to it
    saved.deadlines.clear()
    read = cached.get_case(case.id)
    assert "只在回答里" not in read.flags
    assert read.deadlines
