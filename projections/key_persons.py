"""重点人员: the key-person list, and the watch list a registration consults.

Two tables over the ``KeyPerson`` events (and a copy of the jurisdiction tree, for lists of a
unit's subtree):

- ``key_persons``: one row per person, their name masked (张*明), the reason, the owning unit,
  the review date, the 包案 leader, the next visit's due time and whether the scheduler flagged
  the visit overdue or the review due, and whether they are on the list at all;
- ``key_person_prints``: fingerprint → person, what ``key_persons_among`` matches a new
  case's parties against (``domain.repeats.WatchList``): only the people on the list.

Neither holds an ID number or a phone, only fingerprints (``domain.fingerprints``): a copy of
these tables names nobody without the deployment's key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from domain.case import Case
from domain.key_person import KeyPerson
from domain.parties import mask_name
from projections.closure import add_unit, closure_ddl
from projections.db import Cursor, from_us, to_us
from projections.engine import Batch, View
from projections.events import is_unit_added

State = Literal["active", "visit_overdue", "review_due", "removed", "all"]
STATES: tuple[State, ...] = ("active", "visit_overdue", "review_due", "removed", "all")
_IN_CHUNK = 500  # fingerprints per IN (...) list
COLUMNS = (
    "id", "name", "reason", "unit", "flagged_us", "review_us", "review_flagged", "leader",
    "visit_due_us", "visit_flagged", "last_visit_us", "visits", "active", "source_case",
    "changed_us",
)  # fmt: skip


@dataclass(frozen=True)
class KeyPersonItem:
    """One person on the list (or taken off it), as the list shows them; ``visit_overdue``
    and ``review_due`` as of the time asked."""

    id: UUID
    name: str  # masked
    reason: str
    unit: str
    flagged_at: datetime
    review_at: datetime
    review_due: bool
    leader: str | None
    visit_due_at: datetime | None
    visit_overdue: bool
    last_visit_at: datetime | None
    visits: int
    active: bool
    source_case: str | None


@dataclass(frozen=True)
class DueClock:
    """A person whose visit or review has fallen due and is not flagged yet."""

    person_id: UUID
    due_at: datetime


class KeyPersonsView(View):
    name = "key_persons"
    # 2: names masked keeping a trailing note (王*国（示例）), rebuilt from the events
    schema_version = 2
    handles = ()  # no case event: the list is kept by the KeyPerson events
    ignores = (Case.Event,)

    def create_statements(self) -> list[str]:
        people, prints = self.t("key_persons"), self.t("key_person_prints")
        return [
            f"CREATE TABLE IF NOT EXISTS {people} (id TEXT PRIMARY KEY, name TEXT NOT NULL, "
            "reason TEXT NOT NULL, unit TEXT NOT NULL, flagged_us BIGINT NOT NULL, "
            "review_us BIGINT NOT NULL, review_flagged INTEGER NOT NULL, leader TEXT, "
            "visit_due_us BIGINT, visit_flagged INTEGER NOT NULL, last_visit_us BIGINT, "
            "visits INTEGER NOT NULL, active INTEGER NOT NULL, source_case TEXT, "
            "changed_us BIGINT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {self.db.index('key_persons_unit')} "
            f"ON {people} (unit, active)",
            f"CREATE INDEX IF NOT EXISTS {self.db.index('key_persons_visit')} "
            f"ON {people} (visit_due_us)",
            f"CREATE INDEX IF NOT EXISTS {self.db.index('key_persons_review')} "
            f"ON {people} (review_us)",
            f"CREATE TABLE IF NOT EXISTS {prints} (fingerprint TEXT NOT NULL, "
            "person_id TEXT NOT NULL, PRIMARY KEY (fingerprint, person_id))",
            *closure_ddl(self.t("key_person_units")),
        ]

    def table_names(self) -> list[str]:
        return ["key_persons", "key_person_prints", "key_person_units"]

    def process(self, cursor: Cursor, batch: Batch) -> None:
        for _, event in batch:
            if is_unit_added(event):
                add_unit(cursor, self.t("key_person_units"), event)
            elif isinstance(event, KeyPerson.Flagged):
                self._flagged(cursor, event)
            elif isinstance(event, KeyPerson.Event):
                self._changed(cursor, event)

    def _flagged(self, cursor: Cursor, event: Any) -> None:
        person = str(event.originator_id)
        at = to_us(event.timestamp)
        row = {
            "id": person,
            "name": mask_name(event.name) or "*",
            "reason": event.reason,
            "unit": event.unit,
            "flagged_us": at,
            "review_us": to_us(event.review_at),
            "review_flagged": 0,
            "leader": None,
            "visit_due_us": None,
            "visit_flagged": 0,
            "last_visit_us": None,
            "visits": 0,
            "active": 1,
            "source_case": event.case_id,
            "changed_us": at,
        }
        names = ", ".join(COLUMNS)
        marks = ", ".join("?" for _ in COLUMNS)
        cursor.execute(
            f"INSERT INTO {self.t('key_persons')} ({names}) VALUES ({marks})",
            tuple(row[c] for c in COLUMNS),
        )
        cursor.executemany(
            f"INSERT INTO {self.t('key_person_prints')} (fingerprint, person_id) VALUES (?, ?) "
            "ON CONFLICT (fingerprint, person_id) DO NOTHING",
            [(fingerprint, person) for fingerprint in event.fingerprints],
        )

    def _changed(self, cursor: Cursor, event: Any) -> None:
        """Every later event, as the columns it sets."""
        changes: dict[str, Any] = {"changed_us": to_us(event.timestamp)}
        if isinstance(event, KeyPerson.Reflagged):
            changes.update(
                active=1, reason=event.reason, review_us=to_us(event.review_at),
                review_flagged=0, unit=event.unit, leader=None, visit_due_us=None,
                visit_flagged=0, source_case=event.case_id,
            )  # fmt: skip
        elif isinstance(event, KeyPerson.LeaderAssigned):
            changes.update(
                leader=event.leader, visit_due_us=to_us(event.visit_due_at), visit_flagged=0
            )
        elif isinstance(event, KeyPerson.Visited):
            due = event.visit_due_at
            changes.update(
                last_visit_us=to_us(event.timestamp),
                visit_due_us=None if due is None else to_us(due),
                visit_flagged=0,
            )
            self._count_visit(cursor, str(event.originator_id))
        elif isinstance(event, KeyPerson.VisitOverdueFlagged):
            changes.update(visit_flagged=1)
        elif isinstance(event, KeyPerson.ReviewDueFlagged):
            changes.update(review_flagged=1)
        elif isinstance(event, KeyPerson.Reviewed):
            changes.update(review_us=to_us(event.review_at), review_flagged=0)
        elif isinstance(event, KeyPerson.Unflagged):
            changes.update(active=0, visit_due_us=None, visit_flagged=0)
        assignments = ", ".join(f"{column} = ?" for column in changes)
        cursor.execute(
            f"UPDATE {self.t('key_persons')} SET {assignments} WHERE id = ?",
            (*changes.values(), str(event.originator_id)),
        )

    def _count_visit(self, cursor: Cursor, person: str) -> None:
        cursor.execute(
            f"UPDATE {self.t('key_persons')} SET visits = visits + 1 WHERE id = ?", (person,)
        )

    # --- the watch list (domain.repeats.WatchList) --------------------------------------

    def key_persons_among(self, fingerprints: Sequence[str]) -> list[UUID]:
        """The people on the list one of ``fingerprints`` identifies, by id."""
        found: set[str] = set()
        prints = list(dict.fromkeys(fingerprints))
        with self.db.transaction(write=False) as cursor:
            for start in range(0, len(prints), _IN_CHUNK):
                chunk = prints[start : start + _IN_CHUNK]
                cursor.execute(
                    f"SELECT DISTINCT p.person_id FROM {self.t('key_person_prints')} p "
                    f"JOIN {self.t('key_persons')} k ON k.id = p.person_id "
                    f"WHERE k.active = 1 AND p.fingerprint IN ({', '.join('?' * len(chunk))})",
                    chunk,
                )
                found.update(str(row[0]) for row in cursor.fetchall())
        return [UUID(person) for person in sorted(found)]

    # --- the list -----------------------------------------------------------------------

    def people(
        self,
        unit: str,
        now: datetime,
        state: State = "active",
        limit: int = 200,
        offset: int = 0,
    ) -> list[KeyPersonItem]:
        """The people owned by ``unit``'s subtree in ``state`` as of ``now``: the next visit
        due first (none last), then the longest on the list."""
        at = to_us(now)
        conditions: dict[State, tuple[str, tuple[Any, ...]]] = {
            "active": ("k.active = 1", ()),
            "visit_overdue": ("k.active = 1 AND k.visit_due_us <= ?", (at,)),
            "review_due": ("k.active = 1 AND k.review_us <= ?", (at,)),
            "removed": ("k.active = 0", ()),
            "all": ("1 = 1", ()),
        }
        condition, params = conditions[state]
        names = ", ".join(f"k.{c}" for c in COLUMNS)
        sql = (
            f"SELECT {names} FROM {self.t('key_persons')} k "
            f"JOIN {self.t('key_person_units')} u ON u.descendant = k.unit "
            f"WHERE u.ancestor = ? AND {condition} ORDER BY k.active DESC, "
            "CASE WHEN k.visit_due_us IS NULL THEN 1 ELSE 0 END, k.visit_due_us, "
            "k.flagged_us, k.id LIMIT ? OFFSET ?"
        )
        with self.db.transaction(write=False) as cursor:
            cursor.execute(sql, (unit, *params, limit, offset))
            rows = cursor.fetchall()
        return [_item(dict(zip(COLUMNS, row, strict=True)), at) for row in rows]

    def get(self, person_id: UUID, now: datetime) -> KeyPersonItem | None:
        names = ", ".join(COLUMNS)
        with self.db.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT {names} FROM {self.t('key_persons')} WHERE id = ?", (str(person_id),)
            )
            row = cursor.fetchone()
        return None if row is None else _item(dict(zip(COLUMNS, row, strict=True)), to_us(now))

    # --- the scheduler's clocks ---------------------------------------------------------

    def due(self, now: datetime, limit: int = 1000) -> list[DueClock]:
        """The people whose visit or review is due at ``now`` and not flagged yet, the
        earliest first."""
        at = to_us(now)
        with self.db.transaction(write=False) as cursor:
            cursor.execute(
                "SELECT id, CASE WHEN visit_flagged = 0 AND visit_due_us <= ? "
                "THEN visit_due_us ELSE review_us END AS due "
                f"FROM {self.t('key_persons')} WHERE active = 1 AND "
                "((visit_flagged = 0 AND visit_due_us <= ?) OR "
                "(review_flagged = 0 AND review_us <= ?)) ORDER BY due, id LIMIT ?",
                (at, at, at, limit),
            )
            rows = cursor.fetchall()
        return [DueClock(UUID(row[0]), from_us(row[1])) for row in rows]

    def next_due(self, after: datetime) -> datetime | None:
        """The first visit or review not yet flagged that falls due after ``after``."""
        at = to_us(after)
        table = self.t("key_persons")
        with self.db.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT MIN(visit_due_us) FROM {table} WHERE active = 1 "
                "AND visit_flagged = 0 AND visit_due_us > ?",
                (at,),
            )
            visit = cursor.fetchone()
            cursor.execute(
                f"SELECT MIN(review_us) FROM {table} WHERE active = 1 "
                "AND review_flagged = 0 AND review_us > ?",
                (at,),
            )
            review = cursor.fetchone()
        found = [int(row[0]) for row in (visit, review) if row is not None and row[0] is not None]
        return from_us(min(found)) if found else None


def _item(row: dict[str, Any], at: int) -> KeyPersonItem:
    active = bool(row["active"])
    visit_due = row["visit_due_us"]
    return KeyPersonItem(
        id=UUID(row["id"]),
        name=row["name"],
        reason=row["reason"],
        unit=row["unit"],
        flagged_at=from_us(row["flagged_us"]),
        review_at=from_us(row["review_us"]),
        review_due=active and row["review_us"] <= at,
        leader=row["leader"],
        visit_due_at=None if visit_due is None else from_us(visit_due),
        visit_overdue=active and visit_due is not None and visit_due <= at,
        last_visit_at=None if row["last_visit_us"] is None else from_us(row["last_visit_us"]),
        visits=int(row["visits"]),
        active=active,
        source_case=row["source_case"],
    )
