"""Integrity under faults: the real ``fengqiao serve`` on PostgreSQL behind a TCP proxy that
drops the connection of the transaction writing a request's events, right after COMMIT,
before it, or in the middle of a server response (``tests.support.faultproxy``).

Every registration and command sent once with an Idempotency-Key is either answered 2xx and
stored exactly once, or answered 503 (with Retry-After) and stored not at all; never a 500.
Sent again with the same key it answers the first answer (or, after a 503, runs once). The
store is counted directly in PostgreSQL (not through the proxy) and through the case's
history; ``/ready`` answers 200 after each fault, without a restart.

"Exactly once" is measured, not assumed: a clean request of the same kind, sent just before
with its own key, says how many events (and which on the case) one request stores, whatever
the store keeps beside a case's own events.

The first tests check the proxy itself, with psycopg alone.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from random import Random
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import httpx
import psycopg
import pytest
from psycopg import sql

from api.demo.data import id_number
from api.wiring.settings import new_cipher_key, new_signing_key
from tests.support.api import COUNTY, SECRET, VILLAGE, auth, party, registration
from tests.support.backends import postgres_schema
from tests.support.backends import test_database_url as database_url
from tests.support.faultproxy import Fault, FaultProxy
from tests.support.server import Served, environment, serving

pytestmark = [pytest.mark.postgres]

API = "/api/v1"
EVENTS_TABLE = "fengqiao_events"
FIRED_WITHIN = 10.0  # seconds
KINDS = ("register", "note", "sign")
# the event each kind of request stores on its case (and the case's history shows)
CASE_EVENT = {"register": "Registered", "note": "NoteAdded", "sign": "Signed"}
SUCCESS = {"register": 201, "note": 200, "sign": 200}


def upstream() -> tuple[str, int]:
    parts = urlsplit(database_url())
    return parts.hostname or "127.0.0.1", parts.port or 5432


def through(proxy: FaultProxy, schema: str | None = None, **params: str) -> str:
    """The test database's URL with the proxy as its host (and ``schema``, ``params``)."""
    parts = urlsplit(database_url())
    userinfo = parts.netloc.rpartition("@")[0]
    query = parse_qsl(parts.query)
    if schema is not None:
        query.append(("schema", schema))
    query.extend(params.items())
    netloc = f"{userinfo}@127.0.0.1:{proxy.port}" if userinfo else f"127.0.0.1:{proxy.port}"
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, quote_via=quote)))


def direct(schema: str) -> psycopg.Connection[tuple[Any, ...]]:
    """A connection to PostgreSQL itself (not through the proxy), in ``schema``."""
    conn = psycopg.connect(database_url(), autocommit=True)
    conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
    return conn


# --- the proxy alone ------------------------------------------------------------------------


@pytest.fixture
def probe_schema() -> Iterator[str]:
    """A fresh schema with ``probe_events`` (which the proxy takes for an events table) and
    ``probe_other`` (which it does not)."""
    with postgres_schema() as schema:
        with direct(schema) as conn:
            conn.execute("CREATE TABLE probe_events (id INTEGER PRIMARY KEY)")
            conn.execute("CREATE TABLE probe_other (id INTEGER PRIMARY KEY)")
        yield schema


def stored_probes(schema: str) -> list[int]:
    with direct(schema) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM probe_events ORDER BY id")]


def write_probe(
    conn: psycopg.Connection[tuple[Any, ...]], table: str, key: int, pipeline: bool
) -> None:
    """One transaction inserting ``key`` (``RETURNING`` it, as the recorder does)."""
    statement = sql.SQL("INSERT INTO {} (id) VALUES (%s) RETURNING id").format(
        sql.Identifier(table)
    )
    if pipeline:
        with conn.pipeline(), conn.transaction():
            conn.execute(statement, (key,))
    else:
        with conn.transaction():
            row = conn.execute(statement, (key,)).fetchone()
            assert row == (key,)


def test_unarmed_the_proxy_passes_plain_and_pipelined_traffic_and_declines_ssl(
    probe_schema: str,
) -> None:
    with FaultProxy(upstream()) as proxy:
        # sslmode=prefer: libpq asks for TLS first, the proxy says N, the session goes on plain
        url = through(proxy, sslmode="prefer", options=f"-c search_path={probe_schema}")
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("SELECT 1 + 1").fetchone() == (2,)
            assert conn.info.pgconn.ssl_in_use is False
            for key, pipeline in ((1, False), (2, True), (3, False)):
                write_probe(conn, "probe_events", key, pipeline)
            write_probe(conn, "probe_other", 1, pipeline=True)
        stats = proxy.stats()
    assert stored_probes(probe_schema) == [1, 2, 3]
    assert stats.connections == 1
    assert stats.events_inserts == 3  # probe_other's insert is not one
    assert stats.commits == 4
    assert not stats.fired


