"""A token's signature is checked once per process and the verdict kept by the token's exact
text (``api.http.auth.VerifiedTokens``): what a client relies on is that keeping it changes
nothing it can see. A kept token still runs out when it expires, and a token differing by one
character is checked afresh. (That the directory is still asked on every request is held by
``test_api_users``: a disabled member's old token, let in a moment before, is refused.)
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from litestar.security.jwt import Token

from api.http.auth import CLOCK_LEEWAY, VerifiedTokens
from tests.support.api import (
    API,
    Client,
    assert_problem,
    ok,
    serving_sqlite,
    signed,
)
from tests.support.world import Clock

SKEW = int(CLOCK_LEEWAY.total_seconds())


@pytest.fixture
def http(tmp_path: Path, clock: Clock) -> Iterator[Client]:
    with serving_sqlite(tmp_path, clock) as client:
        yield client


def units(http: Client, encoded: str) -> Any:
    return http.get(f"{API}/units", headers={"Authorization": f"Bearer {encoded}"})


def test_a_token_let_in_is_refused_as_expired_once_it_runs_out(http: Client) -> None:
    running_out = signed(exp=int(time.time()) - SKEW + 2)  # inside the leeway for 2 s more
    ok(units(http, running_out))
    ok(units(http, running_out))
    time.sleep(3)
    problem = assert_problem(units(http, running_out), 401)
    assert problem["detail"] == "令牌已过期"


def test_a_token_one_character_off_a_kept_one_is_refused(http: Client) -> None:
    good = signed()
    ok(units(http, good))
    header, payload, signature = good.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    assert_problem(units(http, f"{header}.{payload}.{flipped}"), 401)
    forged = jwt.encode(jwt.decode(good, options={"verify_signature": False}), "another secret")
    assert_problem(units(http, forged), 401)
    ok(units(http, good))


def token(minutes: int) -> Token:
    """A token expiring ``minutes`` from now (a token cannot be made expired: its expiry is
    moved after it is made)."""
    made = Token(exp=datetime.now(UTC) + timedelta(minutes=1), sub="mediator-1")
    made.exp = datetime.now(UTC) + timedelta(minutes=minutes)
    return made


def test_kept_tokens_are_bounded_the_least_recently_used_leaving_first() -> None:
    kept = VerifiedTokens(size=2)
    kept.keep("a", token(60))
    kept.keep("b", token(60))
    assert kept.get("a") is not None  # "a" used: "b" is now the least recent
    kept.keep("c", token(60))
    assert kept.get("b") is None
    assert kept.get("a") is not None
    assert kept.get("c") is not None


def test_a_kept_token_past_its_expiry_and_the_leeway_is_not_given_back() -> None:
    kept = VerifiedTokens()
    leeway_minutes = int(CLOCK_LEEWAY.total_seconds() // 60) + 1
    kept.keep("old", token(-leeway_minutes))
    kept.keep("fresh", token(60))
    assert kept.get("old") is None
    assert kept.get("fresh") is not None
