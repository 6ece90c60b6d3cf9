"""A village's screening report (排查报告) for one period: the clues its grid found, or a 零报告.

One aggregate per village and period, its id derived from them (``report_id``), so whoever
files or marks it second — a second grid worker, a retried request, a second scheduler —
finds the first. It is opened with what the village owes (``Opened``: the village, its
township and county, the period and its due time, frozen from the policy in force), and then
either filed (``Filed``: the clues found, or ``zero`` with the worker's declaration) or, once
the due time has passed with nothing filed, marked missed by the scheduler (``Missed``). A
report filed after its due time is a late one (``late``), whether or not the miss was recorded
first; a village files once per period, and a second filing is refused rather than silently
dropped (the second filer's clues would otherwise vanish without anyone being told).

The rules for periods and due times are ``domain.screening``'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.actors import Actor, Role
from domain.errors import InvalidInputError, NotPermittedError
from domain.jurisdiction import Jurisdiction, Unit
from domain.levels import Tier
from domain.screening import Period

# uuid5 namespace of the reports' ids; fixed forever, since stored reports are found by it
REPORTS_NAMESPACE = UUID("0f6b2c7e-93a4-5d1e-8b3f-2e7c91a4d605")
MAX_CLUES = 500  # clues one report lists
MAX_DECLARATION = 2000  # characters of a 零报告's declaration
FILE_COMMAND = "file a screening report"
FILERS_NEEDED = "the village's grid worker, or a mediator or supervisor of the village or above"
_FILERS_ABOVE = frozenset({Role.MEDIATOR, Role.SUPERVISOR, Role.ADMIN})

# A report's state: filed by its due time with clues, a 零报告 filed by its due time, filed
# after it, marked missed (and not filed since)
FILED = "filed"
ZERO = "zero"
LATE = "late"
MISSED = "missed"


def report_id(village: str, period: Period) -> UUID:
    """The id of ``village``'s report for ``period``: the same for every caller."""
    return uuid5(REPORTS_NAMESPACE, f"{village}/{period.id}")


def village_of(units: Jurisdiction, code: str, field: str = "unit") -> Unit:
    """The village ``code`` names; refused when it is not a village of the tree."""
    if code not in units or units.get(code).tier is not Tier.VILLAGE:
        raise InvalidInputError(field, f"{code!r} is not a village", "village", {"unit": code})
    return units.get(code)


def may_file(actor: Actor, units: Jurisdiction, village: str) -> bool:
    """The village's own grid worker (a reporter of the village or one of its grids), or a
    mediator, supervisor or admin of the village or a unit above it."""
    if actor.unit not in units:
        return False
    if actor.role is Role.REPORTER:
        return units.is_within(actor.unit, village)
    return actor.role in _FILERS_ABOVE and units.is_within(village, actor.unit)


