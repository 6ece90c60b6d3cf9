"""Case history: the event timeline of a case with actor, time, type and a readable line.

The readable line never carries personal data (names, ID numbers, phones, addresses): the
timeline is shown to every role that may see the case and goes into audit exports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.case import Case
from domain.dispute import Dispute
from projections.db import Cursor, from_us, to_us
from projections.engine import Batch, View
from projections.events import is_case_event, kind_of, lookup


@dataclass(frozen=True)
class HistoryEntry:
    version: int
    position: int
    event_type: str
    at: datetime
    actor: str
    role: str
    text: str


class HistoryView(View):
    name = "history"
    handles = (Case.Event,)  # every case event is a line of its timeline

    def create_statements(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {self.t('history')} (case_id TEXT NOT NULL, "
            "version INTEGER NOT NULL, position BIGINT NOT NULL, event_type TEXT NOT NULL, "
            "at_us BIGINT NOT NULL, actor TEXT NOT NULL, role TEXT NOT NULL, text TEXT NOT NULL, "
            "PRIMARY KEY (case_id, version))"
        ]

    def table_names(self) -> list[str]:
        return ["history"]

    def process(self, cursor: Cursor, batch: Batch) -> None:
        rows = [
            (str(e.originator_id), e.originator_version, position, type(e).__name__,
             to_us(e.timestamp), e.actor, e.role, describe(e))
            for position, e in batch
            if is_case_event(e)
        ]  # fmt: skip
        cursor.executemany(
            f"INSERT INTO {self.t('history')} (case_id, version, position, event_type, at_us, "
            "actor, role, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def get_history(self, case_id: UUID) -> list[HistoryEntry]:
        with self.db.transaction(write=False) as cursor:
            cursor.execute(
                "SELECT version, position, event_type, at_us, actor, role, text "
                f"FROM {self.t('history')} WHERE case_id = ? ORDER BY version",
                (str(case_id),),
            )
            rows = cursor.fetchall()
        return [HistoryEntry(r[0], r[1], r[2], from_us(r[3]), r[4], r[5], r[6]) for r in rows]


# One readable line per event type (``event_type`` keeps the class name, the same for a
# dispute's and an incident's event).
TEXT: Mapping[type, str] = {
    Case.Registered: "登记 {kind} ({e.category}) at {e.unit}, level {e.level}, owned by {e.owner}",
    Case.Assessed: "研判 level {e.level}: {triggers}",
    Case.LevelRaised: "level raised to {e.level}: {e.reason}",
    Case.LevelLowered: "level lowered to {e.level}, owned by {e.owner}: {e.reason}",
    Case.Signed: "签收 by {e.owner}",
    Case.Assigned: "assigned to {e.assignee}",
    Case.Returned: "退回 from {e.from_unit} to {e.to_unit}: {e.reason}",
    Case.Escalated: "escalated ({e.cause}) from {e.from_unit} ({e.from_tier}, {e.from_level}) "
    "to {e.to_unit} ({e.to_tier}, {e.to_level})",
    Case.MediationSessionRecorded: "调解 session held {e.held_at:%Y-%m-%d %H:%M} UTC",
    Case.Resolved: "化解: {e.form} agreement",
    Case.Terminated: "调解终止: {e.reason}",
    Case.Referred: "转办 to {e.agency}: {e.reason}",
    Case.ReferralAnswered: "referral answered",
    Dispute.JudicialConfirmationRequested: "司法确认 requested at {e.court}",
    Dispute.JudicialConfirmationRecorded: "司法确认 recorded (confirmed: {e.confirmed})",
    Case.FollowUpRecorded: "回访: satisfied {e.satisfied}, "
    "agreement honoured {e.agreement_honoured}",
    Case.Rated: "好差评: {e.grade}",
    Case.Paused: "中止: {e.reason}",
    Case.Resumed: "resumed",
    Case.DeadlineExtended: "{e.kind} deadline extended to {e.until:%Y-%m-%d %H:%M} UTC: {e.reason}",
    Case.Reopened: "reopened ({e.cause}): {e.reason}",
    Case.Closed: "办结销号",
    Case.Rejected: "不予受理: {e.reason}",
    Case.NoteAdded: "note added",
    Case.AttachmentAdded: "attachment {e.name} ({e.size} bytes)",
    Case.ClockFired: "{e.kind} clock came due {e.due_at:%Y-%m-%d %H:%M} UTC",
    Case.SignOverdueFlagged: "sign-for deadline {e.due_at:%Y-%m-%d %H:%M} UTC missed",
    Case.ResolveOverdueFlagged: "resolve deadline {e.due_at:%Y-%m-%d %H:%M} UTC missed",
}


def describe(event: Any) -> str:
    """One readable line; unknown (newer) event types fall back to their name."""
    template = lookup(TEXT, type(event))
    if template is None:
        return type(event).__name__
    triggers = ", ".join(getattr(event, "triggers", [])) or "-"
    return template.format(e=event, kind=kind_of(event), triggers=triggers)
