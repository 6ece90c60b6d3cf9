"""重点人员 over HTTP, on SQLite and PostgreSQL: a supervisor flags a person by an ID number
typed with spaces and a lower-case x, and a case registered with the number written plainly
is found to involve them and suggested one level higher; a phone matches however written; a
person taken off the list matches no more; the visit clock is overdue from its exact instant;
bad input is refused in Chinese with nothing stored; and no table of any view, nor any file,
holds the ID number, the phone or the name.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

from api.http.runtime import Runtime, watches
from api.wiring.settings import encryption_env, new_cipher_key
from domain.levels import Level
from scheduler.key_persons import KeyPersonWatch
from tests.support import backends
from tests.support.api import (
    API,
    COUNTY,
    NEIGHBOUR_VILLAGE,
    TOWNSHIP,
    VILLAGE,
    Client,
    Store,
    assert_problem,
    auth,
    events_recorded,
    ok,
    party,
    register,
    serving,
)
from tests.support.backends import store_env
from tests.support.world import Clock

ID_NUMBER = "51112319800109123X"
TYPED_ID = "5111 2319 8001 0912 3x"
PHONE = "13812345678"
TYPED_PHONE = "+86 138 1234 5678"
NAME = "王五明"
OTHER_ID = "511123199001091234"
SUPERVISOR = auth("supervisor", TOWNSHIP)
REVIEW_ON = "2026-12-31"


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A store with a cipher key: fingerprints are keyed by it."""
    backend = str(request.param)
    with store_env(backend, tmp_path) as settings:
        extra = {"SQLITE_LOCK_TIMEOUT": "10"} if backend == "sqlite" else {}
        keyed = {**settings, **extra, **encryption_env(new_cipher_key())}
        yield Store(backend, keyed, tmp_path)


@pytest.fixture
def client(store: Store, clock: Clock) -> Iterator[tuple[Client, Runtime]]:
    with serving(store, clock) as running:
        yield running


def flag(http: Client, status: int = 201, **person: Any) -> dict[str, Any]:
    body = {"reason": "多次上访，情绪激动", "review_on": REVIEW_ON, **person}
    return ok(http.post(f"{API}/key-persons", json=body, headers=SUPERVISOR), status)


def case_with(http: Client, unit: str = VILLAGE, **who: Any) -> dict[str, Any]:
    return register(http, unit, parties=[party(name=NAME, address=None, **who)])


def test_a_key_person_typed_in_is_found_in_a_new_case_one_level_higher(
    client: tuple[Client, Runtime],
) -> None:
    http, runtime = client
    person = flag(http, name=NAME, id_number=TYPED_ID)
    assert person["name"] == "王*明"
    assert person["active"] is True
    again = flag(http, 200, name=NAME, id_number=ID_NUMBER)  # the first flag, unchanged
    assert again["id"] == person["id"]
    assert again["new"] is False

    matched = case_with(http, id_number=ID_NUMBER, phone=None)
    other = case_with(http, NEIGHBOUR_VILLAGE, id_number=OTHER_ID, phone=None)  # no repeat

    assert "key_person" in matched["risk_triggers"]
    assert "key_person" not in other["risk_triggers"]
    assert "repeat" not in matched["risk_triggers"] + other["risk_triggers"]
    suggested = Level(matched["suggested_level"]).rank
    assert suggested == Level(other["suggested_level"]).rank + 1
    assert Level(matched["level"]).rank == Level(other["level"]).rank + 1
    assert runtime.app.get_case(UUID(matched["id"])).key_persons == [person["id"]]
    assert runtime.app.get_case(UUID(other["id"])).key_persons == []


def test_a_phone_matches_however_written_and_a_removed_person_no_longer(
    client: tuple[Client, Runtime],
) -> None:
    http, runtime = client
    person = flag(http, name=NAME, phone=TYPED_PHONE)
    first = case_with(http, id_number=None, phone=PHONE)
    assert "key_person" in first["risk_triggers"]

    removal = http.post(
        f"{API}/key-persons/{person['id']}/removal", json={"reason": "已化解"}, headers=SUPERVISOR
    )
    assert ok(removal)["active"] is False
    later = case_with(http, id_number=None, phone=PHONE)
    assert "key_person" not in later["risk_triggers"]
    assert runtime.app.get_case(UUID(later["id"])).key_persons == []

    visit = http.post(
        f"{API}/key-persons/{person['id']}/visits", json={"note": "走访"}, headers=SUPERVISOR
    )
    problem = assert_problem(visit, 409)
    assert "已移出重点人员名单" in problem["detail"]
    listed = ok(http.get(f"{API}/key-persons", params={"state": "removed"}, headers=SUPERVISOR))
    assert [item["id"] for item in listed["items"]] == [person["id"]]


def test_a_case_party_is_flagged_from_the_case_page(client: tuple[Client, Runtime]) -> None:
    http, _ = client
    case = case_with(http, id_number=ID_NUMBER, phone=PHONE)
    person = flag(http, case_id=case["id"], party=0)
    assert person["source_case"] == case["id"]
    typed = flag(http, 200, name=NAME, id_number=TYPED_ID)  # the same person, found
    assert typed["id"] == person["id"]
    outside = http.post(
        f"{API}/key-persons",
        json={"reason": "多次纠纷", "review_on": REVIEW_ON, "case_id": case["id"], "party": 0},
        headers=auth("supervisor", "511123002"),  # another township cannot read the case
    )
    assert_problem(outside, 403)


