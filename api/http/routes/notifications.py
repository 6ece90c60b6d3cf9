"""The caller's in-app notices, the bell's stream, and the dispatcher's dead letters.

- ``GET /notifications``: the caller's in-app notices, newest first, with the unread count;
- ``POST /notifications/read``: marks some (``ids``) or ``all`` read; answers the unread count;
- ``GET /stream/notifications``: server-sent events for the dashboard's bell: ``ready`` with
  the unread count, then a ``notice`` per new in-app notice for the caller (written by the
  notifications view, or a deadline warning by the dispatcher);
- ``GET /notifications/dead-letters``: notices given up on (admins).

An in-app notice is delivered by being written (``projections.inbox``); every role has a bell,
and each sees only the notices addressed to them (their user id).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Annotated, Any

import anyio.to_thread
import msgspec
from litestar import Request, get, post
from litestar.exceptions import ServiceUnavailableException
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from api.http.errors import ForbiddenError
from api.http.openapi import EVENT_STREAM, answers, contract, event
from api.http.routes.stream import KEEP_ALIVE, RETRY_MILLISECONDS, Hub, close_hub, hub_on, relayed
from api.http.runtime import Runtime
from api.http.schemas import (
    DeadLetterOut,
    MarkRead,
    NoticeOut,
    NoticesOut,
    NoticeStreamOut,
    UnreadOut,
)
from domain.actors import Actor, Role
from projections.engine import Batch
from projections.inbox import MOST_LISTED, Inbox, InboxItem
from projections.notifications import Notice
from scheduler.delivery import Deliveries

Req = Request[Any, Any, Any]
MOST_DEAD_LETTERS = 500
READY, NOTICE = "ready", "notice"  # the stream's events
NOTICE_EVENTS = Schema(
    one_of=[
        event(READY, NoticeStreamOut, retry=Schema(type=OpenAPIType.INTEGER)),
        event(NOTICE, NoticeStreamOut),
    ],
    description="First `ready` (the unread count), then a `notice` per new in-app notice for "
    "the caller with the unread count after it.",
)


def notice_out(item: InboxItem) -> NoticeOut:
    notice = item.notice
    return NoticeOut(
        id=notice.id,
        template=notice.template,
        text=notice.text,
        case=notice.case_id,
        number=str(notice.params.get("number") or ""),
        level=str(notice.params.get("level") or ""),
        urgent=notice.urgent,
        created_at=notice.created_at,
        read=item.read,
    )


def inbox(runtime: Runtime) -> Inbox:
    return Inbox(runtime.views.notifications)


@get(
    "/notifications",
    responses=answers(
        200, NoticesOut, "The caller's in-app notices, newest first.", (400, 401, 422, 503)
    ),
    operation_class=contract(),
)
async def list_notifications(
    request: Req, runtime: Runtime, limit: Annotated[int, Parameter(ge=1, le=MOST_LISTED)] = 50
) -> NoticesOut:
    """The caller's in-app notices (at most ``limit``), newest first, and how many of all of
    theirs are unread."""
    actor: Actor = request.user

    def work() -> NoticesOut:
        box = inbox(runtime)
        items = box.items(actor.user, limit)
        return NoticesOut(unread=box.unread(actor.user), items=[notice_out(i) for i in items])

    return await anyio.to_thread.run_sync(work)


@post(
    "/notifications/read",
    status_code=200,
    responses=answers(
        200, UnreadOut, "Marked read; how many are left unread.", (400, 401, 413, 415, 422, 503)
    ),
    operation_class=contract(),
)
async def mark_notifications_read(data: MarkRead, request: Req, runtime: Runtime) -> UnreadOut:
    """Marks the caller's notices read: those in ``ids``, or all with ``all``."""
    actor: Actor = request.user
    ids = None if data.all else list(data.ids)

    def work() -> UnreadOut:
        return UnreadOut(unread=inbox(runtime).mark_read(actor.user, ids, runtime.clock()))

    unread = await anyio.to_thread.run_sync(work)
    hub_for(runtime).counted(actor.user, unread.unread)
    return unread


@get(
    "/notifications/dead-letters",
    responses=answers(
        200,
        list[DeadLetterOut],
        "Notices given up on, latest first (admins).",
        (400, 401, 403, 422, 503),
    ),
    operation_class=contract(),
)
async def list_dead_letters(
    request: Req,
    runtime: Runtime,
    limit: Annotated[int, Parameter(ge=1, le=MOST_DEAD_LETTERS)] = 100,
) -> list[DeadLetterOut]:
    actor: Actor = request.user
    if actor.role is not Role.ADMIN:
        raise ForbiddenError("only an admin reads the dead letters")

    def work() -> list[DeadLetterOut]:
        deliveries = Deliveries(runtime.views.notifications)
        found = deliveries.dead_letters(limit)
        return [
            DeadLetterOut(
                id=d.notice.id,
                channel=d.notice.channel,
                template=d.notice.template,
                recipient=d.notice.recipient,
                case=d.notice.case_id,
                number=str(d.notice.params.get("number") or ""),
                attempts=d.attempts,
                last_error=d.last_error,
                created_at=d.notice.created_at,
                given_up_at=d.done_at,
            )
            for d in found
        ]

    return await anyio.to_thread.run_sync(work)


