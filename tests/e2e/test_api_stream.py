"""``GET /api/v1/stream/queues/{unit}``: a supervisor's board sees its queue change, live.

A real uvicorn server in a thread (the stream never ends by itself, which is awkward for an
in-process test client), httpx streaming it in another thread, commands sent over HTTP. Every
expected event must arrive within 2 seconds of the command's answer; cases outside the
stream's subtree must never appear.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import msgspec
import pytest
from litestar.testing import TestClient

from api.http.app import create_app
from api.http.routes import stream
from api.http.runtime import Runtime
from tests.support.api import (
    COUNTY,
    OTHER_COUNTY_VILLAGE,
    OTHER_TOWNSHIP,
    OTHER_TOWNSHIP_VILLAGE,
    TOWNSHIP,
    VILLAGE,
    Store,
    build_test_runtime,
    registration,
    token,
)
from tests.support.live import LiveServer
from tests.support.world import Clock

API = "/api/v1"
SEE_WITHIN = 2.0  # seconds: what a supervisor's board is promised


@dataclass
class Event:
    type: str
    data: Any
    at: float = field(default_factory=time.monotonic)


class EventStream:
    """Reads one SSE stream in a thread into a queue of events (comments included)."""

    def __init__(self, url: str, bearer: str) -> None:
        self.url = url
        self.headers = {"Authorization": f"Bearer {bearer}", "Accept": "text/event-stream"}
        self.events: queue.Queue[Event] = queue.Queue()
        self.seen: list[Event] = []
        self.stopping = threading.Event()
        self.opened = threading.Event()
        self.ended = threading.Event()  # the server ended the stream
        self.status: int | None = None
        self.thread = threading.Thread(target=self._read, daemon=True)

    def __enter__(self) -> EventStream:
        self.thread.start()
        ready = self.next(timeout=10)
        assert ready.type == "ready", ready
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        self.thread.join(10)
        assert not self.thread.is_alive(), "the stream reader did not stop"

    def _read(self) -> None:
        timeout = httpx.Timeout(10.0, read=5.0)
        with (
            httpx.Client(timeout=timeout) as client,
            client.stream("GET", self.url, headers=self.headers) as response,
        ):
            self.status = response.status_code
            self.opened.set()
            kind, data = "message", []
            for line in response.iter_lines():
                if self.stopping.is_set():
                    return
                if line.startswith(":"):
                    self.events.put(Event("comment", line[1:].strip()))
                elif line.startswith("event:"):
                    kind = line.removeprefix("event:").strip()
                elif line.startswith("data:"):
                    data.append(line.removeprefix("data:").strip())
                elif not line and data:
                    self.events.put(Event(kind, msgspec.json.decode("\n".join(data))))
                    kind, data = "message", []
        self.ended.set()

    def next(self, timeout: float = SEE_WITHIN, comments: bool = False) -> Event:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                event = self.events.get(timeout=max(remaining, 0.001))
            except queue.Empty:
                raise AssertionError(f"no event within {timeout} s") from None
            if event.type == "comment" and not comments:
                continue
            self.seen.append(event)
            return event

    def change(self, case: str, change: str, timeout: float = SEE_WITHIN) -> dict[str, Any]:
        """The next queue event, which must be ``change`` to ``case`` (among the changes one
        command made: a resolution also invites the parties to rate), within ``timeout``."""
        event = self.next(timeout)
        assert event.type == "queue", event
        assert event.data["case"] == case, (event.data, case)
        assert change in event.data["changes"], event.data
        payload: dict[str, Any] = event.data
        return payload

    def quiet(self, seconds: float) -> None:
        """Nothing but keep-alives for ``seconds``."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            with contextlib.suppress(queue.Empty):
                event = self.events.get(timeout=remaining)
                assert event.type == "comment", f"unexpected event {event}"


class Api:
    """Commands over HTTP, each asserting its answer."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url + API, timeout=10.0)

    def post(self, path: str, body: dict[str, Any], role: str, unit: str) -> dict[str, Any]:
        answer = self.http.post(
            path, json=body, headers={"Authorization": f"Bearer {token(role, unit)}"}
        )
        assert answer.status_code in (200, 201), answer.text
        result: dict[str, Any] = answer.json()
        return result

    def register(self, unit: str) -> str:
        return str(self.post("/cases", registration(unit=unit), "reporter", unit)["id"])

    def command(
        self, case: str, command: str, role: str, unit: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return self.post(f"/cases/{case}/{command}", body or {}, role, unit)


@pytest.fixture
def live(store: Store, clock: Clock) -> Iterator[tuple[LiveServer, Runtime]]:
    runtime = build_test_runtime(store, clock)
    with LiveServer(create_app(runtime)) as server:
        yield server, runtime


@pytest.fixture(autouse=True)
def fast_keepalive(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep-alives every 0.3 s: they show up in a test, and wake readers that are stopping."""
    monkeypatch.setattr(stream, "KEEPALIVE_SECONDS", 0.3)


def stream_url(server: LiveServer, unit: str) -> str:
    return f"{server.url}{API}/stream/queues/{unit}"


