"""``GET /api/v1/stream/queues/{unit}``: server-sent events of changes to a unit's queue.

A unit's queue is the open cases owned in its subtree (``GET /queues/{unit}``). Each committed
batch of the cases view that touches a case owned in the subtree before or after the batch
sends one event per such case: the case id, what happened (the event types, last one as
``change``) and the case's queue item as it now stands, or ``null`` when it left the queue
(escalated out of the subtree, resolved, closed...). Permissions are those of the queue.

How it works: a ``QueueHub`` per cases runner. Inside the batch's transaction, before the view
applies it, the hub reads the touched cases' owners as they were; after the commit (in the
follower thread) it reads them as they are, with their units' ancestors from the view's
closure table, and hands each subscriber's events to its event loop with
``call_soon_threadsafe``. Subscribers are asyncio queues, one per open stream, removed when the
client goes away. Nothing is read when nobody listens.

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
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Request, get
from litestar.exceptions import ServiceUnavailableException
from litestar.response import ServerSentEvent, ServerSentEventMessage

from api.permissions import require_unit
from api.presenters import queue_item_out
from api.routes.reads import require_known
from api.runtime import Runtime
from domain.actors import Actor
from projections.cases import COLUMNS, CasesView
from projections.db import Cursor
from projections.engine import Batch, ViewRunner
from projections.events import is_case_event, name_of
from projections.queue import _item

log = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15.0  # a comment this often keeps proxies from closing an idle stream
RETRY_MILLISECONDS = 2000  # how soon a browser's EventSource reconnects
SUBSCRIBER_BACKLOG = 2000  # events a slow client may fall behind before its stream is closed
EVENT = "queue"
_CHUNK = 500

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


@dataclass(frozen=True)
class _Before:
    owner: str
    open: bool


@dataclass
class _Change:
    """What one batch did to one case, as every subscriber might need it."""

    case: str
    changes: list[str]
    position: int
    before: _Before | None
    after_owner: str | None
    after_open: bool
    item: Any  # QueueItemOut, or None when the case is not in any queue
    _encoded: dict[bool, bytes] | None = None

    def concerns(self, unit: str, ancestors: dict[str, set[str]]) -> bool:
        was = (
            self.before is not None
            and self.before.open
            and unit in ancestors.get(self.before.owner, ())
        )
        return was or self.holds(unit, ancestors)

    def holds(self, unit: str, ancestors: dict[str, set[str]]) -> bool:
        """The case is in ``unit``'s queue after the batch."""
        return (
            self.after_open
            and self.after_owner is not None
            and unit in ancestors.get(self.after_owner, ())
        )

    def message(self, in_queue: bool) -> bytes:
        if self._encoded is None:
            self._encoded = {}
        if in_queue not in self._encoded:
            self._encoded[in_queue] = msgspec.json.encode(
                {
                    "case": self.case,
                    "change": self.changes[-1],
                    "changes": self.changes,
                    "position": self.position,
                    "item": self.item if in_queue else None,
                }
            )
        return self._encoded[in_queue]


