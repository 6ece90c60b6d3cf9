"""``fengqiao export``, ``fengqiao verify`` and ``fengqiao keygen``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from api.settings import Settings


def add_commands(commands: Any) -> None:
    export = commands.add_parser("export", help="export the audit trail as a hash-chained file")
    export.add_argument("--unit", help="unit code: the cases located in its subtree")
    export.add_argument("--from", dest="start", help="ISO date (Shanghai day) or date-time")
    export.add_argument("--to", dest="end", help="ISO date (inclusive) or date-time")
    export.add_argument("--case", type=UUID, help="one case")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--out", type=Path, required=True)
    export.add_argument("--user", default="fengqiao-operator", help="who exports (recorded)")
    export.add_argument("--reason", default="", help="why (recorded)")
    export.set_defaults(handler=_export)
    verify = commands.add_parser("verify", help="prove an audit file complete and unaltered")
    verify.add_argument("file", type=Path)
    verify.set_defaults(handler=_verify)
    keygen = commands.add_parser("keygen", help="print a new key for FENGQIAO_CIPHER_KEY")
    keygen.set_defaults(handler=_keygen)


def _export(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime

    from rich.console import Console
    from rich.progress import Progress

    from api.bootstrap import build_application
    from api.routes.reads import parse_bound
    from api.views import build_views
    from domain.actors import Actor, Role
    from projections.audit_export import ExportFilter, export_log
    from projections.audit_trail import ChainWriter

    try:
        start = parse_bound(args.start, "from", datetime.min.replace(tzinfo=UTC), end=False)
        end = parse_bound(args.end, "to", datetime.max.replace(tzinfo=UTC), end=True)
    except ValueError as error:
        print(f"fengqiao: {error}", file=sys.stderr)
        return 2
    scope = ExportFilter(
        args.unit, start if args.start else None, end if args.end else None, args.case
    )
    app = build_application(settings)
    views = build_views(settings, app)
    console = Console(stderr=True)
    try:
        views.catch_up()
        actor = Actor(args.user, Role.ADMIN, args.unit or "")
        app.record_access(actor, "export", args.case, scope.describe(), args.reason)
        head = app.recorder.max_notification_id() or 0
        with (
            args.out.open("w", encoding="utf-8", newline="") as out,
            Progress(console=console) as bar,
        ):
            task = bar.add_task("export", total=head)
            writer = ChainWriter(out, args.format)
            started = datetime.now(UTC)
            count = export_log(
                app, views.cases, app.units(), writer, scope, lambda n: bar.advance(task, n)
            )
            writer.finish(
                {
                    "filter": scope.describe(),
                    "generated_at": started.isoformat(),
                    "generated_by": args.user,
                }
            )
    finally:
        views.close()
        app.close()
    console.print(f"exported {count} records to {args.out}")
    return 0


def _verify(args: argparse.Namespace, settings: Settings) -> int:
    from projections.audit_trail import verify

    verdict = verify(args.file)
    print(verdict.message)
    return 0 if verdict.ok else 1


def _keygen(args: argparse.Namespace, settings: Settings) -> int:
    from api.settings import new_cipher_key

    print(new_cipher_key())
    return 0
