"""督查回访 on one case: sampled by a township's monthly draw (``domain.inspection``), called
back by an inspector (督查) of the county or the city above it.

Sampling starts an inspection clock (the policy's ``[inspection] due``, 10 working days by
default) that runs whatever the case does meanwhile: the callback is owed by the inspectors,
not by the unit that worked the case, so a pause, a reopening or a closing leaves it running.
Once it is due unanswered the case is flagged ``inspection_overdue`` until the callback is
recorded. The callback is recorded once per sample: whether the parties were reached, whether
they are satisfied, whether the agreement was honoured, the inspector's remarks, and whether
the case goes back for rework (reopened on the policy's rework clock, cause ``inspection``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import cast
from uuid import UUID

from domain.actors import Actor
from domain.case import commands as c
from domain.case._outcomes import Outcomes
from domain.case._state import CaseState, optional_text
from domain.clocks import DeadlineKind
from domain.errors import InvalidInputError
from domain.jurisdiction import Jurisdiction
from domain.policy import Clocks
from domain.status import CONCLUDED, Flag, ReopenCause, Status

# Why a case the inspectors sent back is worked again (its ``Reopened`` reason).
REWORK_REASON = "督查回访发现问题，退回重新办理"
REMARKS_LIMIT = 4000


@dataclass(frozen=True)
class InspectionSample:
    """The case's current 督查 sample: the draw that picked it (township and month), when the
    callback is due, and once recorded, when and what it found."""

    draw: str
    township: str
    month: str
    due_at: datetime
    recorded_at: datetime | None = None
    reached: bool | None = None
    satisfied: bool | None = None
    agreement_honoured: bool | None = None
    rework: bool = False

    @property
    def recorded(self) -> bool:
        return self.recorded_at is not None


class Inspection(Outcomes):
    """Sampled by a draw; the inspector's callback."""

    # The current sample, if any; a class default the events replace on the case (an annotated
    # attribute would make this part a dataclass).
    inspection = cast("InspectionSample | None", None)

    class InspectionSampled(CaseState.ClocksChanged):
        """督查抽查: a township's monthly draw picked the case; the callback is due by
        ``due_at`` (its ``inspection`` clock)."""

        draw: str  # the draw's id (``domain.inspection.draw_id``)
        township: str
        month: str  # 2026-10
        due_at: datetime

        def apply(self, aggregate: CaseState) -> None:
            super().apply(aggregate)
            sample = InspectionSample(self.draw, self.township, self.month, self.due_at)
            _inspected(aggregate).inspection = sample

    def sample_for_inspection(
        self,
        actor: Actor,
        at: datetime,
        clocks: Clocks,
        units: Jurisdiction,
        draw: UUID,
        township: str,
        month: str,
    ) -> None:
        """The draw of ``township`` for ``month`` picked this case: its callback clock starts
        (a new draw's sample replaces one not yet called back)."""
        if not units.is_within(self.unit, township):
            raise InvalidInputError("population", f"case {self.id} is not located in {township}")
        clock = clocks.start(DeadlineKind.INSPECTION, self.level, self.tier, at)
        self._emit(
            self.InspectionSampled,
            actor,
            at,
            draw=str(draw),
            township=township,
            month=month,
            due_at=clock.due_at,
            deadlines={**self.deadlines, DeadlineKind.INSPECTION.value: clock},
        )

    class InspectionRecorded(CaseState.ClocksChanged):
        """督查回访: what the inspector found when calling the parties back (``remarks`` is a
        recorded text: in the case file, not the timeline); ``rework`` sent the case back."""

        draw: str
        due_at: datetime  # when the callback was due
        reached: bool
        satisfied: bool | None
        agreement_honoured: bool | None
        remarks: str
        rework: bool

        def apply(self, aggregate: CaseState) -> None:
            super().apply(aggregate)
            case = _inspected(aggregate)
            if case.inspection is not None:
                case.inspection = replace(
                    case.inspection,
                    recorded_at=self.timestamp,
                    reached=self.reached,
                    satisfied=self.satisfied,
                    agreement_honoured=self.agreement_honoured,
                    rework=self.rework,
                )
            aggregate.flags.discard(Flag.INSPECTION_OVERDUE)

    def record_inspection(
        self,
        actor: Actor,
        at: datetime,
        clocks: Clocks,
        reached: bool,
        satisfied: bool | None,
        agreement_honoured: bool | None,
        remarks: str,
        rework: bool,
    ) -> None:
        """督查回访: once per sample. A party not reached said nothing (no satisfaction, no
        word on the agreement); one reached is asked whether they are satisfied. ``rework``
        reopens a concluded or closed case on the rework clock (cause ``inspection``)."""
        sample = self.inspection
        if sample is None:
            self._refuse(c.RecordInspection, "the case was not sampled for inspection")
        if sample.recorded:
            self._refuse(c.RecordInspection, "the inspection is recorded already")
        if not reached and (satisfied is not None or agreement_honoured is not None):
            raise InvalidInputError(
                "satisfied", "the parties were not reached: leave satisfied and honoured out"
            )
        if reached and satisfied is None:
            raise InvalidInputError(
                "satisfied", "say whether the parties reached are satisfied", "required"
            )
        said = optional_text("remarks", remarks, REMARKS_LIMIT)
        clock = self.pending(DeadlineKind.INSPECTION)  # moved, if the calendar facts changed
        due = sample.due_at if clock is None else clock.due_at
        if rework:
            self._require(
                c.RecordInspection,
                CONCLUDED | {Status.CLOSED},
                "the case is being worked again already: record it without rework",
            )
        self._emit(
            self.InspectionRecorded,
            actor,
            at,
            draw=sample.draw,
            due_at=due,
            reached=reached,
            satisfied=satisfied,
            agreement_honoured=agreement_honoured,
            remarks=said,
            rework=rework,
            deadlines=self._without(DeadlineKind.INSPECTION),
        )
        if rework:
            self._reopen(actor, at, clocks, ReopenCause.INSPECTION, REWORK_REASON)


def _inspected(aggregate: CaseState) -> Inspection:
    if not isinstance(aggregate, Inspection):  # pragma: no cover - every case is one
        raise TypeError(type(aggregate).__name__)
    return aggregate
