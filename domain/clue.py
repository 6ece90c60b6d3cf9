"""线索: what a grid worker, a hotline operator or a walk-in tells us before anyone decides
it is a case.

Catching a conflict early is the point of 枫桥经验: a clue is recorded at the village (or
grid) where it was found, with the people it involves and where it came from, and starts a
triage clock (policy ``clue_triage``, one working day by default). Within it a mediator or a
supervisor of the village or a unit above either dismisses it with a reason, or promotes it
into a case (``FengqiaoApplication.promote_clue``: the case links back by ``clue_id`` and the
clue's text becomes the case's first note). The scheduler flags a clue still open when its
clock runs out, once.

The people involved are personal data: they are kept in the events only (which the store
encrypts), never in a view. The watch-list is consulted when the clue is recorded: the key
persons (重点人员) among its people are recorded with it, and raise the level the policy's
risk triggers suggest for it by one step, as they would for a case.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Self
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.actors import Actor, Role
from domain.bounds import decision_time
from domain.calendar import WorkingCalendar
from domain.case import Registration
from domain.clocks import Basis
from domain.errors import (
    CommandNotAllowedError,
    DomainError,
    InvalidInputError,
    NotPermittedError,
)
from domain.intake import KINDS
from domain.jurisdiction import Jurisdiction
from domain.levels import Level, Tier
from domain.parties import Party, validated
from domain.policy import Policy, on_calendar
from domain.risk import Facts
from domain.status import Channel

MAX_SUMMARY = 2000
MAX_REASON = 500
MAX_ATTACHMENTS = 20
MAX_ATTACHMENT_NAME = 200
_SHA256 = re.compile(r"[0-9a-f]{64}")
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")

# who records a clue (网格员, 热线话务员, 调解员, 主管), and who triages it
RECORDERS = frozenset({Role.REPORTER, Role.MEDIATOR, Role.SUPERVISOR, Role.ADMIN})
TRIAGERS = frozenset({Role.MEDIATOR, Role.SUPERVISOR, Role.ADMIN})


class Source(StrEnum):
    """Where a clue came from."""

    GRID = "grid"  # 网格员摸排
    HOTLINE = "hotline"  # 热线
    WALK_IN = "walk_in"  # 来访
    ANONYMOUS = "anonymous"  # 匿名举报
    OTHER = "other"


# the channel a case promoted from a clue of each source reached us by
CHANNEL_OF_SOURCE: dict[Source, Channel] = {
    Source.GRID: Channel.GRID_PATROL,
    Source.HOTLINE: Channel.HOTLINE,
    Source.WALK_IN: Channel.WALK_IN,
    Source.ANONYMOUS: Channel.HOTLINE,  # 匿名举报 arrives by the hotline or its web form
    Source.OTHER: Channel.ONLINE,
}


class ClueStatus(StrEnum):
    OPEN = "open"
    DISMISSED = "dismissed"
    PROMOTED = "promoted"


class ClueClosedError(CommandNotAllowedError):
    """A clue dismissed or promoted is triaged: it takes no second decision."""

    def __init__(self, command: str, status: str, case_number: str = "") -> None:
        detail = f"it was promoted into case {case_number}" if case_number else ""
        message = f"cannot {command} a clue that is {status}"
        DomainError.__init__(self, f"{message}: {detail}" if detail else message)
        self.command = command
        self.status = status
        self.detail = detail
        self.case_number = case_number


class ClueNotFoundError(DomainError):
    """No clue has this id."""

    def __init__(self, clue_id: object) -> None:
        super().__init__(f"clue {clue_id} not found")
        self.clue_id = clue_id


@dataclass(frozen=True)
class AttachmentRef:
    """A file stored in the attachment store, by its content hash: what a clue records of it."""

    sha256: str
    name: str
    media_type: str

    def to_dict(self) -> dict[str, str]:
        return {"sha256": self.sha256, "name": self.name, "media_type": self.media_type}


@dataclass(frozen=True)
class ClueReport:
    """What the person recording a clue tells us."""

    unit: str
    category: str
    summary: str
    source: Source
    parties: tuple[Party, ...] = ()
    attachments: tuple[AttachmentRef, ...] = ()


class Clue(Aggregate):
    """One clue, from its recording to its dismissal or promotion into a case."""

    class Event(Aggregate.Event):
        actor: str
        role: str

    class Recorded(Event, Aggregate.Created):
        unit: str
        village: str  # the village the unit is or lies in: whose clock it is
        township: str  # and the township and county above it, for the views' subtrees
        county: str
        category: str
        summary: str
        source: str
        parties: list[Party]
        attachments: list[dict[str, str]]
        triage_due_at: datetime
        policy_version: str
        key_persons: list[str]
        suggested_level: str
        risk_triggers: list[str]

    class Dismissed(Event):
        reason: str

        def apply(self, clue: Clue) -> None:
            clue.status = ClueStatus.DISMISSED
            clue.reason = self.reason

    class Promoted(Event):
        case_id: str
        case_number: str
        kind: str

        def apply(self, clue: Clue) -> None:
            clue.status = ClueStatus.PROMOTED
            clue.case_id = self.case_id
            clue.case_number = self.case_number

    class TriageOverdueFlagged(Event):
        due_at: datetime

        def apply(self, clue: Clue) -> None:
            clue.triage_overdue = True

    def __init__(
        self,
        actor: str,
        role: str,
        unit: str,
        village: str,
        township: str,
        county: str,
        category: str,
        summary: str,
        source: str,
        parties: list[Party],
        attachments: list[dict[str, str]],
        triage_due_at: datetime,
        policy_version: str,
        key_persons: list[str],
        suggested_level: str,
        risk_triggers: list[str],
    ) -> None:
        self.recorded_by = actor
        self.recorded_role = role
        self.unit = unit
        self.village = village
        self.township = township
        self.county = county
        self.category = category
        self.summary = summary
        self.source = Source(source)
        self.parties = tuple(parties)
        self.attachments = [AttachmentRef(**a) for a in attachments]
        self.triage_due_at = triage_due_at
        self.policy_version = policy_version
        self.key_persons = list(key_persons)
        self.suggested_level = suggested_level
        self.risk_triggers = list(risk_triggers)
        self.status = ClueStatus.OPEN
        self.triage_overdue = False
        self.reason = ""
        self.case_id = ""
        self.case_number = ""

    @classmethod
    def record(
        cls,
        clue_id: UUID,
        actor: Actor,
        at: datetime,
        units: Jurisdiction,
        policy: Policy,
        report: ClueReport,
        triage_due_at: datetime,
        key_persons: Sequence[UUID] = (),
    ) -> Self:
        """记录线索 at a village or grid within the actor's unit. ``triage_due_at`` is the
        policy's ``clue_triage`` from ``at`` (the application computes it on the working
        calendar); ``key_persons`` are those of the watch-list among its people."""
        decision_time(at)
        if actor.role not in RECORDERS:
            raise NotPermittedError("record a clue", "a reporter, a mediator or a supervisor")
        location = units.get(report.unit)
        if location.tier not in (Tier.VILLAGE, Tier.GRID):
            raise InvalidInputError(
                "unit", "a clue is recorded at a village or a grid", "clue_unit"
            )
        category = clue_category(policy, report.category)
        summary = policy.intake.summary(report.summary)
        parties = list(validated(list(report.parties)))
        attachments = [checked_attachment(i, a) for i, a in enumerate(report.attachments)]
        suggestion = policy.risk.suggest(clue_facts(category, parties, bool(key_persons)))
        return cls._create(
            cls.Recorded,
            id=clue_id,
            timestamp=at,
            actor=actor.user,
            role=actor.role.value,
            unit=location.code,
            village=units.at_tier(location.code, Tier.VILLAGE).code,
            township=units.at_tier(location.code, Tier.TOWNSHIP).code,
            county=units.at_tier(location.code, Tier.COUNTY).code,
            category=category,
            summary=summary,
            source=Source(report.source).value,
            parties=parties,
            attachments=attachments,
            triage_due_at=triage_due_at,
            policy_version=policy.version,
            key_persons=[str(person) for person in key_persons],
            suggested_level=suggestion.level.value,
            risk_triggers=list(suggestion.triggers),
        )

    # --- commands -------------------------------------------------------------------------

    def dismiss(self, actor: Actor, at: datetime, reason: str) -> None:
        """不予立案: the clue needs no case, for the reason given."""
        self._require_open("dismiss")
        self._require_triager("dismiss a clue", actor)
        cleaned = reason.strip() if isinstance(reason, str) else ""
        if not cleaned or "\x00" in cleaned or len(cleaned) > MAX_REASON:
            raise InvalidInputError(
                "reason", f"must be 1 to {MAX_REASON} characters", "length",
                {"min": 1, "max": MAX_REASON},
            )  # fmt: skip
        self._emit(self.Dismissed, actor, at, reason=cleaned)

    def promote(self, actor: Actor, at: datetime, case_id: UUID, number: str, kind: str) -> None:
        """转为案件: records the case the clue became (saved with it in one transaction)."""
        self._require_open("promote")
        self._require_triager("promote a clue", actor)
        self._emit(self.Promoted, actor, at, case_id=str(case_id), case_number=number, kind=kind)

    def check_promotable(self, actor: Actor) -> None:
        """Refuses before a case is built for a clue that cannot be promoted."""
        self._require_open("promote")
        self._require_triager("promote a clue", actor)

    def flag_triage_overdue(self, actor: Actor, at: datetime, due_at: datetime) -> bool:
        """The scheduler: the triage clock ``due_at`` ran out with the clue still open. Once,
        and only for the clue's own clock; False when there is nothing to do."""
        if self.status is not ClueStatus.OPEN or self.triage_overdue:
            return False
        if due_at != self.triage_due_at or at < due_at:
            return False
        self._emit(self.TriageOverdueFlagged, actor, at, due_at=due_at)
        return True

    # --- reading ----------------------------------------------------------------------------

    @property
    def recorded_at(self) -> datetime:
        return self.created_on

    @property
    def is_open(self) -> bool:
        return self.status is ClueStatus.OPEN

    def registration(self, level: Level | None = None) -> Registration:
        """The case this clue becomes: its place, category, text and people, by the channel
        its source reached us by, reported by whoever recorded the clue."""
        return Registration(
            category=self.category,
            summary=self.summary,
            unit=self.unit,
            channel=CHANNEL_OF_SOURCE[self.source],
            level=level or Level.YELLOW,
            parties=self.parties,
            people_involved=max(len(self.parties), 1),
            reporter=self.recorded_by,
        )

    # --- guards -----------------------------------------------------------------------------

    def _require_open(self, command: str) -> None:
        if self.status is not ClueStatus.OPEN:
            raise ClueClosedError(command, self.status.value, self.case_number)

    @staticmethod
    def _require_triager(command: str, actor: Actor) -> None:
        if actor.role not in TRIAGERS:
            raise NotPermittedError(command, "a mediator or a supervisor")

    def _emit(self, event_class: type[Any], actor: Actor, at: datetime, **fields: Any) -> None:
        decision_time(at)
        if at < self.modified_on:
            raise InvalidInputError("at", f"earlier than the clue's last change {self.modified_on}")
        self.trigger_event(
            event_class, actor=actor.user, role=actor.role.value, timestamp=at, **fields
        )


