"""Command-line reads and upkeep of the views: queue, stats, rebuild, projections, views status."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api.wiring.settings import Settings
    from projections.viewset import ViewStatus

STOPPED = 1  # ``views status``'s exit status when a view has stopped
UNKNOWN = 2  # ... and when the stores cannot be read


def add_commands(commands: Any) -> None:
    queue = commands.add_parser("queue", help="print a unit's escalation queue")
    queue.add_argument("unit", metavar="UNIT", help="unit code, e.g. 511123")
    queue.add_argument(
        "--at",
        metavar="TIME",
        help="judge deadlines as of this ISO date (00:00 北京时间) or date-time with its offset, "
        "e.g. 2026-12-02T09:00+08:00 (default now); the cases are as they stand now",
    )
    queue.add_argument(
        "--limit", metavar="N", type=_positive, default=50, help="most cases shown (%(default)s)"
    )
    queue.set_defaults(handler=_queue)
    stats = commands.add_parser("stats", help="print statistics for a unit's subtree and period")
    stats.add_argument("unit", metavar="UNIT", help="unit code, e.g. 511123")
    stats.add_argument(
        "--from", dest="start", metavar="DATE", type=date.fromisoformat,
        help="first day, ISO date in 北京时间 (default: 30 days up to --to)",
    )  # fmt: skip
    stats.add_argument(
        "--to", dest="end", metavar="DATE", type=date.fromisoformat,
        help="last day, included (default today)",
    )  # fmt: skip
    stats.set_defaults(handler=_stats)
    rebuild = commands.add_parser("rebuild", help="drop and replay views from the event log")
    rebuild.add_argument("views", nargs="*", help="cases, deadlines, statistics, history (all)")
    rebuild.set_defaults(handler=_rebuild)
    follow = commands.add_parser(
        "projections", help="keep the views up to date (runs until stopped)"
    )
    follow.set_defaults(handler=_projections)
    views = commands.add_parser("views", help="where the views stand")
    views_commands = views.add_subparsers(title="commands", metavar="COMMAND", required=True)
    status = views_commands.add_parser(
        "status",
        help="print each view's position, lag and whether it stopped "
        f"(exit {STOPPED} if one has, {UNKNOWN} if the stores cannot be read)",
    )
    status.set_defaults(handler=_status)


def _open(settings: Settings) -> tuple[Any, Any]:
    from api.wiring.bootstrap import build_application
    from api.wiring.views import build_views

    app = build_application(settings)
    return app, build_views(settings, app)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _queue(args: argparse.Namespace, settings: Settings) -> int:
    from rich.console import Console

    from api.cli.checks import BadArgumentError, moment, refuse, require_unit
    from api.cli.queue_table import queue_table
    from projections.queue import get_queue

    try:
        at = moment(args.at, "at", datetime.now(UTC))
    except BadArgumentError as error:
        return refuse(error)
    app, views = _open(settings)
    try:
        units = app.units()
        require_unit(units, args.unit)
        views.catch_up()
        items = get_queue(views.cases, args.unit, at, limit=args.limit)
    except BadArgumentError as error:
        return refuse(error)
    finally:
        views.close()
        app.close()
    Console().print(queue_table(units, args.unit, at, items))
    return 0


def _stats(args: argparse.Namespace, settings: Settings) -> int:
    from rich.console import Console

    from api.cli.checks import BadArgumentError, day_period, refuse, require_unit
    from api.cli.stats_table import statistics_tables
    from projections.stats_queries import get_children, get_statistics

    now = datetime.now(UTC)
    try:
        start, end = day_period(args.start, args.end, now)
    except BadArgumentError as error:
        return refuse(error)
    app, views = _open(settings)
    try:
        units = app.units()
        require_unit(units, args.unit)
        views.catch_up()
        totals = get_statistics(views.statistics, args.unit, start, end, now)
        children = get_children(views.statistics, args.unit, start, end, now)
    except BadArgumentError as error:
        return refuse(error)
    finally:
        views.close()
        app.close()
    console = Console()
    for part in statistics_tables(units, args.unit, start, end, totals, children):
        console.print(part)
    return 0


def _rebuild(args: argparse.Namespace, settings: Settings) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from projections.viewset import VIEW_CLASSES

    unknown = [name for name in args.views if name not in VIEW_CLASSES]
    if unknown:
        print(f"fengqiao: unknown view(s) {', '.join(unknown)}", file=sys.stderr)
        return 2
    app, views = _open(settings)
    names = args.views or list(VIEW_CLASSES)
    head = app.recorder.max_notification_id() or 0
    console = Console()
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      console=console) as progress:  # fmt: skip
            tasks = {n: progress.add_task(f"rebuild {n}", total=head) for n in names}
            started = time.perf_counter()
            applied = views.rebuild(names, lambda n, count: progress.advance(tasks[n], count))
            seconds = time.perf_counter() - started
    finally:
        views.close()
        app.close()
    for name, count in applied.items():
        console.print(f"{name}: {count:,} events")
    rate = head / seconds if seconds else 0.0
    console.print(
        f"{len(names)} view(s) rebuilt from {head:,} records in {seconds:.2f} s = {rate:,.0f} "
        "records/s (the log read and decoded once for all of them)"
    )
    return 0


def _projections(args: argparse.Namespace, settings: Settings) -> int:
    from api.http.runtime import FOLLOWED_FIRST
    from projections.viewset import poll_interval_for_others

    app, views = _open(settings)
    stop = {"now": False}

    def request_stop(*_: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    # the API workers beside this process wait for these to answer a command
    subscribe = settings.backend == "postgres"
    views.follow(subscribe, FOLLOWED_FIRST, poll_interval_for_others(subscribe))
    print(f"following the log on {settings.backend}; Ctrl-C to stop", flush=True)
    try:
        while not stop["now"]:
            time.sleep(0.5)
    finally:
        views.close()
        app.close()
    return 0


def _status(args: argparse.Namespace, settings: Settings) -> int:
    """Reads where the views stand and changes nothing: no catching up (that would hide a
    stopped follower) and no policy adopted, so a monitoring script may run it at will."""
    from eventsourcing.persistence import PersistenceError

    from api.wiring.views import build_views
    from domain.application import FengqiaoApplication
    from projections.db import TRANSIENT_ERRORS

    unreadable: tuple[type[Exception], ...] = (PersistenceError, *TRANSIENT_ERRORS)
    try:
        app = FengqiaoApplication(env=settings.event_store_env())
        try:
            views = build_views(settings, app)
            try:
                statuses = views.status()
            finally:
                views.close()
        finally:
            app.close()
    except unreadable as error:
        print(f"fengqiao: cannot read the {settings.backend} store: {error}", file=sys.stderr)
        return UNKNOWN
    _print_status(statuses)
    return STOPPED if any(status.failure is not None for status in statuses) else 0


def _print_status(statuses: list[ViewStatus]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="views")
    for column in ("view", "position", "log head", "lag", "state"):
        table.add_column(column, justify="left" if column in ("view", "state") else "right")
    for status in statuses:
        state = "[bold red]stopped[/]" if status.failure is not None else "ok"
        table.add_row(status.name, f"{status.position:,}", f"{status.head:,}",
                      f"{status.lag:,}", state)  # fmt: skip
    console.print(table)
    stopped = [status for status in statuses if status.failure is not None]
    for status in stopped:
        # plain and unwrapped: the error is the stored text, and scripts grep it
        console.print(f"{status.name} stopped at {status.failure}", markup=False,
                      highlight=False, soft_wrap=True)  # fmt: skip
    if stopped:
        names = " ".join(status.name for status in stopped)
        console.print(
            "fix the cause, then restart the process that follows the views (after "
            f"`fengqiao rebuild {names}` if the fix changes what the views hold)",
            markup=False, highlight=False, soft_wrap=True,
        )  # fmt: skip
