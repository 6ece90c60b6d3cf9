"""``GET /api/v1/stream/queues/{unit}``: server-sent events of changes to a unit's queue.

A unit's queue is the open cases owned in its subtree (``GET /queues/{unit}``). Each committed
batch of the cases view that touches a case owned in the subtree before or after the batch
sends one event per such case: the case id, what happened (the event types, last one as
``change``) and the case's queue item as it now stands, or ``null`` when it left the queue
(escalated out of the subtree, resolved, closed...). Permissions are those of the queue.

How it works: a ``QueueHub`` per cases runner. What a batch changed, and for which units, is
read from the view by ``projections.queue_changes.QueueFeed`` (in the follower thread, only
while somebody listens); the hub encodes it and hands each subscriber's events to its event
loop with ``call_soon_threadsafe``. Subscribers are asyncio queues, one per open stream,
removed when the client goes away.

Events go only where the views are followed in this process; an API worker that leaves them to
a separate ``fengqiao projections`` process answers 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec
from litestar import Request, get
from litestar.exceptions import ServiceUnavailableException
from litestar.response import ServerSentEvent, ServerSentEventMessage

from api.http.openapi import EVENT_STREAM, QUEUE_EVENTS, answers, contract
from api.http.permissions import require_unit
from api.http.presenters import queue_item_out
from api.http.routes.reads import require_known
from api.http.runtime import Runtime
from api.http.schemas import QueueChangeOut, StreamReadyOut
from domain.actors import Actor
from projections.engine import ViewRunner
from projections.queue_changes import BatchChanges, QueueChange, QueueFeed

log = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15.0  # a comment this often keeps proxies from closing an idle stream
RETRY_MILLISECONDS = 2000  # how soon a browser's EventSource reconnects
SUBSCRIBER_BACKLOG = 2000  # events a slow client may fall behind before its stream is closed
EVENT = "queue"

Req = Request[Any, Any, Any]


class Subscriber:
    """One open stream: a unit, the event loop serving it and the events waiting for it."""

    def __init__(self, unit: str, loop: asyncio.AbstractEventLoop) -> None:
        self.unit = unit
        self.loop = loop
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(SUBSCRIBER_BACKLOG)
        self.closed = False

    def deliver(self, messages: Sequence[bytes | None]) -> None:
        """Runs on the subscriber's loop. ``None`` ends the stream; so does falling behind
        (the client reconnects and reads the queue afresh)."""
        for message in messages:
            if self.closed:
                return
            if message is None:
                self._end()
                return
            try:
                self.queue.put_nowait(message)
            except asyncio.QueueFull:
                log.warning("queue stream for %s fell behind; closing it", self.unit)
                self._end()
                return

    def _end(self) -> None:
        self.closed = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)


class Hub:
    """The open streams of one kind, each a ``Subscriber`` keyed by what it follows (a unit's
    queue, a member's notices); events are handed to each subscriber's own event loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[Subscriber] = []

    # --- subscribers (on the event loop) -------------------------------------------------

    def subscribe(self, key: str) -> Subscriber:
        subscriber = Subscriber(key, asyncio.get_running_loop())
        with self._lock:
            self._subscribers.append(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self._subscribers.remove(subscriber)

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def listened_to(self) -> bool:
        return bool(self._snapshot())

    def _snapshot(self) -> list[Subscriber]:
        with self._lock:
            return list(self._subscribers)

    def close(self) -> None:
        """Ends every open stream (the server is stopping)."""
        for subscriber in self._snapshot():
            self._hand(subscriber, [None])

    def _hand(self, subscriber: Subscriber, messages: list[bytes | None]) -> None:
        try:
            subscriber.loop.call_soon_threadsafe(subscriber.deliver, messages)
        except RuntimeError:  # its event loop is gone: so is the stream
            self.unsubscribe(subscriber)


class QueueHub(Hub):
    """Fans the cases view's committed batches out to the open queue streams."""

    @classmethod
    def attach(cls, runner: ViewRunner, clock: Callable[[], datetime]) -> QueueHub:
        hub = cls()
        QueueFeed.attach(runner, clock, wanted=hub.listened_to, publish=hub.publish)
        return hub

    # --- a batch's changes (in the follower thread) ----------------------------------------

    def publish(self, batch: BatchChanges) -> None:
        """Each subscriber's events, encoded once per case and placement, to its loop."""
        encoded: dict[tuple[str, bool], bytes] = {}
        for subscriber in self._snapshot():
            messages: list[bytes | None] = [
                _message(change, in_queue, encoded)
                for change, in_queue in batch.seen_from(subscriber.unit)
            ]
            if messages:
                self._hand(subscriber, messages)


def _message(change: QueueChange, in_queue: bool, encoded: dict[tuple[str, bool], bytes]) -> bytes:
    """One case's event, with its queue item when the case is in the stream's queue."""
    key = (change.case, in_queue)
    if key not in encoded:
        item = change.item if in_queue else None
        encoded[key] = msgspec.json.encode(
            QueueChangeOut(
                case=change.case,
                change=change.changes[-1],
                changes=list(change.changes),
                position=change.position,
                item=queue_item_out(item) if item is not None else None,
            )
        )
    return encoded[key]


_HUBS: weakref.WeakKeyDictionary[ViewRunner, Hub] = weakref.WeakKeyDictionary()
_HUBS_LOCK = threading.Lock()
H = TypeVar("H", bound=Hub)


def hub_on(runner: ViewRunner, kind: type[H], attach: Callable[[], H]) -> H:
    """The hub of ``kind`` on a view's runner, attached on first use."""
    with _HUBS_LOCK:
        hub = _HUBS.get(runner)
        if not isinstance(hub, kind):
            hub = attach()
            _HUBS[runner] = hub
        return hub


def close_hub(runner: ViewRunner) -> None:
    """Ends the open streams of the hub on ``runner``, if any (the server is stopping: uvicorn
    waits for open responses, and a stream never finishes by itself)."""
    with _HUBS_LOCK:
        hub = _HUBS.get(runner)
    if hub is not None:
        hub.close()


def hub_for(runtime: Runtime) -> QueueHub:
    """The hub on this runtime's cases runner, attached on first use."""
    runner = runtime.views.runners["cases"]
    return hub_on(runner, QueueHub, lambda: QueueHub.attach(runner, runtime.clock))


def close_streams(runtime: Runtime) -> None:
    """Ends this runtime's open queue streams."""
    close_hub(runtime.views.runners["cases"])


async def _events(
    hub: QueueHub, unit: str, position: int, expires: datetime | None
) -> AsyncIterator[Any]:
    """``ready``, then the queue's events and keep-alives, until the client goes, the server
    stops or the caller's token expires (the client reconnects with a fresh one)."""
    subscriber = hub.subscribe(unit)
    try:
        hello = msgspec.json.encode(StreamReadyOut(unit=unit, position=position))
        yield ServerSentEventMessage(data=hello.decode(), event="ready", retry=RETRY_MILLISECONDS)
        async for message in relayed(subscriber, expires):
            if message is None:
                yield KEEP_ALIVE
            else:
                yield ServerSentEventMessage(data=message.decode(), event=EVENT)
    finally:
        hub.unsubscribe(subscriber)


KEEP_ALIVE = ServerSentEventMessage(data=None, comment="keep-alive")


async def relayed(subscriber: Subscriber, expires: datetime | None) -> AsyncIterator[bytes | None]:
    """A subscriber's messages as they come, and None whenever a keep-alive is due, until the
    stream ends: the server stops, the client fell behind, or the caller's token expires."""
    while True:
        wait = KEEPALIVE_SECONDS
        if expires is not None:
            left = (expires - datetime.now(UTC)).total_seconds()
            if left <= 0:
                return
            wait = min(wait, left)
        try:
            message = await asyncio.wait_for(subscriber.queue.get(), wait)
        except TimeoutError:
            yield None
            continue
        if message is None:
            return
        yield message


@get(
    "/stream/queues/{unit:str}",
    responses=answers(
        200, str, "The queue's events (see the schema).", (401, 403, 404, 503), EVENT_STREAM
    ),
    operation_class=contract(content={200: {EVENT_STREAM: QUEUE_EVENTS}}),
)
async def stream_unit_queue(unit: str, request: Req, runtime: Runtime) -> ServerSentEvent:
    """Server-sent events, one per change to the queue of ``unit``'s subtree (see module)."""
    actor: Actor = request.user
    require_known(runtime, unit)
    require_unit(actor, runtime.app.units(), unit)
    if not runtime.follow or not runtime.views.followers:
        raise ServiceUnavailableException(
            "queue streams are served by a process that follows the views "
            "(`fengqiao serve` without --workers)"
        )
    hub = hub_for(runtime)
    position = runtime.views.runners["cases"].position
    expires = getattr(request.auth, "exp", None)
    return ServerSentEvent(
        _events(hub, unit, position, expires if isinstance(expires, datetime) else None)
    )


HANDLERS = [stream_unit_queue]
