"""The outbox: every notice the log calls for, once per (event, recipient, channel).

A view like the others, kept exactly once from the log and rebuilt by replay. Each batch adds
the notices its events call for to ``outbox`` in the same transaction that moves the view's
position, so a notice is written once however often the process restarts, and a rebuild writes
the very same rows: a notice's id is derived from the event's log position, the recipient and
the channel (``notice_id``).

To choose recipients without reading anything but the log, the view keeps three small tables of
its own: ``staff`` (from the directory's events: unit, roles, whether active, chosen channels,
and only *whether* a member has a phone and an email, never the phone or the email), ``units``
(names, tiers and parents from the jurisdiction) and ``cases`` (what the templates need: number,
kind, category, level, owner, location, assignee, the sign-for and resolve due times). Who gets
a notice is decided as of the event: a member disabled before it gets nothing, one enrolled
after it nothing either.

An outbox row holds no personal data: a template name and its parameters (case number,
category, level, unit names, UTC times), the recipient (a staff user id, or
``party:<case id>:<party index>`` for a party) and the channel. Addresses are looked up when a
notice is sent. What happened to a notice once written (sent, retried, given up) is the
dispatcher's, in tables beside the view that a rebuild leaves alone (``scheduler.delivery``);
in-app notices are delivered by being written, and read marks are kept beside them too
(``projections.inbox``).

Triggers (recipients):
- ``Assigned``: the assignee;
- ``SignOverdueFlagged``: the owning unit's supervisors;
- ``Escalated`` (any cause, 提级办理 included) and ``Returned``: the new owner's mediators and
  supervisors;
- ``SupervisionOrdered`` (督办) and ``SupervisionReminded``: the owner's supervisors and the
  assignee;
- a case registered red, or raised to red (``LevelRaised``, or ``Assessed`` above its level):
  the supervisors of the county it lies in;
- ``RatingInvited``: each invited party, by SMS.
Every notice about a red case is urgent: SMS quiet hours do not hold it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from domain.case import Case, CaseState
from domain.directory import Channel, Directory, StaffMember
from domain.dispute import Dispute
from domain.jurisdiction import Jurisdiction
from domain.levels import Level, Tier
from projections import notice_templates as nt
from projections.db import Cursor, from_us, to_us
from projections.engine import Batch, View
from projections.events import is_case_event, kind_of, lookup
from projections.rows import RowBatch

NOTICE_NAMESPACE = uuid5(NAMESPACE_URL, "https://fengqiao.example/notices")
PARTY = "party"
SUPERVISOR, MEDIATOR = "supervisor", "mediator"


CASE_COLUMNS = (
    "id", "number", "kind", "category", "level", "owner", "unit", "assignee",
    "sign_due_us", "resolve_due_us", "supervision_by",
)  # fmt: skip
OUTBOX_COLUMNS = (
    "id", "position", "case_id", "template", "params", "recipient", "channel", "urgent",
    "created_us",
)  # fmt: skip


def notice_id(origin: str, recipient: str, channel: str) -> str:
    """The notice's id, the same on every rebuild: from what it is about (a log position, or
    a clock's due time for a warning), who gets it and how."""
    return str(uuid5(NOTICE_NAMESPACE, f"{origin}/{recipient}/{channel}"))


def party_recipient(case_id: str, index: int) -> str:
    return f"{PARTY}:{case_id}:{index}"


