"""Who may do what, where: each role × the caller's unit relative to the case × endpoint family.

The case under test sits at the township 511123001 (and is owned there), so every relation
exists in the sample tree: the township itself (own), its county (ancestor), one of its
villages (descendant), the neighbouring township (sibling). Statuses are exact.

The work is the owning unit's alone: an ancestor reads, records notes and acts only by 督办
(a supervision order) or 提级办理 (taking the case over).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from litestar.security.jwt import Token

from api.http.auth import mint_token
from api.http.permissions import ROLE_WORDS
from api.http.runtime import Runtime
from domain.actors import Role
from tests.support.api import (
    API,
    CITY,
    COUNTY,
    NEIGHBOUR_VILLAGE,
    OTHER_COUNTY,
    OTHER_COUNTY_VILLAGE,
    OTHER_TOWNSHIP,
    OTHER_TOWNSHIP_VILLAGE,
    SECRET,
    TOWNSHIP,
    VILLAGE,
    Client,
    assert_problem,
    auth,
    events_recorded,
    register,
    registration,
    send,
)

ROLES = ("reporter", "mediator", "supervisor", "auditor", "admin")
RELATIONS = {"own": TOWNSHIP, "ancestor": COUNTY, "descendant": VILLAGE, "sibling": OTHER_TOWNSHIP}

REGISTERS = {"reporter", "mediator", "supervisor", "admin"}
WORKS = {"mediator", "supervisor", "admin"}
SUPERVISES = {"supervisor", "admin"}
READS = set(ROLES)

Request = Callable[[Client, str, str, str], Any]  # (http, case id, role, unit) → response


def _register(http: Client, case_id: str, role: str, unit: str) -> Any:
    return http.post(f"{API}/cases", json=registration(unit=TOWNSHIP), headers=auth(role, unit))


def _work(http: Client, case_id: str, role: str, unit: str) -> Any:
    """assess at the same level: a work command that can be repeated."""
    body = {"level": "yellow", "reason": "复核"}
    return send(http, case_id, "assess", body, role=role, unit=unit)


def _supervise(http: Client, case_id: str, role: str, unit: str) -> Any:
    """assign (to the owning township's mediator): a supervisor's command that can be
    repeated."""
    assignee = {"assignee": f"mediator-{TOWNSHIP}"}
    return send(http, case_id, "assign", assignee, role=role, unit=unit)


def _note(http: Client, case_id: str, role: str, unit: str) -> Any:
    return send(http, case_id, "notes", {"text": f"{role} 补充情况"}, role=role, unit=unit)


def _read(http: Client, case_id: str, role: str, unit: str) -> Any:
    return http.get(f"{API}/cases/{case_id}", headers=auth(role, unit))


def _history(http: Client, case_id: str, role: str, unit: str) -> Any:
    return http.get(f"{API}/cases/{case_id}/history", headers=auth(role, unit))


def _list(http: Client, case_id: str, role: str, unit: str) -> Any:
    return http.get(f"{API}/cases?unit={TOWNSHIP}", headers=auth(role, unit))


def _queue(http: Client, case_id: str, role: str, unit: str) -> Any:
    return http.get(f"{API}/queues/{TOWNSHIP}", headers=auth(role, unit))


def _stats(http: Client, case_id: str, role: str, unit: str) -> Any:
    return http.get(f"{API}/stats/{TOWNSHIP}", headers=auth(role, unit))


def _unit(http: Client, case_id: str, role: str, unit: str) -> Any:
    return http.get(f"{API}/units/{TOWNSHIP}", headers=auth(role, unit))


# family → (request, roles allowed inside the subtree, status when allowed)
FAMILIES: dict[str, tuple[Request, set[str], int]] = {
    "register": (_register, REGISTERS, 201),
    "work command": (_work, WORKS, 200),
    "supervisor command": (_supervise, SUPERVISES, 200),
    "note": (_note, REGISTERS, 200),
    "case read": (_read, READS, 200),
    "case history": (_history, READS, 200),
    "case list": (_list, READS, 200),
    "queue": (_queue, READS, 200),
    "stats": (_stats, READS, 200),
    "units": (_unit, READS, 200),
}


# the work: the owning unit's people only
OWNERS_ONLY = {"work command", "supervisor command"}


def expected_status(family: str, role: str, relation: str) -> int:
    _, allowed, success = FAMILIES[family]
    reaches = ("own",) if family in OWNERS_ONLY else ("own", "ancestor")
    if role in allowed and relation in reaches:
        return success
    return 403


def test_the_permission_matrix(client: tuple[Client, Runtime]) -> None:
    """Every family × role × relation, compared as one table so a failure shows them all."""
    http, runtime = client
    case = register(http, unit=TOWNSHIP, actor_unit=TOWNSHIP)
    seen: dict[tuple[str, str, str], int] = {}
    for family, (request, _, _) in FAMILIES.items():
        for role in ROLES:
            for relation, unit in RELATIONS.items():
                before = events_recorded(runtime)
                answer = request(http, case["id"], role, unit)
                seen[family, role, relation] = answer.status_code
                if answer.status_code == 403:
                    assert_problem(answer, 403)
                    assert events_recorded(runtime) == before, (family, role, relation)
    wanted = {
        (family, role, relation): expected_status(family, role, relation)
        for family in FAMILIES
        for role in ROLES
        for relation in RELATIONS
    }
    assert {k: v for k, v in seen.items() if v != wanted[k]} == {}


def test_supervisor_commands_are_refused_to_other_roles(client: tuple[Client, Runtime]) -> None:
    http, runtime = client
    case = register(http, unit=TOWNSHIP, actor_unit=TOWNSHIP)
    bodies = {
        "assign": {"assignee": "someone"},
        "escalate": {"reason": "升级"},
        "lower": {"level": "yellow", "reason": "降级"},
        "extend": {"until": "2026-12-31T00:00:00Z", "reason": "延期"},
        "reopen": {"reason": "重办"},
        "pause": {"reason": "中止", "review_at": "2026-10-20T09:00:00+08:00"},
    }
    before = events_recorded(runtime)
    for command, body in bodies.items():
        for role in ("reporter", "mediator", "auditor"):
            answer = send(http, case["id"], command, body, role=role, unit=TOWNSHIP)
            problem = assert_problem(answer, 403)
            # the refusal names the role and the command in Chinese (调解员无权指派承办人。)
            assert problem["detail"].startswith(ROLE_WORDS[Role(role)] + "无权"), (command, role)
    assert events_recorded(runtime) == before
    paused = send(http, case["id"], "pause", bodies["pause"], role="supervisor", unit=TOWNSHIP)
    assert paused.status_code == 200


def test_auditors_may_send_nothing_and_reporters_only_register_note_and_rate(
    client: tuple[Client, Runtime],
) -> None:
    http, runtime = client
    case = register(http, unit=VILLAGE)
    work = {
        "sign": {},
        "mediation-sessions": {"held_at": "2026-09-28T01:00:00Z", "notes": "调解"},
        "terminate": {"reason": "终止"},
        "referrals": {"agency": "police", "reason": "转办"},
        "close": {},
        "reject": {"reason": "不予受理"},
        "resume": {},
    }
    before = events_recorded(runtime)
    for command, body in work.items():
        for role in ("reporter", "auditor"):
            assert_problem(send(http, case["id"], command, body, role=role, unit=VILLAGE), 403)
    for command, body in {"notes": {"text": "备注"}, "ratings": {"grade": "satisfied"}}.items():
        assert_problem(send(http, case["id"], command, body, role="auditor", unit=COUNTY), 403)
    register_as_auditor = http.post(
        f"{API}/cases", json=registration(), headers=auth("auditor", VILLAGE)
    )
    assert_problem(register_as_auditor, 403)
    assert events_recorded(runtime) == before
    noted = send(http, case["id"], "notes", {"text": "网格员补充情况"}, role="reporter")
    assert noted.status_code == 200


def test_a_case_owned_above_the_callers_unit_can_be_read_but_not_worked_there(
    client: tuple[Client, Runtime],
) -> None:
    """A red case happening in a village is owned by the county: the village sees it (it
    happened there) but may not work it; the county may."""
    http, runtime = client
    case = register(http, unit=VILLAGE, level="red")
    assert case["owner"] == COUNTY
    seen_there = http.get(f"{API}/cases/{case['id']}", headers=auth("mediator", VILLAGE))
    assert seen_there.status_code == 200
    before = events_recorded(runtime)
    assert_problem(send(http, case["id"], "sign", role="mediator", unit=VILLAGE), 403)
    assert_problem(send(http, case["id"], "sign", role="mediator", unit=TOWNSHIP), 403)
    assert events_recorded(runtime) == before
    assert send(http, case["id"], "sign", role="mediator", unit=COUNTY).status_code == 200
    assert (
        http.get(f"{API}/queues/{VILLAGE}", headers=auth("mediator", VILLAGE)).json()["items"] == []
    )
    neighbour = http.get(f"{API}/cases/{case['id']}", headers=auth("mediator", NEIGHBOUR_VILLAGE))
    assert_problem(neighbour, 403)


def test_an_escalated_case_is_worked_by_its_new_owner(client: tuple[Client, Runtime]) -> None:
    http, _ = client
    case = register(http, unit=VILLAGE)
    by_township = send(http, case["id"], "escalate", {"reason": "升级"}, "supervisor", TOWNSHIP)
    assert_problem(by_township, 403)  # an ancestor does not hand up what it does not own
    escalated = send(http, case["id"], "escalate", {"reason": "升级"}, "supervisor", VILLAGE)
    assert escalated.json()["owner"] == TOWNSHIP
    assert_problem(send(http, case["id"], "sign", role="mediator", unit=VILLAGE), 403)
    assert send(http, case["id"], "sign", role="mediator", unit=TOWNSHIP).status_code == 200


def test_lists_and_queues_never_show_cases_outside_the_callers_subtree(
    client: tuple[Client, Runtime],
) -> None:
    http, runtime = client
    placed = {
        VILLAGE: "yellow",
        NEIGHBOUR_VILLAGE: "orange",
        OTHER_TOWNSHIP_VILLAGE: "red",
        OTHER_COUNTY_VILLAGE: "yellow",
        TOWNSHIP: "yellow",
    }
    ids = {}
    for unit, level in placed.items():
        ids[register(http, unit=unit, level=level, actor_unit=unit)["id"]] = unit
    units = runtime.app.units()
    callers = [VILLAGE, NEIGHBOUR_VILLAGE, TOWNSHIP, OTHER_TOWNSHIP, COUNTY, OTHER_COUNTY, CITY]
    for unit in callers:
        for role in ROLES:
            headers = auth(role, unit)
            listed = http.get(f"{API}/cases?limit=500", headers=headers)
            assert listed.status_code == 200
            located = {item["id"] for item in listed.json()["items"]}
            assert located == {i for i, at in ids.items() if units.is_within(at, unit)}
            queue = http.get(f"{API}/queues/{unit}", headers=headers)
            assert queue.status_code == 200
            owned = {item["id"]: item["owner"] for item in queue.json()["items"]}
            assert all(units.is_within(owner, unit) for owner in owned.values())
        for outside in (u for u in callers if not units.is_within(u, unit)):
            headers = auth("supervisor", unit)
            assert_problem(http.get(f"{API}/queues/{outside}", headers=headers), 403)
            assert_problem(http.get(f"{API}/cases?unit={outside}", headers=headers), 403)
            assert_problem(http.get(f"{API}/stats/{outside}", headers=headers), 403)
            assert_problem(http.get(f"{API}/units/{outside}", headers=headers), 403)
    county_queue = http.get(f"{API}/queues/{COUNTY}", headers=auth("supervisor", COUNTY)).json()
    assert {item["id"] for item in county_queue["items"]} == {
        i for i, at in ids.items() if at != OTHER_COUNTY_VILLAGE
    }
    village_units = http.get(f"{API}/units", headers=auth("reporter", VILLAGE)).json()
    assert [unit["code"] for unit in village_units] == [VILLAGE]


def _expired() -> str:
    """A token that expired a minute ago. (``mint_token`` cannot make one: Litestar's Token
    refuses an ``exp`` in the past, so it is signed by hand like ``mint_token`` signs.)"""
    claims = {
        "exp": int((datetime.now(UTC) - timedelta(minutes=1)).timestamp()),
        "iat": int((datetime.now(UTC) - timedelta(hours=1)).timestamp()),
        "sub": "late",
        "role": "mediator",
        "unit": VILLAGE,
    }
    return jwt.encode(claims, SECRET, algorithm="HS256")


def _wrong_secret() -> str:
    return mint_token("not-the-secret-" * 3, "forger", "admin", CITY, timedelta(hours=1))


def _token(**extras: Any) -> str:
    token = Token(exp=datetime.now(UTC) + timedelta(hours=1), sub="someone", extras=extras)
    return token.encode(SECRET, "HS256")


UNAUTHENTICATED: dict[str, Callable[[], dict[str, str]]] = {
    "no header": dict,
    "not bearer": lambda: {"Authorization": "Basic dXNlcjpwYXNz"},
    "empty bearer": lambda: {"Authorization": "Bearer "},
    "garbage": lambda: {"Authorization": "Bearer not.a.jwt"},
    "expired": lambda: {"Authorization": f"Bearer {_expired()}"},
    "wrong secret": lambda: {"Authorization": f"Bearer {_wrong_secret()}"},
    "unknown role": lambda: {"Authorization": f"Bearer {_token(role='root', unit=CITY)}"},
    "system role": lambda: {"Authorization": f"Bearer {_token(role='system', unit=CITY)}"},
    "no unit": lambda: {"Authorization": f"Bearer {_token(role='admin')}"},
}


def test_requests_without_a_valid_token_get_401(client: tuple[Client, Runtime]) -> None:
    http, runtime = client
    case = register(http)
    before = events_recorded(runtime)
    for why, headers in UNAUTHENTICATED.items():
        answers = [
            http.post(f"{API}/cases", json=registration(), headers=headers()),
            http.post(f"{API}/cases/{case['id']}/notes", json={"text": "x"}, headers=headers()),
            http.get(f"{API}/cases/{case['id']}", headers=headers()),
            http.get(f"{API}/cases", headers=headers()),
            http.get(f"{API}/queues/{VILLAGE}", headers=headers()),
            http.get(f"{API}/stats/{VILLAGE}", headers=headers()),
            http.get(f"{API}/units", headers=headers()),
        ]
        for answer in answers:
            assert answer.status_code == 401, (why, answer.request.url, answer.text)
            assert_problem(answer, 401)
    assert events_recorded(runtime) == before
    for public in ("/health", "/ready", "/schema/openapi.json"):
        assert http.get(public, headers={"Authorization": "Bearer not.a.jwt"}).status_code == 200


def test_only_a_supervisor_above_the_owner_orders_supervision_or_takes_a_case_over(
    client: tuple[Client, Runtime],
) -> None:
    """督办 and 提级办理 per role × relation: a supervisor (or admin) of an ancestor only; the
    owner itself, its descendants and siblings are refused and nothing is stored."""
    http, runtime = client
    seen: dict[tuple[str, str, str], int] = {}
    for command in ("supervision-orders", "take-over"):
        for role in ROLES:
            for relation, unit in RELATIONS.items():
                case = register(http, unit=TOWNSHIP, actor_unit=TOWNSHIP)
                body = (
                    {"text": "请约谈双方", "due_at": "2026-10-09T18:00:00+08:00"}
                    if command == "supervision-orders"
                    else {"reason": "提级办理"}
                )
                before = events_recorded(runtime)
                answer = send(http, case["id"], command, body, role=role, unit=unit)
                seen[command, role, relation] = answer.status_code
                if answer.status_code == 403:
                    assert events_recorded(runtime) == before, (command, role, relation)
    wanted = {key: 200 if key[1] in SUPERVISES and key[2] == "ancestor" else 403 for key in seen}
    assert {k: v for k, v in seen.items() if v != wanted[k]} == {}
