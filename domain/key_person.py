"""重点人员: a person a supervisor keeps watch over, because their disputes tend to grow.

A supervisor flags a person with a reason and a date to review the flag by; a 包案 leader (a
supervisor of the owning unit or above) may be assigned, who then owes the person a visit at
the policy's interval (``key_person_visit``, a week). Any new case involving a key person is
found at registration (``domain.repeats.WatchList``) and suggested one level higher.

The list must not become the most valuable table to steal, so the aggregate records no ID
number and no phone: only their fingerprints (``domain.fingerprints``), which match the same
person however the number is typed and name nobody without the key. The person's name is in
the events (the store encrypts them) so that the people who act on the list know whom they
visit; the views hold it masked.

A person's id is derived from their first fingerprint (the ID number's, else the phone's): a
supervisor who flags someone already on the list finds that flag and changes nothing, and
someone taken off the list is put back on it (``Reflagged``) rather than listed twice.

Two clocks are kept on the aggregate, each flagged once per due time by the scheduler: the
next visit (``VisitOverdueFlagged``) and the review date (``ReviewDueFlagged``). A flag the
scheduler asks for again, or for a due time that has moved on, changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.actors import Actor, Role
from domain.calendar import SHANGHAI, WorkingCalendar, start_of_day
from domain.clocks import Basis, Duration
from domain.directory import Directory
from domain.errors import InvalidInputError, KeyPersonRemovedError, NotPermittedError
from domain.fingerprints import Fingerprints
from domain.jurisdiction import Jurisdiction
from domain.parties import MAX_NAME, Party, phone_number, resident_id
from domain.policy import on_calendar

# uuid5 namespace of key persons' ids; fixed forever, since stored persons are found by it
KEY_PERSONS_NAMESPACE = UUID("8f3b6c2e-4d1a-5b7e-9a0c-2e5f7d9b1c34")
MAX_TEXT = 500  # a reason, a visit's note
SUPERVISOR_NEEDED = "a supervisor of the unit"  # NotPermittedError.needs
MAX_REVIEW_YEARS = 3  # a flag is looked at again within three years at the latest


def key_person_id(primary: str) -> UUID:
    """The id of the key person whose first fingerprint is ``primary``."""
    return uuid5(KEY_PERSONS_NAMESPACE, primary)


@dataclass(frozen=True)
class Identity:
    """Who is flagged: a name and fingerprints (the ID number's first, when there is one)."""

    name: str
    fingerprints: tuple[str, ...]

    @property
    def id(self) -> UUID:
        return key_person_id(self.fingerprints[0])


def typed_identity(
    fingerprints: Fingerprints, name: str, id_number: str | None, phone: str | None
) -> Identity:
    """A person typed in: a name and an ID number or a phone (or both), each checked as a
    party's would be; what is kept of the numbers is their fingerprints."""
    cleaned = name.strip() if isinstance(name, str) else ""
    if not cleaned or len(cleaned) > MAX_NAME:
        raise InvalidInputError(
            "name", f"must be 1 to {MAX_NAME} characters", "length", {"min": 1, "max": MAX_NAME}
        )
    prints = []
    if id_number:
        prints.append(fingerprints.id_number(_top_level(resident_id, id_number)))
    if phone:
        prints.append(fingerprints.phone(_top_level(phone_number, phone)))
    if not prints:
        raise InvalidInputError(
            "id_number",
            "an ID number or a phone is needed to recognise the person",
            "key_person_identity",
        )
    return Identity(cleaned, tuple(prints))


def party_identity(fingerprints: Fingerprints, party: Party) -> Identity:
    """A case's party, by the ID number and phone the case stored for them."""
    prints = fingerprints.of_party(party)
    if not prints:
        raise InvalidInputError(
            "party",
            "the party has neither an ID number nor a phone to recognise them by",
            "key_person_identity",
        )
    return Identity(party.name, prints)


def _top_level(check: Any, value: str) -> str:
    """A party's field check (``resident_id``, ``phone_number``), its refusal naming the field
    at the top of the request (``id_number``, not ``parties[0].id_number``)."""
    try:
        checked: str = check("", value)
    except InvalidInputError as error:
        raise InvalidInputError(
            error.field.lstrip("."), error.reason, error.rule, error.limits
        ) from None
    return checked


def _text(field: str, value: str) -> str:
    cleaned = value.strip() if isinstance(value, str) else ""
    if not cleaned or len(cleaned) > MAX_TEXT:
        raise InvalidInputError(
            field, f"must be 1 to {MAX_TEXT} characters", "length", {"min": 1, "max": MAX_TEXT}
        )
    if "\x00" in cleaned:
        raise InvalidInputError(field, "must not contain NUL", "no_nul")
    return cleaned


def review_moment(review_on: date, at: datetime) -> datetime:
    """The review date as a clock: the start of that day in Shanghai, which must be after
    today (a review today or in the past is no review) and within ``MAX_REVIEW_YEARS``."""
    today = at.astimezone(SHANGHAI).date()
    if review_on <= today:
        raise InvalidInputError("review_on", "must be a day after today", "after_now", {"now": at})
    latest = date(today.year + MAX_REVIEW_YEARS, today.month, min(today.day, 28))
    if review_on > latest:
        raise InvalidInputError(
            "review_on",
            f"must be within {MAX_REVIEW_YEARS} years",
            "years_ahead",
            {"years": MAX_REVIEW_YEARS, "latest": latest},
        )
    return start_of_day(review_on)


class KeyPerson(Aggregate):
    """One person on (or taken off) the key-person list of a unit."""

    class Flagged(Aggregate.Created):
        name: str
        fingerprints: list[str]
        reason: str
        review_at: datetime
        unit: str  # the flagging supervisor's unit: it owns the flag
        actor: str
        role: str
        case_id: str | None = None  # the case the person was flagged from, and which party
        party: int | None = None

    class Reflagged(Aggregate.Event):
        """Put back on the list after being taken off it."""

        reason: str
        review_at: datetime
        unit: str
        actor: str
        role: str
        case_id: str | None = None
        party: int | None = None

        def apply(self, aggregate: KeyPerson) -> None:
            aggregate.active = True
            aggregate.reason = self.reason
            aggregate.review_at = self.review_at
            aggregate.review_flagged = None
            aggregate.unit = self.unit
            aggregate.leader = None
            aggregate.visit_due_at = None
            aggregate.visit_flagged = None
            aggregate.removal_reason = None

    class LeaderAssigned(Aggregate.Event):
        """包案: the leader who answers for the person, and when the first visit is due."""

        leader: str
        visit_due_at: datetime
        actor: str
        role: str

        def apply(self, aggregate: KeyPerson) -> None:
            aggregate.leader = self.leader
            aggregate.visit_due_at = self.visit_due_at
            aggregate.visit_flagged = None

    class Visited(Aggregate.Event):
        """A visit (走访), and when the next one is due (None: no leader owes one)."""

        note: str
        visit_due_at: datetime | None
        actor: str
        role: str

        def apply(self, aggregate: KeyPerson) -> None:
            aggregate.last_visit_at = self.timestamp
            aggregate.visits += 1
            aggregate.visit_due_at = self.visit_due_at
            aggregate.visit_flagged = None

    class VisitOverdueFlagged(Aggregate.Event):
        due_at: datetime

        def apply(self, aggregate: KeyPerson) -> None:
            aggregate.visit_flagged = self.due_at

    class ReviewDueFlagged(Aggregate.Event):
        due_at: datetime

        def apply(self, aggregate: KeyPerson) -> None:
            aggregate.review_flagged = self.due_at

    class Reviewed(Aggregate.Event):
        """Kept on the list, to be reviewed again at ``review_at``."""

        note: str
        review_at: datetime
        actor: str
        role: str

        def apply(self, aggregate: KeyPerson) -> None:
            aggregate.review_at = self.review_at
            aggregate.review_flagged = None

    class Unflagged(Aggregate.Event):
        """Taken off the list: no case matches the person any more."""

        reason: str
        actor: str
        role: str

        def apply(self, aggregate: KeyPerson) -> None:
            aggregate.active = False
            aggregate.removal_reason = self.reason
            aggregate.visit_due_at = None

    def __init__(
        self,
        name: str,
        fingerprints: list[str],
        reason: str,
        review_at: datetime,
        unit: str,
        actor: str,
        role: str,
        case_id: str | None = None,
        party: int | None = None,
    ) -> None:
        self.name = name
        self.fingerprints = list(fingerprints)
        self.reason = reason
        self.review_at = review_at
        self.unit = unit
        self.flagged_by = actor
        self.case_id = case_id
        self.party = party
        self.active = True
        self.leader: str | None = None
        self.visit_due_at: datetime | None = None
        self.visit_flagged: datetime | None = None  # the visit due time flagged overdue
        self.review_flagged: datetime | None = None  # the review date flagged due
        self.last_visit_at: datetime | None = None
        self.visits = 0
        self.removal_reason: str | None = None

    # --- commands -----------------------------------------------------------------------

    @classmethod
    def flag(
        cls,
        actor: Actor,
        at: datetime,
        identity: Identity,
        reason: str,
        review_on: date,
        source: tuple[UUID, int] | None = None,
    ) -> KeyPerson:
        """Puts ``identity`` on the list of the supervisor's unit."""
        return cls._create(
            cls.Flagged,
            id=identity.id,
            timestamp=at,
            **cls._flagging(actor, at, reason, review_on, source),
            name=identity.name,
            fingerprints=list(identity.fingerprints),
        )

    def reflag(
        self,
        actor: Actor,
        at: datetime,
        reason: str,
        review_on: date,
        source: tuple[UUID, int] | None = None,
    ) -> bool:
        """Puts a person taken off the list back on it; False (nothing done) when they are on
        it already."""
        flagging = self._flagging(actor, at, reason, review_on, source)  # refused alike
        if self.active:
            return False
        self.trigger_event(self.Reflagged, timestamp=at, **flagging)
        return True

    @staticmethod
    def _flagging(
        actor: Actor, at: datetime, reason: str, review_on: date, source: tuple[UUID, int] | None
    ) -> dict[str, Any]:
        _require_supervisor(actor, "flag a key person")
        return {
            "reason": _text("reason", reason),
            "review_at": review_moment(review_on, at),
            "unit": actor.unit,
            "actor": actor.user,
            "role": actor.role.value,
            "case_id": None if source is None else str(source[0]),
            "party": None if source is None else source[1],
        }

    def assign_leader(
        self,
        actor: Actor,
        at: datetime,
        leader: str,
        directory: Directory,
        units: Jurisdiction,
        visit_due_at: datetime,
    ) -> None:
        """包案: ``leader`` must be an active supervisor of the owning unit or a unit above."""
        self._require_active("assign a leader to")
        _require_supervisor(actor, "assign a key person's leader")
        member = directory.get(leader) if isinstance(leader, str) else None
        fits = (
            member is not None
            and member.acts_as(Role.SUPERVISOR)
            and member.unit in units
            and units.is_within(self.unit, member.unit)
        )
        if not fits:
            raise InvalidInputError(
                "leader",
                f"must be an active supervisor of {self.unit} or of a unit above it",
                "key_person_leader",
                {"unit": self.unit},
            )
        self.trigger_event(
            self.LeaderAssigned,
            timestamp=at,
            leader=leader,
            visit_due_at=visit_due_at,
            actor=actor.user,
            role=actor.role.value,
        )

    def record_visit(
        self, actor: Actor, at: datetime, note: str, next_due_at: datetime | None
    ) -> None:
        """A visit by the leader or a supervisor; ``next_due_at`` restarts the leader's clock
        (ignored while no leader is assigned: nobody owes the next visit)."""
        self._require_active("visit")
        if actor.user != self.leader:
            _require_supervisor(actor, "record a key person's visit")
        self.trigger_event(
            self.Visited,
            timestamp=at,
            note=_text("note", note),
            visit_due_at=next_due_at if self.leader is not None else None,
            actor=actor.user,
            role=actor.role.value,
        )

    def review(self, actor: Actor, at: datetime, note: str, review_on: date) -> None:
        """Keeps the person on the list until a new review date."""
        self._require_active("review")
        _require_supervisor(actor, "review a key person")
        self.trigger_event(
            self.Reviewed,
            timestamp=at,
            note=_text("note", note),
            review_at=review_moment(review_on, at),
            actor=actor.user,
            role=actor.role.value,
        )

    def unflag(self, actor: Actor, at: datetime, reason: str) -> None:
        """Takes the person off the list."""
        self._require_active("remove")
        _require_supervisor(actor, "remove a key person")
        self.trigger_event(
            self.Unflagged,
            timestamp=at,
            reason=_text("reason", reason),
            actor=actor.user,
            role=actor.role.value,
        )

    def flag_due_clocks(self, now: datetime) -> list[str]:
        """The scheduler: flags the visit overdue and the review due when their time has come
        (at the exact instant), each once per due time. Returns what was flagged."""
        flagged: list[str] = []
        if not self.active:
            return flagged
        due = self.visit_due_at
        if due is not None and due <= now and self.visit_flagged != due:
            self.trigger_event(self.VisitOverdueFlagged, timestamp=now, due_at=due)
            flagged.append("visit")
        if self.review_at <= now and self.review_flagged != self.review_at:
            self.trigger_event(self.ReviewDueFlagged, timestamp=now, due_at=self.review_at)
            flagged.append("review")
        return flagged

    # --- reading ------------------------------------------------------------------------

    @property
    def flagged_at(self) -> datetime:
        return self.created_on

    def visit_overdue(self, now: datetime) -> bool:
        return self.active and self.visit_due_at is not None and self.visit_due_at <= now

    def _require_active(self, command: str) -> None:
        if not self.active:
            raise KeyPersonRemovedError(self.id, command)


def _require_supervisor(actor: Actor, command: str) -> None:
    if actor.role is not Role.SUPERVISOR:
        raise NotPermittedError(command, SUPERVISOR_NEEDED)


@dataclass(frozen=True)
class FlagAnswer:
    """What flagging did: the person, whether this flagging put them on the list (False: they
    were on it already and nothing changed) and the log position of what was saved."""

    person: KeyPerson
    new: bool
    position: int | None


def next_visit(interval: Duration, calendar: WorkingCalendar, at: datetime) -> datetime:
    """When the next visit is due, ``interval`` (policy ``[key_persons] visit``) after ``at``:
    working days on the working calendar, any other duration in calendar time."""
    if interval.basis is Basis.WORKING_DAYS:
        return on_calendar(calendar, interval, at, halve=False)
    return at + interval.as_timedelta()


def source_party(case_parties: tuple[Party, ...] | list[Party], index: int) -> Party:
    """The case's party at ``index`` (0-based), the one to flag."""
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(case_parties):
        raise InvalidInputError(
            "party",
            f"must be the index of one of the case's {len(case_parties)} parties (from 0)",
            "key_person_party",
            {"count": len(case_parties)},
        )
    return case_parties[index]