def encode_params(params: Mapping[str, Any]) -> str:
    return json.dumps(params, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Notice:
    """One notice to one recipient on one channel."""

    id: str
    case_id: str
    template: str
    params: Mapping[str, Any]
    recipient: str
    channel: str
    urgent: bool
    created_at: datetime
    position: int = 0  # the event's log position (0: a warning, made by the dispatcher)

    def row(self) -> tuple[Any, ...]:
        return (
            self.id, self.position, self.case_id, self.template, encode_params(self.params),
            self.recipient, self.channel, int(self.urgent), to_us(self.created_at),
        )  # fmt: skip

    @classmethod
    def from_row(cls, row: Iterable[Any]) -> Notice:
        id_, position, case_id, template, params, recipient, channel, urgent, created = row
        return cls(
            id=str(id_),
            case_id=str(case_id),
            template=str(template),
            params=json.loads(params),
            recipient=str(recipient),
            channel=str(channel),
            urgent=bool(urgent),
            created_at=from_us(int(created)),
            position=int(position),
        )

    @property
    def text(self) -> str:
        return nt.render(self.template, self.params)


@dataclass(frozen=True)
class Recipient:
    """A member of staff as the view knows them: who, and the channels a notice reaches
    them on (the directory's rule, ``StaffMember.reachable_by``)."""

    user: str
    channels: tuple[str, ...]


def outbox_ddl(table: str, index: Callable[[str], str]) -> list[str]:
    """A table of notices (the outbox, and the dispatcher's swept warnings)."""
    return [
        f"CREATE TABLE IF NOT EXISTS {table} (id TEXT PRIMARY KEY, position BIGINT NOT NULL, "
        "case_id TEXT NOT NULL, template TEXT NOT NULL, params TEXT NOT NULL, "
        "recipient TEXT NOT NULL, channel TEXT NOT NULL, urgent INTEGER NOT NULL, "
        "created_us BIGINT NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS {index('inbox')} ON {table} (recipient, channel, created_us)",
        f"CREATE INDEX IF NOT EXISTS {index('position')} ON {table} (position)",
    ]


def insert_notices(cursor: Cursor, table: str, notices: Iterable[Notice]) -> None:
    marks = ", ".join("?" for _ in OUTBOX_COLUMNS)
    cursor.executemany(
        f"INSERT INTO {table} ({', '.join(OUTBOX_COLUMNS)}) VALUES ({marks}) "
        "ON CONFLICT (id) DO NOTHING",
        [notice.row() for notice in notices],
    )


_DIRECTORY_EVENTS = (
    Directory.Enrolled,
    Directory.Updated,
    Directory.Disabled,
    Directory.Reactivated,
    Directory.ChannelsChosen,
)


class NotificationsView(View):
    name = "notifications"
    handles = (
        Case.Registered,
        CaseState.ClocksChanged,  # the sign-for and resolve due times; moves; 督办
        Case.Numbered,
        Case.Assigned,
        Case.Assessed,
        Case.LevelRaised,
        Case.SignOverdueFlagged,
        Case.RatingInvited,
    )
    ignores = (
        Case.ResolveOverdueFlagged,  # a breach at the top brings 督办, notified as such
        Case.Rated,
        Case.NoteAdded,
        Case.AttachmentAdded,
        Case.ReferralResultReported,
        Dispute.JudicialConfirmationRecorded,
    )

    # Created with the view but never dropped by a rebuild: the dispatcher's warnings (made
    # from the clock, not the log), what members have read (``projections.inbox``), and the
    # dispatcher's queue and intake position (``scheduler.delivery``).
    KEPT = ("swept", "reads", "deliveries", "dispatch")

    def create_statements(self) -> list[str]:
        return [
            *outbox_ddl(self.t("outbox"), lambda name: self.db.index(f"outbox_{name}")),
            *outbox_ddl(self.t("swept"), lambda name: self.db.index(f"swept_{name}")),
            f"CREATE TABLE IF NOT EXISTS {self.t('reads')} (notice_id TEXT PRIMARY KEY, "
            "user_id TEXT NOT NULL, read_us BIGINT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self.t('deliveries')} (id TEXT PRIMARY KEY, "
            "position BIGINT NOT NULL, case_id TEXT NOT NULL, template TEXT NOT NULL, "
            "params TEXT NOT NULL, recipient TEXT NOT NULL, channel TEXT NOT NULL, "
            "urgent INTEGER NOT NULL, created_us BIGINT NOT NULL, seq BIGINT NOT NULL, "
            "state TEXT NOT NULL, attempts INTEGER NOT NULL, next_us BIGINT NOT NULL, "
            "since_us BIGINT NOT NULL, done_us BIGINT, last_error TEXT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {self.db.index('deliveries_queue')} "
            f"ON {self.t('deliveries')} (channel, state, seq)",
            f"CREATE TABLE IF NOT EXISTS {self.t('dispatch')} "
            "(name TEXT PRIMARY KEY, position BIGINT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self.t('staff')} (user_id TEXT PRIMARY KEY, "
            "unit TEXT NOT NULL, roles TEXT NOT NULL, active INTEGER NOT NULL, channels TEXT, "
            "has_phone INTEGER NOT NULL, has_email INTEGER NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {self.db.index('staff_unit')} ON {self.t('staff')} (unit)",
            f"CREATE TABLE IF NOT EXISTS {self.t('units')} (code TEXT PRIMARY KEY, "
            "name TEXT NOT NULL, tier TEXT NOT NULL, parent TEXT)",
            f"CREATE TABLE IF NOT EXISTS {self.t('cases')} (id TEXT PRIMARY KEY, "
            "number TEXT NOT NULL, kind TEXT NOT NULL, category TEXT NOT NULL, "
            "level TEXT NOT NULL, owner TEXT NOT NULL, unit TEXT NOT NULL, assignee TEXT, "
            "sign_due_us BIGINT, resolve_due_us BIGINT, supervision_by TEXT)",
        ]

    def table_names(self) -> list[str]:
        return ["outbox", "staff", "units", "cases"]

    def process(self, cursor: Cursor, batch: Batch) -> None:
        cases = RowBatch(self.t("cases"), "id", CASE_COLUMNS)
        cases.load(cursor, (str(e.originator_id) for _, e in batch if is_case_event(e)))
        people = _People(cursor, self.t("staff"), self.t("units"))
        notices: list[Notice] = []
        for position, event in batch:
            if isinstance(event, Jurisdiction.UnitAdded):
                people.add_unit(event)
            elif isinstance(event, _DIRECTORY_EVENTS):
                people.directory_changed(event)
            elif is_case_event(event):
                case_id = str(event.originator_id)
                before = cases.get(case_id)
                row = _case_after(before, event)
                cases.put(row)
                notices += _Trigger(people, position, event, before, row).notices()
        cases.flush(cursor)
        insert_notices(cursor, self.t("outbox"), notices)

    # --- queries (the dispatcher's warnings) -------------------------------------------------

    def case_facts(self, case_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The rows of these cases as the view holds them."""
        rows = RowBatch(self.t("cases"), "id", CASE_COLUMNS)
        with self.db.transaction(write=False) as cursor:
            rows.load(cursor, case_ids)
        return dict(rows.rows)

    def warning_notices(
        self, case: Mapping[str, Any], kind: str, due: datetime, at: datetime
    ) -> list[Notice]:
        """The warnings that a case's ``kind`` clock falls due at ``due``: to the assignee
        (or, with none, the owner's mediators) and the owner's supervisors, once per clock
        and due time (the id says so)."""
        with self.db.transaction(write=False) as cursor:
            people = _People(cursor, self.t("staff"), self.t("units"))
            recipients = people.staff_at(case["owner"], SUPERVISOR)
            assignee = people.member(case["assignee"]) if case["assignee"] else None
            recipients += [assignee] if assignee else people.staff_at(case["owner"], MEDIATOR)
            params = {
                **_case_params(case),
                "due": due.isoformat(),
                "clock": kind,
                "unit": people.unit_name(case["owner"]),
            }
        origin = f"warning:{case['id']}:{kind}:{to_us(due)}"
        return _addressed(origin, 0, case, nt.BREACH_WARNING, params, recipients, at)


class _People:
    """The staff and units a batch chooses recipients from, read from the view's tables as
    the batch goes (so a member enrolled earlier in the same batch is found), memoised until
    the next change."""

    def __init__(self, cursor: Cursor, staff: str, units: str) -> None:
        self.cursor = cursor
        self.staff = staff
        self.units = units
        self._found: dict[tuple[str, str], list[Recipient]] = {}
        self._unit_rows: dict[str, tuple[str, str, str | None] | None] = {}

    # --- changes ---------------------------------------------------------------------------

    def add_unit(self, event: Any) -> None:
        self.cursor.execute(
            f"INSERT INTO {self.units} (code, name, tier, parent) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (code) DO NOTHING",
            (event.code, event.name, event.tier, event.parent),
        )
        self._unit_rows.pop(event.code, None)

    def directory_changed(self, event: Any) -> None:
        self._found.clear()
        if isinstance(event, Directory.Enrolled):
            for data in event.people:
                self._put(StaffMember.from_dict(data), active=True, channels=None)
        elif isinstance(event, Directory.Updated):
            member = StaffMember.from_dict(event.member)
            old = self._row(member.user)
            active, channels = (bool(old[2]), old[3]) if old else (True, None)
            self._put(member, active, channels)
        elif isinstance(event, Directory.Disabled | Directory.Reactivated):
            self.cursor.execute(
                f"UPDATE {self.staff} SET active = ? WHERE user_id = ?",
                (int(isinstance(event, Directory.Reactivated)), event.user),
            )
        elif isinstance(event, Directory.ChannelsChosen):
            chosen = None if event.channels is None else ",".join(event.channels)
            self.cursor.execute(
                f"UPDATE {self.staff} SET channels = ? WHERE user_id = ?", (chosen, event.user)
            )

    def _row(self, user: str) -> tuple[Any, ...] | None:
        self.cursor.execute(
            f"SELECT user_id, unit, active, channels, has_phone, has_email, roles "
            f"FROM {self.staff} WHERE user_id = ?",
            (user,),
        )
        return self.cursor.fetchone()

    def _put(self, member: StaffMember, active: bool, channels: str | None) -> None:
        roles = "," + ",".join(role.value for role in member.roles) + ","
        self.cursor.execute(
            f"INSERT INTO {self.staff} (user_id, unit, roles, active, channels, has_phone, "
            "has_email) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET "
            "unit = excluded.unit, roles = excluded.roles, active = excluded.active, "
            "channels = excluded.channels, has_phone = excluded.has_phone, "
            "has_email = excluded.has_email",
            (member.user, member.unit, roles, int(active), channels,
             int(bool(member.phone)), int(bool(member.email))),
        )  # fmt: skip

    # --- reading ---------------------------------------------------------------------------

    def staff_at(self, unit: str, role: str) -> list[Recipient]:
        """The active members of ``unit`` who act as ``role``, by user id."""
        key = (unit, role)
        if key not in self._found:
            self.cursor.execute(
                f"SELECT user_id, channels, has_phone, has_email FROM {self.staff} "
                "WHERE unit = ? AND active = 1 AND roles LIKE ? ORDER BY user_id",
                (unit, f"%,{role},%"),
            )
            self._found[key] = [_recipient(*row) for row in self.cursor.fetchall()]
        return list(self._found[key])

    def member(self, user: str) -> Recipient | None:
        """An active member of staff (None: disabled or not in the directory)."""
        row = self._row(user)
        if row is None or not row[2]:
            return None
        return _recipient(row[0], row[3], row[4], row[5])

    def unit(self, code: str) -> tuple[str, str, str | None] | None:
        """(name, tier, parent) of a unit."""
        if code not in self._unit_rows:
            self.cursor.execute(
                f"SELECT name, tier, parent FROM {self.units} WHERE code = ?", (code,)
            )
            found = self.cursor.fetchone()
            self._unit_rows[code] = (str(found[0]), str(found[1]), found[2]) if found else None
        return self._unit_rows[code]

    def unit_name(self, code: str) -> str:
        found = self.unit(code)
        return found[0] if found else code

    def county_of(self, code: str) -> str | None:
        """The county a unit lies in (itself if a county)."""
        current: str | None = code
        while current is not None:
            found = self.unit(current)
            if found is None:
                return None
            if found[1] == Tier.COUNTY.value:
                return current
            current = found[2]
        return None


def _recipient(user: Any, channels: Any, has_phone: Any, has_email: Any) -> Recipient:
    chosen = None if channels is None else tuple(Channel(c) for c in str(channels).split(",") if c)
    as_member = StaffMember(
        user=str(user),
        name="",
        unit="",
        roles=(),
        phone="phone" if has_phone else None,  # only whether there is one counts here
        email="email" if has_email else None,
        channels=chosen,
    )
    reachable = as_member.reachable_by()
    return Recipient(str(user), tuple(channel.value for channel in reachable))


# --- the view's case rows -----------------------------------------------------------------------


def _dues(row: dict[str, Any], deadlines: Mapping[str, Any]) -> None:
    sign, resolve = deadlines.get("sign"), deadlines.get("resolve")
    row["sign_due_us"] = to_us(sign.due_at) if sign is not None else None
    row["resolve_due_us"] = to_us(resolve.due_at) if resolve is not None else None


def _moved_to(row: dict[str, Any], owner: str, level: str | None = None) -> None:
    if level is not None:
        row["level"] = level
    if owner != row["owner"]:
        row["assignee"] = None  # the new owner assigns its own mediator
    row["owner"] = owner


_CHANGES: Mapping[type, Callable[[dict[str, Any], Any], None]] = {
    Case.Numbered: lambda row, e: row.update(number=e.number),
    Case.Assigned: lambda row, e: row.update(assignee=e.assignee),
    Case.Assessed: lambda row, e: row.update(level=e.level),
    Case.LevelRaised: lambda row, e: row.update(level=e.level),
    Case.LevelLowered: lambda row, e: _moved_to(row, e.owner, e.level),
    Case.Escalated: lambda row, e: _moved_to(row, e.to_unit, e.to_level),
    Case.Returned: lambda row, e: _moved_to(row, e.to_unit),
    Case.SupervisionOrdered: lambda row, e: row.update(supervision_by=e.by_unit),
}


def _case_after(row: dict[str, Any] | None, event: Any) -> dict[str, Any]:
    if row is None:
        row = {
            "id": str(event.originator_id),
            "number": getattr(event, "number", ""),
            "kind": kind_of(event),
            "category": getattr(event, "category", ""),
            "level": getattr(event, "level", Level.YELLOW.value),
            "owner": getattr(event, "owner", ""),
            "unit": getattr(event, "unit", ""),
            "assignee": None,
            "sign_due_us": None,
            "resolve_due_us": None,
            "supervision_by": None,
        }
    else:
        row = dict(row)
        change = lookup(_CHANGES, type(event))
        if change is not None:
            change(row, event)
    if hasattr(event, "deadlines"):
        _dues(row, event.deadlines)
    return row


def _case_params(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "number": row["number"],
        "kind": row["kind"],
        "category": row["category"],
        "level": row["level"],
    }


def _iso(us: int | None) -> str | None:
    return None if us is None else from_us(us).isoformat()


def _addressed(
    origin: str,
    position: int,
    case: Mapping[str, Any],
    template: str,
    params: Mapping[str, Any],
    recipients: Iterable[Recipient | None],
    at: datetime,
    urgent: bool | None = None,
) -> list[Notice]:
    """One notice per recipient (each once, however often named) and channel they take;
    urgent (no quiet hours) when the case is red, unless told."""
    if urgent is None:
        urgent = case["level"] == Level.RED.value
    notices: list[Notice] = []
    seen: set[str] = set()
    for recipient in recipients:
        if recipient is None or recipient.user in seen:
            continue
        seen.add(recipient.user)
        for channel in recipient.channels:
            notices.append(
                Notice(
                    id=notice_id(origin, recipient.user, channel),
                    case_id=str(case["id"]),
                    template=template,
                    params=params,
                    recipient=recipient.user,
                    channel=channel,
                    urgent=urgent,
                    created_at=at,
                    position=position,
                )
            )
    return notices


class _Trigger:
    """The notices one case event calls for, given the case before and after it."""

    def __init__(
        self,
        people: _People,
        position: int,
        event: Any,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any],
    ) -> None:
        self.people = people
        self.position = position
        self.event = event
        self.before = before
        self.case = after

    def notices(self) -> list[Notice]:
        make = lookup(_TRIGGERS, type(self.event))
        return make(self) if make is not None else []

    def _registered(self) -> list[Notice]:
        return self._red_alert() if self.event.level == Level.RED.value else []

    def _raised(self) -> list[Notice]:
        raised = self.before is not None and self.before["level"] != Level.RED.value
        return self._red_alert() if raised and self.event.level == Level.RED.value else []

    def _sign_overdue(self) -> list[Notice]:
        params = {"due": self.event.due_at.isoformat(), "unit": self._owner_name()}
        return self._to(nt.SIGN_OVERDUE, params, self._owners(SUPERVISOR))

    def _to(
        self, template: str, params: Mapping[str, Any], recipients: Iterable[Recipient | None]
    ) -> list[Notice]:
        full = {**_case_params(self.case), **params}
        return _addressed(
            str(self.position),
            self.position,
            self.case,
            template,
            full,
            recipients,
            self.event.timestamp,
        )

    def _owner_name(self) -> str:
        return self.people.unit_name(self.case["owner"])

    def _owners(self, *roles: str) -> list[Recipient]:
        return [r for role in roles for r in self.people.staff_at(self.case["owner"], role)]

    def _assignee(self) -> Recipient | None:
        assignee = self.case["assignee"]
        return self.people.member(assignee) if assignee else None

    def _red_alert(self) -> list[Notice]:
        county = self.people.county_of(self.case["unit"])
        if county is None:
            return []
        params = {"unit": self.people.unit_name(self.case["unit"])}
        return self._to(nt.RED_ALERT, params, self.people.staff_at(county, SUPERVISOR))

    def _assigned(self) -> list[Notice]:
        sign, resolve = self.case["sign_due_us"], self.case["resolve_due_us"]
        clock, due = ("sign", sign) if sign is not None else ("resolve", resolve)
        params = {"clock": clock, "due": _iso(due)}
        return self._to(nt.ASSIGNED, params, [self._assignee()])

    def _moved(self) -> list[Notice]:
        event = self.event
        how = event.cause if isinstance(event, Case.Escalated) else "returned"
        sign = event.deadlines.get("sign")
        params = {
            "how": how,
            "unit": self._owner_name(),
            "due": sign.due_at.isoformat() if sign is not None else None,
        }
        return self._to(nt.MOVED, params, self._owners(MEDIATOR, SUPERVISOR))

    def _supervision(self) -> list[Notice]:
        event = self.event
        by_unit = self.case["supervision_by"] or ""
        template = (
            nt.SUPERVISION_ORDERED
            if isinstance(event, Case.SupervisionOrdered)
            else nt.SUPERVISION_REMINDED
        )
        params = {
            "due": event.due_at.isoformat(),
            "by_unit": self.people.unit_name(by_unit) if by_unit else "",
            "order": event.order,
        }
        return self._to(template, params, [*self._owners(SUPERVISOR), self._assignee()])

    def _rating_invitations(self) -> list[Notice]:
        """Each invited party, by SMS (the link is made when it is sent, from the event at
        this version: the invitation itself is not copied here)."""
        event = self.event
        notices: list[Notice] = []
        case_id = str(self.case["id"])
        for invitation in event.invitations:
            index = int(invitation["party"])
            params = {
                **_case_params(self.case),
                "party": index,
                "occasion": event.occasion,
                "expires": event.expires_at.isoformat(),
                "version": event.originator_version,
            }
            recipient = Recipient(party_recipient(case_id, index), (Channel.SMS.value,))
            notices += _addressed(
                str(self.position),
                self.position,
                self.case,
                nt.RATING_INVITATION,
                params,
                [recipient],
                event.timestamp,
                urgent=False,  # a citizen's phone keeps its quiet hours, whatever the case
            )
        return notices


_TRIGGERS: Mapping[type, Callable[[_Trigger], list[Notice]]] = {
    Case.Registered: _Trigger._registered,
    Case.Assessed: _Trigger._raised,
    Case.LevelRaised: _Trigger._raised,
    Case.Assigned: _Trigger._assigned,
    Case.SignOverdueFlagged: _Trigger._sign_overdue,
    Case.Escalated: _Trigger._moved,
    Case.Returned: _Trigger._moved,
    Case.SupervisionOrdered: _Trigger._supervision,
    Case.SupervisionReminded: _Trigger._supervision,
    Case.RatingInvited: _Trigger._rating_invitations,
}
