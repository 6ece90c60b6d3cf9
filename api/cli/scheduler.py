"""``fengqiao sweep --once``, ``fengqiao scheduler`` and ``fengqiao mode``."""

from __future__ import annotations

import argparse
import signal
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api.wiring.settings import Settings


def add_commands(commands: Any) -> None:
    sweep = commands.add_parser("sweep", help="act on due deadlines once and print what was done")
    sweep.add_argument("--once", action="store_true", required=True, help="one sweep, then exit")
    sweep.set_defaults(handler=_sweep_once)
    scheduler = commands.add_parser("scheduler", help="run the deadline scheduler alone")
    scheduler.set_defaults(handler=_scheduler)
    mode = commands.add_parser("mode", help="switch the operating mode (audited)")
    mode.add_argument("mode", choices=("normal", "holiday", "emergency", "inherit"))
    mode.add_argument("--unit", help="a county's code (default: the city)")
    mode.add_argument("--reason", required=True)
    mode.add_argument("--user", default="fengqiao-operator")
    mode.set_defaults(handler=_mode)


def _build(settings: Settings) -> Any:
    from datetime import UTC, datetime

    from api.http.runtime import build_sweeps
    from api.wiring.bootstrap import build_application
    from api.wiring.views import build_views

    app = build_application(settings)
    views = build_views(settings, app)
    return app, views, build_sweeps(settings, app, views, lambda: datetime.now(UTC))


def _sweep_once(args: argparse.Namespace, settings: Settings) -> int:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from api.cli.display import beijing, headed, labelled

    app, views, sweeps = _build(settings)
    try:
        views.catch_up()
        report = sweeps.run_once()
    finally:
        sweeps.stop()
        views.close()
        app.close()
    console = Console()
    if report is None:
        console.print("another scheduler holds the sweep lock: nothing done")
        return 0
    table = Table(title=f"sweep at {labelled(report.now)}: {report.due} due")
    for column in ("case", "clock", headed("due at"), "result"):
        table.add_column(column)
    for deadline, events in report.acted:
        table.add_row(str(deadline.case_id), deadline.kind, beijing(deadline.due_at), events)
    for deadline, reason in report.refused:
        table.add_row(
            str(deadline.case_id),
            deadline.kind,
            beijing(deadline.due_at),
            Text(f"refused: {reason}"),
        )
    console.print(table)
    console.print(
        f"acted on {len(report.acted)}, unchanged {report.unchanged}, refused {len(report.refused)}"
    )
    return 0


def _scheduler(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime

    from api.http.runtime import FOLLOWED_FIRST
    from api.notify.wiring import build_notifier
    from projections.viewset import poll_interval_for_others

    app, views, sweeps = _build(settings)
    notifier = build_notifier(settings, app, views, lambda: datetime.now(UTC))
    stop = {"now": False}

    def request_stop(*_: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    # the API workers beside this process wait for the views read right after a command
    subscribe = settings.backend == "postgres"
    views.follow(subscribe, FOLLOWED_FIRST, poll_interval_for_others(subscribe))
    sweeps.start()
    notifier.start()  # the notifications' dispatcher beside the sweeps (serve --workers)
    if sweeps.heartbeat is not None:
        sweeps.heartbeat.mark_up()  # after a restart: running again
    print(f"sweeping every {settings.sweep_seconds:g} s on {settings.backend}", flush=True)
    try:
        while not stop["now"] and sweeps.failure is None:
            time.sleep(0.5)
    finally:
        notifier.stop()
        sweeps.stop()
        views.close()
        app.close()
    return 1 if sweeps.failure is not None else 0


def _mode(args: argparse.Namespace, settings: Settings) -> int:
    from api.wiring.bootstrap import build_application
    from domain.actors import Actor, Role
    from domain.policy import Mode

    app = build_application(settings)
    try:
        mode = None if args.mode == "inherit" else Mode(args.mode)
        app.switch_mode(Actor(args.user, Role.ADMIN, ""), mode, args.reason, unit=args.unit)
    finally:
        app.close()
    where = f" at {args.unit}" if args.unit else ""
    print(f"operating mode{where} is now {args.mode}")
    return 0
