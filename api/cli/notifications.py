"""``fengqiao notifications``: the dispatcher's dead letters, retrying one, and the dispatcher
alone (``dispatch``; ``serve`` and ``scheduler`` run it too)."""

from __future__ import annotations

import argparse
import signal
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api.wiring.settings import Settings

NOT_FOUND = 1  # ``retry``'s exit status when there is no such dead letter


def add_commands(commands: Any) -> None:
    notifications = commands.add_parser(
        "notifications", help="the notifications' dead letters, retries and dispatcher"
    )
    sub = notifications.add_subparsers(title="commands", metavar="COMMAND", required=True)
    dead = sub.add_parser("dead-letters", help="list notices given up on, latest first")
    dead.add_argument("--limit", type=int, default=50, help="most listed (%(default)s)")
    dead.set_defaults(handler=_dead_letters)
    retry = sub.add_parser(
        "retry", help=f"put a dead letter back in its place in the queue (exit {NOT_FOUND}: none)"
    )
    retry.add_argument("id", metavar="ID", help="the notice id, as dead-letters lists it")
    retry.set_defaults(handler=_retry)
    dispatch = sub.add_parser(
        "dispatch", help="run the dispatcher alone (one per database; runs until stopped)"
    )
    dispatch.set_defaults(handler=_dispatch)


def _open(settings: Settings) -> tuple[Any, Any]:
    from api.wiring.bootstrap import build_application
    from api.wiring.views import build_views

    app = build_application(settings)
    return app, build_views(settings, app)


def _dead_letters(args: argparse.Namespace, settings: Settings) -> int:
    """Plain lines, one a dead letter (its id first, to copy into ``retry``), then its error."""
    from api.cli.display import labelled
    from scheduler.delivery import Deliveries

    app, views = _open(settings)
    try:
        deliveries = Deliveries(views.notifications)
        letters = deliveries.dead_letters(max(1, args.limit))
        counts = deliveries.counts()
    finally:
        views.close()
        app.close()
    summary = ", ".join(f"{state} {count}" for state, count in sorted(counts.items())) or "none"
    print(f"dead letters: {len(letters)} shown (all notices: {summary})")
    for letter in letters:
        notice = letter.notice
        case = notice.params.get("number") or notice.case_id
        given_up = labelled(letter.done_at) if letter.done_at else ""
        print(
            f"{notice.id}  {notice.channel}  {notice.template}  to {notice.recipient}  "
            f"case {case}  tried {letter.attempts}×  given up {given_up}"
        )
        print(f"    {letter.last_error}")
    return 0


def _retry(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime

    from scheduler.delivery import Deliveries

    app, views = _open(settings)
    try:
        retried = Deliveries(views.notifications).retry(args.id, datetime.now(UTC))
    finally:
        views.close()
        app.close()
    if not retried:
        print(f"no dead letter {args.id}")
        return NOT_FOUND
    print(f"notice {args.id} is back in its queue; the dispatcher sends it next")
    return 0


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime

    from api.notify.wiring import build_notifier

    app, views = _open(settings)
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    notifier = build_notifier(settings, app, views, lambda: datetime.now(UTC))
    views.follow(subscribe=settings.backend == "postgres")
    notifier.start()
    channels = ", ".join(settings.notify.channels) or "none configured"
    print(f"dispatching notifications ({channels}) on {settings.backend}", flush=True)
    try:
        while not stopped.wait(0.5):
            pass
    finally:
        notifier.stop()
        views.close()
        app.close()
    return 0
