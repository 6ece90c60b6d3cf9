"""The staff directory over HTTP, on SQLite and PostgreSQL: tokens only for active members in a
role they hold at their unit; an admin manages the members of their subtree; a supervisor reads
them (phones masked) and sees what a disabled member left behind; a case is assigned only to an
active mediator of its owning unit, and a refusal stores nothing."""

from __future__ import annotations

import re
import time
from typing import Any

from api.http.auth import DIRECTORY_MAX_AGE
from api.http.runtime import Runtime
from api.wiring.bootstrap import OPERATOR
from domain.directory import Directory
from tests.support.api import (
    API,
    CITY,
    COUNTY,
    NEIGHBOUR_VILLAGE,
    OTHER_COUNTY,
    OTHER_COUNTY_VILLAGE,
    TOWNSHIP,
    VILLAGE,
    Client,
    Store,
    assert_problem,
    auth,
    events_recorded,
    ok,
    register,
    send,
    serving,
)
from tests.support.world import Clock

USERS = f"{API}/users"
MOBILE = re.compile(r"1[3-9][0-9]{9}")  # a whole mainland mobile number
COUNTY_ADMIN = auth("admin", COUNTY)
COUNTY_SUPERVISOR = auth("supervisor", COUNTY)
VILLAGE_MEDIATOR = f"mediator-{VILLAGE}"  # the sample village's one mediator
NEW = {
    "user": "zhao-xin",
    "name": "赵新",
    "unit": TOWNSHIP,
    "roles": ["mediator"],
    "phone": "13912345678",
    "email": "zhaoxin@luocheng.example",
}


def disable(runtime: Runtime, user: str) -> None:
    """Disables a member as an operator would (``fengqiao user disable``)."""
    at = runtime.clock()

    def change(directory: Directory) -> None:
        directory.disable(OPERATOR, user, "调离", at)

    runtime.app.change_directory(OPERATOR, change)


def refused_token(answer: Any, chinese: str) -> None:
    problem = assert_problem(answer, 401)
    assert chinese in problem["detail"], problem
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]


def me(http: Client, user: str, role: str, unit: str) -> Any:
    return http.get(f"{USERS}/me", headers=auth(role, unit, user))


# --- who may come in ------------------------------------------------------------------------------


def test_a_token_is_taken_only_for_an_active_member_in_a_role_they_hold_at_their_unit(
    client: tuple[Client, Runtime],
) -> None:
    http, runtime = client
    assert ok(me(http, VILLAGE_MEDIATOR, "mediator", VILLAGE))["acting_as"] == "mediator"
    refused_token(me(http, "nobody-here", "mediator", VILLAGE), "不在人员名录中")
    refused_token(me(http, VILLAGE_MEDIATOR, "supervisor", VILLAGE), "没有令牌所称的角色")
    refused_token(me(http, VILLAGE_MEDIATOR, "mediator", TOWNSHIP), "单位不符")
    english = http.get(
        f"{USERS}/me", headers=auth("mediator", VILLAGE, "nobody-here", accept_language="en")
    )
    assert assert_problem(english, 401)["detail"] == (
        "the token's user is not in the staff directory"
    )

    case = register(http)
    before = events_recorded(runtime)
    disable(runtime, VILLAGE_MEDIATOR)
    disabled = events_recorded(runtime)
    assert disabled == before + 1
    refused_token(me(http, VILLAGE_MEDIATOR, "mediator", VILLAGE), "已停用")
    note = send(http, case["id"], "notes", {"text": "还能记吗"}, user=VILLAGE_MEDIATOR)
    refused_token(note, "已停用")
    unknown = send(http, case["id"], "sign", user="nobody-here")
    refused_token(unknown, "不在人员名录中")
    assert events_recorded(runtime) == disabled  # nothing recorded for either


