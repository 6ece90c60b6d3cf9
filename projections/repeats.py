"""The repeat index (重复纠纷): who and where each case involved, as fingerprints and places.

A registration asks this view (the ``RepeatFinder`` port of ``domain.repeats``) which cases of
the policy's window share one of its parties or its place and category. The view keeps:

- ``marks``: one row per (fingerprint, case) — each party's ID number and phone as the keyed
  hash ``domain.fingerprints`` makes of them, never the number itself, and no name;
- ``cases``: one row per case — its place (unit code), category, registration time, number
  (``Numbered`` may issue it later), whether it was registered as a repeat, and its outcome;
- ``links``: what each registration recorded it repeats (earlier → later, why), so the
  earlier case's file lists the later ones too;
- ``units``: the jurisdiction's closure table, for the repeat rate of a subtree.

Like every view it is rebuilt from the log, and the same key gives the same fingerprints; a
deployment without a cipher key fingerprints nobody (and its registrations consult nothing:
``domain.repeats.NoHistory``), its cases still counted by place for the statistics.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Application

from domain.case import Case
from domain.dispute import Dispute
from domain.fingerprints import Fingerprints
from domain.repeats import PARTY, PLACE, EarlierCase
from domain.status import Outcome
from projections.cases import CasesView
from projections.closure import add_unit, closure_ddl
from projections.db import Cursor, ViewDatabase, from_us, to_us
from projections.engine import Batch, View
from projections.events import is_case_event, is_unit_added, kind_of, lookup

# Earlier cases one registration records, at most, for each reason (the latest ones): a busy
# village's gate may have had hundreds of cases of a category in the window, and the case
# needs to show that it repeats, not carry all of them.
MAX_EARLIER = 50

CASE_COLUMNS = (
    "case_id", "kind", "unit", "category", "registered_us", "number", "is_repeat", "outcome",
)  # fmt: skip

# The outcome each event leaves the case with ("" : none, back at work).
_OUTCOMES: dict[type, str] = {
    Case.Resolved: Outcome.RESOLVED.value,
    Case.Terminated: Outcome.TERMINATED.value,
    Case.Referred: Outcome.REFERRED.value,
    Case.Reopened: "",
    Case.ReferralDeclined: "",
}


class RepeatsView(View):
    name = "repeats"
    schema_version = 1
    handles = (Case.Registered, Case.Numbered, *_OUTCOMES)
    # Nothing else changes who a case involved, where, its number or its outcome: the parties
    # are recorded once, at registration.
    ignores = (
        Case.Assessed, Case.Assigned, Case.AttachmentAdded, Case.ClockFired,
        Case.ClocksRecomputed, Case.Closed, Case.DeadlineExtended, Case.Escalated,
        Case.FollowUpRecorded, Case.InspectionRecorded, Case.InspectionSampled,
        Dispute.JudicialConfirmationRecorded, Dispute.JudicialConfirmationRequested,
        Case.LevelLowered, Case.LevelRaised, Case.MediationSessionRecorded, Case.NoteAdded,
        Case.Paused, Case.Rated, Case.RatingInvited, Case.RatingReviewOpened,
        Case.RatingReviewed, Case.ReferralAnswered, Case.ReferralResultReported,
        Case.Rejected, Case.ReportedBack, Case.ResolveOverdueFlagged, Case.Resumed,
        Case.Returned, Case.SignOverdueFlagged, Case.Signed, Case.SupervisionAnswered,
        Case.SupervisionOrdered, Case.SupervisionReminded,
    )  # fmt: skip

    def __init__(self, db: ViewDatabase, fingerprints: Fingerprints | None = None) -> None:
        super().__init__(db)
        self.fingerprints = fingerprints

    @classmethod
    def over(cls, db: ViewDatabase, app: Application[Any]) -> View:
        """The index under the application's fingerprint key (none: places only)."""
        return cls(db, getattr(app, "fingerprints", None))

    def create_statements(self) -> list[str]:
        cases, marks, links = self.t("cases"), self.t("marks"), self.t("links")
        return [
            f"CREATE TABLE IF NOT EXISTS {cases} (case_id TEXT PRIMARY KEY, kind TEXT NOT NULL, "
            "unit TEXT NOT NULL, category TEXT NOT NULL, registered_us BIGINT NOT NULL, "
            "number TEXT NOT NULL, is_repeat INTEGER NOT NULL, outcome TEXT NOT NULL)",
            # a place's cases of a category in the window; a subtree's cases for its rate
            f"CREATE INDEX IF NOT EXISTS {self.db.index('repeats_place')} ON {cases} "
            "(unit, category, registered_us)",
            # the lookup reads the index alone: fingerprint, then the window, then the case
            f"CREATE TABLE IF NOT EXISTS {marks} (fingerprint TEXT NOT NULL, "
            "registered_us BIGINT NOT NULL, case_id TEXT NOT NULL, "
            f"PRIMARY KEY (fingerprint, registered_us, case_id)){self._compact()}",
            f"CREATE TABLE IF NOT EXISTS {links} (earlier_id TEXT NOT NULL, "
            "later_id TEXT NOT NULL, matched_by TEXT NOT NULL, "
            "PRIMARY KEY (earlier_id, later_id))",
            *closure_ddl(self.t("units")),
        ]

    def _compact(self) -> str:
        """SQLite keeps a table without rowid in its primary key's tree: no second copy."""
        return " WITHOUT ROWID" if self.db.engine == "sqlite" else ""

    def table_names(self) -> list[str]:
        return ["cases", "marks", "links", "units"]

    def process(self, cursor: Cursor, batch: Batch) -> None:
        for _, event in batch:
            if is_unit_added(event):
                add_unit(cursor, self.t("units"), event)
            elif not is_case_event(event):
                continue
            elif isinstance(event, Case.Registered):
                self._registered(cursor, event)
            elif isinstance(event, Case.Numbered):
                cursor.execute(
                    f"UPDATE {self.t('cases')} SET number = ? WHERE case_id = ?",
                    (event.number, str(event.originator_id)),
                )
            else:
                outcome = lookup(_OUTCOMES, type(event))
                if outcome is not None:
                    cursor.execute(
                        f"UPDATE {self.t('cases')} SET outcome = ? WHERE case_id = ?",
                        (outcome, str(event.originator_id)),
                    )

    def _registered(self, cursor: Cursor, event: Any) -> None:
        case_id, at = str(event.originator_id), to_us(event.timestamp)
        earlier = list(event.repeat_of or [])
        names = ", ".join(CASE_COLUMNS)
        marks = ", ".join("?" for _ in CASE_COLUMNS)
        cursor.execute(
            f"INSERT INTO {self.t('cases')} ({names}) VALUES ({marks}) "
            "ON CONFLICT (case_id) DO NOTHING",
            (case_id, kind_of(event), event.unit, event.category, at, event.number,
             int(bool(earlier)), ""),
        )  # fmt: skip
        if self.fingerprints is not None:
            found = self.fingerprints.of_parties(list(event.parties))
            cursor.executemany(
                f"INSERT INTO {self.t('marks')} (fingerprint, registered_us, case_id) "
                "VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [(fingerprint, at, case_id) for fingerprint in found],
            )
        cursor.executemany(
            f"INSERT INTO {self.t('links')} (earlier_id, later_id, matched_by) VALUES (?, ?, ?) "
            "ON CONFLICT (earlier_id, later_id) DO NOTHING",
            [(e["case_id"], case_id, ",".join(e.get("matched_by") or ())) for e in earlier],
        )

    # --- the port a registration consults ------------------------------------------------

    def earlier_cases(
        self, fingerprints: Sequence[str], unit: str, category: str, since: datetime
    ) -> list[EarlierCase]:
        """Cases registered at or after ``since`` sharing one of ``fingerprints`` (``PARTY``)
        or located at ``unit`` with ``category`` (``PLACE``): oldest first, each once with
        every reason it matched (at most ``MAX_EARLIER`` latest per reason)."""
        start = to_us(since)
        cases, marks = self.t("cases"), self.t("marks")
        found: dict[str, tuple[str, int, list[str]]] = {}
        with self.db.transaction(write=False) as cursor:
            if fingerprints:
                wanted = list(dict.fromkeys(fingerprints))
                cursor.execute(
                    f"SELECT c.case_id, c.number, c.registered_us FROM {cases} c WHERE "
                    f"c.case_id IN (SELECT m.case_id FROM {marks} m WHERE m.fingerprint IN "
                    f"({', '.join('?' for _ in wanted)}) AND m.registered_us >= ?) "
                    "ORDER BY c.registered_us DESC, c.case_id LIMIT ?",
                    (*wanted, start, MAX_EARLIER),
                )
                _found(found, cursor.fetchall(), PARTY)
            cursor.execute(
                f"SELECT case_id, number, registered_us FROM {cases} WHERE unit = ? AND "
                "category = ? AND registered_us >= ? "
                "ORDER BY registered_us DESC, case_id DESC LIMIT ?",
                (unit, category, start, MAX_EARLIER),
            )
            _found(found, cursor.fetchall(), PLACE)
        ordered = sorted(found.items(), key=lambda item: (item[1][1], item[0]))
        return [
            EarlierCase(UUID(case_id), number, from_us(at), tuple(reasons))
            for case_id, (number, at, reasons) in ordered
        ]

    # --- what the case pages read --------------------------------------------------------

    def repeated_by(self, case_id: str) -> list[Link]:
        """The later cases recorded as repeats of ``case_id``, oldest first."""
        sql = (
            f"SELECT l.later_id, c.number, c.registered_us, l.matched_by, c.outcome "
            f"FROM {self.t('links')} l JOIN {self.t('cases')} c ON c.case_id = l.later_id "
            "WHERE l.earlier_id = ? ORDER BY c.registered_us, l.later_id"
        )
        with self.db.transaction(write=False) as cursor:
            cursor.execute(sql, (case_id,))
            return [_link(row) for row in cursor.fetchall()]

    def known(self, case_ids: Iterable[str]) -> dict[str, Link]:
        """The indexed cases among ``case_ids``, as links (their number now and outcome)."""
        wanted = list(dict.fromkeys(case_ids))
        if not wanted:
            return {}
        sql = (
            f"SELECT case_id, number, registered_us, '', outcome FROM {self.t('cases')} "
            f"WHERE case_id IN ({', '.join('?' for _ in wanted)})"
        )
        with self.db.transaction(write=False) as cursor:
            cursor.execute(sql, wanted)
            return {str(row[0]): _link(row) for row in cursor.fetchall()}


