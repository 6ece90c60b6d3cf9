"""重点人员: the payloads and answers of ``/key-persons`` (``api.http.routes.key_persons``).

No answer carries an ID number or a phone: the list holds fingerprints only, and a name is
shown masked (张*明).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from api.http.schemas import NO_NUL, Command

KeyPersonState = Literal["active", "visit_overdue", "review_due", "removed", "all"]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=NO_NUL)]


class FlagKeyPerson(Command):
    """标记重点人员: a party of a case (``case_id`` and ``party``, its index from 0), or a
    person typed in (``name`` and an ``id_number`` or a ``phone``); the reason, and the day
    to review the flag by."""

    reason: Text
    review_on: date
    case_id: str | None = None
    party: Annotated[int, msgspec.Meta(ge=0, le=1000)] | None = None
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=NO_NUL)] | None = None
    id_number: Annotated[str, msgspec.Meta(max_length=40, pattern=NO_NUL)] | None = None
    phone: Annotated[str, msgspec.Meta(max_length=40, pattern=NO_NUL)] | None = None


class AssignLeader(Command):
    """包案: the leader (a supervisor of the owning unit or above), by user id."""

    leader: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=NO_NUL)]


class RecordVisit(Command):
    """走访: what the visit found."""

    note: Text


class ReviewKeyPerson(Command):
    """复查: kept on the list until ``review_on``."""

    note: Text
    review_on: date


class UnflagKeyPerson(Command):
    """移出重点人员名单, with the reason."""

    reason: Text


class KeyPersonOut(msgspec.Struct, kw_only=True):
    id: str
    name: str  # masked
    reason: str
    unit: str
    active: bool
    flagged_at: datetime
    review_at: datetime
    review_due: bool
    leader: str | None
    visit_due_at: datetime | None
    visit_overdue: bool
    last_visit_at: datetime | None
    visits: int
    source_case: str | None
    new: bool = False  # a flagging: whether it put the person on the list (False: already on it)


class KeyPersonListOut(msgspec.Struct, kw_only=True):
    unit: str
    state: str
    now: datetime
    items: list[KeyPersonOut]
