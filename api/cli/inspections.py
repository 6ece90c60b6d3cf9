"""``fengqiao inspections draw`` and ``fengqiao inspections show``: 督查抽查 by hand, and a draw
as recorded, derived again from its seed.

``draw`` does what the scheduler does each night for the month before: each township's sample
of the cases closed in the month, from the cases view, under a fresh seed. A township-month
drawn before is shown as it was drawn and changes nothing.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api.wiring.settings import Settings
    from domain.inspection import InspectionDraw, Month


def add_commands(commands: Any) -> None:
    inspections = commands.add_parser("inspections", help="督查回访: monthly draws of closed cases")
    actions = inspections.add_subparsers(title="commands", metavar="COMMAND", required=True)
    draw = actions.add_parser(
        "draw",
        help="draw townships' samples of the cases closed in a month",
        description="Each township's random sample of the cases closed in MONTH (北京时间) and "
        "located in its subtree: the policy's [inspection] percentage, at least its minimum. "
        "The draw is recorded with its seed; a township-month drawn before changes nothing.",
    )
    draw.add_argument("--month", metavar="MONTH", help="e.g. 2026-10 (default: last month)")
    draw.add_argument("--township", metavar="CODE", help="one township (default: every one)")
    draw.add_argument("--user", default="fengqiao-operator", help="who draws (recorded)")
    draw.set_defaults(handler=_draw)
    show = actions.add_parser(
        "show",
        help="show a township's draw and derive its sample again from the seed",
        description="Exit 0 when the recorded sample is the one its population and seed give, "
        "1 when it is not.",
    )
    show.add_argument("township", metavar="TOWNSHIP", help="township code, e.g. 511123001")
    show.add_argument("month", metavar="MONTH", help="e.g. 2026-10")
    show.set_defaults(handler=_show)


def _month(text: str, argument: str) -> Month:
    from api.cli.checks import BadArgumentError
    from domain.errors import InvalidInputError
    from domain.inspection import Month

    try:
        return Month.parse(text, argument)
    except InvalidInputError as error:
        raise BadArgumentError(f"{argument}: must be a month like 2026-10, not {text!r}") from error


def _draw(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime

    from rich.console import Console
    from rich.table import Table

    from api.cli.checks import BadArgumentError, refuse, require_unit
    from api.cli.display import unit_label
    from api.wiring.bootstrap import build_application
    from api.wiring.views import build_views
    from domain.actors import Actor, Role
    from domain.errors import InvalidInputError
    from domain.inspection import Month
    from scheduler.inspections import MonthlyDraw

    now = datetime.now(UTC)
    try:
        month = Month.of(now).previous() if args.month is None else _month(args.month, "--month")
    except BadArgumentError as error:
        return refuse(error)
    app = build_application(settings)
    views = build_views(settings, app)
    try:
        units = app.units()
        if args.township is not None:
            try:
                require_unit(units, args.township, "--township")
            except BadArgumentError as error:
                return refuse(error)
        views.catch_up()  # every closing up to now is in the population
        draws = MonthlyDraw(app, views.cases, lambda: now)
        actor = Actor(args.user, Role.ADMIN, "")
        townships = None if args.township is None else [args.township]
        try:
            reports = draws.run(month, townships, actor)
        except InvalidInputError as error:
            return refuse(BadArgumentError(f"--{error.field.removeprefix('--')}: {error.reason}"))
    finally:
        views.close()
        app.close()
    table = Table(title=f"督查抽查 {month}")
    for column in ("township", "closed", "sampled", "drawn"):
        table.add_column(column)
    for report in reports:
        draw = report.answer.draw
        table.add_row(
            unit_label(units, report.township),
            str(len(draw.population)),
            str(len(draw.sample)),
            "now" if report.answer.new else "before (unchanged)",
        )
    Console().print(table)
    return 0


def _show(args: argparse.Namespace, settings: Settings) -> int:
    from uuid import UUID

    from api.cli.checks import BadArgumentError, refuse, require_unit
    from api.wiring.bootstrap import build_application

    app = build_application(settings)
    try:
        try:
            month = _month(args.month, "MONTH")
            require_unit(app.units(), args.township, "TOWNSHIP")
        except BadArgumentError as error:
            return refuse(error)
        draw = app.inspection_draw(args.township, month)
        numbers = {c: app.get_case(UUID(c)).number for c in (draw.sample if draw else [])}
    finally:
        app.close()
    if draw is None:
        print(f"{args.township} has no draw for {month}")
        return 1
    return _print_draw(draw, numbers)


def _print_draw(draw: InspectionDraw, numbers: dict[str, str]) -> int:
    from api.cli.display import labelled

    rederived = draw.rederived()
    print(f"督查抽查 {draw.township} {draw.month}")
    print(f"drawn at    {labelled(draw.drawn_at)} by {draw.actor} ({draw.role})")
    print(f"seed        {draw.seed}")
    print(f"rule        {draw.percentage}% rounded up, at least {draw.minimum}")
    print(f"population  {len(draw.population)} cases closed in the month")
    print(f"sample      {len(draw.sample)} cases:")
    for case_id in draw.sample:
        print(f"  {case_id}  {numbers.get(case_id, '')}")
    if rederived == draw.sample:
        print("verified: the sample is the one the population and seed give")
        return 0
    print(f"DIFFERS: the population and seed give {rederived}")
    return 1