@pytest.mark.parametrize("pipeline", [False, True], ids=["plain", "pipeline"])
@pytest.mark.parametrize("fault", list(Fault))
def test_an_armed_fault_fires_once_on_the_next_events_transaction(
    probe_schema: str, fault: Fault, pipeline: bool
) -> None:
    committed = fault in (Fault.AFTER_COMMIT, Fault.MID_COMMIT_RESPONSE)
    with FaultProxy(upstream()) as proxy:
        url = through(proxy, options=f"-c search_path={probe_schema}")
        with psycopg.connect(url, autocommit=True) as conn:
            proxy.arm(fault)
            write_probe(conn, "probe_other", 1, pipeline)  # not an events write: untouched
            assert proxy.armed is fault
            with pytest.raises(psycopg.OperationalError):
                write_probe(conn, "probe_events", 1, pipeline)
            assert conn.closed or conn.broken
        assert proxy.wait_fired(FIRED_WITHIN), proxy.trace()
        assert proxy.armed is None
        # fired once: the next transaction, on a new connection, goes through
        with psycopg.connect(url, autocommit=True) as conn:
            write_probe(conn, "probe_events", 2, pipeline)
        stats = proxy.stats()
    assert stats.fired == Counter({fault: 1})
    # the commit happened (and the client never heard) or it never did
    assert stored_probes(probe_schema) == ([1, 2] if committed else [2]), proxy.trace()


# --- the served API -------------------------------------------------------------------------


@dataclass
class Deployment:
    """``fengqiao serve`` whose every PostgreSQL connection passes through ``proxy``."""

    served: Served
    proxy: FaultProxy
    schema: str
    http: httpx.Client

    def post(self, path: str, body: Any, role: str, key: str) -> httpx.Response:
        headers = auth(role, VILLAGE, Idempotency_Key=key)
        return self.http.post(f"{API}{path}", json=body, headers=headers)

    def events(self) -> list[tuple[uuid.UUID, str]]:
        """Every stored event, (originator, event class name), in log order, read directly; but
        the villages' screening reports, which the scheduler in the server marks missed in the
        background of the requests (the sample villages owe reports since the tree was
        recorded), each in a transaction of its own."""
        with direct(self.schema) as conn:
            rows = conn.execute(
                sql.SQL(
                    "SELECT originator_id, topic FROM {} WHERE topic NOT LIKE %s "
                    "ORDER BY notification_id"
                ).format(sql.Identifier(EVENTS_TABLE)),
                ("domain.screening_report:%",),
            ).fetchall()
        return [(originator, topic.rsplit(".", 1)[-1]) for originator, topic in rows]

    def history_of(self, case_id: str, showing: str, within: float = 5.0) -> list[str]:
        """The event types in the case's history, once it shows ``showing`` (or ``within``
        seconds have passed: the history is a read model, though commands wait for it)."""
        deadline = time.monotonic() + within
        while True:
            answer = self.http.get(
                f"{API}/cases/{case_id}/history", headers=auth("supervisor", COUNTY)
            )
            assert answer.status_code == 200, answer.text
            types = [str(entry["event_type"]) for entry in answer.json()]
            if showing in types or time.monotonic() > deadline:
                return types
            time.sleep(0.05)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.served.output().splitlines()[-lines:])

    def register_case(self) -> str:
        answer = self.post("/cases", new_dispute(), "reporter", f"setup-{uuid.uuid4()}")
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    tmp: Path = tmp_path_factory.mktemp("faults")
    with postgres_schema() as schema, FaultProxy(upstream()) as proxy:
        env = environment(tmp / "data")
        env.update(
            FENGQIAO_DATABASE_URL=through(proxy, schema, sslmode="disable"),
            FENGQIAO_CIPHER_KEY=new_cipher_key(),
            FENGQIAO_SIGNING_KEY=new_signing_key(),
            FENGQIAO_SECRET=SECRET,  # so tests.support.api's tokens are good here
            # no sweep writes events while a fault is armed for a request's
            FENGQIAO_SWEEP_SECONDS="3600",
            PGSSLMODE="disable",  # the event store's connections too
        )
        with (
            serving(env, tmp / "serve.log", "--demo", "--demo-cases", "0", kind=Served) as served,
            httpx.Client(base_url=served.url, timeout=60) as http,
        ):
            yield Deployment(served, proxy, schema, http)


