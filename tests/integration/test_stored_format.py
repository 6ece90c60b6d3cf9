"""Events stored by earlier versions of fengqiao still load to the same cases.

``tests/fixtures/store-v1.sqlite3`` was written by the code before events stored deadlines and
parties as typed value objects (see tests/fixtures/README.md); its cases, read back by today's
code, must equal what that code read back (``store-v1.expected.json``). New events written on
top of the old ones must load too.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import fields, is_dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from domain.application import FengqiaoApplication
from domain.case.commands import AddNote
from domain.status import Status
from tests.support.world import MEDIATOR

FIXTURES = Path(__file__).parent.parent / "fixtures"
EXPECTED: dict[str, Any] = json.loads((FIXTURES / "store-v1.expected.json").read_text())
CASE_IDS = sorted(key for key in EXPECTED if not key.startswith("_"))


def plain(value: Any) -> Any:  # noqa: PLR0911 - one return per kind of value
    """A case attribute as the fixture's JSON holds it."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(plain(v) for v in value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Enum):
        return value.value
    return value


@pytest.fixture(scope="module")
def old_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FengqiaoApplication]:
    copy = tmp_path_factory.mktemp("store-v1") / "events.sqlite3"
    shutil.copy(FIXTURES / "store-v1.sqlite3", copy)
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(copy)}
    app = FengqiaoApplication(env=env)
    yield app
    app.close()


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_a_case_stored_in_the_first_format_loads_to_the_same_state(
    old_store: FengqiaoApplication, case_id: str
) -> None:
    case = old_store.get_case(UUID(case_id))
    expected = EXPECTED[case_id]
    assert {name: plain(getattr(case, name)) for name in expected} == expected


def test_the_fixture_covers_every_status_and_both_kinds(old_store: FengqiaoApplication) -> None:
    cases = [old_store.get_case(UUID(case_id)) for case_id in CASE_IDS]
    assert {case.kind for case in cases} == {"dispute", "incident"}
    assert {case.status for case in cases} == set(Status)


def test_the_rest_of_the_old_store_loads(old_store: FengqiaoApplication) -> None:
    assert old_store.current_mode().value == EXPECTED["_mode"]
    assert len(old_store.units().subtree("511100")) == EXPECTED["_units"]
    assert old_store.recorder.max_notification_id() == EXPECTED["_max_position"]
    events = old_store.recorder.select_notifications(1, EXPECTED["_max_position"])
    assert all(old_store.mapper.to_domain_event(n) is not None for n in events)


def test_a_case_of_the_old_format_takes_new_events(old_store: FengqiaoApplication) -> None:
    case = old_store.get_case(UUID(CASE_IDS[0]))
    at = case.modified_on + timedelta(minutes=1)
    old_store.execute(case.id, AddNote("格式升级后补记"), MEDIATOR, at=at)
    again = old_store.get_case(case.id)
    assert again.version == case.version + 1
    assert plain(again.deadlines) == plain(case.deadlines)
