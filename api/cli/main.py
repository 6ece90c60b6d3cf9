"""The ``fengqiao`` command line: one ``main`` that reads settings once and runs a subcommand.

Subcommands import what they need when they run, so ``fengqiao --help`` answers at once and
a mistyped command fails before any store is opened. A bad setting is one line on stderr and
exit status 2, not a traceback.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api.wiring.settings import Settings

Handler = Callable[[argparse.Namespace, "Settings"], int]
DEFAULT_CASES = 2000
DEFAULT_SEED = 2026


def main(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Runs one command; returns the exit status (the console script passes it to exit)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as stop:  # --help, or a usage error argparse has already explained
        return stop.code if isinstance(stop.code, int) else int(stop.code is not None)
    from api.wiring.settings import Settings, SettingsError
    from domain.errors import PolicyError

    try:
        settings = Settings.from_env(os.environ if environ is None else environ)
        handler: Handler = args.handler
        return handler(args, settings)
    except (SettingsError, PolicyError) as error:
        print(f"fengqiao: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fengqiao",
        description="Grassroots dispute and incident management (枫桥经验).",
        epilog="Settings come from FENGQIAO_DATA_DIR (SQLite, default ./fengqiao-data), "
        "FENGQIAO_DATABASE_URL (postgresql://…) and FENGQIAO_POLICY (a TOML file).",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    demo = commands.add_parser(
        "demo",
        help="load the sample jurisdiction and generate a realistic case load",
        description="Loads the sample units, then drives cases through the application's "
        "commands with times spread over the last 90 days. Reruns with one seed add nothing.",
    )
    demo.add_argument("--cases", type=_count, default=DEFAULT_CASES, help="default %(default)s")
    demo.add_argument("--seed", type=int, default=DEFAULT_SEED, help="default %(default)s")
    demo.set_defaults(handler=_demo)
    policy = commands.add_parser("policy", help="show the effective policy")
    policy_commands = policy.add_subparsers(title="commands", metavar="COMMAND", required=True)
    show = policy_commands.add_parser("show", help="print the effective policy as TOML")
    show.set_defaults(handler=_policy_show)
    from api.cli import (
        audit,
        inspections,
        ledger,
        notifications,
        scheduler,
        screening,
        serve,
        users,
        views,
    )

    views.add_commands(commands)
    audit.add_commands(commands)
    ledger.add_commands(commands)
    inspections.add_commands(commands)
    screening.add_commands(commands)
    scheduler.add_commands(commands)
    serve.add_commands(commands)
    notifications.add_commands(commands)
    users.add_commands(commands)
    return parser


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


# --- commands ---------------------------------------------------------------------------


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime

    from eventsourcing.persistence import PersistenceError
    from rich.console import Console

    from api.cli.console import print_demo_summary, progress_bar
    from api.demo.load import demo_epoch, run_demo
    from api.wiring.bootstrap import build_application

    now = datetime.now(UTC).replace(microsecond=0)
    epoch = demo_epoch(now)
    console = Console()
    try:
        app = build_application(settings, clock=lambda: epoch)
    except PersistenceError as error:
        print(f"fengqiao: cannot open the {settings.backend} store: {error}", file=sys.stderr)
        return 1
    try:
        with progress_bar(console, args.cases, "cases") as advance:
            report = run_demo(app, args.cases, args.seed, now, advance)
        _bring_views_up_to_date(settings, app, console, now, township=args.cases > 0)
    finally:
        app.close()
    print_demo_summary(console, report, settings.backend)
    return 0


def _bring_views_up_to_date(
    settings: Settings, app: Any, console: Any, now: Any, township: bool
) -> None:
    """The demo's store is ready to read: queues, statistics and histories included, after the
    township's clues, screening reports, key person and repeat disputes (which consult the
    views as they are registered) unless no cases were asked for (``township``)."""
    from api.demo.grassroots import run_grassroots
    from api.demo.load import demo_epoch
    from api.wiring.views import build_views

    views = build_views(settings, app)
    try:
        with console.status("bringing the views up to date"):
            views.catch_up()
            told = run_grassroots(app, now, demo_epoch(now), views.catch_up) if township else None
    finally:
        views.close()
    if told is not None:
        console.print(told.summary())


def _policy_show(args: argparse.Namespace, settings: Settings) -> int:
    """Plain text, not rich: TOML's [tables] would be read as markup."""
    from domain.policy_document import policy_to_document

    policy = settings.load_policy()
    sys.stdout.write(f"# fengqiao effective policy {policy.version}\n")
    sys.stdout.write(to_toml(policy_to_document(policy)))
    return 0


# --- TOML -------------------------------------------------------------------------------

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f"}


def to_toml(document: Mapping[str, Any]) -> str:
    """TOML for nested tables of strings, numbers, booleans, dates and lists of them: the
    shape of a policy document. Small on purpose; the standard library only reads TOML."""
    lines: list[str] = []
    _table(lines, (), document)
    return "\n".join(lines).lstrip("\n") + "\n"


def _table(lines: list[str], path: tuple[str, ...], table: Mapping[str, Any]) -> None:
    values = {k: v for k, v in table.items() if not isinstance(v, Mapping)}
    tables = {k: v for k, v in table.items() if isinstance(v, Mapping)}
    if path and (values or not tables):  # an empty table still needs its header
        lines += ["", "[" + ".".join(_key(part) for part in path) + "]"]
    lines += [f"{_key(key)} = {_value(value)}" for key, value in values.items()]
    for key, sub in tables.items():
        _table(lines, (*path, key), sub)


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _string(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _string(text: str) -> str:
    escaped = "".join(
        _ESCAPES.get(c, c if c >= " " and c != "\x7f" else f"\\u{ord(c):04x}") for c in text
    )
    return f'"{escaped}"'


if __name__ == "__main__":
    sys.exit(main())
