"""Bad input: the right 4xx, as problem+json naming the field, and nothing stored. Never 5xx.

Each case sends a request that must be refused and checks the status, the media type, the
``field`` of the problem document and that the event log did not move.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.http.runtime import Runtime
from tests.support.api import (
    API,
    CITY,
    COUNTY,
    VILLAGE,
    Client,
    assert_problem,
    auth,
    events_recorded,
    party,
    register,
    registration,
    send,
)

UNKNOWN_CASE = "00000000-0000-4000-8000-000000000000"
JSON = {"content-type": "application/json"}


def without(field: str) -> dict[str, Any]:
    body = registration()
    del body[field]
    return body


# name → (body sent to POST /cases (bytes: sent as is), status, field named)
REGISTRATIONS: dict[str, tuple[Any, int, str]] = {
    "malformed JSON": (b'{"kind": "dispute",', 400, "body"),
    "not JSON at all": (b"kind=dispute", 400, "body"),
    "empty body": (b"", 400, "body"),
    "invalid UTF-8": (b'{"kind": "\xff"}', 400, "body"),
    "nested too deeply": (b"[" * 50_000 + b"]" * 50_000, 400, "body"),
    "NaN": (b'{"people_involved": NaN}', 400, "body"),
    "a list": ([registration()], 422, "body"),
    "null": (None, 422, "body"),
    "wrong type": (registration(people_involved="four"), 422, "people_involved"),
    "bool for int": (registration(people_involved=True), 422, "people_involved"),
    "number for text": (registration(summary=42), 422, "summary"),
    "negative count": (registration(people_involved=-1), 422, "people_involved"),
    "amount as number": (registration(amount_involved=12.5), 422, "amount_involved"),
    "amount malformed": (registration(amount_involved="1,200"), 422, "amount_involved"),
    "amount negative": (registration(amount_involved="-5"), 422, "amount_involved"),
    "unknown field": (registration(priority="high"), 422, "priority"),
    "unknown party field": (registration(parties=[party(age=30)]), 422, "parties[0].age"),
    "missing field": (without("summary"), 422, "summary"),
    "missing party name": (registration(parties=[{"role": "applicant"}]), 422, "parties[0].name"),
    "naive datetime": (registration(occurred_at="2026-09-27T20:00:00"), 422, "occurred_at"),
    "not a datetime": (registration(occurred_at="yesterday"), 422, "occurred_at"),
    "bad kind": (registration(kind="crime"), 422, "kind"),
    "bad level": (registration(level="purple"), 422, "level"),
    "bad channel": (registration(channel="pigeon"), 422, "channel"),
    "bad party role": (registration(parties=[party(role="judge")]), 422, "parties[0].role"),
    "bad ID number": (
        registration(parties=[party(id_number="12345")]),
        422,
        "parties[0].id_number",
    ),
    "bad phone": (registration(parties=[party(phone="call me")]), 422, "parties[0].phone"),
    "blank summary": (registration(summary="   "), 422, "summary"),
    "empty category": (registration(category=""), 422, "category"),
    "summary too long": (registration(summary="长" * 2001), 422, "summary"),
    "NUL in summary": (registration(summary="a\x00b"), 422, "summary"),
    "NUL in an address": (
        registration(parties=[party(address="x\x00")]),
        422,
        "parties[0].address",
    ),
    "unknown unit": (registration(unit="999999999"), 422, "unit"),
    "the city as location": (registration(unit=CITY), 422, "unit"),
}


@pytest.fixture
def case(client: tuple[Client, Runtime]) -> dict[str, Any]:
    return register(client[0])


def post_raw(http: Client, path: str, body: Any, role: str, unit: str) -> Any:
    headers = auth(role, unit)
    if isinstance(body, bytes):
        return http.post(f"{API}{path}", content=body, headers={**headers, **JSON})
    return http.post(f"{API}{path}", content=json.dumps(body).encode(), headers={**headers, **JSON})


def test_bad_registrations_are_refused_with_the_field_and_store_nothing(
    client: tuple[Client, Runtime],
) -> None:
    http, runtime = client
    before = events_recorded(runtime)
    wrong: dict[Any, tuple[Any, Any]] = {}
    for name, (body, status, field) in REGISTRATIONS.items():
        answer = post_raw(http, "/cases", body, "admin", CITY)
        if answer.status_code != status:
            wrong[name] = (answer.status_code, answer.text[:200])
            continue
        problem = assert_problem(answer, status)
        if problem.get("field") != field or not problem.get("reason"):
            wrong[name] = (field, problem)
    assert wrong == {}
    assert events_recorded(runtime) == before
    assert http.get(f"{API}/cases", headers=auth("admin", CITY)).json()["items"] == []


# command → (body, field named); each refused with 422
COMMANDS: dict[str, list[tuple[dict[str, Any], str]]] = {
    "assess": [
        ({"level": "crimson", "reason": "x"}, "level"),
        ({"level": "red"}, "reason"),
        ({"level": "red", "reason": "x", "triggers": "many"}, "triggers"),
        ({"level": "red", "reason": "x", "colour": "red"}, "colour"),
    ],
    "assign": [({"assignee": ""}, "assignee"), ({"assignee": "   "}, "assignee"), ({}, "assignee")],
    "mediation-sessions": [
        ({"held_at": "2026-09-28 09:00", "notes": "x"}, "held_at"),
        ({"held_at": "2026-09-28T09:00:00", "notes": "x"}, "held_at"),
        ({"held_at": "2026-09-28T01:00:00Z"}, "notes"),
    ],
    "resolve": [
        ({"agreement": "x", "form": "handshake"}, "form"),
        ({"agreement": "x", "form": "oral", "amount": "ten"}, "amount"),
        ({"agreement": "", "form": "oral"}, "agreement"),
    ],
    "terminate": [({"reason": ""}, "reason"), ({"reason": None}, "reason")],
    "referrals": [({"agency": "army", "reason": "x"}, "agency")],
    "referral-answers": [({"answer": 7}, "answer")],
    "judicial-confirmation": [({"confirmed": "yes"}, "confirmed"), ({"court": ""}, "court")],
    "follow-ups": [({"satisfied": "very"}, "satisfied"), ({"note": "x"}, "satisfied")],
    "ratings": [({"grade": "meh"}, "grade"), ({"grade": 5}, "grade")],
    "pause": [({"reason": "x" * 4001}, "reason")],
    "extend": [
        ({"until": "2026-12-01T00:00:00", "reason": "x"}, "until"),
        ({"until": "2026-12-01T00:00:00Z", "reason": "x", "kind": "forever"}, "kind"),
        ({"until": "2020-01-01T00:00:00Z", "reason": "x"}, "until"),  # before the current
    ],
    "escalate": [
        ({"reason": "x", "other_unit": "999999"}, "other_unit"),
        ({"reason": "x", "other_unit": ""}, "other_unit"),
    ],
    "lower": [
        ({"level": "green", "reason": "x"}, "level"),
        ({"level": "red", "reason": "x"}, "level"),
    ],
    "reopen": [({}, "reason")],
    "reject": [({"reason": "\x00"}, "reason")],
    "notes": [({"text": ""}, "text"), ({"text": "a\x00"}, "text"), ({"txt": "a"}, "txt")],
}


def test_bad_commands_are_refused_with_the_field_and_store_nothing(
    client: tuple[Client, Runtime], case: dict[str, Any]
) -> None:
    http, runtime = client
    before = events_recorded(runtime)
    wrong: dict[Any, tuple[Any, Any]] = {}
    for command, attempts in COMMANDS.items():
        for body, field in attempts:
            answer = post_raw(http, f"/cases/{case['id']}/{command}", body, "admin", CITY)
            if answer.status_code != 422:
                wrong[command, json.dumps(body)] = (answer.status_code, answer.text[:200])
                continue
            problem = assert_problem(answer, 422)
            if problem.get("field") != field:
                wrong[command, json.dumps(body)] = (field, problem)
    assert wrong == {}
    assert events_recorded(runtime) == before
    current = http.get(f"{API}/cases/{case['id']}", headers=auth("admin", CITY)).json()
    assert current["version"] == 1


def test_a_missing_body_where_one_is_needed_is_a_bad_request(
    client: tuple[Client, Runtime], case: dict[str, Any]
) -> None:
    http, runtime = client
    before = events_recorded(runtime)
    for command in ("notes", "assess", "resolve"):
        answer = http.post(f"{API}/cases/{case['id']}/{command}", headers=auth("admin", CITY))
        assert assert_problem(answer, 400)["field"] == "body"
    assert events_recorded(runtime) == before


def test_bodies_over_one_mebibyte_are_refused(
    client: tuple[Client, Runtime], case: dict[str, Any]
) -> None:
    http, runtime = client
    before = events_recorded(runtime)
    huge = registration(summary="x" * (1024 * 1024))
    assert_problem(http.post(f"{API}/cases", json=huge, headers=auth("reporter", VILLAGE)), 413)
    note = {"text": "x" * (1024 * 1024 + 1)}
    assert_problem(send(http, case["id"], "notes", note), 413)

    def chunks() -> Any:  # no Content-Length: counted as it streams in
        for _ in range(12):
            yield b"x" * 100_000

    streamed = http.post(
        f"{API}/cases", content=chunks(), headers={**auth("reporter", VILLAGE), **JSON}
    )
    assert_problem(streamed, 413)
    assert events_recorded(runtime) == before
    just_under = registration(parties=[party(address="村" * 100)] * 200)
    assert len(json.dumps(just_under).encode()) < 1024 * 1024
    accepted = http.post(f"{API}/cases", json=just_under, headers=auth("reporter", VILLAGE))
    assert accepted.status_code == 201


def test_bad_and_unknown_ids(client: tuple[Client, Runtime], case: dict[str, Any]) -> None:
    http, runtime = client
    before = events_recorded(runtime)
    headers = auth("admin", CITY)
    for path in ("/cases/not-a-uuid", "/cases/12345/history", f"/cases/{UNKNOWN_CASE}x"):
        answer = http.get(f"{API}{path}", headers=headers)
        assert answer.status_code in (400, 404), path
        assert_problem(answer, answer.status_code)
    for path in (f"/cases/{UNKNOWN_CASE}", f"/cases/{UNKNOWN_CASE}/history"):
        assert_problem(http.get(f"{API}{path}", headers=headers), 404)
    assert_problem(send(http, UNKNOWN_CASE, "notes", {"text": "x"}, "admin", CITY), 404)
    assert_problem(send(http, "not-a-uuid", "notes", {"text": "x"}, "admin", CITY), 404)
    for path in ("/queues/999999", "/stats/999999", "/units/999999"):
        assert_problem(http.get(f"{API}{path}", headers=headers), 404)
    assert_problem(http.get(f"{API}/nowhere", headers=headers), 404)
    assert_problem(http.delete(f"{API}/cases/{case['id']}", headers=headers), 405)
    assert events_recorded(runtime) == before


# query string → (status, field)
QUERIES: dict[str, tuple[int, str | None]] = {
    "/cases?level=purple": (422, "level"),
    "/cases?status=lost": (422, "status"),
    "/cases?kind=crime": (422, "kind"),
    "/cases?limit=0": (422, "limit"),
    "/cases?limit=501": (422, "limit"),
    "/cases?limit=ten": (422, "limit"),
    "/cases?offset=-1": (422, "offset"),
    "/cases?offset=99999999999999999999": (422, "offset"),
    "/cases?q=a%00b": (422, "q"),
    "/cases?category=%00": (422, "category"),
    "/cases?unit=999999": (422, "unit"),
    f"/queues/{VILLAGE}?offset=9223372036854775808": (422, "offset"),
    f"/queues/{VILLAGE}?limit=0": (422, "limit"),
    f"/stats/{VILLAGE}?from=yesterday": (422, "from"),
    f"/stats/{VILLAGE}?from=2026-13-01": (422, "from"),
    f"/stats/{VILLAGE}?from=2026-09-01T00:00:00": (422, "from"),
    f"/stats/{VILLAGE}?to=2026-09-01%00": (422, "to"),
    f"/stats/{VILLAGE}?from=0001-01-01": (422, "from"),
    f"/stats/{VILLAGE}?to=9999-12-31": (422, "to"),
    f"/stats/{VILLAGE}?from=2026-10-01&to=2026-09-01": (422, "from"),
    f"/stats/{VILLAGE}?from=1900-01-01&to=2026-09-01": (422, "from"),
    f"/stats/{VILLAGE}?bucket=day": (422, "bucket"),
}


def test_bad_query_parameters(client: tuple[Client, Runtime]) -> None:
    http, _ = client
    wrong: dict[Any, tuple[Any, Any]] = {}
    for query, (status, field) in QUERIES.items():
        answer = http.get(f"{API}{query}", headers=auth("admin", CITY))
        if answer.status_code != status:
            wrong[query] = (answer.status_code, answer.text[:200])
        elif assert_problem(answer, status).get("field") != field:
            wrong[query] = (field, answer.json())
    assert wrong == {}


def test_bad_headers(client: tuple[Client, Runtime], case: dict[str, Any]) -> None:
    http, runtime = client
    before = events_recorded(runtime)
    too_long = send(http, case["id"], "notes", {"text": "x"}, Idempotency_Key="k" * 201)
    assert assert_problem(too_long, 400)["field"] == "Idempotency-Key"
    for value in ("seven", "-1", '"1.5"'):
        bad = send(http, case["id"], "notes", {"text": "x"}, If_Match=value)
        assert assert_problem(bad, 400)["field"] == "If-Match"
    assert events_recorded(runtime) == before


# --- property: whatever the body, never a 5xx -------------------------------------------------

TARGETS = [
    "/cases", "assess", "sign", "assign", "mediation-sessions", "resolve", "terminate",
    "referrals", "referral-answers", "judicial-confirmation", "follow-ups", "ratings", "pause",
    "resume", "extend", "escalate", "lower", "reopen", "close", "reject", "notes",
]  # fmt: skip
FIELDS = [
    "kind", "unit", "category", "summary", "channel", "level", "people_involved",
    "amount_involved", "parties", "occurred_at", "reason", "triggers", "assignee", "held_at",
    "notes", "attendees", "agreement", "form", "amount", "performance_due", "agency", "answer",
    "court", "confirmed", "note", "satisfied", "agreement_honoured", "grade", "until",
    "other_unit", "text", "name", "role", "id_number", "phone", "address",
]  # fmt: skip
SAMPLES = [
    "dispute", "incident", "red", "orange", "yellow", "purple", VILLAGE, COUNTY, CITY,
    "511123002001", "999", "grid_patrol", "hotline", "written", "oral", "court", "police",
    "satisfied", "very_dissatisfied", "applicant", "2026-09-28T01:00:00Z",
    "2026-09-28T01:00:00", "2030-01-01T00:00:00+08:00", "0001-01-01T00:00:00+14:00",
    "12.50", "-1", "1e400", "511123199001011234", "", " ", "\x00", "长" * 300,
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(SAMPLES),
    st.text(max_size=30),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FIELDS), inner),
    max_leaves=12,
)
bodies = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), values, max_size=8),
    st.builds(lambda extra: {**registration(), **extra},
              st.dictionaries(st.sampled_from(FIELDS), values, max_size=3)),
    values,
)  # fmt: skip


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(target=st.sampled_from(TARGETS), body=bodies, role=st.sampled_from(["admin", "mediator"]))
def test_no_body_ever_gets_a_server_error(
    client: tuple[Client, Runtime], case: dict[str, Any], target: str, body: Any, role: str
) -> None:
    http, _ = client
    path = "/cases" if target == "/cases" else f"/cases/{case['id']}/{target}"
    unit = CITY if role == "admin" else VILLAGE
    answer = post_raw(http, path, body, role, unit)
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        assert_problem(answer, answer.status_code)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.sampled_from(["from", "to", "q", "level", "unit", "offset", "limit", "category"]),
    value=st.one_of(st.text(max_size=30), st.sampled_from(SAMPLES), st.integers().map(str)),
    path=st.sampled_from(["/cases", f"/stats/{COUNTY}", f"/queues/{COUNTY}"]),
)
def test_no_query_ever_gets_a_server_error(
    client: tuple[Client, Runtime], name: str, value: str, path: str
) -> None:
    http, _ = client
    answer = http.get(f"{API}{path}", params={name: value}, headers=auth("admin", CITY))
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        assert_problem(answer, answer.status_code)
