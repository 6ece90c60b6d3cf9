"""线索研判 clocks: a clue still open when its triage deadline passes is flagged overdue.

The watch first brings the clues view up to the log's head (a clue recorded a moment ago is
due too), then asks the clue itself to flag each clock the view says ran out; the clue
refuses a clock it acted on already or that is no longer its own, so a repeated or
concurrent sweep changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from domain.actors import SYSTEM, Actor
from domain.application import FengqiaoApplication
from domain.errors import DomainError
from projections.clues import CluesView

log = logging.getLogger(__name__)


@dataclass
class TriageReport:
    """What one sweep of the triage clocks did."""

    now: datetime
    flagged: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


class TriageWatch:
    """The ``scheduler.service.Watch`` of clues' triage clocks."""

    def __init__(
        self,
        app: FengqiaoApplication,
        view: CluesView,
        catch_up: Callable[[int], object],
        actor: Actor = SYSTEM,
    ) -> None:
        self.app = app
        self.view = view
        self.catch_up = catch_up  # waits until the clues view has applied a log position
        self.actor = actor

    def sweep(self, now: datetime) -> TriageReport:
        """Flags every open clue whose triage clock ran out at or before ``now``."""
        self.catch_up(self.app.recorder.max_notification_id() or 0)
        report = TriageReport(now)
        for row in self.view.due(now):
            try:
                position = self.app.flag_clue_overdue(self.actor, row.id, row.triage_due_at, now)
            except DomainError as error:
                log.warning("clue %s: triage clock not flagged: %s", row.id, error)
                report.refused.append(str(row.id))
                continue
            if position is not None:
                report.flagged.append(str(row.id))
        return report

    def next_due(self, after: datetime) -> datetime | None:
        return self.view.next_due(after)