@dataclass(frozen=True)
class Link:
    """A case on the other end of a repeat link, as the index knows it."""

    case_id: str
    number: str
    registered_at: datetime
    matched_by: tuple[str, ...]
    outcome: str | None  # resolved, terminated, referred; None while at work


def _link(row: Sequence[Any]) -> Link:
    reasons = tuple(reason for reason in str(row[3]).split(",") if reason)
    return Link(str(row[0]), str(row[1]), from_us(int(row[2])), reasons, str(row[4]) or None)


def _found(found: dict[str, tuple[str, int, list[str]]], rows: list[Any], reason: str) -> None:
    for case_id, number, at in rows:
        entry = found.setdefault(str(case_id), (str(number), int(at), []))
        entry[2].append(reason)


def statuses(view: CasesView, case_ids: Iterable[str]) -> dict[str, str]:
    """The cases view's status of each of ``case_ids`` it holds."""
    wanted = list(dict.fromkeys(case_ids))
    if not wanted:
        return {}
    sql = f"SELECT id, status FROM {view.t('cases')} WHERE id IN ({', '.join('?' for _ in wanted)})"
    with view.db.transaction(write=False) as cursor:
        cursor.execute(sql, wanted)
        return {str(row[0]): str(row[1]) for row in cursor.fetchall()}


