"""Operating modes per subtree over HTTP: who may switch which unit's mode (role × tier × own or
other subtree), the mode a case's new clocks start under (the nearest unit above its location
with one set, the city's by default), statutory clocks that no mode changes, who may read the
mode in force, and the switches in the audit trail. Statuses are exact."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from api.http.runtime import Runtime
from tests.support.api import (
    API,
    CITY,
    COUNTY,
    OTHER_COUNTY,
    OTHER_COUNTY_VILLAGE,
    TOWNSHIP,
    VILLAGE,
    Client,
    assert_problem,
    auth,
    events_recorded,
    ok,
    register,
    send,
)
from tests.support.world import Clock

ROLES = ("reporter", "mediator", "supervisor", "auditor", "admin")
CALLERS = {"city": CITY, "county": COUNTY, "township": TOWNSHIP, "village": VILLAGE}
# target → the units (by the caller's unit) whose subtree holds it
TARGETS = {"city": CITY, "own county": COUNTY, "other county": OTHER_COUNTY}
SWITCHERS = {"supervisor", "admin"}


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def due(case: dict[str, Any], kind: str) -> timedelta:
    """How long after the case's last change its ``kind`` clock is due."""
    found = [d["due_at"] for d in case["deadlines"] if d["kind"] == kind]
    assert found, (kind, case["deadlines"])
    return when(found[0]) - when(case["updated_at"])


def switch(http: Client, code: str, mode: str, role: str = "supervisor", unit: str = CITY) -> Any:
    body = {"mode": mode, "reason": "演练"}
    return http.post(f"{API}/units/{code}/mode", json=body, headers=auth(role, unit))


def in_force(http: Client, code: str, role: str = "mediator", unit: str | None = None) -> Any:
    return http.get(f"{API}/units/{code}/mode", headers=auth(role, unit or code))


def another_mode(runtime: Runtime, code: str) -> str:
    """A mode the unit does not have set: switching to it records a switch."""
    found = runtime.app.mode_in_force(code)
    current = found.mode.value if found.set_here or code == CITY else None
    return "holiday" if current == "emergency" else "emergency"


def expected(role: str, caller: str, target: str) -> int:
    tier_may = caller in ("city", "county")
    within = caller == "city" or target == "own county"
    return 200 if role in SWITCHERS and tier_may and within else 403


def test_who_may_switch_which_units_mode(client: tuple[Client, Runtime]) -> None:
    """Every role × caller tier × target (the city through both paths, the caller's own county,
    the other county), compared as one table; a refusal records nothing."""
    http, runtime = client
    seen: dict[tuple[str, str, str], int] = {}
    wanted: dict[tuple[str, str, str], int] = {}
    for role in ROLES:
        for caller, unit in CALLERS.items():
            for target, code in {**TARGETS, "city (/mode)": CITY}.items():
                body = {"mode": another_mode(runtime, code), "reason": "演练"}
                path = f"{API}/mode" if target == "city (/mode)" else f"{API}/units/{code}/mode"
                before = events_recorded(runtime)
                answer = http.post(path, json=body, headers=auth(role, unit))
                seen[role, caller, target] = answer.status_code
                wanted[role, caller, target] = expected(role, caller, target.split(" (")[0])
                if answer.status_code == 403:
                    assert_problem(answer, 403)
                    assert events_recorded(runtime) == before, (role, caller, target)
                elif answer.status_code == 200:
                    assert answer.json()["mode"] == body["mode"]
                    assert events_recorded(runtime) > before  # (the first also creates)
    assert {k: v for k, v in seen.items() if v != wanted[k]} == {}


def test_a_township_or_village_has_no_mode_of_its_own(client: tuple[Client, Runtime]) -> None:
    """Its staff may not switch (403); a city or county supervisor naming it is refused as a
    unit that cannot have a mode (422); an unknown unit is not found (404)."""
    http, runtime = client
    before = events_recorded(runtime)
    for code in (TOWNSHIP, VILLAGE):
        assert_problem(switch(http, code, "emergency", "supervisor", code), 403)
        assert_problem(switch(http, code, "emergency", "admin", code), 403)
        for unit in (CITY, COUNTY):
            problem = assert_problem(switch(http, code, "emergency", "supervisor", unit), 422)
            assert problem["field"] == "unit"
    assert_problem(switch(http, "999999", "emergency"), 404)
    assert_problem(in_force(http, "999999", unit=CITY), 404)
    assert events_recorded(runtime) == before


def test_bad_and_repeated_switches_are_refused(client: tuple[Client, Runtime]) -> None:
    http, runtime = client
    before = events_recorded(runtime)
    assert switch(http, COUNTY, "martial").status_code in (400, 422)
    no_reason = http.post(
        f"{API}/units/{COUNTY}/mode", json={"mode": "emergency"}, headers=auth("supervisor", CITY)
    )
    assert no_reason.status_code in (400, 422)
    assert assert_problem(switch(http, CITY, "normal"), 422)["field"] == "mode"  # already
    assert assert_problem(switch(http, CITY, "inherit"), 422)["field"] == "mode"  # no parent
    # a county that never set one already follows the city
    assert assert_problem(switch(http, COUNTY, "inherit"), 422)["field"] == "mode"
    assert events_recorded(runtime) == before