def new_dispute() -> dict[str, Any]:
    """A registration of people never seen before: the same family registered again would be
    a repeat, suggested orange and owned by the township, out of the village mediator's hands."""
    people = [party(id_number=id_number(Random(), VILLAGE), phone=None), party(name="李四",
              role="respondent", id_number=id_number(Random(), VILLAGE), phone=None)]  # fmt: skip
    return registration(parties=people)


def added(
    before: list[tuple[uuid.UUID, str]], after: list[tuple[uuid.UUID, str]]
) -> list[tuple[uuid.UUID, str]]:
    assert after[: len(before)] == before, "stored events changed or vanished"
    return after[len(before) :]


def on_case(events: list[tuple[uuid.UUID, str]], case_id: str | None) -> list[str]:
    return [name for originator, name in events if str(originator) == case_id]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fault", list(Fault))
def test_a_request_cut_off_by_a_store_fault_is_stored_once_or_not_at_all(
    deployment: Deployment, fault: Fault, kind: str
) -> None:
    d = deployment
    bodies: dict[str, dict[str, Any]] = {}  # a key resent carries the same body

    def request(case_id: str | None, key: str) -> httpx.Response:
        if kind == "register":
            return d.post("/cases", bodies.setdefault(key, new_dispute()), "reporter", key)
        if kind == "note":
            return d.post(f"/cases/{case_id}/notes", {"text": "已电话联系申请人"}, "mediator", key)
        return d.post(f"/cases/{case_id}/sign", {}, "mediator", key)

    def case_of(answer: httpx.Response, given: str | None) -> str | None:
        return str(answer.json()["id"]) if kind == "register" else given

    # A clean request of this kind: what one request stores, overall and on its case. The
    # county's number counter is started by its first registration: start it before the
    # control, so the control stores what the faulted request should.
    if kind == "register":
        d.register_case()
    control_case = None if kind == "register" else d.register_case()
    target = None if kind == "register" else d.register_case()
    before = d.events()
    control = request(control_case, f"control-{uuid.uuid4()}")
    assert control.status_code == SUCCESS[kind], control.text
    clean = added(before, d.events())
    clean_on_case = on_case(clean, case_of(control, control_case))
    assert clean_on_case.count(CASE_EVENT[kind]) == 1, clean

    # The same kind of request, once, with the fault armed for its transaction.
    key = f"{fault}-{kind}-{uuid.uuid4()}"
    before = d.events()
    fired_before = d.proxy.stats().fired[fault]
    d.proxy.arm(fault)
    try:
        first = request(target, key)
    finally:
        unclaimed = d.proxy.disarm()
    first_stored = added(before, d.events())
    assert unclaimed is None, f"{fault} never met the request's transaction:\n{d.proxy.trace()}"
    assert d.proxy.wait_fired(FIRED_WITHIN), d.proxy.trace()
    assert d.proxy.stats().fired[fault] == fired_before + 1

    seen = (
        f"{fault} × {kind}: answered {first.status_code} {first.text[:300]}, stored {first_stored}"
    )
    # never a 500, nor anything else
    assert first.status_code in (SUCCESS[kind], 503), f"{seen}\n{d.log_tail()}"
    if first.status_code == 503:
        assert first.headers.get("retry-after"), seen
        assert first_stored == [], seen
    else:
        case_id = case_of(first, target)
        assert len(first_stored) == len(clean), seen
        assert on_case(first_stored, case_id) == clean_on_case, seen

    # Sent again with the same key: the first answer, or (after a 503) the request, once.
    again = request(target, key)
    stored = added(before, d.events())
    seen += f"; resent: {again.status_code} {again.text[:300]}, stored {stored}"
    assert again.status_code == SUCCESS[kind], f"{seen}\n{d.log_tail()}"
    if first.status_code != 503:
        assert again.json() == first.json(), seen
        for header in ("etag", "location"):
            assert again.headers.get(header) == first.headers.get(header), seen
    case_id = case_of(again, target)
    assert len(stored) == len(clean), seen
    assert on_case(stored, case_id) == clean_on_case, seen

    # The case's history (the read model, through the API) shows the event once.
    assert case_id is not None
    history = d.history_of(case_id, CASE_EVENT[kind])
    assert history.count(CASE_EVENT[kind]) == 1, f"{seen}; history {history}"

    # Recovered without a restart.
    ready = d.http.get("/ready")
    assert ready.status_code == 200, f"{seen}; /ready {ready.status_code} {ready.text}"
    print(  # the matrix, with -s or -rP
        f"{fault} × {kind}: {first.status_code} (stored {len(first_stored)}/{len(clean)}), "
        f"resent {again.status_code} (stored {len(stored)}/{len(clean)}), history {history}"
    )
