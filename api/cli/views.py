"""Command-line reads and upkeep of the views: queue, stats, rebuild, projections, views status."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api.wiring.settings import Settings
    from projections.viewset import ViewStatus

STOPPED = 1  # ``views status``'s exit status when a view has stopped
UNKNOWN = 2  # ... and when the stores cannot be read


def add_commands(commands: Any) -> None:
    queue = commands.add_parser("queue", help="print a unit's escalation queue")
    queue.add_argument("unit", help="unit code, e.g. 511123")
    queue.add_argument("--limit", type=int, default=50)
    queue.set_defaults(handler=_queue)
    stats = commands.add_parser("stats", help="print statistics for a unit's subtree and period")
    stats.add_argument("unit")
    stats.add_argument("--from", dest="start", type=date.fromisoformat, help="first day (Shanghai)")
    stats.add_argument("--to", dest="end", type=date.fromisoformat, help="last day, inclusive")
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


def _queue(args: argparse.Namespace, settings: Settings) -> int:
    from rich.console import Console
    from rich.table import Table

    from projections.queue import get_queue

    app, views = _open(settings)
    try:
        views.catch_up()
        now = datetime.now(UTC)
        items = get_queue(views.cases, args.unit, now, limit=args.limit)
    finally:
        views.close()
        app.close()
    table = Table(title=f"escalation queue {args.unit} ({len(items)} shown)")
    for column in ("level", "owner", "status", "due", "in", "summary"):
        table.add_column(column)
    colours = {"red": "red", "orange": "dark_orange", "yellow": "yellow"}
    for item in items:
        due = _local(item.due_at) if item.due_at else "-"
        left = _duration(item.seconds_to_breach) if item.seconds_to_breach is not None else "-"
        style = "bold red" if item.overdue else None
        table.add_row(f"[{colours[item.level]}]{item.level}[/]", item.owner, item.status,
                      due, left, item.summary[:40], style=style)  # fmt: skip
    Console().print(table)
    return 0


def _stats(args: argparse.Namespace, settings: Settings) -> int:
    from rich.console import Console

    from api.cli.stats_table import statistics_tables
    from projections.stats_queries import get_children, get_statistics

    start, end = _period(args.start, args.end)
    app, views = _open(settings)
    try:
        views.catch_up()
        now = datetime.now(UTC)
        totals = get_statistics(views.statistics, args.unit, start, end, now)
        children = get_children(views.statistics, args.unit, start, end, now)
    finally:
        views.close()
        app.close()
    for table in statistics_tables(args.unit, start, end, totals, children):
        Console().print(table)
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
            timings = {}
            for name in names:
                started = time.perf_counter()
                applied = views.rebuild([name], lambda _n, c, n=name: progress.advance(tasks[n], c))
                timings[name] = (applied[name], time.perf_counter() - started)
    finally:
        views.close()
        app.close()
    for name, (count, seconds) in timings.items():
        rate = count / seconds if seconds else 0.0
        console.print(f"{name}: {count:,} events in {seconds:.2f} s = {rate:,.0f} events/s")
    return 0


def _projections(args: argparse.Namespace, settings: Settings) -> int:
    app, views = _open(settings)
    stop = {"now": False}

    def request_stop(*_: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    views.follow(subscribe=settings.backend == "postgres")
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


def _period(start: date | None, end: date | None) -> tuple[datetime, datetime]:
    """Whole days in Shanghai: [first day 00:00, day after the last 00:00). Default: the last
    30 days up to today."""
    from domain.calendar import SHANGHAI, start_of_day

    last = end or datetime.now(SHANGHAI).date()
    first = start or last - timedelta(days=29)
    return start_of_day(first).astimezone(UTC), start_of_day(last + timedelta(days=1)).astimezone(
        UTC
    )


def _local(moment: datetime) -> str:
    from domain.calendar import SHANGHAI

    return moment.astimezone(SHANGHAI).strftime("%m-%d %H:%M")


def _duration(seconds: int) -> str:
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds >= 86400:
        return f"{sign}{seconds // 86400}d{seconds % 86400 // 3600}h"
    return f"{sign}{seconds // 3600}h{seconds % 3600 // 60:02d}m"