def test_a_county_in_emergency_halves_its_new_clocks_and_not_its_neighbours(
    client: tuple[Client, Runtime],
) -> None:
    http, _ = client
    normal = register(http, unit=VILLAGE)
    assert due(normal, "sign") == timedelta(hours=24)
    switched = ok(switch(http, COUNTY, "emergency", "supervisor", COUNTY))
    assert switched == {"unit": COUNTY, "mode": "emergency", "source": COUNTY, "set_here": True}
    here = register(http, unit=VILLAGE)
    there = register(http, unit=OTHER_COUNTY_VILLAGE)
    assert due(here, "sign") == timedelta(hours=12)
    assert due(there, "sign") == timedelta(hours=24)
    # a clock already running keeps its due time
    again = ok(http.get(f"{API}/cases/{normal['id']}", headers=auth("mediator", VILLAGE)))
    assert again["deadlines"] == normal["deadlines"]
    # back to following the city (normal): new clocks are normal again
    followed = ok(switch(http, COUNTY, "inherit", "supervisor", COUNTY))
    assert followed == {"unit": COUNTY, "mode": "normal", "source": None, "set_here": False}
    assert due(register(http, unit=VILLAGE), "sign") == timedelta(hours=24)


def test_the_citys_emergency_reaches_a_county_without_a_mode_not_one_set_to_normal(
    client: tuple[Client, Runtime],
) -> None:
    http, _ = client
    ok(switch(http, COUNTY, "normal", "supervisor", COUNTY))
    ok(
        http.post(
            f"{API}/mode", json={"mode": "emergency", "reason": "汛期"}, headers=auth("admin", CITY)
        )
    )
    assert due(register(http, unit=OTHER_COUNTY_VILLAGE), "sign") == timedelta(hours=12)
    assert due(register(http, unit=VILLAGE), "sign") == timedelta(hours=24)
    assert ok(in_force(http, OTHER_COUNTY_VILLAGE)) == {
        "unit": OTHER_COUNTY_VILLAGE, "mode": "emergency", "source": CITY, "set_here": False,
    }  # fmt: skip
    assert ok(in_force(http, VILLAGE))["source"] == COUNTY
    assert ok(http.get(f"{API}/mode", headers=auth("mediator", VILLAGE))) == {"mode": "emergency"}


@pytest.mark.parametrize("mode", ["normal", "holiday", "emergency"])
def test_judicial_confirmation_stays_thirty_days_in_every_mode(
    client: tuple[Client, Runtime], clock: Clock, mode: str
) -> None:
    """司法确认 (人民调解法 §33) is statutory: no mode shortens or stretches it."""
    http, _ = client
    if mode != "normal":
        ok(switch(http, COUNTY, mode, "supervisor", COUNTY))
    case = register(http, unit=VILLAGE)
    ok(send(http, case["id"], "sign"))
    held = (clock.now - timedelta(minutes=30)).isoformat()
    ok(send(http, case["id"], "mediation-sessions", {"held_at": held, "notes": "双方到场"}))
    body = {"agreement": "疏通水沟，费用均摊", "form": "written", "amount": "600.00"}
    resolved = ok(send(http, case["id"], "resolve", body))
    assert due(resolved, "judicial_confirmation") == timedelta(days=30)
    assert due(resolved, "judicial_reminder") == timedelta(days=20)
    # 回访 is not statutory: the mode applies (holiday counts only working days: 国庆 is near)
    follow_up = {"normal": timedelta(days=7), "emergency": timedelta(days=3.5)}
    assert due(resolved, "follow_up") == follow_up.get(mode, timedelta(days=15))


def test_who_may_read_the_mode_in_force(client: tuple[Client, Runtime]) -> None:
    """Anyone at the unit, above it or below it (a mediator reads the mode where they work,
    set above them); not a sibling's."""
    http, _ = client
    for role in ROLES:
        for code in (VILLAGE, TOWNSHIP, COUNTY, CITY):
            assert in_force(http, code, role, VILLAGE).status_code == 200, (role, code)
        assert ok(in_force(http, VILLAGE, role, CITY))["mode"] == "normal"
        assert_problem(in_force(http, OTHER_COUNTY, role, VILLAGE), 403)
        assert_problem(in_force(http, OTHER_COUNTY_VILLAGE, role, COUNTY), 403)
    assert ok(in_force(http, CITY, unit=CITY)) == {
        "unit": CITY, "mode": "normal", "source": None, "set_here": False,
    }  # fmt: skip


def test_mode_switches_are_in_the_audit_trail(client: tuple[Client, Runtime]) -> None:
    http, _ = client
    ok(switch(http, COUNTY, "emergency", "supervisor", COUNTY))
    ok(switch(http, CITY, "holiday", "admin", CITY))
    answer = http.get(f"{API}/audit/export", headers=auth("auditor", CITY))
    assert answer.status_code == 200, answer.text
    records = [json.loads(line) for line in answer.text.splitlines()]
    switches = [r for r in records if r.get("event_type") == "Operations.ModeSwitched"]
    assert [
        (r["actor"], r["role"], r["payload"]["unit"], r["payload"]["mode"]) for r in switches
    ] == [
        (f"supervisor-{COUNTY}", "supervisor", COUNTY, "emergency"),
        (f"admin-{CITY}", "admin", CITY, "holiday"),
    ]
    assert all(r["payload"]["reason"] == "演练" for r in switches)
