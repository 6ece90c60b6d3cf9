"""Case summary and escalation queue: one row per case, its owner, level and next deadline.

The queue of a unit is the open cases owned anywhere in its subtree, red → orange → yellow,
then by the nearest sign-for or resolve deadline. Overdue and time-to-breach depend on "now",
so they are computed when asked, never stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from domain.case import Case, status_after
from domain.clocks import DeadlineKind
from domain.dispute import Dispute
from domain.status import OPEN, REFERRAL_FLAGS, EscalationCause, Flag, LevelCause, Status
from projections.closure import add_unit, closure_ddl
from projections.db import Cursor, to_us
from projections.engine import Batch, View
from projections.events import (
    is_case_event,
    is_unit_added,
    kind_of,
    level_rank,
    lookup,
    next_queue_due,
)
from projections.rows import RowBatch

COLUMNS = (
    "id", "kind", "category", "summary", "status", "paused_from", "level", "level_rank",
    "unit", "owner", "tier", "assignee", "awaiting_signature", "is_open", "next_due_us",
    "next_due_kind", "flags", "registered_us", "updated_us", "version", "policy_version",
    "escalations", "number", "level_cause", "closed_us", "is_repeat", "key_person",
)  # fmt: skip
# 督查回访: each sample of a case by a township's monthly draw, and its callback.
INSPECTION_COLUMNS = (
    "case_id", "draw", "township", "month", "unit", "sampled_us", "due_us", "recorded_us",
    "inspector", "reached", "satisfied", "honoured", "rework",
)  # fmt: skip

_OPEN = {status.value for status in OPEN}

_BREACHES = (Flag.SIGN_OVERDUE.value, Flag.RESOLVE_OVERDUE.value)
_REFERRAL_FLAGS = tuple(flag.value for flag in REFERRAL_FLAGS)
# Flags that keep a concluded or closed case in its owner's queue until dealt with.
_WAITING = {Flag.REFERRAL_PENDING.value, Flag.RATING_REVIEW.value}
_FLAG_BY_EVENT: Mapping[type, str] = {
    Case.SignOverdueFlagged: Flag.SIGN_OVERDUE.value,
    Case.ResolveOverdueFlagged: Flag.RESOLVE_OVERDUE.value,
    Case.SupervisionOrdered: Flag.SUPERVISED.value,
    Case.SupervisionReminded: Flag.SUPERVISION_OVERDUE.value,
    Case.RatingReviewOpened: Flag.RATING_REVIEW.value,
}

Row = dict[str, Any]


def _set_flags(row: Row, add: str | None = None, remove: tuple[str, ...] = ()) -> None:
    flags = {f for f in row["flags"].split(",") if f and f not in remove}
    if add:
        flags.add(add)
    row["flags"] = ",".join(sorted(flags))


def _move(row: Row, owner: str, tier: str) -> None:
    """A new owner: awaiting its signature, and no mediator until it assigns one."""
    if owner != row["owner"]:
        row["assignee"] = None
    row["owner"], row["tier"], row["awaiting_signature"] = owner, tier, 1


def _set_level(row: Row, level: str) -> None:
    row["level"], row["level_rank"] = level, level_rank(level)


def _leveled(cause: LevelCause) -> Callable[[Row, Any], None]:
    def leveled(row: Row, event: Any) -> None:
        _set_level(row, event.level)
        row["level_cause"] = cause.value

    return leveled


def _lowered(row: Row, event: Any) -> None:
    _set_level(row, event.level)
    row["level_cause"] = LevelCause.LOWERED.value
    if event.owner != row["owner"]:
        _move(row, event.owner, event.tier)


def _escalated(row: Row, event: Any) -> None:
    if event.cause == EscalationCause.OVERDUE and event.to_level != event.from_level:
        row["level_cause"] = LevelCause.OVERDUE.value
    _set_level(row, event.to_level)
    _move(row, event.to_unit, event.to_tier)
    row["escalations"] += 1
    _set_flags(row, remove=_BREACHES)


def _returned(row: Row, event: Any) -> None:
    if event.to_unit != row["owner"]:
        _move(row, event.to_unit, event.to_tier)


def _numbered(row: Row, event: Any) -> None:
    row["number"] = event.number


def _signed(row: Row, event: Any) -> None:
    row["awaiting_signature"] = 0
    _set_flags(row, remove=(Flag.SIGN_OVERDUE.value,))


def _assigned(row: Row, event: Any) -> None:
    row["assignee"] = event.assignee


def _paused(row: Row, event: Any) -> None:
    row["paused_from"] = row["status"]


def _resumed(row: Row, event: Any) -> None:
    row["paused_from"] = None
    _set_flags(row, remove=(Flag.PAUSE_REVIEW_DUE.value,))


def _flag(flag: str) -> Callable[[Row, Any], None]:
    def flagged(row: Row, event: Any) -> None:
        _set_flags(row, add=flag)

    return flagged


def _concluded(row: Row, event: Any) -> None:
    _set_flags(row, remove=_BREACHES)


def _referred(row: Row, event: Any) -> None:
    _concluded(row, event)
    _set_flags(row, add=Flag.REFERRAL_PENDING.value)


def _referral_answered(row: Row, event: Any) -> None:
    _set_flags(row, remove=_REFERRAL_FLAGS)


def _supervision_answered(row: Row, event: Any) -> None:
    _set_flags(row, remove=(Flag.SUPERVISED.value, Flag.SUPERVISION_OVERDUE.value))


def _clock_fired(row: Row, event: Any) -> None:
    flag = Flag.when_due(event.kind)  # as the aggregate flags it
    if flag is not None:
        _set_flags(row, add=flag.value)


def _rating_reviewed(row: Row, event: Any) -> None:
    _set_flags(row, remove=(Flag.RATING_REVIEW.value, Flag.RATING_REVIEW_OVERDUE.value))


def _followed_up(row: Row, event: Any) -> None:
    if event.agreement_honoured is not None:  # the visit checked the performance
        _set_flags(row, remove=(Flag.PERFORMANCE_DUE.value,))


def _closed(row: Row, event: Any) -> None:
    row["closed_us"] = to_us(event.timestamp)  # the last closing: a 督查 draw's month


def _inspection_recorded(row: Row, event: Any) -> None:
    _set_flags(row, remove=(Flag.INSPECTION_OVERDUE.value,))


def _reported_back(row: Row, event: Any) -> None:
    _set_flags(row, remove=(Flag.REPORT_BACK_OVERDUE.value,))


# What each event does to an existing case row.
_CHANGES: Mapping[type, Callable[[Row, Any], None]] = {
    Case.Assessed: _leveled(LevelCause.ASSESSED),
    Case.LevelRaised: _leveled(LevelCause.RAISED),
    Case.LevelLowered: _lowered,
    Case.Escalated: _escalated,
    Case.Returned: _returned,
    Case.Signed: _signed,
    Case.Assigned: _assigned,
    Case.Numbered: _numbered,
    Case.Paused: _paused,
    Case.Resumed: _resumed,
    Case.SupervisionAnswered: _supervision_answered,
    Case.ReferralAnswered: _referral_answered,
    Case.ReferralDeclined: _referral_answered,
    Case.ReportedBack: _reported_back,
    Case.FollowUpRecorded: _followed_up,
    Case.ClockFired: _clock_fired,
    Case.Closed: _closed,
    Case.InspectionRecorded: _inspection_recorded,
    Case.RatingReviewed: _rating_reviewed,
    **{event: _flag(flag) for event, flag in _FLAG_BY_EVENT.items()},
    **dict.fromkeys((Case.Resolved, Case.Terminated), _concluded),
    Case.Referred: _referred,
}
# Events that change nothing but the status (domain.case.STATUS_AFTER, read in ``apply``).
_STATUS_ONLY = (
    Case.Rejected,
    Case.MediationSessionRecorded,
    Case.Reopened,
)


class CasesView(View):
    name = "cases"
    # 2: the case number; 3: a move clears the assignee; 4: 督办 and pause-review flags;
    # 5: a referral awaiting its answer stays in the queue (转办待复), report-back flags, and
    # why each case has its level
    # 6: a bad rating awaiting 差评核实 keeps the case in the queue
    # 7: when each case was last closed, and its 督查 samples (``inspections``)
    # 8: whether it was registered as a repeat (重复) and with a key person (重点人员)
    schema_version = 8
    # (a 督查 sample, and a callback's clock moved by the calendar facts: ``inspections``)
    handles = (
        Case.Registered,
        *_CHANGES,
        *_STATUS_ONLY,
        Case.InspectionSampled,
        Case.ClocksRecomputed,
    )
    # Beyond the version, time and next deadline every case event updates: nothing.
    ignores = (
        Case.ReferralResultReported,
        Case.Rated,
        Case.RatingInvited,
        Case.DeadlineExtended,
        Case.NoteAdded,
        Case.AttachmentAdded,
        Dispute.JudicialConfirmationRequested,
        Dispute.JudicialConfirmationRecorded,
    )

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
            "escalations INTEGER NOT NULL, number TEXT NOT NULL, level_cause TEXT NOT NULL, "
            "closed_us BIGINT, is_repeat INTEGER NOT NULL, key_person INTEGER NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {self.db.index('cases_queue')} ON {cases} "
            "(owner, is_open, level_rank, next_due_us)",
            f"CREATE INDEX IF NOT EXISTS {self.db.index('cases_unit')} ON {cases} "
            "(unit, registered_us)",
            f"CREATE INDEX IF NOT EXISTS {self.db.index('cases_number')} ON {cases} (number)",
            # a member's open cases (``projections.queue.assigned_to``); created on the next
            # start of a view built before it, with no rebuild
            f"CREATE INDEX IF NOT EXISTS {self.db.index('cases_assignee')} ON {cases} "
            "(assignee, is_open)",
            f"CREATE INDEX IF NOT EXISTS {self.db.index('cases_closed')} ON {cases} "
            "(unit, closed_us)",
            *closure_ddl(self.t("units")),
            f"CREATE TABLE IF NOT EXISTS {self.t('inspections')} (case_id TEXT NOT NULL, "
            "draw TEXT NOT NULL, township TEXT NOT NULL, month TEXT NOT NULL, "
            "unit TEXT NOT NULL, sampled_us BIGINT NOT NULL, due_us BIGINT NOT NULL, "
            "recorded_us BIGINT, inspector TEXT, reached INTEGER, satisfied INTEGER, "
            "honoured INTEGER, rework INTEGER, PRIMARY KEY (case_id, draw))",
            f"CREATE INDEX IF NOT EXISTS {self.db.index('inspections_unit')} "
            f"ON {self.t('inspections')} (unit, due_us)",
        ]

    def table_names(self) -> list[str]:
        return ["cases", "units", "inspections"]

    def process(self, cursor: Cursor, batch: Batch) -> None:
        rows = RowBatch(self.t("cases"), "id", COLUMNS)
        rows.load(cursor, (str(e.originator_id) for _, e in batch if is_case_event(e)))
        for _, event in batch:
            if is_unit_added(event):
                add_unit(cursor, self.t("units"), event)
            elif is_case_event(event):
                case_id = str(event.originator_id)
                row = apply(rows.get(case_id), event)
                rows.put(row)
                if isinstance(event, Case.InspectionSampled | Case.InspectionRecorded):
                    _inspection(cursor, self.t("inspections"), row, event)
                elif isinstance(event, Case.ClocksRecomputed):
                    _callback_moved(cursor, self.t("inspections"), row, event)
        rows.flush(cursor)


def _inspection(cursor: Cursor, table: str, row: Row, event: Any) -> None:
    """A 督查 sample of the case, or its callback."""
    if isinstance(event, Case.InspectionSampled):
        names = ", ".join(INSPECTION_COLUMNS)
        marks = ", ".join("?" for _ in INSPECTION_COLUMNS)
        cursor.execute(
            f"INSERT INTO {table} ({names}) VALUES ({marks})",
            (row["id"], event.draw, event.township, event.month, row["unit"],
             to_us(event.timestamp), to_us(event.due_at), None, None, None, None, None, None),
        )  # fmt: skip
        return
    cursor.execute(
        f"UPDATE {table} SET recorded_us = ?, inspector = ?, reached = ?, satisfied = ?, "
        "honoured = ?, rework = ? WHERE case_id = ? AND draw = ?",
        (to_us(event.timestamp), event.actor, int(event.reached), _flag_of(event.satisfied),
         _flag_of(event.agreement_honoured), int(event.rework), row["id"], event.draw),
    )  # fmt: skip


def _callback_moved(cursor: Cursor, table: str, row: Row, event: Any) -> None:
    """The calendar facts changed: a callback not yet made is due when its clock now says."""
    clock = event.deadlines.get(DeadlineKind.INSPECTION.value)
    if clock is not None:
        cursor.execute(
            f"UPDATE {table} SET due_us = ? WHERE case_id = ? AND recorded_us IS NULL",
            (to_us(clock.due_at), row["id"]),
        )


def _flag_of(value: bool | None) -> int | None:
    return None if value is None else int(value)


def apply(row: Row | None, event: Any) -> Row:
    """The case row after ``event``."""
    if row is None:
        row = _registered(event)
    else:
        row = dict(row)
        status = Status(row["status"])
        paused_from = Status(row["paused_from"]) if row["paused_from"] else None
        change = lookup(_CHANGES, type(event))
        if change is not None:
            change(row, event)
        row["status"] = status_after(type(event), status, paused_from).value
    if hasattr(event, "deadlines"):
        row["next_due_us"], row["next_due_kind"] = next_queue_due(event.deadlines)
    row["version"] = event.originator_version
    row["updated_us"] = to_us(event.timestamp)
    # a referral the agency has not answered keeps the case in its unit's queue (转办待复), and
    # so does a bad rating awaiting 差评核实
    waiting = bool(_WAITING & set(row["flags"].split(",")))
    row["is_open"] = int(row["status"] in _OPEN or waiting)
    return row


def _registered(event: Any) -> Row:
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
        "number": event.number,
        "level_cause": event.level_cause or LevelCause.REGISTERED.value,
        "closed_us": None,
        # what the record said when it was registered (``domain.repeats``): a card's badges
        "is_repeat": int(bool(event.repeat_of)),
        "key_person": int(bool(event.key_persons)),
    }