# --- statistics ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RepeatFigures:
    """Cases registered in a period and how many of them were registered as repeats."""

    key: str  # a unit code or a category
    registered: int
    repeats: int

    @property
    def rate(self) -> float | None:
        return round(self.repeats / self.registered, 4) if self.registered else None


@dataclass(frozen=True)
class RepeatStatistics:
    """The repeat rate of a unit's subtree over a period, by child unit and by category."""

    unit: str
    since: datetime
    until: datetime
    total: RepeatFigures
    by_unit: list[RepeatFigures] = field(default_factory=list)
    by_category: list[RepeatFigures] = field(default_factory=list)


def repeat_statistics(
    view: RepeatsView, unit: str, since: datetime, until: datetime
) -> RepeatStatistics:
    """Cases located in ``unit``'s subtree registered in ``[since, until)``: how many, how
    many were repeats, in all, by child unit's subtree (the unit itself: its own cases) and by
    category."""
    cases, units = view.t("cases"), view.t("units")
    period = (to_us(since), to_us(until))
    within = (
        f"FROM {cases} c JOIN {units} u ON u.descendant = c.unit WHERE u.ancestor = ? "
        "AND c.registered_us >= ? AND c.registered_us < ?"
    )
    counts = "count(*), coalesce(sum(c.is_repeat), 0)"
    with view.db.transaction(write=False) as cursor:
        cursor.execute(f"SELECT {counts} {within}", (unit, *period))
        total = _figures(unit, cursor.fetchone())
        cursor.execute(
            f"SELECT c.category, {counts} {within} GROUP BY c.category ORDER BY c.category",
            (unit, *period),
        )
        by_category = [_figures(row[0], row[1:]) for row in cursor.fetchall()]
        cursor.execute(
            f"SELECT ch.descendant, {counts} FROM {units} ch "
            f"JOIN {units} u ON u.ancestor = ch.descendant JOIN {cases} c ON c.unit = u.descendant "
            "WHERE ch.ancestor = ? AND ch.depth = 1 AND c.registered_us >= ? "
            "AND c.registered_us < ? GROUP BY ch.descendant ORDER BY ch.descendant",
            (unit, *period),
        )
        by_unit = [_figures(row[0], row[1:]) for row in cursor.fetchall()]
        cursor.execute(
            f"SELECT {counts} FROM {cases} c WHERE c.unit = ? AND c.registered_us >= ? "
            "AND c.registered_us < ?",
            (unit, *period),
        )
        own = _figures(unit, cursor.fetchone())
    if own.registered:
        by_unit.insert(0, own)
    return RepeatStatistics(unit, since, until, total, by_unit, by_category)


def _figures(key: Any, row: Sequence[Any] | None) -> RepeatFigures:
    registered, repeats = (int(row[0]), int(row[1])) if row else (0, 0)
    return RepeatFigures(str(key), registered, repeats)
