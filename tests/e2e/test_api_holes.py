"""Holes found by feeding the API what a careless or hostile client sends ("Integrity under
faults", point 5): odd token claims, other auth schemes, skewed clocks, dates at the edge of
the calendar and LIKE wildcards in a search. Each answer is a problem document, never a 500.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.http.auth import CLOCK_LEEWAY
from api.http.runtime import Runtime
from tests.support.api import (
    API,
    CITY,
    COUNTY,
    OTHER_COUNTY_VILLAGE,
    VILLAGE,
    Client,
    assert_problem,
    auth,
    ok,
    register,
    registration,
    serving_sqlite,
    signed,
)
from tests.support.world import Clock


@pytest.fixture
def http(tmp_path: Path, clock: Clock) -> Iterator[Client]:
    """The API on SQLite alone: what these tests check happens before any storage."""
    with serving_sqlite(tmp_path, clock) as client:
        yield client


def bearer(encoded: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {encoded}"}


# --- 1. claims of the wrong type --------------------------------------------------------------

ODD_CLAIMS: dict[str, dict[str, Any]] = {
    "role is a list": {"role": ["mediator"]},
    "role is an object": {"role": {"name": "mediator"}},
    "role is a number": {"role": 1},
    "role is null": {"role": None},
    "role is missing": {"role": ...},
    "role is upper case": {"role": "MEDIATOR"},
    "unit is a list": {"unit": [VILLAGE]},
    "unit is an object": {"unit": {"code": VILLAGE}},
    "unit is a number": {"unit": int(VILLAGE)},
    "unit is empty": {"unit": ""},
    "sub is a number": {"sub": 7},
    "sub is a list": {"sub": ["mediator-1"]},
    "sub is empty": {"sub": ""},
    "sub is missing": {"sub": ...},
}


@pytest.mark.parametrize("claims", ODD_CLAIMS.values(), ids=list(ODD_CLAIMS))
def test_a_token_with_a_claim_of_the_wrong_type_gets_401_not_500(
    http: Client, claims: dict[str, Any]
) -> None:
    for path in ("/cases", "/units", f"/queues/{VILLAGE}"):
        assert_problem(http.get(f"{API}{path}", headers=bearer(signed(**claims))), 401)


def test_the_same_token_with_string_claims_is_accepted(http: Client) -> None:
    ok(http.get(f"{API}/units", headers=bearer(signed())))


# --- 2. only the Bearer scheme ----------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["Basic", "Token", "JWT", "Bearer:", "Digest"])
def test_a_valid_token_under_another_scheme_gets_401(http: Client, scheme: str) -> None:
    headers = {"Authorization": f"{scheme} {signed()}"}
    assert_problem(http.get(f"{API}/units", headers=headers), 401)


def test_a_bare_token_without_a_scheme_gets_401(http: Client) -> None:
    assert_problem(http.get(f"{API}/units", headers={"Authorization": signed()}), 401)


def test_a_401_names_the_scheme_that_works(http: Client) -> None:
    answer = http.get(f"{API}/units", headers={"Authorization": f"Basic {signed()}"})
    assert_problem(answer, 401)
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert http.get(f"{API}/units").headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_the_bearer_scheme_is_accepted_in_any_case(http: Client, scheme: str) -> None:
    ok(http.get(f"{API}/units", headers={"Authorization": f"{scheme} {signed()}"}))


# --- 3. clock skew ----------------------------------------------------------------------------

SKEW = int(CLOCK_LEEWAY.total_seconds())


def test_a_token_minted_on_a_clock_a_few_seconds_ahead_is_accepted(http: Client) -> None:
    ahead = int(time.time()) + 5
    ok(http.get(f"{API}/units", headers=bearer(signed(iat=ahead))))
    ok(http.get(f"{API}/units", headers=bearer(signed(iat=ahead, nbf=ahead))))


def test_a_token_just_past_its_expiry_is_accepted_within_the_leeway(http: Client) -> None:
    ok(http.get(f"{API}/units", headers=bearer(signed(exp=int(time.time()) - 5))))


def test_a_token_issued_ten_minutes_in_the_future_is_refused(http: Client) -> None:
    later = int(time.time()) + 600
    assert_problem(http.get(f"{API}/units", headers=bearer(signed(iat=later))), 401)
    assert_problem(http.get(f"{API}/units", headers=bearer(signed(nbf=later))), 401)


def test_a_token_beyond_the_leeway_either_side_is_refused(http: Client) -> None:
    now = int(time.time())
    ahead = signed(iat=now + 2 * SKEW)
    expired = signed(exp=now - 2 * SKEW)
    assert_problem(http.get(f"{API}/units", headers=bearer(ahead)), 401)
    assert_problem(http.get(f"{API}/units", headers=bearer(expired)), 401)


# --- 4. statistics over dates the calendar arithmetic cannot take --------------------------------

OUT_OF_RANGE: dict[str, str] = {
    "from=0001-01-02": "from",
    "from=1999-12-31&to=2000-01-05": "from",
    "to=0001-01-01": "to",
    "from=0001-01-01&to=0001-01-02": "to",
    "from=0001-01-03&to=0001-01-09&bucket=month": "to",
    "from=0001-01-01T00:00:00%2B00:00&to=0001-02-01T00:00:00%2B00:00": "to",
    "to=9999-12-30": "to",
    "to=9999-12-31T00:00:00%2B00:00": "to",
    "from=9999-12-01&to=9999-12-30&bucket=week": "to",
    "to=2040-01-01": "to",
    "from=2026-09-02&to=2026-09-01": "from",
    "from=2026-09-28T12:00:00%2B08:00&to=2026-09-28T12:00:00%2B08:00": "from",
}


@pytest.mark.parametrize(("query", "field"), OUT_OF_RANGE.items(), ids=list(OUT_OF_RANGE))
def test_statistics_outside_the_years_the_system_can_hold_name_the_parameter(
    http: Client, query: str, field: str
) -> None:
    answer = http.get(f"{API}/stats/{VILLAGE}?{query}", headers=auth("admin", CITY))
    assert assert_problem(answer, 422)["field"] == field


def test_statistics_from_the_first_day_of_2000_and_a_year_ahead_are_answered(
    http: Client,
) -> None:
    answer = http.get(
        f"{API}/stats/{COUNTY}?from=2010-01-01&to=2027-09-28&bucket=month",
        headers=auth("admin", CITY),
    )
    assert len(ok(answer)["series"]) == 17 * 12 + 9
    first = http.get(
        f"{API}/stats/{COUNTY}?from=2000-01-01&to=2000-01-31", headers=auth("admin", CITY)
    )
    assert ok(first)["registered"] == 0
    default = ok(http.get(f"{API}/stats/{COUNTY}?to=2000-01-10", headers=auth("admin", CITY)))
    assert default["from"] == "1999-12-31T16:00:00Z"  # 30 days back, but not before 2000


# --- 5. LIKE wildcards in the case search -------------------------------------------------------


def test_searching_for_a_percent_sign_finds_only_cases_that_contain_one(
    client: tuple[Client, Runtime],
) -> None:
    http, _ = client
    percent = register(http, summary="承诺返利20%未兑现")
    underscore = register(http, summary="账号 wang_li 被冒用")
    backslash = register(http, summary="路径 C:\\data 被删")
    plain = register(http, summary="两户因排水沟堵塞发生争执")

    def found(q: str) -> set[str]:
        answer = http.get(f"{API}/cases", params={"q": q}, headers=auth("auditor", COUNTY))
        return {item["id"] for item in ok(answer)["items"]}

    assert found("%") == {percent["id"]}
    assert found("20%") == {percent["id"]}
    assert found("_") == {underscore["id"]}
    assert found("g_l") == {underscore["id"]}
    assert found("\\") == {backslash["id"]}
    assert found("%%") == set()
    assert found("排水") == {plain["id"]}
    assert found("\\%") == set()


# --- 7. an idempotent replay under another authority ------------------------------------------


def test_a_replayed_answer_is_not_given_to_the_same_user_acting_in_another_role(
    http: Client,
) -> None:
    """u-1 is a grid worker and a mediator of the village (``tests.support.staff``): an answer
    is kept per user, role and unit, so their key as a mediator is a request of its own; their
    id at another unit is not let in at all."""
    key = {"Idempotency_Key": "same-key"}
    body = registration()
    first = http.post(f"{API}/cases", json=body, headers=auth("reporter", VILLAGE, "u-1", **key))
    assert first.status_code == 201
    other_role = auth("mediator", VILLAGE, "u-1", **key)
    again = http.post(f"{API}/cases", json=body, headers=other_role)
    assert again.status_code == 201
    assert again.json()["id"] != first.json()["id"]
    elsewhere = auth("reporter", OTHER_COUNTY_VILLAGE, "u-1", **key)
    assert_problem(http.post(f"{API}/cases", json=body, headers=elsewhere), 401)
