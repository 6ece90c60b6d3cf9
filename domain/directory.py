"""The directory of staff: who may sign in, in which unit and roles, and how to reach them.

One aggregate holds the deployment's staff, like the jurisdiction tree: a prefecture city has a
few thousand staff, they change rarely, and every request checks its caller against them. A
token (fengqiao's own or an identity provider's) names a user; only an *active* member of the
directory is let in, in one of the member's roles, at the member's unit. fengqiao stores no
passwords: signing in is the identity provider's (or the operator's ``fengqiao token``).

Staff are never deleted: a member who leaves is disabled, which keeps every event they
recorded attributable, and moves none of their cases (their supervisor sees what is left).
A member's phone is personal data: the event store encrypts it at rest and answers mask it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.domain import Aggregate

from domain.actors import Actor, Role
from domain.errors import InvalidInputError, UnknownUserError, UserExistsError
from domain.parties import phone_number

DIRECTORY_ID = uuid5(NAMESPACE_URL, "https://fengqiao.example/directory")
STAFF_ROLES = frozenset(role for role in Role if role not in (Role.SYSTEM, Role.CITIZEN))
_USER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
NAME_LIMIT = 40
RESERVED_IDS = frozenset({"me"})  # ``/api/v1/users/me`` is whoever asks
ENROL_LIMIT = 5000  # staff in one enrolment (a county's whole staff list)


class Channel(StrEnum):
    """How a notice reaches a member of staff."""

    IN_APP = "in_app"  # the dashboard's bell: always on
    EMAIL = "email"
    SMS = "sms"
    WEBHOOK = "webhook"  # the city's 12345 or WeChat Work bridge


@dataclass(frozen=True)
class StaffMember:
    """One member of staff. ``roles`` are the roles they may act in (a token picks one);
    ``channels`` their chosen channels, or None for every channel they can be reached by."""

    user: str
    name: str
    unit: str
    roles: tuple[Role, ...]
    phone: str | None = None
    email: str | None = None
    active: bool = True
    channels: tuple[Channel, ...] | None = None

    def acts_as(self, role: Role) -> bool:
        return self.active and role in self.roles

    def to_dict(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "name": self.name,
            "unit": self.unit,
            "roles": [role.value for role in self.roles],
            "phone": self.phone,
            "email": self.email,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StaffMember:
        return cls(
            user=data["user"],
            name=data["name"],
            unit=data["unit"],
            roles=tuple(Role(role) for role in data["roles"]),
            phone=data.get("phone"),
            email=data.get("email"),
        )

    def reachable_by(self) -> tuple[Channel, ...]:
        """The channels a notice goes out on: the chosen ones it has an address for (a phone
        for SMS, an address for email); in-app always."""
        chosen = self.channels if self.channels is not None else tuple(Channel)
        addressed = {
            Channel.IN_APP: True,
            Channel.EMAIL: self.email is not None,
            Channel.SMS: self.phone is not None,
            Channel.WEBHOOK: True,
        }
        return tuple(
            channel
            for channel in Channel
            if channel is Channel.IN_APP or (channel in chosen and addressed[channel])
        )


def checked_member(member: StaffMember, where: str = "") -> StaffMember:
    """A member whose fields keep the directory's rules (the unit is checked by the caller,
    who holds the jurisdiction tree); a refused field is named under ``where`` (``people[3]``)
    or alone."""
    prefix = f"{where}." if where else ""
    if not _USER_ID.fullmatch(member.user):
        raise InvalidInputError(
            f"{prefix}user",
            "must be 1 to 64 letters, digits or . _ @ -, starting with a letter or digit",
            "user_id",
        )
    if member.user in RESERVED_IDS:
        raise InvalidInputError(f"{prefix}user", f"{member.user!r} is reserved", "reserved")
    name = member.name.strip()
    if not name or len(name) > NAME_LIMIT:
        raise InvalidInputError(
            f"{prefix}name",
            f"must be 1 to {NAME_LIMIT} characters",
            "length",
            {"min": 1, "max": NAME_LIMIT},
        )
    roles = tuple(dict.fromkeys(member.roles))
    if not roles or not set(roles) <= STAFF_ROLES:
        raise InvalidInputError(
            f"{prefix}roles",
            f"must name one or more of {', '.join(sorted(STAFF_ROLES))}",
            "choice",
            {"choices": sorted(STAFF_ROLES)},
        )
    phone = phone_number(where, member.phone) if member.phone else None
    email = member.email.strip() if member.email else None
    if email is not None and not _EMAIL.fullmatch(email):
        raise InvalidInputError(f"{prefix}email", "must be an email address", "email")
    return replace(member, name=name, roles=roles, phone=phone, email=email)


class Directory(Aggregate):
    """Every member of staff, by user id."""

    class Created(Aggregate.Created):
        pass

    class Enrolled(Aggregate.Event):
        """New members (one, or a county's list at once), active."""

        people: list[dict[str, Any]]
        actor: str

        def apply(self, aggregate: Directory) -> None:
            for data in self.people:
                member = StaffMember.from_dict(data)
                aggregate.members[member.user] = member

    class Updated(Aggregate.Event):
        """A member's name, unit, roles or contact details changed."""

        member: dict[str, Any]
        actor: str

        def apply(self, aggregate: Directory) -> None:
            new = StaffMember.from_dict(self.member)
            old = aggregate.members[new.user]
            aggregate.members[new.user] = replace(new, active=old.active, channels=old.channels)

    class Disabled(Aggregate.Event):
        user: str
        reason: str
        actor: str

        def apply(self, aggregate: Directory) -> None:
            aggregate._set(self.user, active=False)

    class Reactivated(Aggregate.Event):
        user: str
        actor: str

        def apply(self, aggregate: Directory) -> None:
            aggregate._set(self.user, active=True)

    class ChannelsChosen(Aggregate.Event):
        """A member's notification preferences (``channels``: None is every channel)."""

        user: str
        channels: list[str] | None
        actor: str

        def apply(self, aggregate: Directory) -> None:
            chosen = None if self.channels is None else tuple(Channel(c) for c in self.channels)
            aggregate._set(self.user, channels=chosen)

    def __init__(self) -> None:
        self.members: dict[str, StaffMember] = {}

    @classmethod
    def create(cls, at: datetime) -> Directory:
        return cls._create(cls.Created, id=DIRECTORY_ID, timestamp=at)

    def _set(self, user: str, **changes: Any) -> None:
        self.members[user] = replace(self.members[user], **changes)

    # --- commands -----------------------------------------------------------------------

    def enrol(self, actor: Actor, people: Sequence[StaffMember], at: datetime) -> None:
        """Adds members not in the directory; a user id already taken is refused, whole."""
        if len(people) > ENROL_LIMIT:
            raise InvalidInputError(
                "people", f"at most {ENROL_LIMIT} at once", "count", {"max": ENROL_LIMIT}
            )
        one = len(people) == 1  # one member: its fields named alone
        checked = [
            checked_member(person, "" if one else f"people[{i}]") for i, person in enumerate(people)
        ]
        seen: set[str] = set()
        for person in checked:
            if person.user in self.members or person.user in seen:
                raise UserExistsError(person.user)
            seen.add(person.user)
        if checked:
            people_data = [person.to_dict() for person in checked]
            self.trigger_event(self.Enrolled, people=people_data, actor=actor.user, timestamp=at)

    def update(self, actor: Actor, member: StaffMember, at: datetime) -> None:
        old = self.member(member.user)
        new = checked_member(member)
        if new.to_dict() != old.to_dict():
            self.trigger_event(self.Updated, member=new.to_dict(), actor=actor.user, timestamp=at)

    def disable(self, actor: Actor, user: str, reason: str, at: datetime) -> None:
        if actor.user == user:
            raise InvalidInputError("user", "you cannot disable yourself", "self")
        if self.member(user).active:
            reason = reason.strip()[:200]
            self.trigger_event(
                self.Disabled, user=user, reason=reason, actor=actor.user, timestamp=at
            )

    def reactivate(self, actor: Actor, user: str, at: datetime) -> None:
        if not self.member(user).active:
            self.trigger_event(self.Reactivated, user=user, actor=actor.user, timestamp=at)

    def choose_channels(
        self, actor: Actor, user: str, channels: Iterable[Channel] | None, at: datetime
    ) -> None:
        member = self.member(user)
        chosen = None if channels is None else sorted({Channel(c).value for c in channels})
        now = None if member.channels is None else sorted(c.value for c in member.channels)
        if chosen == now:
            return
        self.trigger_event(
            self.ChannelsChosen, user=user, channels=chosen, actor=actor.user, timestamp=at
        )

    # --- queries ------------------------------------------------------------------------

    def member(self, user: str) -> StaffMember:
        try:
            return self.members[user]
        except KeyError:
            raise UnknownUserError(user) from None

    def get(self, user: str) -> StaffMember | None:
        return self.members.get(user)

    def at_unit(self, unit: str, role: Role, active: bool = True) -> list[StaffMember]:
        """The members at ``unit`` who may act as ``role``, by user id."""
        return sorted(
            (
                m
                for m in self.members.values()
                if m.unit == unit and role in m.roles and (m.active or not active)
            ),
            key=lambda m: m.user,
        )
