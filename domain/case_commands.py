"""Commands that take in, hold and move a case: assessing and levels, signing, assigning,
escalating and returning, pausing, deadlines, rejection and notes.

Every method takes the acting user and, optionally, the time it happened (``at``; default the
application's clock) and the version the caller last saw (``expected_version``). Loading,
retrying and saving is ``FengqiaoApplication._act``; a method only says what the case decides.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.actors import Actor
from domain.command_host import ApplicationHost
from domain.levels import Level
from domain.recorded import Recorded

__all__ = ["CaseCommands", "Recorded"]


class CaseCommands(ApplicationHost):
    """Mixed into ``FengqiaoApplication``."""

    def assess(
        self,
        case_id: UUID,
        actor: Actor,
        level: Level,
        triggers: list[str],
        reason: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id,
            expected_version,
            lambda c: c.assess(
                actor, now, self.units(), self.clocks_for(c), level, triggers, reason
            ),
        )

    def raise_level(
        self,
        case_id: UUID,
        actor: Actor,
        level: Level,
        reason: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id,
            expected_version,
            lambda c: c.raise_level(actor, now, self.units(), self.clocks_for(c), level, reason),
        )

    def lower_level(
        self,
        case_id: UUID,
        actor: Actor,
        level: Level,
        reason: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id,
            expected_version,
            lambda c: c.lower_level(actor, now, self.units(), self.clocks_for(c), level, reason),
        )

    def sign(
        self,
        case_id: UUID,
        actor: Actor,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(case_id, expected_version, lambda c: c.sign(actor, now))

    def assign(
        self,
        case_id: UUID,
        actor: Actor,
        assignee: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(case_id, expected_version, lambda c: c.assign(actor, now, assignee))

    def return_case(
        self,
        case_id: UUID,
        actor: Actor,
        reason: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id,
            expected_version,
            lambda c: c.return_case(actor, now, self.clocks_for(c), self.units(), reason),
        )

    def escalate(
        self,
        case_id: UUID,
        actor: Actor,
        reason: str,
        other_unit: str | None = None,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        units = self._units_knowing(other_unit) if other_unit else self.units()
        return self._act(
            case_id,
            expected_version,
            lambda c: c.escalate(actor, now, units, self.clocks_for(c), reason, other_unit),
        )

    def pause(
        self,
        case_id: UUID,
        actor: Actor,
        reason: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(case_id, expected_version, lambda c: c.pause(actor, now, reason))

    def resume(
        self,
        case_id: UUID,
        actor: Actor,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(case_id, expected_version, lambda c: c.resume(actor, now))

    def extend_deadline(
        self,
        case_id: UUID,
        actor: Actor,
        until: datetime,
        reason: str,
        kind: str = "resolve",
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id, expected_version, lambda c: c.extend_deadline(actor, now, until, reason, kind)
        )

    def reject(
        self,
        case_id: UUID,
        actor: Actor,
        reason: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(case_id, expected_version, lambda c: c.reject(actor, now, reason))

    def add_note(
        self,
        case_id: UUID,
        actor: Actor,
        text: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(case_id, expected_version, lambda c: c.add_note(actor, now, text))

    def add_attachment(
        self,
        case_id: UUID,
        actor: Actor,
        name: str,
        media_type: str,
        size: int,
        sha256: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Recorded:
        now = self._now(at)
        return self._act(
            case_id,
            expected_version,
            lambda c: c.add_attachment(actor, now, name, media_type, size, sha256),
        )
