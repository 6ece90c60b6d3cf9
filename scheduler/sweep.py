"""One sweep: ask the deadlines view what is due and send the matching commands.

The case decides whether a clock still applies (it checks the due time is still its own), so a
repeated or concurrent sweep is harmless. An expected refusal is logged with the case id and
the clock is tried again next sweep; anything unexpected stops the sweep loudly.

Due clocks are read a page at a time and acted on in chunks, each chunk saved in one
transaction: a burst of a thousand clocks falling due at once (a holiday's end, a restart
after downtime) is dealt with in one sweep, well within a sweep interval.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from domain.actors import SYSTEM
from domain.application import FengqiaoApplication, Recorded
from domain.clocks import DeadlineKind
from projections.deadlines import DeadlinesView, PendingDeadline

log = logging.getLogger(__name__)
BATCH = 1000  # due clocks read per page
CHUNK = 100  # due clocks acted on per transaction


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
        chunk: int = CHUNK,
    ) -> None:
        self.app = app
        self.deadlines = deadlines
        self.clock = clock
        self.batch = batch
        self.chunk = chunk

    def sweep(self) -> SweepReport:
        """Acts on every clock due now, a page of ``batch`` at a time."""
        report = SweepReport(self.clock())
        after: PendingDeadline | None = None
        while True:
            page = self.deadlines.list_due(report.now, self.batch, after)
            report.due += len(page)
            for start in range(0, len(page), self.chunk):
                self._act(page[start : start + self.chunk], report)
            if len(page) < self.batch:
                break
            after = page[-1]
        if report.acted or report.refused:
            log.info(
                "sweep at %s: %d due, %d acted on, %d refused",
                report.now.isoformat(), report.due, len(report.acted), len(report.refused),
            )  # fmt: skip
        return report

    def _act(self, deadlines: list[PendingDeadline], report: SweepReport) -> None:
        outcomes = self.app.act_on_deadlines(
            SYSTEM, [(d.case_id, DeadlineKind(d.kind), d.due_at) for d in deadlines], report.now
        )
        for deadline, outcome in zip(deadlines, outcomes, strict=True):
            if not isinstance(outcome, Recorded):
                log.warning(
                    "case %s: %s clock not acted on: %s", deadline.case_id, deadline.kind, outcome
                )
                report.refused.append((deadline, str(outcome)))
            elif outcome.position is None:
                report.unchanged += 1
            else:
                report.acted.append((deadline, ", ".join(outcome.events)))
