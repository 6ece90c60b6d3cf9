"""线索研判: one row per clue, for the triage queue of a unit's subtree, one clue's card, the
scheduler's triage clocks and the statistics of clues per period.

The people of a clue are personal data and stay in its events: a row holds how many there
were and whether the watch-list named a key person among them, never who. The summary is kept
for the queue's cards with any long run of digits in it masked (a phone or ID number written
into the text), as ``domain.parties.mask_digits`` masks them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.case import Case
from domain.clue import Clue, ClueStatus
from domain.parties import mask_digits
from projections.closure import add_unit, closure_ddl
from projections.db import Cursor, from_us, to_us
from projections.engine import Batch, View
from projections.events import is_unit_added

COLUMNS = (
    "id", "unit", "village", "township", "county", "category", "summary", "source", "status",
    "overdue", "recorded_us", "triage_due_us", "decided_us", "key_persons", "suggested_level",
    "case_id", "case_number", "people", "recorded_by", "version",
)  # fmt: skip
# what a queue asks for: open, overdue (open and past its clock), dismissed or promoted
QUEUE_STATES = ("open", "overdue", "dismissed", "promoted")
# digits enough to be a phone or an ID number, with the separators people type
_DIGIT_RUN = re.compile(r"[0-9][0-9 \-]{5,}[0-9Xx]")


def masked_text(value: str) -> str:
    """``value`` with every phone- or ID-number-like run of digits masked."""
    return _DIGIT_RUN.sub(lambda found: mask_digits(found.group()) or "", value)


@dataclass(frozen=True)
class ClueRow:
    """A clue as the view holds it."""

    id: UUID
    unit: str
    village: str
    township: str
    county: str
    category: str
    summary: str
    source: str
    status: str
    overdue: bool
    recorded_at: datetime
    triage_due_at: datetime
    decided_at: datetime | None
    key_persons: int
    suggested_level: str
    case_id: str | None
    case_number: str | None
    people: int
    recorded_by: str
    version: int

    @classmethod
    def of(cls, values: tuple[Any, ...]) -> ClueRow:
        row = dict(zip(COLUMNS, values, strict=True))
        return cls(
            id=UUID(str(row["id"])),
            unit=row["unit"],
            village=row["village"],
            township=row["township"],
            county=row["county"],
            category=row["category"],
            summary=row["summary"],
            source=row["source"],
            status=row["status"],
            overdue=bool(row["overdue"]),
            recorded_at=from_us(row["recorded_us"]),
            triage_due_at=from_us(row["triage_due_us"]),
            decided_at=None if row["decided_us"] is None else from_us(row["decided_us"]),
            key_persons=int(row["key_persons"]),
            suggested_level=row["suggested_level"],
            case_id=row["case_id"],
            case_number=row["case_number"],
            people=int(row["people"]),
            recorded_by=row["recorded_by"],
            version=int(row["version"]),
        )


@dataclass(frozen=True)
class ClueCounts:
    """Clues recorded in a subtree in a period, and what became of them."""

    unit: str
    recorded: int
    open: int
    overdue: int
    dismissed: int
    promoted: int

    @property
    def share_promoted(self) -> float | None:
        """Promoted of those triaged (dismissed or promoted); None while none is."""
        decided = self.dismissed + self.promoted
        return None if decided == 0 else self.promoted / decided


class CluesView(View):
    name = "clues"
    schema_version = 1
    handles = (Clue.Event, Clue.Recorded)
    # a clue's view reads no case event: the promotion is recorded on the clue itself
    ignores = (Case.Event,)

    def create_statements(self) -> list[str]:
        clues = self.t("clues")
        return [
            f"CREATE TABLE IF NOT EXISTS {clues} (id TEXT PRIMARY KEY, unit TEXT NOT NULL, "
            "village TEXT NOT NULL, township TEXT NOT NULL, county TEXT NOT NULL, "
            "category TEXT NOT NULL, summary TEXT NOT NULL, source TEXT NOT NULL, "
            "status TEXT NOT NULL, overdue INTEGER NOT NULL, recorded_us BIGINT NOT NULL, "
            "triage_due_us BIGINT NOT NULL, decided_us BIGINT, key_persons INTEGER NOT NULL, "
            "suggested_level TEXT NOT NULL, case_id TEXT, case_number TEXT, "
            "people INTEGER NOT NULL, recorded_by TEXT NOT NULL, version INTEGER NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {self.db.index('clues_unit')} ON {clues} "
            "(unit, recorded_us)",
            f"CREATE INDEX IF NOT EXISTS {self.db.index('clues_due')} ON {clues} "
            "(status, overdue, triage_due_us)",
            *closure_ddl(self.t("units")),
        ]

    def table_names(self) -> list[str]:
        return ["clues", "units"]

    def process(self, cursor: Cursor, batch: Batch) -> None:
        table = self.t("clues")
        for _, event in batch:
            if is_unit_added(event):
                add_unit(cursor, self.t("units"), event)
            elif isinstance(event, Clue.Recorded):
                _recorded(cursor, table, event)
            elif isinstance(event, Clue.Event):
                _changed(cursor, table, event)

    # --- queries ------------------------------------------------------------------------------

    def _select(self, where: str, params: tuple[Any, ...], tail: str = "") -> list[ClueRow]:
        names = ", ".join(f"c.{column}" for column in COLUMNS)
        sql = f"SELECT {names} FROM {self.t('clues')} c {where} {tail}"
        with self.db.transaction(write=False) as cursor:
            cursor.execute(sql, params)
            return [ClueRow.of(tuple(values)) for values in cursor.fetchall()]

    def queue(
        self, unit: str, state: str | None = None, limit: int = 200, offset: int = 0
    ) -> list[ClueRow]:
        """The clues recorded in ``unit``'s subtree: open ones first, the overdue among them
        first, then oldest first. ``state`` narrows to open, overdue, dismissed or promoted."""
        where = f"JOIN {self.t('units')} u ON u.descendant = c.unit WHERE u.ancestor = ?"
        params: list[Any] = [unit]
        if state == "overdue":
            where += " AND c.status = ? AND c.overdue = 1"
            params.append(ClueStatus.OPEN.value)
        elif state is not None:
            where += " AND c.status = ?"
            params.append(state)
        tail = (
            "ORDER BY CASE WHEN c.status = 'open' THEN 0 ELSE 1 END, c.overdue DESC, "
            "c.recorded_us, c.id LIMIT ? OFFSET ?"
        )
        return self._select(where, (*params, limit, offset), tail)

    def one(self, clue_id: UUID) -> ClueRow | None:
        found = self._select("WHERE c.id = ?", (str(clue_id),))
        return found[0] if found else None

    def all_rows(self) -> list[ClueRow]:
        """Every row, in id order (to compare a rebuilt view with the live one)."""
        return self._select("", (), "ORDER BY c.id")

    def due(self, now: datetime, limit: int = 500) -> list[ClueRow]:
        """Open clues not yet flagged whose triage clock ran out at or before ``now``."""
        return self._select(
            "WHERE c.status = ? AND c.overdue = 0 AND c.triage_due_us <= ?",
            (ClueStatus.OPEN.value, to_us(now)),
            "ORDER BY c.triage_due_us, c.id LIMIT " + str(int(limit)),
        )

    def next_due(self, after: datetime) -> datetime | None:
        """The first triage clock after ``after`` of a clue still open and unflagged."""
        sql = (
            f"SELECT MIN(triage_due_us) FROM {self.t('clues')} "
            "WHERE status = ? AND overdue = 0 AND triage_due_us > ?"
        )
        with self.db.transaction(write=False) as cursor:
            cursor.execute(sql, (ClueStatus.OPEN.value, to_us(after)))
            row = cursor.fetchone()
        return None if row is None or row[0] is None else from_us(int(row[0]))

    def statistics(
        self, unit: str, start: datetime, end: datetime
    ) -> tuple[ClueCounts, list[ClueCounts]]:
        """The clues recorded in ``[start, end)`` in ``unit``'s subtree, and in each unit
        directly below it, with what became of them."""
        counts = (
            "COUNT(*), "
            "COALESCE(SUM(CASE WHEN c.status = 'open' THEN 1 ELSE 0 END), 0), "
            "COALESCE(SUM(CASE WHEN c.status = 'open' AND c.overdue = 1 THEN 1 ELSE 0 END), 0), "
            "COALESCE(SUM(CASE WHEN c.status = 'dismissed' THEN 1 ELSE 0 END), 0), "
            "COALESCE(SUM(CASE WHEN c.status = 'promoted' THEN 1 ELSE 0 END), 0)"
        )
        units, clues = self.t("units"), self.t("clues")
        window = (to_us(start), to_us(end))
        with self.db.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT {counts} FROM {clues} c JOIN {units} u ON u.descendant = c.unit "
                "WHERE u.ancestor = ? AND c.recorded_us >= ? AND c.recorded_us < ?",
                (unit, *window),
            )
            total = _counts(unit, cursor.fetchone())
            cursor.execute(
                f"SELECT ch.descendant, {counts} FROM {units} ch "
                f"JOIN {units} d ON d.ancestor = ch.descendant "
                f"JOIN {clues} c ON c.unit = d.descendant "
                "WHERE ch.ancestor = ? AND ch.depth = 1 "
                "AND c.recorded_us >= ? AND c.recorded_us < ? "
                "GROUP BY ch.descendant ORDER BY ch.descendant",
                (unit, *window),
            )
            below = [_counts(str(row[0]), tuple(row[1:])) for row in cursor.fetchall()]
        return total, below


def _counts(unit: str, row: Any) -> ClueCounts:
    values = [int(value or 0) for value in (row or (0, 0, 0, 0, 0))]
    return ClueCounts(unit, *values)


def _recorded(cursor: Cursor, table: str, event: Any) -> None:
    row = {
        "id": str(event.originator_id),
        "unit": event.unit,
        "village": event.village,
        "township": event.township,
        "county": event.county,
        "category": event.category,
        "summary": masked_text(event.summary),
        "source": event.source,
        "status": ClueStatus.OPEN.value,
        "overdue": 0,
        "recorded_us": to_us(event.timestamp),
        "triage_due_us": to_us(event.triage_due_at),
        "decided_us": None,
        "key_persons": len(event.key_persons),
        "suggested_level": event.suggested_level,
        "case_id": None,
        "case_number": None,
        "people": len(event.parties),
        "recorded_by": event.actor,
        "version": event.originator_version,
    }
    names = ", ".join(COLUMNS)
    marks = ", ".join("?" for _ in COLUMNS)
    cursor.execute(
        f"INSERT INTO {table} ({names}) VALUES ({marks}) ON CONFLICT (id) DO NOTHING",
        tuple(row[column] for column in COLUMNS),
    )


def _changed(cursor: Cursor, table: str, event: Any) -> None:
    """A dismissal, a promotion or the triage clock run out."""
    sets: dict[str, Any] = {"version": event.originator_version}
    if isinstance(event, Clue.Dismissed):
        sets.update(status=ClueStatus.DISMISSED.value, decided_us=to_us(event.timestamp))
    elif isinstance(event, Clue.Promoted):
        sets.update(
            status=ClueStatus.PROMOTED.value,
            decided_us=to_us(event.timestamp),
            case_id=event.case_id,
            case_number=event.case_number,
        )
    elif isinstance(event, Clue.TriageOverdueFlagged):
        sets["overdue"] = 1
    assignments = ", ".join(f"{column} = ?" for column in sets)
    cursor.execute(
        f"UPDATE {table} SET {assignments} WHERE id = ?",
        (*sets.values(), str(event.originator_id)),
    )
