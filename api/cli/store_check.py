"""``fengqiao audit check``: the event store checked against the Merkle tree."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api.wiring.settings import Settings


def add_commands(audit_commands: Any) -> None:
    check = audit_commands.add_parser(
        "check",
        help="recompute the tree's leaves from the event store; name each row edited, "
        "deleted or inserted by hand (exit 1)",
    )
    check.set_defaults(handler=_check)


def _check(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime

    from rich.console import Console
    from rich.progress import Progress

    from api.wiring.bootstrap import build_application
    from api.wiring.views import build_views
    from scheduler.store_check import StoreCheck

    app = build_application(settings)
    views = build_views(settings, app)
    console = Console(stderr=True)
    try:
        job = StoreCheck(views.runners["merkle"], lambda: datetime.now(UTC), follower=False)
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("check", total=app.recorder.max_notification_id() or 0)
            result = job.run(lambda n: bar.advance(task, n))
    finally:
        views.close()
        app.close()
    if result.ok:
        print(result.summary())
        return 0
    print(f"store check failed: {len(result.findings)} rows differ from the tree")
    for finding in result.findings:
        print(f"  {finding}")
    if not result.nodes_agree:
        print(
            "  the tree's stored nodes disagree with its leaves (rebuild: fengqiao rebuild merkle)"
        )
    return 1
