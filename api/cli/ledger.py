"""``fengqiao ledger``: a unit's ledger (台账) of a period, as an xlsx workbook or CSV.

The same file as ``GET /api/v1/ledger``, recorded the same way (an access record of kind
``ledger``, with who and why). The file appears whole or not at all: it is written beside
``--out`` and renamed over it once complete.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api.wiring.settings import Settings

FORMATS = ("xlsx", "csv")


def add_commands(commands: Any) -> None:
    ledger = commands.add_parser(
        "ledger",
        help="write a unit's ledger (台账) of a period as xlsx or CSV",
        description="One row per case located in UNIT's subtree and registered in the period, "
        "parties' names masked. The export is recorded, with who (--user) and why (--reason).",
    )
    ledger.add_argument("unit", metavar="UNIT", help="unit code, e.g. 511123")
    ledger.add_argument(
        "--from", dest="start", metavar="DATE", type=date.fromisoformat,
        help="first day, ISO date in 北京时间 (default: 30 days up to --to)",
    )  # fmt: skip
    ledger.add_argument(
        "--to", dest="end", metavar="DATE", type=date.fromisoformat,
        help="last day, included (default today)",
    )  # fmt: skip
    ledger.add_argument(
        "--format", choices=FORMATS, help="default: from --out's suffix (.csv), else xlsx"
    )
    ledger.add_argument("--out", metavar="FILE", type=Path, required=True)
    ledger.add_argument("--user", default="fengqiao-operator", help="who exports (recorded)")
    ledger.add_argument("--reason", default="", help="why (recorded)")
    ledger.set_defaults(handler=_ledger)


def _ledger(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime

    from api.cli.checks import BadArgumentError, day_period, refuse, require_unit
    from api.wiring.bootstrap import build_application
    from api.wiring.views import build_views
    from domain.actors import Actor, Role
    from projections.ledger import describe, ledger_rows, ledger_view

    form = args.format or ("csv" if args.out.suffix.lower() == ".csv" else "xlsx")
    try:
        start, end = day_period(args.start, args.end, datetime.now(UTC))
        if not args.out.parent.is_dir():
            raise BadArgumentError(f"--out: no folder {str(args.out.parent)!r}")
    except BadArgumentError as error:
        return refuse(error)
    app = build_application(settings)
    views = build_views(settings, app)
    try:
        try:
            require_unit(app.units(), args.unit)
        except BadArgumentError as error:
            return refuse(error)
        actor = Actor(args.user, Role.ADMIN, args.unit)
        scope = describe(args.unit, start, end, form)
        # the file lists the cases registered up to its own record, which the view must reach
        position = app.record_access(actor, "ledger", None, scope, args.reason)
        views.runners["ledger"].catch_up()
        rows = ledger_rows(ledger_view(views), args.unit, start, end, until=position)
        count = _write(rows, args.out, form, f"台账 {args.unit}")
    finally:
        views.close()
        app.close()
    print(f"wrote {count} cases to {args.out}")
    return 0


def _write(rows: Any, out: Path, form: str, title: str) -> int:
    """Writes the file beside ``out`` and renames it over ``out`` once whole."""
    from projections.ledger_files import write_csv, write_xlsx

    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    os.close(fd)
    try:
        if form == "csv":
            with open(name, "w", encoding="utf-8", newline="") as text:
                count = write_csv(rows, text)
        else:
            count = write_xlsx(rows, name, title)
        os.replace(name, out)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return count