def test_a_disabled_members_old_token_stops_working_within_the_cache_age(
    store: Store, clock: Clock
) -> None:
    """Two processes on one store: the member is disabled through one, and the other, which
    has just let them in, refuses them within DIRECTORY_MAX_AGE."""
    headers = auth("mediator", VILLAGE, VILLAGE_MEDIATOR)
    with serving(store, clock) as (first, _), serving(store, clock) as (_, second):
        assert first.get(f"{USERS}/me", headers=headers).status_code == 200  # cached there
        disable(second, VILLAGE_MEDIATOR)
        disabled_at = time.monotonic()
        while (answer := first.get(f"{USERS}/me", headers=headers)).status_code == 200:
            assert time.monotonic() - disabled_at <= DIRECTORY_MAX_AGE + 0.5
            time.sleep(0.05)
        refused_token(answer, "已停用")
        assert time.monotonic() - disabled_at <= DIRECTORY_MAX_AGE + 0.5


# --- assignment -----------------------------------------------------------------------------------


def test_a_case_is_assigned_only_to_an_active_mediator_of_its_owning_unit(
    client: tuple[Client, Runtime],
) -> None:
    http, runtime = client
    case = register(http)  # yellow: owned by the village
    gone = {**NEW, "user": "mediator-gone", "unit": VILLAGE, "name": "钱离"}
    ok(http.post(USERS, json=gone, headers=COUNTY_ADMIN), 201)
    ok(http.post(f"{USERS}/mediator-gone/disable", json={"reason": "调离"}, headers=COUNTY_ADMIN))
    before = events_recorded(runtime)

    for assignee in (
        f"mediator-{NEIGHBOUR_VILLAGE}",  # another unit's mediator
        f"mediator-{TOWNSHIP}",  # the unit above's
        f"supervisor-{VILLAGE}",  # the owning unit's, but not a mediator
        "mediator-gone",  # the owning unit's mediator, disabled
        "nobody-enrolled",
    ):
        answer = send(http, case["id"], "assign", {"assignee": assignee}, role="supervisor")
        problem = assert_problem(answer, 422)
        assert problem["field"] == "assignee", assignee
        assert problem["detail"] == f"承办人：应为承办单位 {VILLAGE} 名单内在岗的调解员。"
    english = send(
        http,
        case["id"],
        "assign",
        {"assignee": "nobody-enrolled"},
        role="supervisor",
        accept_language="en",
    )
    assert "active mediator of the owning unit" in assert_problem(english, 422)["detail"]
    assert events_recorded(runtime) == before
    assert (
        ok(http.get(f"{API}/cases/{case['id']}", headers=auth("supervisor", VILLAGE)))["assignee"]
        is None
    )

    assigned = send(http, case["id"], "assign", {"assignee": VILLAGE_MEDIATOR}, role="supervisor")
    assert ok(assigned)["assignee"] == VILLAGE_MEDIATOR


def test_the_assignee_picker_lists_the_owning_units_active_mediators_by_name(
    client: tuple[Client, Runtime],
) -> None:
    http, _ = client
    picker = {"unit": TOWNSHIP, "role": "mediator", "active": "true"}
    listed = ok(http.get(USERS, params=picker, headers=auth("supervisor", TOWNSHIP)))
    assert [(m["user"], m["unit"], m["roles"]) for m in listed["items"]] == [
        (f"mediator-{TOWNSHIP}", TOWNSHIP, ["mediator"]),
        (f"mediator-{TOWNSHIP}-2", TOWNSHIP, ["mediator"]),
    ]
    assert listed["total"] == 2
    assert all(m["name"].endswith("（示例）") for m in listed["items"])


# --- the API --------------------------------------------------------------------------------------


