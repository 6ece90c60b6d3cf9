"""The HTTP API under test: a Runtime on SQLite or PostgreSQL, a TestClient over it, tokens.

The Runtime is built the way ``api.http.runtime.build_runtime`` builds it, but from a test store
(``tests.support.backends``) and with the test's clock. ``serving`` can be entered twice on the same
store to model a restart.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import psycopg
import pytest
from litestar.testing import TestClient

from api.http.app import create_app
from api.http.auth import mint_token
from api.http.runtime import Runtime, heartbeat
from api.wiring.bootstrap import OPERATOR
from api.wiring.settings import OidcSettings, new_signing_key
from domain.application import FengqiaoApplication
from domain.policy import Policy
from domain.samples import sample_units
from scheduler.signing import SigningKey
from scheduler.tree_heads import signer_over
from tests.support import backends
from tests.support.backends import store_env
from tests.support.staff import enrol_test_staff
from tests.support.views import build_views
from tests.support.world import Clock

logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request

SECRET = "test-secret-for-the-api-suite-0123456789"
API = "/api/v1"
API_BACKENDS = ("sqlite", "postgres")
PROBLEM = "application/problem+json"

# Sample units (domain/samples.py) the suite speaks of.
CITY = "511100"
COUNTY = "511123"
TOWNSHIP = "511123001"
VILLAGE = "511123001001"
NEIGHBOUR_VILLAGE = "511123001002"
OTHER_TOWNSHIP = "511123002"
OTHER_TOWNSHIP_VILLAGE = "511123002001"
OTHER_COUNTY = "511102"
OTHER_COUNTY_VILLAGE = "511102001001"

# a valid resident ID number (its check digit right, born 1990-01-09) and mainland mobile
ID_NUMBER = "511123199001091234"
PHONE = "13987650321"
ADDRESS = "四川省乐山市犍为县罗城镇石溪村三组12号"

Client = TestClient[Any]


def token(role: str, unit: str, user: str | None = None, ttl: timedelta | None = None) -> str:
    """A bearer token for ``role`` at ``unit`` signed with the suite's secret."""
    return mint_token(SECRET, user or f"{role}-{unit}", role, unit, ttl or timedelta(hours=1))


def signed(**claims: Any) -> str:
    """A token signed with the suite's secret, written claim by claim: the village mediator's,
    with ``claims`` replacing (or, given ``...``, removing) some of them."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "exp": now + 3600,
        "iat": now,
        "sub": f"mediator-{VILLAGE}",  # the village's mediator, in the staff directory
        "role": "mediator",
        "unit": VILLAGE,
    }
    payload.update(claims)
    return jwt.encode(
        {name: value for name, value in payload.items() if value is not ...}, SECRET, "HS256"
    )


def auth(role: str, unit: str, user: str | None = None, **headers: str) -> dict[str, str]:
    """Request headers with a bearer token (and any others, ``_`` spelled ``-``)."""
    extra = {name.replace("_", "-"): value for name, value in headers.items()}
    return {"Authorization": f"Bearer {token(role, unit, user)}", **extra}


@dataclass
class Store:
    """Where one test's data lives: enough to build a second Runtime on it (a restart)."""

    backend: str
    env: dict[str, str]
    path: Path


def build_test_runtime(store: Store, clock: Clock, oidc: OidcSettings | None = None) -> Runtime:
    app = FengqiaoApplication(env=store.env, clock=clock)
    app.adopt_policy(OPERATOR, Policy())
    app.add_units(OPERATOR, sample_units())
    enrol_test_staff(app)  # every token the suites mint names one of them
    views = build_views(app, store.env, store.backend, store.path)
    key = SigningKey.from_text(new_signing_key())
    return Runtime(
        app=app,
        views=views,
        secret=SECRET,
        clock=clock,
        subscribe=store.backend == "postgres",
        heartbeat=heartbeat(views),
        oidc=oidc,
        # every API process holds the signing key, as build_runtime gives it (GET /ledger/key)
        head_signer=signer_over(app, views, key, clock, 60.0),
    )


@contextmanager
def serving(
    store: Store, clock: Clock, oidc: OidcSettings | None = None
) -> Iterator[tuple[Client, Runtime]]:
    """A running API (lifespan entered: views followed) over the store, taking ``oidc``'s
    tokens too when given; stopped on exit."""
    name = f"fengqiao-test-{uuid.uuid4().hex[:12]}"
    previous = os.environ.get("PGAPPNAME")
    os.environ["PGAPPNAME"] = name  # tags this runtime's PostgreSQL sessions
    try:
        runtime = build_test_runtime(store, clock, oidc)
        with TestClient(app=create_app(runtime), raise_server_exceptions=False) as client:
            if runtime.subscribe:
                _await_listeners(name, len(runtime.views.followers))
            yield client, runtime
    finally:
        if previous is None:
            os.environ.pop("PGAPPNAME", None)
        else:
            os.environ["PGAPPNAME"] = previous