def test_a_board_sees_its_subtree_change_and_nothing_else(
    live: tuple[LiveServer, Runtime],
) -> None:
    server, _ = live
    api = Api(server.url)
    township = EventStream(stream_url(server, TOWNSHIP), token("supervisor", TOWNSHIP))
    county = EventStream(stream_url(server, COUNTY), token("supervisor", COUNTY))
    with township, county:
        # registered in the township's village: both boards see it join
        case = api.register(VILLAGE)
        for board in (township, county):
            joined = board.change(case, "Registered")
            assert joined["item"]["id"] == case
            assert joined["item"]["owner"] == VILLAGE
            assert joined["item"]["status"] == "registered"

        # outside the township (still in the county), and outside both
        neighbour = api.register(OTHER_TOWNSHIP_VILLAGE)
        county.change(neighbour, "Registered")
        foreign = api.register(OTHER_COUNTY_VILLAGE)

        api.command(case, "sign", "mediator", VILLAGE)
        for board in (township, county):
            signed = board.change(case, "Signed")
            assert signed["item"]["status"] == "signed"

        # escalated village → township: still in the township's queue, owned higher up
        api.command(case, "escalate", "supervisor", VILLAGE, {"reason": "涉及多户，村级无力化解"})
        for board in (township, county):
            moved = board.change(case, "Escalated")
            assert moved["item"]["owner"] == TOWNSHIP

        # township → county: it leaves the township's queue and stays in the county's
        api.command(case, "escalate", "supervisor", TOWNSHIP, {"reason": "镇级调解未果"})
        left = township.change(case, "Escalated")
        assert left["item"] is None
        stayed = county.change(case, "Escalated")
        assert stayed["item"]["owner"] == COUNTY

        # a case resolved in the township leaves its queue
        other = api.register(VILLAGE)
        api.command(other, "sign", "mediator", VILLAGE)
        api.command(
            other,
            "mediation-sessions",
            "mediator",
            VILLAGE,
            {"held_at": "2026-09-28T09:30:00+08:00", "notes": "双方到场，初步沟通"},
        )
        api.command(
            other, "resolve", "mediator", VILLAGE, {"agreement": "疏通排水沟", "form": "written"}
        )
        for change in ("Registered", "Signed", "MediationSessionRecorded"):
            assert township.change(other, change)["item"] is not None
        resolved = township.change(other, "Resolved")
        assert resolved["item"] is None

        # changes to cases the township never held: not a word
        api.command(neighbour, "sign", "mediator", OTHER_TOWNSHIP_VILLAGE)
        api.command(foreign, "sign", "mediator", OTHER_COUNTY_VILLAGE)
        township.quiet(0.8)
        for change in ("Registered", "Signed", "MediationSessionRecorded", "Resolved"):
            county.change(other, change)
        county.change(neighbour, "Signed")
        county.quiet(0.5)

    assert {e.data["case"] for e in township.seen if e.type == "queue"} == {case, other}
    assert foreign not in {e.data["case"] for e in county.seen if e.type == "queue"}


def test_an_event_arrives_well_within_two_seconds(live: tuple[LiveServer, Runtime]) -> None:
    server, _ = live
    api = Api(server.url)
    with EventStream(stream_url(server, VILLAGE), token("mediator", VILLAGE)) as board:
        for _ in range(5):
            started = time.monotonic()
            case = api.register(VILLAGE)
            event = board.next()
            assert event.data["case"] == case
            assert event.at - started < SEE_WITHIN


def test_keep_alive_comments_flow_and_a_closed_stream_is_forgotten(
    live: tuple[LiveServer, Runtime],
) -> None:
    server, runtime = live
    hub = stream.hub_for(runtime)
    with EventStream(stream_url(server, TOWNSHIP), token("supervisor", TOWNSHIP)) as board:
        beat = board.next(timeout=2, comments=True)
        assert (beat.type, beat.data) == ("comment", "keep-alive")
        assert hub.subscribers == 1
    deadline = time.monotonic() + 3
    while hub.subscribers and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hub.subscribers == 0


def test_a_stream_ends_when_its_token_expires(live: tuple[LiveServer, Runtime]) -> None:
    server, runtime = live
    brief = token("supervisor", TOWNSHIP, ttl=timedelta(seconds=2))
    with EventStream(stream_url(server, TOWNSHIP), brief) as board:
        assert board.ended.wait(5), "the stream outlived its token"
    assert stream.hub_for(runtime).subscribers == 0


def test_streams_keep_the_queue_permissions(live: tuple[LiveServer, Runtime]) -> None:
    server, _ = live
    with httpx.Client(timeout=5) as http:
        url = stream_url(server, TOWNSHIP)
        assert http.get(url).status_code == 401
        bad = {"Authorization": "Bearer not-a-token"}
        assert http.get(url, headers=bad).status_code == 401
        outside = {"Authorization": f"Bearer {token('supervisor', OTHER_TOWNSHIP)}"}
        forbidden = http.get(url, headers=outside)
        assert forbidden.status_code == 403
        assert forbidden.headers["content-type"].startswith("application/problem+json")
        mine = {"Authorization": f"Bearer {token('supervisor', TOWNSHIP)}"}
        assert http.get(stream_url(server, "999999999"), headers=mine).status_code == 404
        below = {"Authorization": f"Bearer {token('mediator', VILLAGE)}"}
        assert http.get(stream_url(server, TOWNSHIP), headers=below).status_code == 403


def test_a_process_that_does_not_follow_the_views_says_so(store: Store, clock: Clock) -> None:
    runtime = build_test_runtime(store, clock)
    runtime.follow = False
    with TestClient(app=create_app(runtime)) as client:
        answer = client.get(
            f"{API}/stream/queues/{TOWNSHIP}",
            headers={"Authorization": f"Bearer {token('supervisor', TOWNSHIP)}"},
        )
    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith("application/problem+json")