def test_an_admin_enrols_updates_disables_and_reactivates_a_member_of_their_subtree(
    client: tuple[Client, Runtime],
) -> None:
    http, runtime = client
    enrolled = http.post(USERS, json=NEW, headers=COUNTY_ADMIN)
    member = ok(enrolled, 201)
    assert enrolled.headers["location"] == f"{USERS}/zhao-xin"
    assert member == {
        "user": "zhao-xin",
        "name": "赵新",
        "unit": TOWNSHIP,
        "roles": ["mediator"],
        "phone": "139****5678",
        "email": "zhaoxin@luocheng.example",
        "active": True,
        "channels": None,
        "reachable_by": ["in_app", "email", "sms", "webhook"],
        "open_cases": 0,
    }
    assert ok(http.get(f"{USERS}/zhao-xin", headers=COUNTY_SUPERVISOR)) == member
    mine = ok(me(http, "zhao-xin", "mediator", TOWNSHIP))
    assert (mine["phone"], mine["acting_as"]) == ("13912345678", "mediator")  # their own

    # the same enrolment again: a conflict, unless it is a resend under its Idempotency-Key
    again = assert_problem(http.post(USERS, json=NEW, headers=COUNTY_ADMIN), 409)
    assert (again["title"], again["user"]) == ("用户已存在", "zhao-xin")
    resent = http.post(USERS, json=NEW, headers={**COUNTY_ADMIN, "Idempotency-Key": "enrol-zx"})
    assert ok(resent, 201) == member
    changed = {**NEW, "name": "王芳"}
    assert_problem(
        http.post(USERS, json=changed, headers={**COUNTY_ADMIN, "Idempotency-Key": "zx-2"}), 409
    )

    update = {k: v for k, v in NEW.items() if k != "user"}
    update.update(roles=["mediator", "supervisor"], email=None)
    updated = ok(http.put(f"{USERS}/zhao-xin", json=update, headers=COUNTY_ADMIN))
    assert (updated["roles"], updated["email"]) == (["mediator", "supervisor"], None)
    assert ok(me(http, "zhao-xin", "supervisor", TOWNSHIP))["acting_as"] == "supervisor"

    before = events_recorded(runtime)
    disable = {"reason": "调离罗城镇"}
    disabled = ok(http.post(f"{USERS}/zhao-xin/disable", json=disable, headers=COUNTY_ADMIN))
    assert disabled["active"] is False
    refused_token(me(http, "zhao-xin", "mediator", TOWNSHIP), "已停用")
    ok(http.post(f"{USERS}/zhao-xin/disable", json=disable, headers=COUNTY_ADMIN))  # no change
    assert events_recorded(runtime) == before + 1
    reactivated = ok(http.post(f"{USERS}/zhao-xin/reactivate", headers=COUNTY_ADMIN))
    assert reactivated["active"] is True
    assert ok(me(http, "zhao-xin", "mediator", TOWNSHIP))["user"] == "zhao-xin"


def test_a_member_chooses_their_channels_and_only_an_admin_chooses_for_another(
    client: tuple[Client, Runtime],
) -> None:
    http, _ = client
    ok(http.post(USERS, json=NEW, headers=COUNTY_ADMIN), 201)
    own = auth("mediator", TOWNSHIP, "zhao-xin")
    chosen = ok(http.put(f"{USERS}/zhao-xin/channels", json={"channels": ["sms"]}, headers=own))
    assert (chosen["channels"], chosen["reachable_by"]) == (["sms"], ["in_app", "sms"])
    by_admin = http.put(f"{USERS}/zhao-xin/channels", json={"channels": None}, headers=COUNTY_ADMIN)
    assert ok(by_admin)["channels"] is None
    other = auth("mediator", TOWNSHIP)
    assert_problem(
        http.put(f"{USERS}/zhao-xin/channels", json={"channels": []}, headers=other), 403
    )
    bad = http.put(f"{USERS}/zhao-xin/channels", json={"channels": ["pigeon"]}, headers=own)
    assert assert_problem(bad, 422)["field"] == "channels[0]"


