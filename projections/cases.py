"""Case summary and escalation queue: one row per case, its owner, level and next deadline.

The queue of a unit is the open cases owned anywhere in its subtree, red → orange → yellow,
then by the nearest sign-for or resolve deadline. Overdue and time-to-breach depend on "now",
so they are computed when asked, never stored.
"""

from __future__ import annotations

from typing import Any

from domain.status import OPEN, Status
from projections.closure import add_unit, closure_ddl
from projections.db import Cursor, to_us
from projections.engine import Batch, View
from projections.events import (
    is_case_event,
    is_unit_added,
    kind_of,
    level_rank,
    name_of,
    next_queue_due,
)
from projections.rows import RowBatch

COLUMNS = (
    "id", "kind", "category", "summary", "status", "paused_from", "level", "level_rank",
    "unit", "owner", "tier", "assignee", "awaiting_signature", "is_open", "next_due_us",
    "next_due_kind", "flags", "registered_us", "updated_us", "version", "policy_version",
    "escalations",
)  # fmt: skip

_OPEN = {status.value for status in OPEN}
_STATUS_BY_EVENT = {
    "MediationSessionRecorded": Status.IN_MEDIATION,
    "Resolved": Status.RESOLVED,
    "Terminated": Status.TERMINATED,
    "Referred": Status.REFERRED,
    "FollowUpRecorded": Status.FOLLOWED_UP,
    "Reopened": Status.REOPENED,
    "Closed": Status.CLOSED,
    "Rejected": Status.REJECTED,
}
_OUTCOMES = {"Resolved", "Terminated", "Referred"}
_FLAG_BY_EVENT = {"SignOverdueFlagged": "sign_overdue", "ResolveOverdueFlagged": "resolve_overdue"}


class CasesView(View):
    name = "cases"

    def create_statements(self) -> list[str]:
        cases = self.t("cases")
        return [
            f"CREATE TABLE IF NOT EXISTS {cases} (id TEXT PRIMARY KEY, kind TEXT NOT NULL, "
            "category TEXT NOT NULL, summary TEXT NOT NULL, status TEXT NOT NULL, "
            "paused_from TEXT, level TEXT NOT NULL, level_rank INTEGER NOT NULL, "
            "unit TEXT NOT NULL, owner TEXT NOT NULL, tier TEXT NOT NULL, assignee TEXT, "
            "awaiting_signature INTEGER NOT NULL, is_open INTEGER NOT NULL, next_due_us BIGINT, "
            "next_due_kind TEXT, flags TEXT NOT NULL, registered_us BIGINT NOT NULL, "
            "updated_us BIGINT NOT NULL, version INTEGER NOT NULL, policy_version TEXT NOT NULL, "
            "escalations INTEGER NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {self.db.index('cases_queue')} ON {cases} "
            "(owner, is_open, level_rank, next_due_us)",
            f"CREATE INDEX IF NOT EXISTS {self.db.index('cases_unit')} ON {cases} "
            "(unit, registered_us)",
            *closure_ddl(self.t("units")),
        ]

    def table_names(self) -> list[str]:
        return ["cases", "units"]

    def process(self, cursor: Cursor, batch: Batch) -> None:
        rows = RowBatch(self.t("cases"), "id", COLUMNS)
        rows.load(cursor, (str(e.originator_id) for _, e in batch if is_case_event(e)))
        for _, event in batch:
            if is_unit_added(event):
                add_unit(cursor, self.t("units"), event)
            elif is_case_event(event):
                case_id = str(event.originator_id)
                rows.put(apply(rows.get(case_id), event))
        rows.flush(cursor)


def apply(row: dict[str, Any] | None, event: Any) -> dict[str, Any]:
    """The case row after ``event``."""
    name = name_of(event)
    if row is None:
        row = _registered(event)
    else:
        row = dict(row)
        _change(row, name, event)
    if hasattr(event, "deadlines"):
        row["next_due_us"], row["next_due_kind"] = next_queue_due(event.deadlines)
    row["version"] = event.originator_version
    row["updated_us"] = to_us(event.timestamp)
    row["is_open"] = int(row["status"] in _OPEN)
    return row


def _registered(event: Any) -> dict[str, Any]:
    return {
        "id": str(event.originator_id),
        "kind": kind_of(event),
        "category": event.category,
        "summary": event.summary,
        "status": Status.REGISTERED.value,
        "paused_from": None,
        "level": event.level,
        "level_rank": level_rank(event.level),
        "unit": event.unit,
        "owner": event.owner,
        "tier": event.tier,
        "assignee": None,
        "awaiting_signature": 1,
        "is_open": 1,
        "next_due_us": None,
        "next_due_kind": None,
        "flags": "",
        "registered_us": to_us(event.timestamp),
        "updated_us": to_us(event.timestamp),
        "version": event.originator_version,
        "policy_version": event.policy_version,
        "escalations": 0,
    }


def _set_flags(row: dict[str, Any], add: str | None = None, remove: tuple[str, ...] = ()) -> None:
    flags = {f for f in row["flags"].split(",") if f and f not in remove}
    if add:
        flags.add(add)
    row["flags"] = ",".join(sorted(flags))


def _move(row: dict[str, Any], owner: str, tier: str) -> None:
    row["owner"], row["tier"], row["awaiting_signature"] = owner, tier, 1


def _change(row: dict[str, Any], name: str, event: Any) -> None:
    if name in ("Assessed", "LevelRaised", "LevelLowered", "Escalated"):
        level = event.to_level if name == "Escalated" else event.level
        row["level"], row["level_rank"] = level, level_rank(level)
    if name in ("Escalated", "LevelLowered", "Returned"):
        _change_owner(row, name, event)
    elif name == "Signed":
        row["awaiting_signature"] = 0
        _set_flags(row, remove=("sign_overdue",))
        if row["status"] == Status.REGISTERED.value:
            row["status"] = Status.SIGNED.value
    elif name == "Assigned":
        row["assignee"] = event.assignee
    elif name == "Paused":
        row["paused_from"], row["status"] = row["status"], Status.PAUSED.value
    elif name == "Resumed":
        row["status"], row["paused_from"] = row["paused_from"] or Status.SIGNED.value, None
    elif name in _FLAG_BY_EVENT:
        _set_flags(row, add=_FLAG_BY_EVENT[name])
    elif name in _STATUS_BY_EVENT:
        row["status"] = _STATUS_BY_EVENT[name].value
        if name in _OUTCOMES:
            _set_flags(row, remove=("sign_overdue", "resolve_overdue"))


def _change_owner(row: dict[str, Any], name: str, event: Any) -> None:
    if name == "Escalated":
        _move(row, event.to_unit, event.to_tier)
        row["escalations"] += 1
        _set_flags(row, remove=("sign_overdue", "resolve_overdue"))
        return
    owner = event.owner if name == "LevelLowered" else event.to_unit
    tier = event.tier if name == "LevelLowered" else event.to_tier
    if owner != row["owner"]:
        _move(row, owner, tier)
