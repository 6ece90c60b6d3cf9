"""The ledger (台账): one row per case, with what a 综治中心 reports upward about it.

A view of its own rather than a query over the others: the ledger needs what no other view
keeps (the parties, the amount involved, the current outcome, the last follow-up, the last
rating, when it was closed), and reading those from each case's aggregate would decrypt and
replay every event of every case in the period: 1,600 cases/s measured here (a minute per
100,000 cases before a row is written), where this view reads 37,000 rows/s as CSV in one
indexed scan (benchmarks/ledger.py). Each view keeps its own database, so the ledger cannot join the
cases view either; it keeps the few columns it shares with it (number, level, owner tier,
status, assignee) by the same rules: the status by ``domain.case.status_after``.

Parties are personal data, and the views hold none of it in plain: this view stores only the
parties' names *as the ledger prints them*, masked (``mask_name``) when the registration is
applied, grouped by role. A plain name never leaves the encrypted event store; a change to the
masking is a change to the view's tables (raise ``schema_version``: rebuilt from the log).

Each row also keeps the log position of its registration, so an export lists exactly the cases
registered before its own access record, however many are registered while it is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from domain.case import Case, status_after
from domain.dispute import Dispute
from domain.parties import Party
from domain.status import PartyRole, Status
from projections.closure import add_unit, closure_ddl
from projections.db import Cursor, from_us, to_us
from projections.engine import Batch, View
from projections.events import is_case_event, is_unit_added, lookup
from projections.rows import RowBatch

COLUMNS = (
    "id", "unit", "position", "registered_us", "number", "category", "level", "owner", "tier",
    "status", "paused_from", "assignee", "signed_by", "parties", "amount", "outcome",
    "answered", "follow_ups", "satisfied", "honoured", "grade", "closed_us",
)  # fmt: skip
PAGE = 1000  # rows per read: each page is its own short transaction
_NO_LIMIT = 2**62  # a log position past any there will be

ROLE_NAMES = {
    PartyRole.APPLICANT: "申请人",
    PartyRole.RESPONDENT: "被申请人",
    PartyRole.THIRD_PARTY: "第三人",
}
_SHOWN_STARS = 2  # stars at most: names of three characters or more all look alike

Row = dict[str, Any]


def mask_name(name: str) -> str:
    """A name as the ledger prints it: the first character (the surname, usually), then
    stars: 张三 → 张*, 欧阳娜娜 → 欧**. Ledgers go upward and get printed and passed around;
    the number and the rest of the case file identify the people for whoever may know them."""
    name = name.strip()
    if len(name) <= 1:
        return "*"
    return name[0] + "*" * min(len(name) - 1, _SHOWN_STARS)


def masked_parties(parties: Iterable[Party]) -> str:
    """The parties' masked names by role, in the order registered:
    申请人：张*、王*；被申请人：李*."""
    by_role: dict[PartyRole, list[str]] = {}
    for party in parties:
        by_role.setdefault(PartyRole(party.role), []).append(mask_name(party.name))
    return "；".join(f"{ROLE_NAMES[role]}：{'、'.join(names)}" for role, names in by_role.items())


@dataclass(frozen=True)
class LedgerRow:
    """One case as the ledger lists it (codes, not words: the file writers translate)."""

    id: str
    unit: str
    number: str
    registered_at: datetime
    category: str
    level: str
    tier: str  # the owning unit's tier
    status: str
    parties: str  # masked names by role
    handler: str | None  # the assignee, else whoever signed for the case last
    outcome: str | None  # resolved, terminated or referred; None while there is none
    answered: bool  # a referral's answer has come
    amount: Decimal | None
    follow_ups: int  # visits since the current outcome
    satisfied: bool | None  # the last visit's findings
    honoured: bool | None
    grade: str | None  # the last rating
    closed_at: datetime | None


# --- applying events -------------------------------------------------------------------------


def _numbered(row: Row, event: Any) -> None:
    row["number"] = event.number


def _leveled(row: Row, event: Any) -> None:
    row["level"] = event.level


def _lowered(row: Row, event: Any) -> None:
    row["level"] = event.level
    _move(row, event.owner, event.tier)


def _escalated(row: Row, event: Any) -> None:
    row["level"] = event.to_level
    _move(row, event.to_unit, event.to_tier)


def _returned(row: Row, event: Any) -> None:
    _move(row, event.to_unit, event.to_tier)


def _move(row: Row, owner: str, tier: str) -> None:
    if owner != row["owner"]:  # a new owner assigns its own mediator
        row["owner"], row["tier"], row["assignee"] = owner, tier, None


def _signed(row: Row, event: Any) -> None:
    row["signed_by"] = event.actor


def _assigned(row: Row, event: Any) -> None:
    row["assignee"] = event.assignee


def _paused(row: Row, event: Any) -> None:
    row["paused_from"] = row["status"]


def _resumed(row: Row, event: Any) -> None:
    row["paused_from"] = None


def _outcome(outcome: str) -> Callable[[Row, Any], None]:
    def concluded(row: Row, event: Any) -> None:
        row["outcome"], row["answered"] = outcome, 0
        _forget_visits(row)

    return concluded


def _answered(row: Row, event: Any) -> None:
    row["answered"] = 1


def _followed_up(row: Row, event: Any) -> None:
    row["follow_ups"] += 1
    row["satisfied"] = int(event.satisfied)
    row["honoured"] = None if event.agreement_honoured is None else int(event.agreement_honoured)


def _rated(row: Row, event: Any) -> None:
    row["grade"] = event.grade


def _reopened(row: Row, event: Any) -> None:
    """Back to work: no outcome, no visits to it, not closed (the last rating stays)."""
    row["outcome"], row["answered"], row["closed_us"] = None, 0, None
    _forget_visits(row)


def _forget_visits(row: Row) -> None:
    row["follow_ups"], row["satisfied"], row["honoured"] = 0, None, None


def _closed(row: Row, event: Any) -> None:
    row["closed_us"] = to_us(event.timestamp)


# What each event does to a case's row, besides moving its status.
_CHANGES: Mapping[type, Callable[[Row, Any], None]] = {
    Case.Numbered: _numbered,
    Case.Assessed: _leveled,
    Case.LevelRaised: _leveled,
    Case.LevelLowered: _lowered,
    Case.Escalated: _escalated,
    Case.Returned: _returned,
    Case.Signed: _signed,
    Case.Assigned: _assigned,
    Case.Paused: _paused,
    Case.Resumed: _resumed,
    Case.Resolved: _outcome("resolved"),
    Case.Terminated: _outcome("terminated"),
    Case.Referred: _outcome("referred"),
    Case.ReferralAnswered: _answered,
    Case.FollowUpRecorded: _followed_up,
    Case.Rated: _rated,
    Case.Reopened: _reopened,
    Case.ReferralDeclined: _reopened,  # declined by the agency: back to work
    Case.Closed: _closed,
}
# Events that change nothing but the status (domain.case.STATUS_AFTER).
_STATUS_ONLY = (Case.Rejected, Case.MediationSessionRecorded)


class LedgerView(View):
    name = "ledger"
    schema_version = 3  # 2: a move clears the assignee; 3: a declined referral goes back to work
    handles = (Case.Registered, *_CHANGES, *_STATUS_ONLY)
    # Clocks, notes, files and the scheduler's flags are in no column of the ledger.
    ignores = (
        Case.DeadlineExtended,
        Case.ClocksRecomputed,
        Case.NoteAdded,
        Case.AttachmentAdded,
        Case.ClockFired,
        Case.SignOverdueFlagged,
        Case.ResolveOverdueFlagged,
        Case.SupervisionOrdered,
        Case.SupervisionReminded,
        Case.SupervisionAnswered,
        Case.ReferralResultReported,
        Case.ReportedBack,
        Case.RatingInvited,
        Case.RatingReviewOpened,
        Case.RatingReviewed,
        Case.InspectionSampled,  # a 督查 callback's rework is the Reopened after it
        Case.InspectionRecorded,
        Dispute.JudicialConfirmationRequested,
        Dispute.JudicialConfirmationRecorded,
    )

    def create_statements(self) -> list[str]:
        ledger = self.t("ledger")
        return [
            f"CREATE TABLE IF NOT EXISTS {ledger} (id TEXT PRIMARY KEY, unit TEXT NOT NULL, "
            "position BIGINT NOT NULL, registered_us BIGINT NOT NULL, number TEXT NOT NULL, "
            "category TEXT NOT NULL, level TEXT NOT NULL, owner TEXT NOT NULL, "
            "tier TEXT NOT NULL, status TEXT NOT NULL, paused_from TEXT, assignee TEXT, "
            "signed_by TEXT, parties TEXT NOT NULL, amount TEXT, outcome TEXT, "
            "answered INTEGER NOT NULL, follow_ups INTEGER NOT NULL, satisfied INTEGER, "
            "honoured INTEGER, grade TEXT, closed_us BIGINT)",
            # The one read is a period in registration order, filtered by subtree: this index
            # serves it in order, page by page, with no sort however many rows match.
            f"CREATE INDEX IF NOT EXISTS {self.db.index('ledger_registered')} ON {ledger} "
            "(registered_us, id)",
            *closure_ddl(self.t("units")),
        ]

    def table_names(self) -> list[str]:
        return ["ledger", "units"]

    def process(self, cursor: Cursor, batch: Batch) -> None:
        rows = RowBatch(self.t("ledger"), "id", COLUMNS)
        rows.load(cursor, (str(e.originator_id) for _, e in batch if _changes_a_row(e)))
        for position, event in batch:
            if is_unit_added(event):
                add_unit(cursor, self.t("units"), event)
            elif isinstance(event, Case.Registered):
                rows.put(_registered(position, event))
            elif _changes_a_row(event):
                row = rows.get(str(event.originator_id))
                if row is not None:  # else a case this view never saw registered
                    apply(row, event)
        rows.flush(cursor)


def _changes_a_row(event: Any) -> bool:
    """A case event the ledger acts on, bar the registration that makes the row."""
    handled = is_case_event(event) and isinstance(event, LedgerView.handles)
    return handled and not isinstance(event, Case.Registered)


def apply(row: Row, event: Any) -> None:
    """Changes ``row`` as ``event`` changes its case."""
    status = Status(row["status"])
    paused_from = Status(row["paused_from"]) if row["paused_from"] else None
    change = lookup(_CHANGES, type(event))
    if change is not None:
        change(row, event)
    row["status"] = status_after(type(event), status, paused_from).value


def _registered(position: int, event: Any) -> Row:
    amount = event.amount_involved
    return {
        "id": str(event.originator_id),
        "unit": event.unit,
        "position": position,
        "registered_us": to_us(event.timestamp),
        "number": event.number,
        "category": event.category,
        "level": event.level,
        "owner": event.owner,
        "tier": event.tier,
        "status": Status.REGISTERED.value,
        "paused_from": None,
        "assignee": None,
        "signed_by": None,
        "parties": masked_parties(event.parties),
        "amount": None if amount is None else str(amount),
        "outcome": None,
        "answered": 0,
        "follow_ups": 0,
        "satisfied": None,
        "honoured": None,
        "grade": None,
        "closed_us": None,
    }


# --- reading ---------------------------------------------------------------------------------


def describe(unit: str, start: datetime, end: datetime, form: str) -> dict[str, str]:
    """The filter a ledger export is recorded with (its access record)."""
    return {"unit": unit, "from": start.isoformat(), "to": end.isoformat(), "format": form}


def ledger_view(views: Any) -> LedgerView:
    """The ledger view of a ``projections.viewset.ViewSet``."""
    return cast(LedgerView, views.views[LedgerView.name])


def ledger_rows(
    view: LedgerView,
    unit: str,
    start: datetime,
    end: datetime,
    until: int | None = None,
    page: int = PAGE,
) -> Iterator[LedgerRow]:
    """The cases located in ``unit``'s subtree and registered in ``[start, end)``, in order of
    registration, read a page at a time (keyed on registration time and id, so no case is
    read twice or skipped however the rows change in between); with ``until``, only cases
    registered up to that log position.

    The subtree's codes are read first and named in each page's query: given a list, both
    engines walk the registration index in order and stop after a page, where a join with the
    closure table led PostgreSQL to sort the whole period for every page."""
    units = subtree(view, unit)
    if not units:
        return
    names = ", ".join(COLUMNS)
    sql = (
        f"SELECT {names} FROM {view.t('ledger')} "
        f"WHERE unit IN ({', '.join('?' for _ in units)}) "
        "AND (registered_us, id) > (?, ?) AND registered_us < ? AND position <= ? "
        "ORDER BY registered_us, id LIMIT ?"
    )
    after: tuple[int, str] = (to_us(start), "")  # "" sorts before every id
    last = until if until is not None else _NO_LIMIT
    while True:
        with view.db.transaction(write=False) as cursor:
            cursor.execute(sql, (*units, *after, to_us(end), last, page))
            found = cursor.fetchall()
        for values in found:
            yield ledger_row(dict(zip(COLUMNS, values, strict=True)))
        if len(found) < page:
            return
        after = (int(found[-1][COLUMNS.index("registered_us")]), str(found[-1][0]))


def subtree(view: LedgerView, unit: str) -> list[str]:
    """The codes of ``unit`` and every unit below it, as the view knows them."""
    with view.db.transaction(write=False) as cursor:
        cursor.execute(
            f"SELECT descendant FROM {view.t('units')} WHERE ancestor = ? ORDER BY descendant",
            (unit,),
        )
        return [str(row[0]) for row in cursor.fetchall()]


def ledger_row(row: Row) -> LedgerRow:
    """A stored row as a ``LedgerRow``."""
    closed = row["closed_us"]
    return LedgerRow(
        id=str(row["id"]),
        unit=row["unit"],
        number=row["number"],
        registered_at=from_us(int(row["registered_us"])),
        category=row["category"],
        level=row["level"],
        tier=row["tier"],
        status=row["status"],
        parties=row["parties"],
        handler=row["assignee"] or row["signed_by"],
        outcome=row["outcome"],
        answered=bool(row["answered"]),
        amount=None if row["amount"] is None else Decimal(row["amount"]),
        follow_ups=int(row["follow_ups"]),
        satisfied=None if row["satisfied"] is None else bool(row["satisfied"]),
        honoured=None if row["honoured"] is None else bool(row["honoured"]),
        grade=row["grade"],
        closed_at=None if closed is None else from_us(int(closed)),
    )