class QueueHub:
    """Fans the cases view's committed batches out to the open queue streams."""

    def __init__(self, view: CasesView, clock: Callable[[], datetime]) -> None:
        self.view = view
        self.clock = clock
        self._lock = threading.Lock()
        self._subscribers: list[Subscriber] = []
        self._pending = threading.local()  # the rows as they were, between the two hooks

    @classmethod
    def attach(cls, runner: ViewRunner, clock: Callable[[], datetime]) -> QueueHub:
        if not isinstance(runner.view, CasesView):
            raise TypeError(f"queue streams follow the cases view, not {runner.name}")
        hub = cls(runner.view, clock)
        runner.preparers.append(hub.prepare)
        runner.listeners.append(hub.listen)
        return hub

    # --- subscribers (on the event loop) -------------------------------------------------

    def subscribe(self, unit: str) -> Subscriber:
        subscriber = Subscriber(unit, asyncio.get_running_loop())
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

    def _snapshot(self) -> list[Subscriber]:
        with self._lock:
            return list(self._subscribers)

    # --- the runner's hooks (in the follower thread) --------------------------------------

    def prepare(self, cursor: Cursor, batch: Batch) -> None:
        """Before the view applies ``batch``: the touched cases' owners as they were."""
        self._pending.before = None
        if not self._snapshot():
            return
        ids = _touched(batch)
        before: dict[str, _Before] = {}
        for chunk in _chunks(ids):
            cursor.execute(
                f"SELECT id, owner, is_open FROM {self.view.t('cases')} "
                f"WHERE id IN ({_marks(chunk)})",
                chunk,
            )
            for case, owner, is_open in cursor.fetchall():
                before[case] = _Before(owner, bool(is_open))
        self._pending.before = before

    def listen(self, position: int, batch: Batch) -> None:
        """After ``batch`` committed: each subscriber's events, handed to its loop."""
        before: dict[str, _Before] | None = getattr(self._pending, "before", None)
        self._pending.before = None
        subscribers = self._snapshot()
        if not subscribers:
            return
        try:
            changes, ancestors = self._changes(position, batch, before)
            if changes:
                self._fan_out(subscribers, changes, ancestors)
        except Exception:  # a stream's trouble must never stop the view
            log.exception("queue streams: could not publish the batch ending at %s", position)

    def close(self) -> None:
        """Ends every open stream (the server is stopping)."""
        for subscriber in self._snapshot():
            self._hand(subscriber, [None])

    # --- what changed ------------------------------------------------------------------

    def _changes(
        self, position: int, batch: Batch, before: dict[str, _Before] | None
    ) -> tuple[list[_Change], dict[str, set[str]]]:
        names: dict[str, list[str]] = {}
        moved_from: dict[str, str] = {}
        for _, event in batch:
            if is_case_event(event):
                case = str(event.originator_id)
                names.setdefault(case, []).append(name_of(event))
                if hasattr(event, "from_unit"):
                    moved_from.setdefault(case, event.from_unit)
        if not names:
            return [], {}
        rows = self._rows(list(names))
        now = self.clock()
        changes = []
        for case, events in names.items():
            row = rows.get(case)
            if before is not None:
                was = before.get(case)
            else:  # a subscriber came between the two hooks: judge by the events
                owner = moved_from.get(case, row["owner"] if row else None)
                was = _Before(owner, True) if owner and events[0] != "Registered" else None
            is_open = bool(row and row["is_open"])
            changes.append(
                _Change(
                    case=case,
                    changes=events,
                    position=position,
                    before=was,
                    after_owner=row["owner"] if row else None,
                    after_open=is_open,
                    item=queue_item_out(_item(row, now)) if row and is_open else None,
                )
            )
        owners = {c.after_owner for c in changes if c.after_owner} | {
            c.before.owner for c in changes if c.before is not None
        }
        return changes, self._ancestors(sorted(owners))

    def _rows(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        names = ", ".join(COLUMNS)
        rows: dict[str, dict[str, Any]] = {}
        with self.view.db.transaction(write=False) as cursor:
            for chunk in _chunks(ids):
                cursor.execute(
                    f"SELECT {names} FROM {self.view.t('cases')} WHERE id IN ({_marks(chunk)})",
                    chunk,
                )
                for values in cursor.fetchall():
                    row = dict(zip(COLUMNS, values, strict=True))
                    rows[row["id"]] = row
        return rows

    def _ancestors(self, owners: list[str]) -> dict[str, set[str]]:
        """Each owner with itself and every unit above it (the view's closure table)."""
        found: dict[str, set[str]] = {owner: {owner} for owner in owners}
        with self.view.db.transaction(write=False) as cursor:
            for chunk in _chunks(owners):
                cursor.execute(
                    f"SELECT descendant, ancestor FROM {self.view.t('units')} "
                    f"WHERE descendant IN ({_marks(chunk)})",
                    chunk,
                )
                for descendant, ancestor in cursor.fetchall():
                    found[descendant].add(ancestor)
        return found

    def _fan_out(
        self,
        subscribers: list[Subscriber],
        changes: list[_Change],
        ancestors: dict[str, set[str]],
    ) -> None:
        for subscriber in subscribers:
            unit = subscriber.unit
            messages: list[bytes | None] = [
                change.message(change.holds(unit, ancestors))
                for change in changes
                if change.concerns(unit, ancestors)
            ]
            if messages:
                self._hand(subscriber, messages)

    def _hand(self, subscriber: Subscriber, messages: list[bytes | None]) -> None:
        try:
            subscriber.loop.call_soon_threadsafe(subscriber.deliver, messages)
        except RuntimeError:  # its event loop is gone: so is the stream
            self.unsubscribe(subscriber)


def _touched(batch: Batch) -> list[str]:
    return list(dict.fromkeys(str(e.originator_id) for _, e in batch if is_case_event(e)))


def _chunks(items: list[str]) -> list[list[str]]:
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]


def _marks(chunk: list[str]) -> str:
    return ", ".join("?" for _ in chunk)


_HUBS: weakref.WeakKeyDictionary[ViewRunner, QueueHub] = weakref.WeakKeyDictionary()
_HUBS_LOCK = threading.Lock()


def hub_for(runtime: Runtime) -> QueueHub:
    """The hub on this runtime's cases runner, attached on first use."""
    runner = runtime.views.runners["cases"]
    with _HUBS_LOCK:
        hub = _HUBS.get(runner)
        if hub is None:
            hub = _HUBS[runner] = QueueHub.attach(runner, runtime.clock)
        return hub


def close_streams(runtime: Runtime) -> None:
    """Ends this runtime's open queue streams (the server is stopping: uvicorn waits for open
    responses, and a stream never finishes by itself)."""
    with _HUBS_LOCK:
        hub = _HUBS.get(runtime.views.runners["cases"])
    if hub is not None:
        hub.close()


async def _events(
    hub: QueueHub, unit: str, position: int, expires: datetime | None
) -> AsyncIterator[Any]:
    """``ready``, then the queue's events and keep-alives, until the client goes, the server
    stops or the caller's token expires (the client reconnects with a fresh one)."""
    subscriber = hub.subscribe(unit)
    try:
        hello = msgspec.json.encode({"unit": unit, "position": position})
        yield ServerSentEventMessage(data=hello.decode(), event="ready", retry=RETRY_MILLISECONDS)
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
                yield ServerSentEventMessage(data=None, comment="keep-alive")
                continue
            if message is None:
                return
            yield ServerSentEventMessage(data=message.decode(), event=EVENT)
    finally:
        hub.unsubscribe(subscriber)


@get("/stream/queues/{unit:str}")
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