@contextmanager
def serving_sqlite(tmp_path: Path, clock: Clock) -> Iterator[Client]:
    """The API on SQLite alone: for what is settled before any storage (tokens, inputs)."""
    with (
        store_env("sqlite", tmp_path) as settings,
        serving(Store("sqlite", settings, tmp_path), clock) as (client, _),
    ):
        yield client


def _await_listeners(application_name: str, count: int, timeout: float = 5.0) -> None:
    """Waits until every view follower's subscription is LISTENing.

    The library's PostgreSQL subscription starts its first pull and its LISTEN concurrently:
    an event recorded between the two is not seen until the next one arrives, so a command
    sent right after start-up could wait out read-your-writes and answer from a stale view.
    Production traffic hides that; a test's first request must not race it.
    """
    deadline = time.monotonic() + timeout
    with psycopg.connect(backends.test_database_url(), autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
                "AND state = 'idle' AND query LIKE 'LISTEN %%'",
                (application_name,),
            ).fetchone()
            if row is not None and row[0] >= count:
                return
            time.sleep(0.01)


@pytest.fixture(params=API_BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    backend = str(request.param)
    with store_env(backend, tmp_path) as settings:
        # as api.wiring.settings configures the embedded store: concurrent writers wait for the lock
        extra = {"SQLITE_LOCK_TIMEOUT": "10"} if backend == "sqlite" else {}
        yield Store(backend, {**settings, **extra}, tmp_path)


@pytest.fixture
def client(store: Store, clock: Clock) -> Iterator[tuple[Client, Runtime]]:
    with serving(store, clock) as running:
        yield running


# --- requests the suites share --------------------------------------------------------------


def party(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "张三",
        "role": "applicant",
        "id_number": ID_NUMBER,
        "phone": PHONE,
        "address": ADDRESS,
        **overrides,
    }


def registration(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "dispute",
        "unit": VILLAGE,
        "category": "邻里",
        "summary": "两户因排水沟堵塞发生争执",
        "channel": "grid_patrol",
        "people_involved": 4,
        "amount_involved": "1200.50",
        "parties": [party(), party(name="李四", role="respondent", address=None)],
    }
    body.update(overrides)
    return body


def register(
    http: Client,
    unit: str = VILLAGE,
    role: str = "reporter",
    actor_unit: str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """Registers a case over HTTP and returns the answer (asserting 201)."""
    answer = http.post(
        f"{API}/cases",
        json=registration(unit=unit, **overrides),
        headers=auth(role, actor_unit or unit),
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def send(
    http: Client,
    case_id: str,
    command: str,
    body: dict[str, Any] | None = None,
    role: str = "mediator",
    unit: str = VILLAGE,
    user: str | None = None,
    **headers: str,
) -> Any:
    """POSTs a command as ``role`` at ``unit``; returns the httpx response."""
    return http.post(
        f"{API}/cases/{case_id}/{command}",
        json=body if body is not None else {},
        headers=auth(role, unit, user, **headers),
    )


def ok(answer: Any, status: int = 200) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    return body


def assert_problem(answer: Any, status: int) -> dict[str, Any]:
    """An RFC 9457 problem document with the given status."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM), answer.headers
    body: dict[str, Any] = answer.json()
    assert body["status"] == status
    assert body["title"]
    assert "detail" in body
    return body


def events_recorded(runtime: Runtime) -> int:
    return runtime.app.recorder.max_notification_id() or 0


def pytest_configure(config: pytest.Config) -> None:
    """The routes still use Litestar 2's inferred parameter styles, which Litestar 2.25 warns
    about once per handler for every app built: thousands of lines per run that bury the
    results. (A Litestar 3 migration has to change them; the warning says how.)"""
    config.addinivalue_line(
        "filterwarnings", "ignore::litestar.exceptions.LitestarDeprecationWarning"
    )


def post_raw(http: Client, path: str, body: Any, role: str, unit: str) -> Any:
    """A POST of ``body`` as JSON text (or raw bytes), whatever it holds."""
    headers = {**auth(role, unit), "content-type": "application/json"}
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return http.post(f"{API}{path}", content=content, headers=headers)
