"""重点人员 clocks in the sweeps: a leader's visit overdue, a flag's review date reached.

A ``Watch`` (``scheduler.service``): each sweep first brings the key-persons view up to the
log's head (``refresh``), then flags every visit and review due at the sweep's time, at the
exact instant. The aggregate flags a due time once, so a second sweep, a second scheduler or
a restart changes nothing; a person whose clock moved on since the view read it (a visit just
recorded) is left as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from domain.application import FengqiaoApplication
from domain.errors import DomainError
from projections.key_persons import KeyPersonsView

log = logging.getLogger(__name__)
BATCH = 500  # people flagged per read of the view


@dataclass
class KeyPersonSweep:
    """What one sweep flagged, by person: ``visit``, ``review``."""

    now: datetime
    flagged: dict[UUID, list[str]] = field(default_factory=dict)


class KeyPersonWatch:
    """The key persons' visit and review clocks, swept beside the cases'."""

    def __init__(
        self,
        app: FengqiaoApplication,
        view: KeyPersonsView,
        refresh: Callable[[], None] = lambda: None,
    ) -> None:
        self.app = app
        self.view = view
        self.refresh = refresh

    def sweep(self, now: datetime) -> KeyPersonSweep:
        self.refresh()
        report = KeyPersonSweep(now)
        seen: set[UUID] = set()
        while True:
            due = [d for d in self.view.due(now, BATCH) if d.person_id not in seen]
            if not due:
                return report
            for clock in due:
                seen.add(clock.person_id)
                try:
                    flagged = self.app.flag_key_person_clocks(clock.person_id, now)
                except DomainError as error:  # gone from the log? nothing to flag then
                    log.warning("key person %s not flagged: %r", clock.person_id, error)
                    continue
                if flagged:
                    report.flagged[clock.person_id] = flagged
            self.refresh()

    def next_due(self, after: datetime) -> datetime | None:
        return self.view.next_due(after)
