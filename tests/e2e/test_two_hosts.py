"""Two API hosts on one PostgreSQL: two ``fengqiao serve`` processes, each with its own data
directory and port, sharing the store and the views as two machines would (README, "Three
hosts"). Both follow the views (racing for each batch; exactly once is the views' own), both
stream queues, one sweeps deadlines (the advisory lock).

- A client that writes on one host reads its write on the other at once: the answer it got
  waited for the shared views, whichever host's follower applied the command.
- A supervisor's board streaming from one host sees a command sent to the other.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.http.auth import mint_token
from api.http.runtime import READ_YOUR_WRITES_TIMEOUT
from api.wiring.settings import new_cipher_key, new_signing_key
from tests.e2e.test_api_stream import EventStream
from tests.support import backends
from tests.support.server import Served, environment, load_jurisdiction, serving
from tests.support.staff import enrol_in_store
from tests.support.world import TOWNSHIP, VILLAGE

pytestmark = pytest.mark.postgres

SECRET = "two-hosts-signing-secret-0123456789abcdefghijklmn"
API = "/api/v1"
SEEN_WITHIN = 2.0  # seconds a board on the other host is given (the target is 200 ms)


def bearer(role: str, unit: str) -> dict[str, str]:
    token = mint_token(SECRET, f"{role}-{unit}", role, unit, timedelta(hours=1))
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def hosts(tmp_path: Path) -> Iterator[tuple[Served, Served]]:
    """Two servers over one fresh PostgreSQL schema, the jurisdiction and test staff loaded."""
    with backends.postgres_schema() as schema:
        shared = {
            "FENGQIAO_DATABASE_URL": f"{backends.test_database_url()}?schema={schema}",
            "FENGQIAO_CIPHER_KEY": new_cipher_key(),
            "FENGQIAO_SIGNING_KEY": new_signing_key(),
            "FENGQIAO_SECRET": SECRET,
        }
        first = {**environment(tmp_path / "host-a"), **shared}
        second = {**environment(tmp_path / "host-b"), **shared}
        load_jurisdiction(first)
        enrol_in_store(first)
        with (
            serving(first, tmp_path / "host-a.log", graceful=True) as a,
            serving(second, tmp_path / "host-b.log", graceful=True) as b,
        ):
            for host in (a, b):
                wait_caught_up(host)
            yield a, b


CATCH_UP_WITHIN = 60.0  # seconds a host just started is given to apply the log so far


def wait_caught_up(host: Served) -> None:
    """Until the host's cases view holds the whole log: host A's first sweep writes a record
    per village (排查 reports marked missed) as host B starts, and what the tests time is a
    command's way to the other host, not that host's start-up backlog."""
    deadline = time.monotonic() + CATCH_UP_WITHIN
    while time.monotonic() < deadline:
        answer = httpx.get(f"{host.url}/ready", timeout=5)
        if answer.status_code == 200 and answer.json().get("lag", {}).get("cases") == 0:
            return
        time.sleep(0.1)
    pytest.fail(f"{host.url} did not catch up with the log within {CATCH_UP_WITHIN} s")


class Board(EventStream):
    """A board's stream; a server's keep-alives are slower than the reader's timeout, so the
    reader, told to stop, may give up waiting for the next line."""

    def _read(self) -> None:
        with contextlib.suppress(httpx.ReadTimeout):
            super()._read()


ANSWERED: list[float] = []  # seconds each command took to answer, the last test's


def post(host: Served, path: str, body: dict[str, Any], role: str, unit: str) -> Any:
    headers = {**bearer(role, unit), "Idempotency-Key": uuid.uuid4().hex}
    started = time.monotonic()
    answer = httpx.post(f"{host.url}{API}{path}", json=body, headers=headers, timeout=10)
    ANSWERED.append(time.monotonic() - started)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def get(host: Served, path: str, role: str, unit: str) -> Any:
    answer = httpx.get(f"{host.url}{API}{path}", headers=bearer(role, unit), timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def register(host: Served, summary: str) -> str:
    body = {
        "kind": "dispute",
        "unit": VILLAGE,
        "category": "邻里纠纷",
        "summary": summary,
        "channel": "hotline",
    }
    return str(post(host, "/cases", body, "reporter", VILLAGE)["id"])


def queued(host: Served, unit: str) -> dict[str, str]:
    """The cases in ``unit``'s queue on ``host``, with their status."""
    items = get(host, f"/queues/{unit}", "supervisor", unit)["items"]
    return {item["id"]: item["status"] for item in items}


def test_a_write_on_one_host_is_read_at_once_on_the_other(hosts: tuple[Served, Served]) -> None:
    a, b = hosts
    ANSWERED.clear()
    for n in range(10):
        writer, reader = (a, b) if n % 2 == 0 else (b, a)
        case = register(writer, f"两户排水沟纠纷 {n}")
        assert get(reader, f"/cases/{case}", "supervisor", TOWNSHIP)["id"] == case
        assert queued(reader, TOWNSHIP)[case] == "registered"
        post(reader, f"/cases/{case}/sign", {}, "mediator", VILLAGE)
        assert queued(writer, VILLAGE)[case] == "signed"
        history = get(writer, f"/cases/{case}/history", "supervisor", TOWNSHIP)
        assert [entry["event_type"] for entry in history][-1] == "Signed"
    # A host whose follower lost the race for a batch is woken by the other's commit, not by
    # its read-your-writes timeout running out.
    assert max(ANSWERED) < READ_YOUR_WRITES_TIMEOUT / 2, ANSWERED


def test_a_board_on_one_host_sees_a_command_sent_to_the_other(
    hosts: tuple[Served, Served],
) -> None:
    a, b = hosts
    seen_after: list[float] = []
    board = Board(f"{b.url}{API}/stream/queues/{TOWNSHIP}", bearer_token(TOWNSHIP))
    with board:
        for n in range(10):
            sent = time.monotonic()
            case = register(a, f"两户宅基地纠纷 {n}")
            event = board.change(case, "Registered", timeout=SEEN_WITHIN)
            assert event["item"]["id"] == case
            seen_after.append(board.seen[-1].at - sent)
            post(a, f"/cases/{case}/sign", {}, "mediator", VILLAGE)
            board.change(case, "Signed", timeout=SEEN_WITHIN)
    print(f"board on the other host: seen {max(seen_after) * 1000:.0f} ms after the send at most")


def bearer_token(unit: str) -> str:
    return bearer("supervisor", unit)["Authorization"].removeprefix("Bearer ")


def test_a_board_on_one_host_sees_every_case_of_a_burst_sent_to_the_other(
    hosts: tuple[Served, Served],
) -> None:
    """Eight hotline operators register at once on host A: host A's follower wins most
    batches, and host B, told of each, must still push every one of them."""
    a, b = hosts
    board = Board(f"{b.url}{API}/stream/queues/{TOWNSHIP}", bearer_token(TOWNSHIP))
    with board, ThreadPoolExecutor(max_workers=8) as pool:
        cases = set(pool.map(lambda n: register(a, f"同时来电 {n}"), range(8)))
        seen: set[str] = set()
        deadline = time.monotonic() + SEEN_WITHIN
        while seen != cases and time.monotonic() < deadline:
            event = board.next(timeout=max(deadline - time.monotonic(), 0.01))
            if event.type == "queue" and "Registered" in event.data["changes"]:
                seen.add(event.data["case"])
    assert seen == cases