def test_the_visit_clock_is_overdue_from_its_exact_instant(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, runtime = client
    person = flag(http, name=NAME, id_number=ID_NUMBER)
    path = f"{API}/key-persons/{person['id']}"
    wrong = http.post(f"{path}/leader", json={"leader": f"mediator-{VILLAGE}"}, headers=SUPERVISOR)
    problem = assert_problem(wrong, 422)
    assert problem["field"] == "leader"
    assert "在岗的主管" in problem["detail"]
    leader = f"supervisor-{TOWNSHIP}"
    assigned = ok(http.post(f"{path}/leader", json={"leader": leader}, headers=SUPERVISOR))
    due = clock.now + timedelta(days=7)
    assert assigned["visit_due_at"] == due.isoformat().replace("+00:00", "Z")

    watch = next(
        w for w in watches(runtime.app, runtime.views, clock) if isinstance(w, KeyPersonWatch)
    )
    clock.now = due - timedelta(microseconds=1)
    assert watch.sweep(clock.now).flagged == {}
    overdue = {"state": "visit_overdue"}
    assert ok(http.get(f"{API}/key-persons", params=overdue, headers=SUPERVISOR))["items"] == []

    clock.now = due
    assert list(watch.sweep(clock.now).flagged.values()) == [["visit"]]
    listed = ok(http.get(f"{API}/key-persons", params=overdue, headers=auth("auditor", COUNTY)))
    assert [item["id"] for item in listed["items"]] == [person["id"]]
    assert listed["items"][0]["visit_overdue"] is True

    visited = ok(
        http.post(
            f"{path}/visits",
            json={"note": "上门走访"},
            headers=auth("supervisor", TOWNSHIP, leader),
        )
    )
    assert visited["visit_overdue"] is False
    assert visited["visits"] == 1


def test_bad_input_is_refused_in_chinese_and_nothing_is_stored(
    client: tuple[Client, Runtime],
) -> None:
    http, runtime = client
    before = events_recorded(runtime)
    nobody = http.post(
        f"{API}/key-persons",
        json={"reason": "多次上访", "review_on": REVIEW_ON, "name": NAME},
        headers=SUPERVISOR,
    )
    assert "身份证号码或联系电话" in assert_problem(nobody, 422)["detail"]
    wrong_id = http.post(
        f"{API}/key-persons",
        json={"reason": "多次上访", "review_on": REVIEW_ON, "name": NAME, "id_number": "123"},
        headers=SUPERVISOR,
    )
    assert assert_problem(wrong_id, 422)["field"] == "id_number"
    past = http.post(
        f"{API}/key-persons",
        json={"reason": "多次上访", "review_on": "2026-01-01", "name": NAME, "phone": PHONE},
        headers=SUPERVISOR,
    )
    assert assert_problem(past, 422)["field"] == "review_on"
    mediator = http.post(
        f"{API}/key-persons",
        json={"reason": "多次上访", "review_on": REVIEW_ON, "name": NAME, "phone": PHONE},
        headers=auth("mediator", VILLAGE),
    )
    assert "只有主管" in assert_problem(mediator, 403)["detail"]
    missing = http.get(
        f"{API}/key-persons/00000000-0000-0000-0000-000000000000", headers=SUPERVISOR
    )
    assert_problem(missing, 404)
    assert events_recorded(runtime) == before


# --- no plain ID number, phone or name at rest -----------------------------------------------

PLAIN = (ID_NUMBER, "5111231980", PHONE, "8613812345678", NAME)


def _found_in(blob: bytes) -> list[str]:
    return [v for v in PLAIN if v.encode() in blob or v.encode().hex().encode() in blob]


def _dump_schema(schema: str) -> bytes:
    """Every row of every table in the PostgreSQL schema, as COPY prints it."""
    chunks: list[bytes] = []
    with psycopg.connect(backends.test_database_url(), autocommit=True) as conn:
        tables = [
            str(row[0])
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            )
        ]
        for table in tables:
            with conn.cursor().copy(f'COPY "{schema}"."{table}" TO STDOUT') as copy:
                chunks.extend(bytes(data) for data in copy)
    assert tables
    return b"\n".join(chunks)


def test_no_table_or_file_holds_the_id_number_phone_or_name(store: Store, clock: Clock) -> None:
    with serving(store, clock) as (http, runtime):
        person = flag(http, name=NAME, id_number=TYPED_ID, phone=TYPED_PHONE)
        case_with(http, id_number=ID_NUMBER, phone=PHONE)
        leader = {"leader": f"supervisor-{TOWNSHIP}"}
        ok(http.post(f"{API}/key-persons/{person['id']}/leader", json=leader, headers=SUPERVISOR))
        runtime.saw(events_recorded(runtime))
        runtime.views.wait(events_recorded(runtime), 5.0)
        assert len(runtime.views.key_persons.people(TOWNSHIP, clock.now)) == 1
        if store.backend == "postgres":
            assert _found_in(_dump_schema(store.env["POSTGRES_SCHEMA"])) == []
        else:
            files = [p for p in store.path.rglob("*") if p.is_file()]
            assert any(p.name == "views.sqlite3" for p in files)
            leaks = {p.name: _found_in(p.read_bytes()) for p in files}
            assert {name: found for name, found in leaks.items() if found} == {}