def triage_deadline(policy: Policy, calendar: WorkingCalendar, at: datetime) -> datetime:
    """When a clue recorded at ``at`` must be triaged by: the policy's ``clue_triage`` on the
    working calendar (whole working days), or plain elapsed time for a calendar duration."""
    rule = policy.clue_triage
    if rule.basis is Basis.WORKING_DAYS:
        return on_calendar(calendar, rule, at, halve=False)
    return at + rule.as_timedelta()


def clue_category(policy: Policy, value: str) -> str:
    """A category of either kind of case: what the clue turns into is decided at triage."""
    refusal: InvalidInputError | None = None
    for kind in KINDS:
        try:
            return policy.intake.category(kind, value)
        except InvalidInputError as error:
            refusal = refusal or error
    words = tuple(dict.fromkeys(w for kind in KINDS for w in policy.intake.words(kind)))
    raise InvalidInputError(
        "category", f"must be one of: {', '.join(words)}", "one_of", {"choices": words}
    ) from refusal


def checked_attachment(index: int, ref: AttachmentRef) -> dict[str, str]:
    """An attachment reference as stored: a SHA-256 in lower-case hex, a name, a media type."""
    where = f"attachments[{index}]"
    if index >= MAX_ATTACHMENTS:
        raise InvalidInputError(
            "attachments", f"at most {MAX_ATTACHMENTS} attachments", "max_items",
            {"limit": MAX_ATTACHMENTS, "count": index + 1},
        )  # fmt: skip
    if not _SHA256.fullmatch(ref.sha256):
        raise InvalidInputError(f"{where}.sha256", "must be 64 lower-case hexadecimal digits")
    name = ref.name.strip()
    if not name or len(name) > MAX_ATTACHMENT_NAME or "\x00" in name:
        raise InvalidInputError(
            f"{where}.name", f"must be 1 to {MAX_ATTACHMENT_NAME} characters", "length",
            {"min": 1, "max": MAX_ATTACHMENT_NAME},
        )  # fmt: skip
    if not _MEDIA_TYPE.fullmatch(ref.media_type.lower()):
        raise InvalidInputError(f"{where}.media_type", "must be a media type like image/jpeg")
    return {"sha256": ref.sha256, "name": name, "media_type": ref.media_type.lower()}


def clue_facts(category: str, parties: Sequence[Any], key_person: bool) -> Facts:
    """The risk facts a clue gives: its category, how many people, a key person among them."""
    return Facts(category, max(len(parties), 1), key_person=key_person)