def test_the_directory_is_read_and_changed_only_within_the_callers_subtree(
    client: tuple[Client, Runtime],
) -> None:
    http, runtime = client
    listed = http.get(USERS, params={"limit": 1000}, headers=COUNTY_SUPERVISOR)
    members = ok(listed)["items"]
    units = {m["unit"] for m in members}
    assert {COUNTY, VILLAGE} <= units
    assert all(unit.startswith(COUNTY) for unit in units)  # none from a neighbouring county
    assert not MOBILE.search(listed.text)  # every sample phone is masked
    assert any(m["phone"] and m["phone"].startswith("139****") for m in members)
    township = ok(http.get(USERS, headers=auth("supervisor", TOWNSHIP)))["items"]
    assert {m["unit"] for m in township} <= {TOWNSHIP, *(f"{TOWNSHIP}00{i}" for i in (1, 2, 3))}

    before = events_recorded(runtime)
    elsewhere = {**NEW, "unit": OTHER_COUNTY_VILLAGE}
    forbidden = [
        http.get(USERS, params={"within": COUNTY}, headers=auth("supervisor", TOWNSHIP)),
        http.get(f"{USERS}/supervisor-{OTHER_COUNTY}", headers=COUNTY_SUPERVISOR),
        http.get(f"{USERS}/supervisor-{COUNTY}/cases", headers=auth("supervisor", TOWNSHIP)),
        http.get(USERS, headers=auth("mediator", VILLAGE)),
        http.get(USERS, headers=auth("auditor", COUNTY)),
        http.post(USERS, json=NEW, headers=COUNTY_SUPERVISOR),
        http.post(USERS, json=elsewhere, headers=COUNTY_ADMIN),
        http.put(
            f"{USERS}/{VILLAGE_MEDIATOR}",
            json={"name": "调走", "unit": OTHER_COUNTY_VILLAGE, "roles": ["mediator"]},
            headers=COUNTY_ADMIN,
        ),
        http.post(
            f"{USERS}/mediator-{OTHER_COUNTY_VILLAGE}/disable",
            json={"reason": "x"},
            headers=COUNTY_ADMIN,
        ),
        http.post(
            f"{USERS}/{VILLAGE_MEDIATOR}/reactivate", headers=auth("admin", NEIGHBOUR_VILLAGE)
        ),
    ]
    for answer in forbidden:
        assert_problem(answer, 403)
    assert "只有管理员可以管理人员名录" in forbidden[5].json()["detail"]
    unknown = assert_problem(http.get(f"{USERS}/nobody-here", headers=COUNTY_SUPERVISOR), 404)
    assert unknown["detail"] == "人员名录中没有用户 nobody-here。"
    themselves = http.post(
        f"{USERS}/admin-{COUNTY}/disable", json={"reason": "x"}, headers=COUNTY_ADMIN
    )
    assert assert_problem(themselves, 422)["field"] == "user"
    nowhere = http.post(USERS, json={**NEW, "unit": "999999"}, headers=auth("admin", CITY))
    assert assert_problem(nowhere, 422)["field"] == "unit"
    reserved = http.post(USERS, json={**NEW, "user": "me"}, headers=COUNTY_ADMIN)
    assert assert_problem(reserved, 422)["field"] == "user"
    bad_phone = http.post(USERS, json={**NEW, "phone": "12345"}, headers=COUNTY_ADMIN)
    assert assert_problem(bad_phone, 422)["field"] == "phone"
    assert events_recorded(runtime) == before  # no refusal stored anything


# --- a disabled member's cases --------------------------------------------------------------------


def test_disabling_a_member_moves_nothing_and_shows_their_open_cases_to_their_supervisor(
    client: tuple[Client, Runtime],
) -> None:
    http, _ = client
    leaving = {**NEW, "user": "mediator-leaving", "unit": VILLAGE, "name": "孙离"}
    ok(http.post(USERS, json=leaving, headers=COUNTY_ADMIN), 201)
    cases = [register(http, summary=f"第{n}起邻里纠纷需要调解") for n in (1, 2, 3)]
    for case in cases:
        assign = {"assignee": "mediator-leaving"}
        ok(send(http, case["id"], "assign", assign, role="supervisor"))
    ok(
        http.post(
            f"{USERS}/mediator-leaving/disable", json={"reason": "退休"}, headers=COUNTY_ADMIN
        )
    )

    left = ok(http.get(USERS, params={"active": "false"}, headers=COUNTY_SUPERVISOR))["items"]
    assert [(m["user"], m["active"], m["open_cases"]) for m in left] == [
        ("mediator-leaving", False, 3)
    ]
    open_cases = ok(http.get(f"{USERS}/mediator-leaving/cases", headers=COUNTY_SUPERVISOR))
    assert {item["id"] for item in open_cases["items"]} == {case["id"] for case in cases}
    assert {item["assignee"] for item in open_cases["items"]} == {"mediator-leaving"}

    reassign = {"assignee": VILLAGE_MEDIATOR}
    ok(send(http, cases[0]["id"], "assign", reassign, role="supervisor"))
    member = ok(http.get(f"{USERS}/mediator-leaving", headers=COUNTY_SUPERVISOR))
    assert member["open_cases"] == 2
    remaining = ok(http.get(f"{USERS}/mediator-leaving/cases", headers=COUNTY_SUPERVISOR))
    assert len(remaining["items"]) == 2
