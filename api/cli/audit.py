"""``fengqiao export``, ``verify``, ``keygen`` and the ``fengqiao audit`` group."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from api.wiring.settings import Settings


def add_commands(commands: Any) -> None:
    export = commands.add_parser("export", help="export the audit trail as a hash-chained file")
    export.add_argument("--unit", help="unit code: the cases located in its subtree")
    export.add_argument("--from", dest="start", help="ISO date (北京时间 day) or date-time")
    export.add_argument("--to", dest="end", help="ISO date (inclusive) or date-time")
    export.add_argument("--case", type=UUID, help="one case")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--out", type=Path, required=True)
    export.add_argument("--user", default="fengqiao-operator", help="who exports (recorded)")
    export.add_argument("--reason", default="", help="why (recorded)")
    export.set_defaults(handler=_export)
    verify = commands.add_parser(
        "verify",
        help="prove an audit file complete and unaltered, and with --key its records in the log",
    )
    verify.add_argument("file", type=Path)
    verify.add_argument(
        "--key",
        metavar="PUBLIC_KEY",
        help="the public key tree heads are signed with: a file (PEM, base64 or the JSON of "
        "`audit key`) or the base64 itself; checks the manifest's head signature",
    )
    verify.set_defaults(handler=_verify)
    keygen = commands.add_parser(
        "keygen", help="print a new key for FENGQIAO_CIPHER_KEY (or FENGQIAO_SIGNING_KEY)"
    )
    keygen.add_argument(
        "--signing", action="store_true", help="an Ed25519 key for FENGQIAO_SIGNING_KEY"
    )
    keygen.set_defaults(handler=_keygen)
    audit = commands.add_parser(
        "audit", help="the tamper-evident log: signed heads, proofs, the store check"
    )
    audit_commands = audit.add_subparsers(title="commands", metavar="COMMAND", required=True)
    from api.cli import store_check

    store_check.add_commands(audit_commands)
    from api.cli import heads

    heads.add_commands(audit_commands)


def _export(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime

    from rich.console import Console
    from rich.progress import Progress

    from api.cli.checks import BadArgumentError, refuse, require_order
    from api.http.routes.reads import parse_bound
    from api.wiring.bootstrap import build_application
    from api.wiring.views import build_views
    from domain.actors import Actor, Role
    from domain.errors import InvalidInputError
    from projections.audit_export import (
        ExportFilter,
        TreeProofs,
        export_log,
        manifest_fields,
        seal_details,
    )
    from projections.audit_trail import ChainWriter
    from scheduler.signing import SigningKey
    from scheduler.tree_heads import signer_over

    try:
        start = parse_bound(args.start, "from", datetime.min.replace(tzinfo=UTC), end=False)
        end = parse_bound(args.end, "to", datetime.max.replace(tzinfo=UTC), end=True)
    except InvalidInputError as error:  # parse_bound's refusal (not a ValueError)
        print(f"fengqiao: {error}", file=sys.stderr)
        return 2
    try:  # swapped bounds would export nothing, and the empty file would verify
        require_order(start, end, args.start, args.end)
    except BadArgumentError as error:
        return refuse(error)
    scope = ExportFilter(
        args.unit, start if args.start else None, end if args.end else None, args.case
    )
    key = SigningKey.from_text(settings.signing_key_text())
    app = build_application(settings)
    views = build_views(settings, app)
    console = Console(stderr=True)
    try:
        if args.unit is not None and args.unit not in app.units():
            # a mistyped code would otherwise give an empty file that verifies
            print(f"fengqiao: --unit: no unit has code {args.unit!r}", file=sys.stderr)
            return 2
        actor = Actor(args.user, Role.ADMIN, args.unit or "")
        # the file is the log up to and including this export's own record, and the views
        # that scope it must have seen every case registered before it
        head = app.record_access(actor, "export", args.case, scope.describe(), args.reason) or 0
        views.catch_up()
        # the head the records are proven in: the tree as it stands, this export's record in it
        signer = signer_over(app, views, key, lambda: datetime.now(UTC), settings.head_seconds)
        signed, _ = signer.sign_now()
        with (
            args.out.open("w", encoding="utf-8", newline="") as out,
            Progress(console=console) as bar,
        ):
            task = bar.add_task("export", total=head)
            writer = ChainWriter(out, args.format)
            started = datetime.now(UTC)
            count = export_log(
                app,
                views.cases,
                app.units(),
                writer,
                scope,
                lambda n: bar.advance(task, n),
                until=head,
                proofs=TreeProofs(views.merkle, signed.size),
            )
            summary = writer.finish(manifest_fields(scope, started, args.user, signed))
        # the file is written whole: its final hash goes on the record
        app.record_access(actor, "export_sealed", args.case, seal_details(summary, head))
    finally:
        views.close()
        app.close()
    console.print(f"exported {count} records to {args.out}")
    return 0


def _verify(args: argparse.Namespace, settings: Settings) -> int:
    """The chain; then the manifest's signed head (with ``--key``) and every record's proof."""
    from api.cli.heads import read_key
    from projections.audit_trail import tree_claim, verify
    from scheduler.signing import KeyFormatError

    try:
        public = None if args.key is None else read_key(args.key)
    except (OSError, KeyFormatError) as error:
        print(f"fengqiao: --key: {error}", file=sys.stderr)
        return 2
    try:
        verdict = verify(args.file)
        claim = tree_claim(args.file) if verdict.ok else None
    except OSError as error:  # missing, unreadable, a directory: not a verdict on a file
        print(f"fengqiao: cannot read {args.file}: {error.strerror or error}", file=sys.stderr)
        return 2
    if not verdict.ok:
        print(verdict.message)
        return 1
    if claim is None:
        print(f"{verdict.message}; the tree was not checked: the file has no tree fields")
        return 0
    message = _tree_verdict(args.file, verdict.message, claim, public)
    if message is None:
        return 1
    print(message)
    return 0


def _tree_verdict(path: Path, chain: str, claim: dict[str, Any], public: Any) -> str | None:
    """What verify says of a file whose chain verified; None after printing why its manifest's
    head or one of its records is not genuine."""
    from domain.errors import InvalidInputError
    from domain.tree_head import Head
    from projections.audit_trail import proofs_problem
    from scheduler.signing import head_problem

    try:
        head = Head.of(claim)
    except InvalidInputError as error:
        print(f"the manifest's head is malformed: {error}")
        return None
    signature = "the head's signature was not checked (no --key)"
    if public is not None:
        problem = head_problem(head, public)
        if problem is not None:
            print(f"the manifest's signed head is not genuine: {problem}")
            return None
        signature = f"the head's signature verifies with key {head.key_id[:16]}…"
    problem = proofs_problem(path, head.size, bytes.fromhex(head.root))
    if problem is not None:
        print(problem)
        return None
    return (
        f"{chain}, each in the tree of {head.size} records "
        f"(root {head.root[:16]}…, signed at {head.signed_at}); {signature}"
    )


def _keygen(args: argparse.Namespace, settings: Settings) -> int:
    from api.wiring.settings import new_cipher_key, new_signing_key

    print(new_signing_key() if args.signing else new_cipher_key())
    return 0