class ScreeningReport(Aggregate):
    """What one village owes for one period, and what became of it."""

    class Opened(Aggregate.Created):
        village: str
        township: str
        county: str
        period: str  # 2026-10, or 2026-Q4
        due_at: datetime

    class Filed(Aggregate.Event):
        actor: str
        role: str
        clue_ids: list[str]  # sorted; empty for a 零报告
        zero: bool
        declaration: str  # the 零报告's declaration; empty otherwise
        late: bool

        def apply(self, aggregate: ScreeningReport) -> None:
            aggregate.filed_at = self.timestamp
            aggregate.filed_by = self.actor
            aggregate.clue_ids = list(self.clue_ids)
            aggregate.zero = self.zero
            aggregate.declaration = self.declaration
            aggregate.late = self.late

    class Missed(Aggregate.Event):
        actor: str

        def apply(self, aggregate: ScreeningReport) -> None:
            aggregate.missed_at = self.timestamp

    def __init__(self, village: str, township: str, county: str, period: str, due_at: datetime):
        self.village = village
        self.township = township
        self.county = county
        self.period = period
        self.due_at = due_at
        self.filed_at: datetime | None = None
        self.filed_by: str | None = None
        self.missed_at: datetime | None = None
        self.clue_ids: list[str] = []
        self.zero = False
        self.declaration = ""
        self.late = False

    @classmethod
    def open(
        cls, units: Jurisdiction, village: str, period: Period, due_at: datetime, at: datetime
    ) -> ScreeningReport:
        """What ``village`` owes for ``period``, due at ``due_at``; nothing filed yet."""
        unit = village_of(units, village)
        township = unit.parent or ""
        county = units.get(township).parent or "" if township else ""
        return cls._create(
            cls.Opened,
            id=report_id(village, period),
            timestamp=at,
            village=unit.code,
            township=township,
            county=county,
            period=period.id,
            due_at=due_at,
        )

    # --- commands -------------------------------------------------------------------------

    def file(
        self,
        actor: Actor,
        units: Jurisdiction,
        period: Period,
        clues: Mapping[str, str | None],
        zero: bool,
        declaration: str,
        at: datetime,
    ) -> None:
        """Files the report: ``clues`` (each clue id found, with the unit the clue is located
        at, None for no such clue), each located in the village's subtree; or ``zero`` with
        the declaration that nothing was found. A period not yet begun is refused."""
        if not may_file(actor, units, self.village):
            raise NotPermittedError(FILE_COMMAND, FILERS_NEEDED)
        if at < period.start:
            raise InvalidInputError(
                "period", f"{period.id} has not begun", "period_future", {"period": period.id}
            )
        if self.filed_at is not None:
            raise InvalidInputError(
                "period",
                f"{self.village} filed its report for {period.id} already",
                "screening_filed",
                {"period": period.id, "filed_at": self.filed_at},
            )
        text = declaration.strip() if isinstance(declaration, str) else ""
        found = _checked_clues(units, self.village, clues, zero)
        if zero and not text:
            raise InvalidInputError(
                "declaration", "a 零报告 needs the declaration that nothing was found", "required"
            )
        if len(text) > MAX_DECLARATION:
            raise InvalidInputError(
                "declaration",
                f"at most {MAX_DECLARATION} characters",
                "max_length",
                {"max": MAX_DECLARATION},
            )
        if "\x00" in text:
            raise InvalidInputError("declaration", "must not contain NUL", "no_nul")
        self.trigger_event(
            self.Filed,
            timestamp=at,
            actor=actor.user,
            role=actor.role.value,
            clue_ids=found,
            zero=zero,
            declaration=text if zero else "",
            late=at >= self.due_at or self.missed_at is not None,
        )

    def mark_missed(self, actor: Actor, at: datetime) -> bool:
        """Records that nothing was filed by the due time; False (nothing recorded) when the
        report was filed or marked already, or is not due yet."""
        if self.filed_at is not None or self.missed_at is not None or at < self.due_at:
            return False
        self.trigger_event(self.Missed, timestamp=at, actor=actor.user)
        return True

    # --- reading --------------------------------------------------------------------------

    @property
    def state(self) -> str | None:
        """filed, zero, late or missed; None while nothing was filed or missed."""
        if self.filed_at is not None:
            return LATE if self.late else (ZERO if self.zero else FILED)
        return MISSED if self.missed_at is not None else None


def _checked_clues(
    units: Jurisdiction, village: str, clues: Mapping[str, str | None], zero: bool
) -> list[str]:
    """The clue ids, sorted, once each: every one a clue located in the village's subtree;
    none for a 零报告, at least one otherwise."""
    ids = sorted(clues)
    if zero and ids:
        raise InvalidInputError(
            "clue_ids", "a 零报告 lists no clues: file the clues found instead", "zero_with_clues"
        )
    if not zero and not ids:
        raise InvalidInputError(
            "clue_ids", "list the clues found, or file a 零报告", "screening_empty"
        )
    if len(ids) > MAX_CLUES:
        raise InvalidInputError(
            "clue_ids",
            f"at most {MAX_CLUES} clues",
            "max_items",
            {"limit": MAX_CLUES, "count": len(ids)},
        )
    for index, clue_id in enumerate(ids):
        unit = clues[clue_id]
        if unit is None or unit not in units or not units.is_within(unit, village):
            raise InvalidInputError(
                f"clue_ids[{index}]",
                f"{clue_id} is not a clue found in {village}",
                "clue_in_village",
                {"clue": clue_id, "village": village},
            )
    return ids


def parse_clue_ids(values: Sequence[str]) -> list[str]:
    """Clue ids as given, each a UUID, in its canonical form; refused otherwise."""
    found = []
    for index, value in enumerate(values):
        try:
            found.append(str(UUID(str(value))))
        except ValueError:
            raise InvalidInputError(
                f"clue_ids[{index}]", "must be a clue id (a UUID)", "clue_id"
            ) from None
    return found


@dataclass(frozen=True)
class ScreeningAnswer:
    """What filing did: the report as it now stands and the log position of what was saved."""

    report: ScreeningReport
    position: int | None
