"""Disputes (矛盾纠纷): parties, mediation, an agreement and its judicial confirmation."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from domain.actors import Actor
from domain.case import Case
from domain.case_base import CaseFoundation, _stored
from domain.clocks import Deadline, DeadlineKind
from domain.errors import CommandNotAllowedError
from domain.policy import Clocks
from domain.status import AgreementForm, Status

_AGREED = frozenset({Status.RESOLVED, Status.FOLLOWED_UP, Status.CLOSED})
_JUDICIAL = (DeadlineKind.JUDICIAL_REMINDER, DeadlineKind.JUDICIAL_CONFIRMATION)


class Dispute(Case):
    """A dispute between parties, worked towards an agreement (调解协议)."""

    KIND = "dispute"

    def _agreement_clocks(
        self, clocks: Clocks, form: AgreementForm, at: datetime
    ) -> dict[str, Deadline]:
        """A written agreement opens the 30-day window for 司法确认, with a reminder on day 20."""
        if form is not AgreementForm.WRITTEN:
            return {}
        return {kind.value: clocks.start(kind, self.level, self.tier, at) for kind in _JUDICIAL}

    class JudicialConfirmationRequested(Case.ClocksChanged):
        court: str

        def apply(self, aggregate: CaseFoundation) -> None:
            super().apply(aggregate)
            cast("Dispute", aggregate).judicial_requested = True

    def request_judicial_confirmation(self, actor: Actor, at: datetime, court: str) -> None:
        """Parties ask a court to confirm a written agreement, within 30 days of it."""
        self._require("request judicial confirmation for", _AGREED)
        window = self.pending(DeadlineKind.JUDICIAL_CONFIRMATION)
        if self.judicial_requested:
            raise CommandNotAllowedError(
                "request judicial confirmation for", self.status.value, "already requested"
            )
        if window is None or at > window.due_at:
            raise CommandNotAllowedError(
                "request judicial confirmation for",
                self.status.value,
                "only within 30 days of a written agreement",
            )
        remaining = self._without(*_JUDICIAL)
        self._emit(
            self.JudicialConfirmationRequested,
            actor,
            at,
            court=self._text("court", court, 200),
            deadlines=_stored(remaining),
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
            raise CommandNotAllowedError(
                "record judicial confirmation for",
                self.status.value,
                "no pending request for judicial confirmation",
            )
        self._emit(
            self.JudicialConfirmationRecorded, actor, at, confirmed=confirmed, note=note.strip()
        )
