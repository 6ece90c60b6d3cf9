"""排查: the payloads and answers of ``/screening`` (``api.http.routes.screening``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from api.http.schemas import NO_NUL, Command, ShortText

# a grid cell: filed on time with clues, a 零报告 on time, filed late, nothing filed once due,
# not yet due, or a period begun before screening did
CellState = Literal["filed", "zero", "late", "missed", "pending", "not_owed"]
ClueId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=NO_NUL)]


class FileScreeningReport(Command):
    """排查报告: a village's report for a period (``2026-10``; ``2026-Q4`` when the policy's
    periods are quarterly): the clues found there (``clue_ids``), or a 零报告 (``zero``) with
    the grid worker's ``declaration`` that nothing was found. Once per village and period."""

    unit: ShortText
    period: Annotated[str, msgspec.Meta(min_length=1, max_length=20, pattern=NO_NUL)]
    clue_ids: Annotated[list[ClueId], msgspec.Meta(max_length=500)] = msgspec.field(
        default_factory=list
    )
    zero: bool = False
    declaration: Annotated[str, msgspec.Meta(max_length=2000, pattern=NO_NUL)] = ""


class ScreeningReportOut(msgspec.Struct, kw_only=True):
    """A village's report for a period as filed: its state (filed, zero, late), whether it came
    after its due time, and when."""

    id: str
    unit: str
    township: str
    county: str
    period: str
    due_at: datetime
    state: Literal["filed", "zero", "late", "missed"]
    zero: bool
    late: bool
    clue_ids: list[str]
    declaration: str
    filed_at: datetime | None
    filed_by: str | None
    missed_at: datetime | None


class CellOut(msgspec.Struct, kw_only=True):
    period: str
    state: CellState
    zero: bool
    clues: int
    filed_at: datetime | None


class GridRowOut(msgspec.Struct, kw_only=True):
    village: str
    name: str
    township: str
    cells: list[CellOut]


class CompletionOut(msgspec.Struct, kw_only=True):
    """Villages × periods (oldest first) of a township or county, as of ``now``."""

    unit: str
    now: datetime
    periods: list[str]
    due: list[datetime]
    rows: list[GridRowOut]


class MissingReportOut(msgspec.Struct, kw_only=True):
    village: str
    township: str
    period: str
    due_at: datetime
    missed_at: datetime | None


class MissingOut(msgspec.Struct, kw_only=True):
    """The township's queue of missing reports: misses the scheduler recorded and nobody has
    filed since, latest period first."""

    unit: str
    items: list[MissingReportOut]


class ScreeningStatisticsOut(msgspec.Struct, kw_only=True):
    """A unit's screening of one period: villages owing a report, filed on time, late,
    missing (due, nothing filed), pending (not yet due), 零报告, clues found, and the share
    filed on time."""

    unit: str
    period: str
    due_at: datetime
    villages: int
    on_time: int
    late: int
    missing: int
    pending: int
    zero: int
    clues: int
    on_time_share: float | None
