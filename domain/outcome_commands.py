"""Commands that work a case to its end: mediation sessions, outcomes, referrals, judicial
confirmation, follow-up, rating, reopening and closing (see ``case_commands.py`` for the
conventions every command method follows).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from domain.actors import Actor
from domain.case import Case
from domain.command_host import ApplicationHost
from domain.dispute import Dispute
from domain.errors import CommandNotAllowedError
from domain.recorded import Recorded
from domain.status import Agency, AgreementForm, Grade


class OutcomeCommands(ApplicationHost):
    """Mixed into ``FengqiaoApplication``."""

    def record_mediation(
        self,
        case_id: UUID,
        actor: Actor,
        held_at: datetime,
        notes: str,
        attendees: list[str],
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id,
            expected_version,
            lambda c: c.record_mediation(actor, now, self.clocks_for(c), held_at, notes, attendees),
        )

    def resolve(
        self,
        case_id: UUID,
        actor: Actor,
        agreement: str,
        form: AgreementForm,
        amount: Decimal | None = None,
        performance_due: str | None = None,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id,
            expected_version,
            lambda c: c.resolve(
                actor, now, self.clocks_for(c), agreement, form, amount, performance_due
            ),
        )

    def terminate(
        self,
        case_id: UUID,
        actor: Actor,
        reason: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id, expected_version, lambda c: c.terminate(actor, now, self.clocks_for(c), reason)
        )

    def refer(
        self,
        case_id: UUID,
        actor: Actor,
        agency: Agency,
        reason: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(case_id, expected_version, lambda c: c.refer(actor, now, agency, reason))

    def answer_referral(
        self,
        case_id: UUID,
        actor: Actor,
        answer: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id,
            expected_version,
            lambda c: c.answer_referral(actor, now, self.clocks_for(c), answer),
        )

    def request_judicial_confirmation(
        self,
        case_id: UUID,
        actor: Actor,
        court: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id,
            expected_version,
            lambda c: _dispute(
                c, "request judicial confirmation for"
            ).request_judicial_confirmation(actor, now, court),
        )

    def record_judicial_confirmation(
        self,
        case_id: UUID,
        actor: Actor,
        confirmed: bool,
        note: str = "",
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id,
            expected_version,
            lambda c: _dispute(c, "record judicial confirmation for").record_judicial_confirmation(
                actor, now, confirmed, note
            ),
        )

    def record_follow_up(
        self,
        case_id: UUID,
        actor: Actor,
        satisfied: bool,
        agreement_honoured: bool | None = None,
        note: str = "",
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id,
            expected_version,
            lambda c: c.record_follow_up(actor, now, satisfied, agreement_honoured, note),
        )

    def rate(
        self,
        case_id: UUID,
        actor: Actor,
        grade: Grade,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id, expected_version, lambda c: c.rate(actor, now, self.clocks_for(c), grade)
        )

    def reopen(
        self,
        case_id: UUID,
        actor: Actor,
        reason: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id, expected_version, lambda c: c.reopen(actor, now, self.clocks_for(c), reason)
        )

    def close_case(
        self,
        case_id: UUID,
        actor: Actor,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        """办结/销号 (not ``close``: the library's ``Application.close`` releases the store)."""
        now = self._now(at)
        return self._act(case_id, expected_version, lambda c: c.close_case(actor, now))


def _dispute(case: Case, command: str) -> Dispute:
    if not isinstance(case, Dispute):
        raise CommandNotAllowedError(
            command, case.status.value, "only disputes have agreements a court can confirm"
        )
    return case
