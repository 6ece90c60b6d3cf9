"""One sweep: ask the deadlines view what is due and send the matching command.

The case decides whether a clock still applies (it checks the due time is still its own), so a
repeated or concurrent sweep is harmless. An expected refusal is logged with the case id and
the clock is tried again next sweep; anything unexpected stops the sweep loudly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from domain.actors import SYSTEM
from domain.application import FengqiaoApplication
from domain.clocks import DeadlineKind
from domain.errors import DomainError
from projections.deadlines import DeadlinesView, PendingDeadline

log = logging.getLogger(__name__)
BATCH = 1000


@dataclass
class SweepReport:
    """What one sweep did, for ``fengqiao sweep --once`` and the logs."""

    now: datetime
    due: int = 0
    acted: list[tuple[PendingDeadline, str]] = field(default_factory=list)
    unchanged: int = 0
    refused: list[tuple[PendingDeadline, str]] = field(default_factory=list)


class Sweeper:
    def __init__(
        self,
        app: FengqiaoApplication,
        deadlines: DeadlinesView,
        clock: Callable[[], datetime],
        batch: int = BATCH,
    ) -> None:
        self.app = app
        self.deadlines = deadlines
        self.clock = clock
        self.batch = batch

    def sweep(self) -> SweepReport:
        """Acts on every clock due now (up to ``batch`` of them per sweep)."""
        report = SweepReport(self.clock())
        due = self.deadlines.list_due(report.now, self.batch)
        report.due = len(due)
        for deadline in due:
            self._act(deadline, report)
        if report.acted or report.refused:
            log.info(
                "sweep at %s: %d due, %d acted on, %d refused",
                report.now.isoformat(), report.due, len(report.acted), len(report.refused),
            )  # fmt: skip
        return report

    def _act(self, deadline: PendingDeadline, report: SweepReport) -> None:
        try:
            recorded = self.app.act_on_deadline(
                deadline.case_id, SYSTEM, DeadlineKind(deadline.kind), deadline.due_at,
                at=report.now,
            )  # fmt: skip
        except DomainError as error:
            log.warning(
                "case %s: %s clock not acted on: %s", deadline.case_id, deadline.kind, error
            )
            report.refused.append((deadline, str(error)))
            return
        if recorded.position is None:
            report.unchanged += 1
            return
        report.acted.append((deadline, ", ".join(recorded.events)))