# --- the bell's stream ------------------------------------------------------------------------


class NoticeHub(Hub):
    """Fans new in-app notices out to the open notification streams, by recipient."""

    def __init__(self, view: Inbox) -> None:
        super().__init__()
        self.inbox = view

    @classmethod
    def attach(cls, runtime: Runtime) -> NoticeHub:
        hub = cls(inbox(runtime))
        runtime.views.runners["notifications"].listeners.append(hub.applied)
        if runtime.notifier is not None:
            runtime.notifier.dispatcher.on_warned.append(hub.publish)
        return hub

    def applied(self, position: int, batch: Batch) -> None:
        """A batch of the notifications view committed (in its follower thread)."""
        if batch and self.listened_to():
            self.publish(self.inbox.positioned(batch[0][0], position))

    def publish(self, notices: Sequence[Notice]) -> None:
        listening = self._snapshot()
        users = {s.unit for s in listening}
        wanted = [notice for notice in notices if notice.recipient in users]
        unread = {user: self.inbox.unread(user) for user in {n.recipient for n in wanted}}
        for notice in wanted:
            message = _encoded(InboxItem(notice, False), unread[notice.recipient])
            for subscriber in listening:
                if subscriber.unit == notice.recipient:
                    self._hand(subscriber, [message])

    def counted(self, user: str, unread: int) -> None:
        """The caller read some: their other open bells show the new count."""
        message = READY.encode() + msgspec.json.encode(NoticeStreamOut(unread=unread))
        for subscriber in self._snapshot():
            if subscriber.unit == user:
                self._hand(subscriber, [message])


def _encoded(item: InboxItem, unread: int) -> bytes:
    """A subscriber's queue holds bytes: the event's name, then its data."""
    out = NoticeStreamOut(unread=unread, notice=notice_out(item))
    return NOTICE.encode() + msgspec.json.encode(out)


def hub_for(runtime: Runtime) -> NoticeHub:
    runner = runtime.views.runners["notifications"]
    return hub_on(runner, NoticeHub, lambda: NoticeHub.attach(runtime))


def close_notice_streams(runtime: Runtime) -> None:
    close_hub(runtime.views.runners["notifications"])


async def _events(hub: NoticeHub, user: str, expires: datetime | None) -> AsyncIterator[Any]:
    """``ready`` with the unread count, then a ``notice`` per new notice (or a ``ready`` with
    the new count when another of the caller's bells read some), until the stream ends.

    The stream subscribes before it counts: a notice written in between is then both counted
    and sent (the bell keeps one of each id), where counting first would lose it for good."""
    subscriber = hub.subscribe(user)
    try:
        unread = await anyio.to_thread.run_sync(hub.inbox.unread, user)
        hello = msgspec.json.encode(NoticeStreamOut(unread=unread)).decode()
        yield ServerSentEventMessage(data=hello, event="ready", retry=RETRY_MILLISECONDS)
        async for message in relayed(subscriber, expires):
            if message is None:
                yield KEEP_ALIVE
                continue
            name = NOTICE if message.startswith(NOTICE.encode()) else READY
            yield ServerSentEventMessage(data=message[len(name) :].decode(), event=name)
    finally:
        hub.unsubscribe(subscriber)


@get(
    "/stream/notifications",
    responses=answers(
        200, str, "The caller's notification events (see the schema).", (401, 503), EVENT_STREAM
    ),
    operation_class=contract(content={200: {EVENT_STREAM: NOTICE_EVENTS}}),
)
async def stream_notifications(request: Req, runtime: Runtime) -> ServerSentEvent:
    """Server-sent events for the caller's bell (see module)."""
    actor: Actor = request.user
    if not runtime.follow or not runtime.views.followers:
        raise ServiceUnavailableException(
            "notification streams are served by a process that follows the views "
            "(`fengqiao serve` without --workers)"
        )
    # Asked here too, before the answer starts, so that a store that cannot answer is a 503
    # (with Retry-After) and not a stream that breaks; the count sent is the stream's own.
    await anyio.to_thread.run_sync(inbox(runtime).unread, actor.user)
    expires = getattr(request.auth, "exp", None)
    return ServerSentEvent(
        _events(hub_for(runtime), actor.user, expires if isinstance(expires, datetime) else None)
    )


HANDLERS = [
    list_notifications,
    mark_notifications_read,
    list_dead_letters,
    stream_notifications,
]
