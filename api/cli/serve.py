"""``fengqiao serve`` and ``fengqiao token``: the HTTP service and its bearer tokens."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from litestar import Litestar

    from api.wiring.settings import Settings

SAMPLE_UNITS = {
    "city": "511100",
    "county": "511123",
    "township": "511123001",
    "village": "511123001001",
}
ROLES = ("reporter", "mediator", "supervisor", "auditor", "inspector", "admin")
# On SIGTERM uvicorn waits this long for open requests before cancelling them.
GRACEFUL_SHUTDOWN_SECONDS = 5


def add_commands(commands: Any) -> None:
    serve = commands.add_parser(
        "serve", help="run the HTTP API (with views and, later, the scheduler)"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="load sample data first; print tokens")
    serve.add_argument("--demo-cases", type=int, default=2000, help="cases for --demo")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="API processes, beside one that keeps the views and sweeps",
    )
    serve.set_defaults(handler=_serve)
    token = commands.add_parser(
        "token", help="print a bearer token signed with the server's secret"
    )
    token.add_argument("--role", required=True, choices=ROLES)
    token.add_argument("--unit", required=True)
    token.add_argument("--user", default=None, help="user id (default: ROLE-UNIT)")
    token.add_argument("--ttl", default="8h", help="lifetime like 30m, 8h, 7d (default 8h)")
    token.set_defaults(handler=_token)


def parse_ttl(text: str) -> timedelta:
    from domain.clocks import Duration

    duration = Duration.parse(text, "ttl")
    if duration.unit == "wd":
        raise ValueError("ttl: use calendar time (s, m, h, d)")
    return duration.as_timedelta()


def _token(args: argparse.Namespace, settings: Settings) -> int:
    """A token for an active member of the staff directory, in a role they hold, at their
    unit: the server would refuse any other (``api.http.auth``)."""
    from api.http.auth import load_secret, mint_token, refusal
    from api.http.messages import TOKEN
    from api.wiring.bootstrap import build_application
    from domain.actors import Role

    secret = load_secret(settings)
    user = args.user or f"{args.role}-{args.unit}"
    app = build_application(settings)
    try:
        member = app.directory().get(user)
    finally:
        app.close()
    code = refusal(member, Role(args.role), args.unit)
    if code is not None:
        chinese, english = TOKEN[code]
        print(f"fengqiao: {user}: {chinese} ({english})", file=sys.stderr)
        return 1
    print(mint_token(secret, user, args.role, args.unit, parse_ttl(args.ttl)))
    return 0


def app_from_environment() -> Litestar:
    """The uvicorn factory for ``--workers``: each worker builds its own runtime; the views
    are kept by the ``fengqiao projections`` process ``serve`` started beside them."""
    from api.http.app import create_app
    from api.http.auth import load_secret
    from api.http.runtime import build_runtime
    from api.wiring.settings import Settings

    settings = Settings.from_env(os.environ)
    runtime = build_runtime(settings, load_secret(settings), scheduler=False, sweeps_elsewhere=True)
    runtime.follow = False
    return create_app(runtime)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from api.http.app import create_app
    from api.http.auth import load_secret
    from api.http.routes.notifications import close_notice_streams
    from api.http.routes.stream import close_streams
    from api.http.runtime import build_runtime

    secret = load_secret(settings)
    if args.workers > 1:
        if args.demo:  # loaded (and its tokens printed) before the workers start
            _demo_before_workers(settings, secret, args.demo_cases)
        return _serve_workers(args, settings, secret)
    runtime = build_runtime(settings, secret)
    _number_old_cases(runtime.app, runtime.views)
    if args.demo:
        _load_demo(runtime, args.demo_cases, secret)

    class Server(uvicorn.Server):
        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            # uvicorn waits for open responses, and a queue stream never ends by itself
            close_streams(runtime)
            close_notice_streams(runtime)
            await super().shutdown(sockets)

    config = uvicorn.Config(
        create_app(runtime),
        host=args.host,
        port=args.port,
        log_level="info",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    server = Server(config)
    server.run()
    return 0 if server.started else 3  # 3: uvicorn's "could not start"


def _serve_workers(args: argparse.Namespace, settings: Settings, secret: str) -> int:
    import uvicorn

    from api.cli.supervise import Supervised
    from api.wiring.views import deadlines_database
    from scheduler.heartbeat import Heartbeat

    # One process beside the workers keeps the views and sweeps deadlines; kept alive, and
    # marked down while it is gone so every worker's /ready says so.
    _number_before_workers(settings)
    beat = Heartbeat(deadlines_database(settings))
    beat.setup()
    command = [sys.executable, "-m", "api.cli.main", "scheduler"]
    follower = Supervised(command, on_exit=lambda _code: beat.mark_down())
    follower.start()
    try:
        uvicorn.run(
            "api.cli.serve:app_from_environment",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
    finally:
        follower.stop()
        beat.db.close()
    return 0


def _demo_before_workers(settings: Settings, secret: str, cases: int) -> None:
    from api.http.runtime import build_runtime

    runtime = build_runtime(settings, secret, scheduler=False)
    try:
        _number_old_cases(runtime.app, runtime.views)
        _load_demo(runtime, cases, secret)
    finally:
        runtime.stop()


def _number_before_workers(settings: Settings) -> None:
    from api.wiring.bootstrap import build_application
    from api.wiring.views import build_views

    app = build_application(settings)
    views = build_views(settings, app)
    try:
        _number_old_cases(app, views)
    finally:
        views.close()
        app.close()


def _number_old_cases(app: Any, views: Any) -> None:
    """Cases registered by a release before numbering get their numbers, in order, once."""
    from api.wiring.numbering import number_old_cases

    numbered = number_old_cases(app, views)
    if numbered:
        print(f"numbered {numbered} cases registered before numbering", flush=True)


def _load_demo(runtime: Any, cases: int, secret: str) -> None:
    from datetime import UTC, datetime

    from rich.console import Console

    from api.cli.console import progress_bar
    from api.cli.display import aligned, unit_label
    from api.demo.grassroots import run_grassroots
    from api.demo.load import demo_epoch, run_demo
    from api.http.auth import mint_token
    from domain.actors import Role

    console = Console()
    now = datetime.now(UTC).replace(microsecond=0)
    with progress_bar(console, cases, "demo cases") as advance:
        run_demo(runtime.app, cases, 2026, now, advance)
    if cases > 0:  # none asked for: the sample jurisdiction and staff only
        run_grassroots(runtime.app, now, demo_epoch(now), runtime.views.catch_up)
    runtime.views.catch_up()
    console.print("[bold]Demo tokens (valid 8 hours), one per sample member's role:[/]")
    units = runtime.app.units()
    staff = runtime.app.directory()
    labels = aligned([unit_label(units, unit) for unit in SAMPLE_UNITS.values()])
    for (tier, unit), label in zip(SAMPLE_UNITS.items(), labels, strict=True):
        for role in ROLES:
            members = staff.at_unit(unit, Role(role))
            if not members:  # nobody holds it here (a village has no admin)
                continue
            user = members[0].user
            token = mint_token(secret, user, role, unit, timedelta(hours=8))
            console.print(
                f"{tier:8} {label} {role:10} {user:24} {token}",
                soft_wrap=True,
                markup=False,
                highlight=False,
            )
