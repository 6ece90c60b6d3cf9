"""``fengqiao user add|disable|enable|list``: the staff directory on the configured store.

For the operator who bootstraps a deployment (the first admin, who then manages the rest over
the API) or who must act without a token. Each change is recorded as the operator
(``fengqiao-operator``). Phones are printed masked, as the API shows them.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from api.wiring.settings import Settings
    from domain.application import FengqiaoApplication
    from domain.directory import Directory

STAFF_ROLES = ("admin", "auditor", "inspector", "mediator", "reporter", "supervisor")


def add_commands(commands: Any) -> None:
    user = commands.add_parser("user", help="the staff directory: add, disable, enable, list")
    user_commands = user.add_subparsers(title="commands", metavar="COMMAND", required=True)
    add = user_commands.add_parser("add", help="enrol a member of staff")
    add.add_argument("--id", required=True, dest="user", help="user id (what tokens name)")
    add.add_argument("--name", required=True, help="姓名")
    add.add_argument("--unit", required=True, help="the unit's code")
    add.add_argument(
        "--role", required=True, action="append", choices=STAFF_ROLES, help="repeatable"
    )
    add.add_argument("--phone", default=None)
    add.add_argument("--email", default=None)
    add.set_defaults(handler=_add)
    disable = user_commands.add_parser("disable", help="disable a member (their cases stay)")
    disable.add_argument("user", metavar="ID")
    disable.add_argument("--reason", required=True)
    disable.set_defaults(handler=_disable)
    enable = user_commands.add_parser("enable", help="reactivate a disabled member")
    enable.add_argument("user", metavar="ID")
    enable.set_defaults(handler=_enable)
    listing = user_commands.add_parser("list", help="members of staff, phones masked")
    listing.add_argument("--unit", default=None, help="this unit and those below it")
    listing.add_argument("--role", default=None, choices=STAFF_ROLES)
    listing.add_argument("--all", action="store_true", help="disabled members too")
    listing.set_defaults(handler=_list)


def _open(settings: Settings) -> FengqiaoApplication:
    from api.wiring.bootstrap import build_application

    return build_application(settings)


def _change(
    settings: Settings, change: Callable[[Directory, datetime], None], done: str, *units: str
) -> int:
    """Changes the directory as the operator; prints ``done``, or why it was refused (2)."""
    from datetime import UTC, datetime

    from api.wiring.bootstrap import OPERATOR
    from domain.errors import DomainError

    app = _open(settings)
    try:
        at = datetime.now(UTC)
        app.change_directory(OPERATOR, lambda directory: change(directory, at), units)
    except DomainError as error:
        print(f"fengqiao: {error}", file=sys.stderr)
        return 2
    finally:
        app.close()
    print(done)
    return 0


def _add(args: argparse.Namespace, settings: Settings) -> int:
    from api.wiring.bootstrap import OPERATOR
    from domain.actors import Role
    from domain.directory import StaffMember

    roles = tuple(Role(role) for role in args.role)
    member = StaffMember(args.user, args.name, args.unit, roles, args.phone, args.email)
    done = f"enrolled {member.user} at {member.unit} as {', '.join(args.role)}"
    return _change(settings, lambda d, at: d.enrol(OPERATOR, [member], at), done, member.unit)


def _disable(args: argparse.Namespace, settings: Settings) -> int:
    from api.wiring.bootstrap import OPERATOR

    done = f"disabled {args.user}: their open cases stay assigned to them until reassigned"
    return _change(settings, lambda d, at: d.disable(OPERATOR, args.user, args.reason, at), done)


def _enable(args: argparse.Namespace, settings: Settings) -> int:
    from api.wiring.bootstrap import OPERATOR

    return _change(
        settings, lambda d, at: d.reactivate(OPERATOR, args.user, at), f"reactivated {args.user}"
    )


def _list(args: argparse.Namespace, settings: Settings) -> int:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from api.cli.display import unit_label
    from domain.actors import Role
    from domain.parties import mask_digits

    app = _open(settings)
    try:
        units = app.units()
        if args.unit is not None and args.unit not in units:
            print(f"fengqiao: no unit has the code {args.unit}", file=sys.stderr)
            return 2
        members = [
            member
            for member in sorted(app.directory().members.values(), key=lambda m: m.user)
            if (args.all or member.active)
            and (args.role is None or Role(args.role) in member.roles)
            and (args.unit is None or units.is_within(member.unit, args.unit))
        ]
        table = Table(title=Text(f"staff: {len(members)}"))
        for column in ("user", "姓名", "unit", "roles", "phone", "email", "status"):
            table.add_column(column, no_wrap=column in ("user", "phone"))
        for member in members:
            table.add_row(
                Text(member.user),
                Text(member.name),
                Text(unit_label(units, member.unit)),
                ", ".join(member.roles),
                mask_digits(member.phone) or "-",
                Text(member.email or "-"),
                "在岗" if member.active else Text("停用", style="bold red"),
            )
    finally:
        app.close()
    Console().print(table)
    return 0
