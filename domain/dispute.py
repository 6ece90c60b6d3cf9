"""Disputes (矛盾纠纷): parties, mediation, an agreement and its judicial confirmation."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from domain.actors import Actor
from domain.case import Case, CaseState, Deadlines, text
from domain.case import commands as c
from domain.clocks import DeadlineKind
from domain.policy import Clocks
from domain.status import AgreementForm, Outcome, Status

_AGREED = frozenset({Status.RESOLVED, Status.FOLLOWED_UP, Status.CLOSED})
_JUDICIAL = (DeadlineKind.JUDICIAL_REMINDER, DeadlineKind.JUDICIAL_CONFIRMATION)


class Dispute(Case):
    """A dispute between parties, worked towards an agreement (调解协议)."""

    KIND = "dispute"
    # 司法确认 state, a dispute's own; class-level defaults until its events set them.
    judicial_requested = False
    judicial_confirmed = cast("bool | None", None)

    def _conclude(self, outcome: Outcome, at: datetime) -> None:
        """A new outcome supersedes the agreement before it (rework after a bad rating, a
        reopening): 司法确认 starts over for the agreement now in force, if there is one."""
        super()._conclude(outcome, at)
        self.judicial_requested = False
        self.judicial_confirmed = None

    def _agreement_clocks(self, clocks: Clocks, form: AgreementForm, at: datetime) -> Deadlines:
        """A written agreement opens the 30-day window for 司法确认, with a reminder on day 20."""
        if form is not AgreementForm.WRITTEN:
            return {}
        return {kind.value: clocks.start(kind, self.level, self.tier, at) for kind in _JUDICIAL}

    class JudicialConfirmationRequested(Case.ClocksChanged):
        court: str

        def apply(self, aggregate: CaseState) -> None:
            super().apply(aggregate)
            cast("Dispute", aggregate).judicial_requested = True

    def request_judicial_confirmation(self, actor: Actor, at: datetime, court: str) -> None:
        """Parties ask a court to confirm a written agreement, within 30 days of it."""
        command = c.RequestJudicialConfirmation
        self._require(command, _AGREED)
        window = self.pending(DeadlineKind.JUDICIAL_CONFIRMATION)
        if self.judicial_requested:
            self._refuse(command, "already requested")
        if window is None or at > window.due_at:
            self._refuse(command, "only within 30 days of a written agreement")
        self._emit(
            self.JudicialConfirmationRequested,
            actor,
            at,
            court=text("court", court, 200),
            deadlines=self._without(*_JUDICIAL),
        )

    class JudicialConfirmationRecorded(Case.Event):
        confirmed: bool
        note: str

        def apply(self, aggregate: Dispute) -> None:
            aggregate.judicial_confirmed = self.confirmed

    def record_judicial_confirmation(
        self, actor: Actor, at: datetime, confirmed: bool, note: str
    ) -> None:
        """The court's ruling: confirmed (enforceable) or not."""
        if not self.judicial_requested or self.judicial_confirmed is not None:
            self._refuse(
                c.RecordJudicialConfirmation, "no pending request for judicial confirmation"
            )
        self._emit(
            self.JudicialConfirmationRecorded, actor, at, confirmed=confirmed, note=note.strip()
        )
