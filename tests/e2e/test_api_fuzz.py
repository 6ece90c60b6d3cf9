"""Fuzzed input: whatever the body or the query, never a 5xx (hypothesis, bounded examples).

The named bad inputs and their exact answers are in ``test_api_bad_input.py``.
"""

from __future__ import annotations

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
    post_raw,
    register,
    registration,
)


@pytest.fixture
def case(client: tuple[Client, Runtime]) -> dict[str, Any]:
    return register(client[0])


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
