"""The in-app notices over HTTP: each member's list and unread count, marking read, the bell's
stream, and the dead letters for admins (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import httpx
import psycopg
import pytest

from api.http.app import create_app
from api.http.routes import notifications, stream
from api.http.runtime import Runtime
from api.notify.addresses import Addresses
from api.notify.webhook import WebhookSender
from domain.actors import Role
from projections import notice_templates as nt
from projections.inbox import Inbox
from scheduler.dispatch import WEBHOOK, Dispatcher
from tests.support.api import (
    API,
    Client,
    Store,
    assert_problem,
    auth,
    build_test_runtime,
    events_recorded,
    ok,
    serving,
    token,
)
from tests.support.live import LiveServer
from tests.support.notify import (
    NEIGHBOUR_VILLAGE,
    STAFF,
    VILLAGE,
    Receiver,
    Story,
    actor,
    webhook_settings,
    with_staff,
)
from tests.support.world import Clock

MEDIATOR = f"mediator-{VILLAGE}"
NEIGHBOUR = f"mediator-{NEIGHBOUR_VILLAGE}"
SUPERVISOR = f"supervisor-{VILLAGE}"


def story_of(runtime: Runtime, clock: Clock) -> Story:
    with_staff(runtime.app, STAFF)
    return Story(runtime.app, clock, runtime.views.deadlines, lambda: caught_up(runtime))


def caught_up(runtime: Runtime) -> None:
    assert runtime.views.wait(events_recorded(runtime), 10.0)


def as_member(user: str, role: str = "mediator", unit: str = VILLAGE) -> dict[str, str]:
    return auth(role, unit, user)


def inbox(http: Client, user: str, role: str = "mediator", **query: Any) -> dict[str, Any]:
    return ok(http.get(f"{API}/notifications", params=query, headers=as_member(user, role)))


def test_each_member_reads_their_own_notices_newest_first_and_marks_them_read(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, runtime = client
    story = story_of(runtime, clock)
    story.tell()
    caught_up(runtime)

    mine = inbox(http, MEDIATOR)
    assigned = [i for i in mine["items"] if i["template"] == nt.ASSIGNED]
    assert len(assigned) == 2  # assigned twice in the story
    assert mine["unread"] == len(mine["items"]) > 2
    times = [item["created_at"] for item in mine["items"]]
    assert times == sorted(times, reverse=True)
    first = assigned[-1]
    number = runtime.app.get_case(story.cases["worked"]).number
    category = runtime.app.get_case(story.cases["worked"]).category
    # the sign-for clock of a village (24 h from registration at 10:00 北京时间)
    assert first["text"] == f"【枫桥】{number} {category} 已指派给您，请于 9月29日 10:00 前签收。"
    assert first["case"] == str(story.cases["worked"])
    assert (first["level"], first["urgent"], first["read"]) == ("yellow", False, False)

    supervisor = inbox(http, SUPERVISOR, "supervisor")
    assert {i["template"] for i in supervisor["items"]} >= {
        nt.SIGN_OVERDUE,
        nt.MOVED,
        nt.SUPERVISION_ORDERED,
        nt.SUPERVISION_REMINDED,
    }
    assert not {i["id"] for i in supervisor["items"]} & {i["id"] for i in mine["items"]}

    # someone else's id is passed over; one of mine is read
    others = supervisor["items"][0]["id"]
    answer = http.post(
        f"{API}/notifications/read",
        json={"ids": [first["id"], others]},
        headers=as_member(MEDIATOR),
    )
    assert ok(answer) == {"unread": mine["unread"] - 1}
    assert inbox(http, SUPERVISOR, "supervisor")["unread"] == supervisor["unread"]
    again = inbox(http, MEDIATOR)
    assert [i["read"] for i in again["items"] if i["id"] == first["id"]] == [True]
    assert ok(http.post(f"{API}/notifications/read", json={"all": True},
                        headers=as_member(MEDIATOR))) == {"unread": 0}  # fmt: skip
    assert inbox(http, MEDIATOR, limit=1)["unread"] == 0
    assert len(inbox(http, MEDIATOR, limit=1)["items"]) == 1

    # read marks are not the view's: a rebuild keeps them
    runtime.views.rebuild(["notifications"])
    assert inbox(http, MEDIATOR)["unread"] == 0
    assert inbox(http, SUPERVISOR, "supervisor")["unread"] == supervisor["unread"]


@pytest.mark.parametrize(
    "body",
    [{"ids": "x"}, {"ids": [""]}, {"ids": ["a"] * 201}, {"all": "yes"}, {"everything": True}],
)
def test_marking_read_takes_a_list_of_ids_or_all(
    client: tuple[Client, Runtime], body: dict[str, Any]
) -> None:
    http, _ = client
    answer = http.post(f"{API}/notifications/read", json=body, headers=as_member(MEDIATOR))
    assert_problem(answer, 422)


def test_a_member_with_no_notices_has_an_empty_bell(client: tuple[Client, Runtime]) -> None:
    http, _ = client
    assert inbox(http, "reporter-511123001001", "reporter") == {"unread": 0, "items": []}
    assert_problem(http.get(f"{API}/notifications"), 401)


def test_admins_read_the_dead_letters(client: tuple[Client, Runtime], clock: Clock) -> None:
    http, runtime = client
    story = story_of(runtime, clock)
    with Receiver() as webhook:
        sending = Dispatcher(
            runtime.views.notifications,
            runtime.views.deadlines,
            {WEBHOOK: WebhookSender(webhook_settings(webhook), 2.0)},
            Addresses(runtime.app, None),
            clock,
            rules=lambda: runtime.app.policy.notices,
        )
        sending.setup(events_recorded(runtime))
        webhook.mode = "reject"
        case = story.register("case", VILLAGE)
        story.run(case, _assign(), actor(Role.SUPERVISOR, VILLAGE))
        caught_up(runtime)
        sending.run_once()

    letters = ok(http.get(f"{API}/notifications/dead-letters", headers=auth("admin", "511100")))
    assert len(letters) == 1
    letter = letters[0]
    assert (letter["channel"], letter["template"], letter["recipient"]) == (
        WEBHOOK,
        nt.ASSIGNED,
        MEDIATOR,
    )
    assert (letter["attempts"], letter["last_error"]) == (1, "webhook answered HTTP 400")
    assert letter["number"].startswith("（2026）犍调字第")
    assert letter["given_up_at"] is not None
    assert_problem(
        http.get(f"{API}/notifications/dead-letters", headers=auth("supervisor", "511123")), 403
    )


def _assign() -> Any:
    from domain.case.commands import AssignCase

    return AssignCase(MEDIATOR)


# --- the bell's stream -------------------------------------------------------------------------


class Bell:
    """Reads a notification stream in a thread: each event as (name, data)."""

    def __init__(self, url: str, user: str, unit: str = VILLAGE) -> None:
        self.url = url
        self.headers = {"Authorization": f"Bearer {token('mediator', unit, user)}"}
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)

    def _read(self) -> None:
        with httpx.stream("GET", self.url, headers=self.headers, timeout=10.0) as answer:
            name = ""
            for line in answer.iter_lines():
                if self.stop.is_set():
                    return
                if line.startswith("event:"):
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("data:"):
                    self.events.append((name, json.loads(line.split(":", 1)[1])))

    def wait_for(self, count: int, within: float = 3.0) -> list[tuple[str, dict[str, Any]]]:
        deadline = time.monotonic() + within
        while len(self.events) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.events) >= count, self.events
        return self.events[:count]

    def __enter__(self) -> Bell:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(5)


def test_a_bell_hears_each_new_notice_for_its_member_at_once(
    store: Store, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream, "KEEPALIVE_SECONDS", 0.3)  # a stopping reader wakes soon
    runtime = build_test_runtime(store, clock)
    with LiveServer(create_app(runtime)) as server:
        hear_the_bell(server, runtime, clock)


def hear_the_bell(server: LiveServer, runtime: Runtime, clock: Clock) -> None:
    story = story_of(runtime, clock)
    with_staff(runtime.app, [(NEIGHBOUR, NEIGHBOUR_VILLAGE, Role.MEDIATOR)])
    url = f"{server.url}{API}/stream/notifications"
    with Bell(url, MEDIATOR) as mine, Bell(url, NEIGHBOUR, NEIGHBOUR_VILLAGE) as other:
        assert mine.wait_for(1) == [("ready", {"unread": 0, "notice": None})]
        other.wait_for(1)
        case = story.register("case", VILLAGE)
        started = time.monotonic()
        story.run(case, _assign(), actor(Role.SUPERVISOR, VILLAGE))
        runtime.views.poke()
        name, data = mine.wait_for(2)[1]
        assert time.monotonic() - started < 2.0
        assert name == "notice"
        assert data["unread"] == 1
        assert data["notice"]["template"] == nt.ASSIGNED
        assert data["notice"]["case"] == str(case)

        # read on another device: this bell hears the new count
        http = httpx.Client(base_url=server.url + API, headers=mine.headers)
        assert http.post("/notifications/read", json={"all": True}).json() == {"unread": 0}
        assert mine.wait_for(3)[2] == ("ready", {"unread": 0, "notice": None})
        assert len(other.events) == 1  # nothing for another member


def test_a_notice_written_while_a_bell_connects_is_counted_in_its_first_event(
    store: Store, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stream must subscribe before it counts: a notice written just before the bell is
    subscribed is not sent to it, so the count it starts with has to hold it. Counting first
    would start the bell at 0 and lose the notice until the page is reloaded."""
    with serving(store, clock) as (_, runtime):
        story = story_of(runtime, clock)
        hub = notifications.hub_for(runtime)
        subscribe = hub.subscribe

        def written_first(user: str) -> stream.Subscriber:
            case = story.register("connecting", VILLAGE)
            story.run(case, _assign(), actor(Role.SUPERVISOR, VILLAGE))
            runtime.views.poke()
            caught_up(runtime)
            return subscribe(user)

        monkeypatch.setattr(hub, "subscribe", written_first)
        assert asyncio.run(_first_event(hub, MEDIATOR)) == {"unread": 1, "notice": None}


async def _first_event(hub: notifications.NoticeHub, user: str) -> dict[str, Any]:
    events = notifications._events(hub, user, None)
    try:
        ready = await anext(events)
    finally:
        await events.aclose()
    assert ready.event == "ready"
    return dict(json.loads(str(ready.data)))


def test_a_bell_connecting_while_the_views_store_is_down_is_told_503(
    store: Store, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stream counts in the generator, after the answer has begun; the handler asks the
    store first, so an outage is a 503 with Retry-After the bell retries, not a broken 200."""
    runtime = build_test_runtime(store, clock)

    def unreachable(*_: Any) -> int:
        raise psycopg.OperationalError("couldn't get a connection after 30.00 sec")

    with LiveServer(create_app(runtime)) as server:
        monkeypatch.setattr(Inbox, "unread", unreachable)
        url = f"{server.url}{API}/stream/notifications"
        with httpx.stream("GET", url, headers=as_member(MEDIATOR), timeout=5.0) as answer:
            assert answer.status_code == 503
            assert answer.headers["retry-after"] == "5"
            problem = json.loads(answer.read())
    assert "--workers" not in problem["detail"]  # the outage, not a process without views
