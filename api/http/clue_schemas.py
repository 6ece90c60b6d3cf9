"""线索: the payloads and answers of ``/clues`` (``api.http.routes.clues``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from api.http.schemas import NO_NUL, CaseOut, Command, Kind, LevelName, PartyIn, PartyOut
from domain.parties import MAX_PARTIES

SourceName = Literal["grid", "hotline", "walk_in", "anonymous", "other"]
ClueState = Literal["open", "overdue", "dismissed", "promoted"]


class ClueAttachmentIn(Command):
    """A file already in the attachment store, by the SHA-256 of its bytes."""

    sha256: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_NUL)]
    media_type: Annotated[str, msgspec.Meta(min_length=3, max_length=100, pattern=NO_NUL)]


class RecordClue(Command):
    """记录线索: where it was found (a village or grid), what and who, and where it came from."""

    unit: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_NUL)]
    category: Annotated[str, msgspec.Meta(min_length=1, max_length=50, pattern=NO_NUL)]
    summary: Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=NO_NUL)]
    source: SourceName
    parties: Annotated[list[PartyIn], msgspec.Meta(max_length=MAX_PARTIES)] = msgspec.field(
        default_factory=list
    )
    attachments: Annotated[list[ClueAttachmentIn], msgspec.Meta(max_length=20)] = msgspec.field(
        default_factory=list
    )


class DismissClue(Command):
    """不予立案, with the reason."""

    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=NO_NUL)]


class PromoteClue(Command):
    """转为案件: a dispute or an incident, at a level (default yellow; the risk triggers may
    raise it)."""

    kind: Kind
    level: LevelName | None = None


class ClueAttachmentOut(msgspec.Struct, kw_only=True):
    sha256: str
    name: str
    media_type: str


class ClueOut(msgspec.Struct, kw_only=True):
    """One clue, its people masked like a case's parties."""

    id: str
    unit: str
    village: str
    township: str
    county: str
    category: str
    summary: str
    source: str
    status: str  # open, dismissed, promoted
    overdue: bool  # its triage clock ran out while it was open
    recorded_at: datetime
    recorded_by: str
    triage_due_at: datetime
    key_person: bool  # the watch-list named one of its people (重点人员)
    suggested_level: str
    risk_triggers: list[str]
    parties: list[PartyOut]
    attachments: list[ClueAttachmentOut]
    reason: str | None  # why it was dismissed
    case_id: str | None
    case_number: str | None
    version: int


class ClueItemOut(msgspec.Struct, kw_only=True):
    """A clue in a queue: no one's name, only how many people."""

    id: str
    unit: str
    village: str
    category: str
    summary: str
    source: str
    status: str
    overdue: bool
    recorded_at: datetime
    triage_due_at: datetime
    key_person: bool
    suggested_level: str
    people: int
    case_id: str | None
    case_number: str | None


class ClueListOut(msgspec.Struct, kw_only=True):
    unit: str
    now: datetime
    items: list[ClueItemOut]


class PromotionOut(msgspec.Struct, kw_only=True):
    """The clue as promoted, and the case it became."""

    clue: ClueOut
    case: CaseOut


class ClueCountsOut(msgspec.Struct, kw_only=True):
    unit: str
    recorded: int
    open: int
    overdue: int
    dismissed: int
    promoted: int
    share_promoted: float | None  # of the clues triaged (dismissed or promoted)


class ClueStatisticsOut(msgspec.Struct, kw_only=True):
    unit: str
    period: str
    start: datetime
    end: datetime
    total: ClueCountsOut
    units: list[ClueCountsOut]  # each unit directly below
