"""Statistics per unit subtree and period: day summaries, and the facts they are summed from.

Every event a statistic counts leaves one or more **facts**: a measure (``resolved``,
``rated_good``, ``referred``…), a key (the agency, the channel, a duration's hour), the case's
location unit and what is fixed at its registration (kind, category, level), and the **anchor**
time the figure counts it at (the event's time; for a figure about a cohort, the time of what
it is about: an escalation counts for ``escalation_rate`` at the case's registration, a
follow-up for ``follow_up_rate`` at the outcome it follows). The view keeps:

- ``days``: counters per (unit × Shanghai day of the anchor × measure × key), each fact counted
  at its location unit and at every unit above it, so a subtree's whole days are read from its
  root's own rows (days × measures, however many units and cases below); a registration also
  counts ``registered_level`` / ``_kind`` / ``_category`` by what is fixed at registration, a
  fact of a distinct measure whose case had one before counts ``-measure`` keyed by that one's
  day, and the resolve durations are a histogram of coarse buckets (``hours_bucket``);
- ``facts``: each fact with its exact anchor, for the parts of days a period with a time of
  day covers, for the exact median (the hour bucket holding it is read back in detail) and
  for counting distinct cases (``prev_us``: the anchor of the case's previous fact of the same
  measure, so a case counted twice in a period is taken off once);
- ``clocks`` and ``referrals``: sign-for and resolve clocks and referrals' answer clocks as
  intervals (an open one stops at ``OPEN``), for what is true "as of T";
- ``cases``: one row per case with what its later events need (location, tier, breach, first
  signature, pause time, its last outcome, its open 督办, its current clocks).

The answers' types are here; the queries are in ``projections.stats_queries``.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.case import Case
from domain.clocks import Deadline, DeadlineKind
from domain.dispute import Dispute
from domain.status import Grade, LevelCause, ReferralOutcome, ReopenCause
from projections.closure import add_unit, closure_ddl
from projections.db import Cursor, to_us
from projections.engine import Batch, View
from projections.events import (
    CLOCK_EVENTS,
    QUEUE_CLOCKS,
    is_case_event,
    is_unit_added,
    kind_of,
    lookup,
)
from projections.rows import RowBatch

CASE_COLUMNS = (
    "id", "unit", "kind", "category", "level", "registered_us", "tier", "breached", "signed",
    "escalated", "county", "paused_us", "paused_total_us", "outcome", "outcome_us", "followed",
    "last_json", "order_us", "order_due_us", "order_reminded",
    "refer_seq", "refer_due_us", "refer_start_us",
    "sign_seq", "sign_due_us", "sign_started_us", "sign_from_us",
    "resolve_seq", "resolve_due_us", "resolve_started_us", "resolve_from_us",
    "inspection_late",
)  # fmt: skip
FACT_COLUMNS = (
    "case_id", "seq", "measure", "key", "unit", "kind", "category", "level", "day", "at_us",
    "prev_us", "value",
)  # fmt: skip
DAY_KEY = ("unit", "day", "measure", "key")
CLOCK_COLUMNS = ("case_id", "kind", "seq", "unit", "due_us", "start_us", "stop_us")
REFERRAL_COLUMNS = ("case_id", "seq", "unit", "due_us", "start_us", "stop_us")

GOOD_GRADES = frozenset({Grade.VERY_SATISFIED, Grade.SATISFIED, Grade.BASICALLY_SATISFIED})
COUNTY = "county"
TOWNSHIP = "township"
VILLAGE = "village"
OPEN = 2**62  # the stop of an interval still running
HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
SHANGHAI_OFFSET_US = 8 * HOUR_US  # Asia/Shanghai has kept +08:00 since 1991

# Measures counted as distinct cases: a case with several facts of one in a period counts once.
DISTINCT = frozenset({
    "resolved", "terminated", "resolved_village", "resolved_local", "resolved_breached",
    "terminated_breached", "resolved_reopened", "resolved_followed", "terminated_followed",
    "escalation",
})  # fmt: skip

Row = dict[str, Any]


def hours_bucket(took_us: int) -> str:
    """The median histogram's bucket of a duration: each hour below 16, then eight buckets
    per doubling (each about 9 % wide), in an order that sorts as text."""
    hours = max(0, took_us) // HOUR_US
    found = hours if hours < 16 else 16 + int(8 * math.log2(hours / 16))
    return f"{found:04d}"


def correction(measure: str) -> str:
    """The day counter of the facts of a distinct measure whose case had one before, keyed
    by that previous fact's day."""
    return f"-{measure}"


def day_of(at_us: int) -> int:
    """The Shanghai day of a time, as days since 1970-01-01."""
    return (at_us + SHANGHAI_OFFSET_US) // DAY_US


def day_start(day: int) -> int:
    return day * DAY_US - SHANGHAI_OFFSET_US


@dataclass(frozen=True)
class Statistics:
    """The statistics of one subtree and period [start, end) (docs/design.md, "Statistics").
    A rate is ``None`` when its denominator is 0."""

    registered: int  # cases registered in the period
    registered_by_level: dict[str, int]  # by the level at registration
    by_kind: dict[str, int]
    by_category: dict[str, int]
    by_channel: dict[str, int]
    resolved: int  # cases with a Resolved event in the period
    terminated: int
    referred: int  # referrals out in the period (events)
    resolution_rate: float | None  # resolved / (resolved + terminated)
    local_resolution_rate: float | None  # resolved while a village owned it / resolved
    escalation_rate: float | None  # registered ones escalated after their first signature
    county_share: float | None  # registered ones ever owned at county tier / registered
    on_time_rate: float | None  # (resolved + terminated − breached) / (resolved + terminated)
    overdue_open: int  # open with a sign/resolve clock past due at min(end, now)
    median_hours_to_resolve: float | None  # registration → Resolved less paused time
    satisfaction_rate: float | None  # good Rated events / Rated events
    reopen_rate: float | None  # resolved ones with a Reopened after that resolution / resolved
    township_or_below_rate: float | None = None  # resolved by a village or township / resolved
    follow_up_rate: float | None = None  # concluded ones followed up after it / concluded
    performance_rate: float | None = None  # follow-ups finding the agreement honoured / answered
    referrals_by_agency: dict[str, int] = field(default_factory=dict)
    referral_outcomes: dict[str, int] = field(default_factory=dict)
    inbound_by_agency: dict[str, int] = field(default_factory=dict)
    reported_back: int = 0  # inbound cases reported back in the period
    supervision_orders: int = 0  # 督办 ordered in the period
    supervision_answered_on_time: int = 0  # of them, answered by their due time
    supervision_overdue: int = 0  # of them, reminded at least once
    below_suggestion: int = 0  # assessments below the risk triggers' suggestion
    raised_by_triggers: int = 0  # registrations whose level the risk triggers raised
    # 督查回访, by the callbacks' due times: due in the period, called back by then, not
    inspections_due: int = 0
    inspections_on_time: int = 0
    inspections_overdue: int = 0
    inspections_recorded: int = 0  # callbacks recorded in the period
    inspections_reached: int = 0  # of them, the parties reached
    inspection_satisfaction_rate: float | None = None  # satisfied / reached, by inspectors
    follow_up_satisfaction_rate: float | None = None  # satisfied / follow-ups, by the owners
    reopened_by_inspection: int = 0  # cases sent back for rework by a callback in the period
    # 好差评 by how it was taken (citizen_link, phone_callback…): ratings and the good share
    ratings_by_channel: dict[str, int] = field(default_factory=dict)
    satisfaction_by_channel: dict[str, float | None] = field(default_factory=dict)
    invitations_sent: int = 0  # parties invited to rate on their own phones
    invitations_answered: int = 0  # of invitations, used to rate (in the period)
    bad_ratings_reviewed: int = 0  # 差评核实 opened
    bad_ratings_confirmed: int = 0  # found 属实: rework
    bad_ratings_disputed: int = 0  # found 不属实, with a reason


@dataclass(frozen=True)
class SeriesPoint:
    """One week or month of a series; counts only what falls inside the asked period."""

    label: str  # "2026-W40" or "2026-10"
    start: datetime  # the bucket's natural bounds, in Asia/Shanghai
    end: datetime
    registered: int
    registered_by_level: dict[str, int]
    resolved: int
    escalated: int


class _Case:
    """What one event does to a case's row, and the facts it leaves."""

    def __init__(self, changes: _Changes, row: Row, event: Any) -> None:
        self.changes, self.row, self.event = changes, row, event
        self.at = to_us(event.timestamp)

    def fact(self, measure: str, key: str = "", anchor: int | None = None, value: int = 0) -> None:
        row = self.row
        at = self.at if anchor is None else anchor
        prev = None
        if measure in DISTINCT:
            last = json.loads(row["last_json"] or "{}")
            prev = last.get(measure)
            last[measure] = at
            row["last_json"] = json.dumps(last)
        day = day_of(at)
        self.changes.facts.append(
            (row["id"], self.event.originator_version, measure, key, row["unit"], row["kind"],
             row["category"], row["level"], day, at, prev, value)
        )  # fmt: skip
        counts = [(measure, key)]
        if measure == "registered":
            counts += [
                ("registered_level", row["level"]),
                ("registered_kind", row["kind"]),
                ("registered_category", row["category"]),
            ]
        if prev is not None:
            counts.append((correction(measure), f"{day_of(prev):06d}"))
        days = self.changes.days
        for unit in self.changes.ancestors(row["unit"]):
            for name, value_key in counts:
                days[(unit, day, name, value_key)] += 1

    # --- what each event does ------------------------------------------------------------

    def registered(self) -> None:
        event, row = self.event, self.row
        self.fact("registered", event.channel)
        if event.level_cause == LevelCause.TRIGGERS:
            self.fact("raised_by_triggers")
        if event.referral_in:
            self.fact("inbound", str(event.referral_in.get("agency", "")))
        if row["county"]:
            self.fact("county")

    def signed(self) -> None:
        self.row["signed"] = 1

    def escalated(self) -> None:
        event, row = self.event, self.row
        if event.cause == "overdue":
            row["breached"] = 1
        if row["signed"]:  # a move before anyone signed is where the case belonged
            self.fact("escalation")
            if not row["escalated"]:
                row["escalated"] = 1
                self.fact("escalated", anchor=row["registered_us"])
        self.own(event.to_tier)

    def lowered(self) -> None:
        self.own(self.event.tier)

    def returned(self) -> None:
        self.own(self.event.to_tier)

    def own(self, tier: str) -> None:
        row = self.row
        row["tier"] = tier
        if tier == COUNTY and not row["county"]:
            row["county"] = 1
            self.fact("county", anchor=row["registered_us"])

    def resolve_overdue(self) -> None:
        self.row["breached"] = 1

    def _breach_by_now(self) -> None:
        due = self.row["resolve_due_us"]  # the then-pending resolve deadline
        if due is not None and self.at > due:
            self.row["breached"] = 1

    def _outcome(self, outcome: str) -> None:
        row = self.row
        row["outcome"], row["outcome_us"], row["followed"] = outcome, self.at, 0

    def resolved(self) -> None:
        row = self.row
        self._breach_by_now()
        self.fact("resolved")
        if row["tier"] == VILLAGE:
            self.fact("resolved_village")
        if row["tier"] in (VILLAGE, TOWNSHIP):
            self.fact("resolved_local")
        if row["breached"]:
            self.fact("resolved_breached")
        took = self.at - row["registered_us"] - (row["paused_total_us"] or 0)
        self.fact("resolve_hours", hours_bucket(took), value=took)
        self._outcome("resolved")

    def terminated(self) -> None:
        self._breach_by_now()
        self.fact("terminated")
        if self.row["breached"]:
            self.fact("terminated_breached")
        self._outcome("terminated")

    def referred(self) -> None:
        row = self.row
        self.fact("referred", self.event.agency)
        row["refer_seq"], row["refer_start_us"] = self.event.originator_version, self.at
        self._outcome("referred")

    def _referral_answered(self, outcome: str) -> None:
        row = self.row
        self.fact("referral_outcome", outcome)
        if row["refer_seq"] is not None:
            self.changes.referrals[(row["id"], row["refer_seq"])] = (
                row["id"], row["refer_seq"], row["unit"], row["refer_due_us"],
                row["refer_start_us"], self.at,
            )  # fmt: skip
        row["refer_seq"] = row["refer_due_us"] = row["refer_start_us"] = None

    def referral_answered(self) -> None:
        self._referral_answered(self.event.outcome or ReferralOutcome.ACCEPTED.value)

    def referral_declined(self) -> None:
        self._referral_answered(ReferralOutcome.DECLINED.value)
        self.row["outcome"] = self.row["outcome_us"] = None

    def reported_back(self) -> None:
        self.fact("reported_back")

    def followed_up(self) -> None:
        row, event = self.row, self.event
        self.fact("followed_up")
        if event.satisfied:
            self.fact("followed_up_satisfied")
        if row["outcome"] in ("resolved", "terminated") and not row["followed"]:
            row["followed"] = 1
            self.fact(f"{row['outcome']}_followed", anchor=row["outcome_us"])
        if event.agreement_honoured is not None:
            self.fact("honoured_answered")
            if event.agreement_honoured:
                self.fact("honoured_true")

    def rated(self) -> None:
        """A rating, keyed by how it was taken (a party's own link, a phone callback…)."""
        channel = self.event.channel
        self.fact("rated", key=channel)
        if Grade(self.event.grade) in GOOD_GRADES:
            self.fact("rated_good", key=channel)
        if self.event.invitation is not None:
            self.fact("invitation_answered", key=str(self.event.party))

    def rating_invited(self) -> None:
        for invitation in self.event.invitations:
            self.fact("invited", key=str(invitation["party"]))

    def rating_review_opened(self) -> None:
        self.fact("bad_rating_reviewed")

    def rating_reviewed(self) -> None:
        self.fact(f"bad_rating_{self.event.decision}")  # bad_rating_confirm / _dispute

    def reopened(self) -> None:
        row = self.row
        if self.event.cause == ReopenCause.INSPECTION:
            self.fact("reopened_by_inspection")
        if row["outcome"] == "resolved":
            self.fact("resolved_reopened", anchor=row["outcome_us"])
        row["outcome"] = row["outcome_us"] = None

    def paused(self) -> None:
        self.row["paused_us"] = self.at

    def resumed(self) -> None:
        row = self.row
        if row["paused_us"] is not None:
            row["paused_total_us"] = (row["paused_total_us"] or 0) + self.at - row["paused_us"]
            row["paused_us"] = None

    def assessed(self) -> None:
        if self.event.below_suggestion_reason:
            self.fact("below_suggestion")

    def supervision_ordered(self) -> None:
        row = self.row
        row["order_us"], row["order_due_us"] = self.at, to_us(self.event.due_at)
        row["order_reminded"] = 0
        self.fact("supervision_ordered")

    def supervision_reminded(self) -> None:
        row = self.row
        if row["order_us"] is not None and not row["order_reminded"]:
            row["order_reminded"] = 1
            self.fact("supervision_overdue", anchor=row["order_us"])

    def supervision_answered(self) -> None:
        row = self.row
        on_time = row["order_us"] is not None and self.at <= row["order_due_us"]
        if on_time and not row["order_reminded"]:
            self.fact("supervision_on_time", anchor=row["order_us"])
        row["order_us"] = row["order_due_us"] = row["order_reminded"] = None

    # --- 督查回访: facts at the callback's due time, whenever it is recorded ----------------

    def inspection_sampled(self) -> None:
        self.row["inspection_late"] = 0
        self.fact("inspection_due", anchor=to_us(self.event.due_at))

    def inspection_recorded(self) -> None:
        event = self.event
        self.fact("inspection_recorded")
        if event.reached:
            self.fact("inspection_reached")
            if event.satisfied:
                self.fact("inspection_satisfied")
        due = to_us(event.due_at)
        if self.at <= due:
            self.fact("inspection_on_time", anchor=due)
        else:
            self._inspection_late(due)
        self.row["inspection_late"] = None

    def clock_fired(self) -> None:
        if self.event.kind == DeadlineKind.INSPECTION.value:
            self._inspection_late(to_us(self.event.due_at))

    def _inspection_late(self, due: int) -> None:
        """A callback not made by its due time, counted once (the clock firing, or a late
        callback when no sweep saw it due)."""
        if self.row["inspection_late"] == 0:
            self.row["inspection_late"] = 1
            self.fact("inspection_overdue", anchor=due)


# What each event does, by the nearest class in its MRO.
_CHANGES: Mapping[type, Callable[[_Case], None]] = {
    Case.Signed: _Case.signed,
    Case.Escalated: _Case.escalated,
    Case.LevelLowered: _Case.lowered,
    Case.Returned: _Case.returned,
    Case.ResolveOverdueFlagged: _Case.resolve_overdue,
    Case.Resolved: _Case.resolved,
    Case.Terminated: _Case.terminated,
    Case.Referred: _Case.referred,
    Case.ReferralAnswered: _Case.referral_answered,
    Case.ReferralDeclined: _Case.referral_declined,
    Case.ReportedBack: _Case.reported_back,
    Case.FollowUpRecorded: _Case.followed_up,
    Case.Rated: _Case.rated,
    Case.RatingInvited: _Case.rating_invited,
    Case.RatingReviewOpened: _Case.rating_review_opened,
    Case.RatingReviewed: _Case.rating_reviewed,
    Case.Reopened: _Case.reopened,
    Case.Paused: _Case.paused,
    Case.Resumed: _Case.resumed,
    Case.Assessed: _Case.assessed,
    Case.SupervisionOrdered: _Case.supervision_ordered,
    Case.SupervisionReminded: _Case.supervision_reminded,
    Case.SupervisionAnswered: _Case.supervision_answered,
    Case.InspectionSampled: _Case.inspection_sampled,
    Case.InspectionRecorded: _Case.inspection_recorded,
    Case.ClockFired: _Case.clock_fired,
}


class StatisticsView(View):
    name = "statistics"
    # 2: day summaries and facts (issue 13); 3: the summaries rolled up to every ancestor,
    # per (unit, day, measure, key) alone; 4: ratings by channel, invitations, 差评核实, 督查回访
    # and the follow-ups' satisfaction. Rebuilt from the log on start.
    schema_version = 4
    # Registration, what a case accumulates and counts, and every event carrying clocks.
    handles = (*CLOCK_EVENTS, *_CHANGES)
    ignores = (
        Case.LevelRaised,
        Case.Assigned,
        Case.SignOverdueFlagged,
        Case.NoteAdded,
        Case.Numbered,
        Case.AttachmentAdded,
        Case.ReferralResultReported,
        Dispute.JudicialConfirmationRecorded,
    )

    def create_statements(self) -> list[str]:
        cases, facts, days = self.t("cases"), self.t("facts"), self.t("days")
        clocks, referrals = self.t("clocks"), self.t("referrals")
        index = self.db.index
        return [
            f"CREATE TABLE IF NOT EXISTS {cases} (id TEXT PRIMARY KEY, unit TEXT NOT NULL, "
            "kind TEXT NOT NULL, category TEXT NOT NULL, level TEXT NOT NULL, "
            "registered_us BIGINT NOT NULL, tier TEXT NOT NULL, breached INTEGER NOT NULL, "
            "signed INTEGER NOT NULL, escalated INTEGER NOT NULL, county INTEGER NOT NULL, "
            "paused_us BIGINT, paused_total_us BIGINT, outcome TEXT, outcome_us BIGINT, "
            "followed INTEGER, last_json TEXT, order_us BIGINT, order_due_us BIGINT, "
            "order_reminded INTEGER, refer_seq INTEGER, refer_due_us BIGINT, "
            "refer_start_us BIGINT, "
            "sign_seq INTEGER, sign_due_us BIGINT, sign_started_us BIGINT, sign_from_us BIGINT, "
            "resolve_seq INTEGER, resolve_due_us BIGINT, resolve_started_us BIGINT, "
            "resolve_from_us BIGINT, inspection_late INTEGER)",
            f"CREATE TABLE IF NOT EXISTS {facts} (case_id TEXT NOT NULL, seq INTEGER NOT NULL, "
            "measure TEXT NOT NULL, key TEXT NOT NULL, unit TEXT NOT NULL, kind TEXT NOT NULL, "
            "category TEXT NOT NULL, level TEXT NOT NULL, day INTEGER NOT NULL, "
            "at_us BIGINT NOT NULL, prev_us BIGINT, value BIGINT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {index('stats_facts_unit')} ON {facts} (unit, at_us)",
            f"CREATE INDEX IF NOT EXISTS {index('stats_facts_prev')} ON {facts} (unit, prev_us)",
            f"CREATE INDEX IF NOT EXISTS {index('stats_facts_bucket')} ON {facts} "
            "(unit, measure, key, at_us)",
            f"CREATE TABLE IF NOT EXISTS {days} (unit TEXT NOT NULL, day INTEGER NOT NULL, "
            "measure TEXT NOT NULL, key TEXT NOT NULL, n BIGINT NOT NULL, "
            f"PRIMARY KEY ({', '.join(DAY_KEY)}))",
            f"CREATE TABLE IF NOT EXISTS {clocks} (case_id TEXT NOT NULL, kind TEXT NOT NULL, "
            "seq INTEGER NOT NULL, unit TEXT NOT NULL, due_us BIGINT NOT NULL, "
            "start_us BIGINT NOT NULL, stop_us BIGINT NOT NULL, PRIMARY KEY (case_id, kind, seq))",
            f"CREATE INDEX IF NOT EXISTS {index('stats_clocks_stop')} ON {clocks} (unit, stop_us)",
            f"CREATE INDEX IF NOT EXISTS {index('stats_clocks_open')} ON {clocks} (stop_us)",
            f"CREATE TABLE IF NOT EXISTS {referrals} (case_id TEXT NOT NULL, "
            "seq INTEGER NOT NULL, unit TEXT NOT NULL, due_us BIGINT, start_us BIGINT NOT NULL, "
            "stop_us BIGINT NOT NULL, PRIMARY KEY (case_id, seq))",
            f"CREATE INDEX IF NOT EXISTS {index('stats_referrals_stop')} ON {referrals} "
            "(unit, stop_us)",
            *closure_ddl(self.t("units")),
            f"CREATE INDEX IF NOT EXISTS {index('stats_units_up')} ON {self.t('units')} "
            "(descendant, ancestor)",
        ]

    def table_names(self) -> list[str]:
        return ["cases", "facts", "days", "clocks", "referrals", "units"]

    def process(self, cursor: Cursor, batch: Batch) -> None:
        changes = _Changes(self.t("cases"), cursor, self.t("units"))
        changes.cases.load(
            cursor,
            (
                str(e.originator_id)
                for _, e in batch
                if is_case_event(e) and not isinstance(e, Case.Registered)
            ),
        )
        for _, event in batch:
            if is_unit_added(event):
                add_unit(cursor, self.t("units"), event)
            elif is_case_event(event):
                changes.apply(event)
        changes.write(cursor, self)


class _Changes:
    """What one batch does to the view, held in memory and written in a few statements."""

    def __init__(self, cases_table: str, cursor: Cursor, units_table: str) -> None:
        self.cursor, self.units_table = cursor, units_table
        self._ancestors: dict[str, list[str]] = {}
        self.cases = RowBatch(cases_table, "id", CASE_COLUMNS)
        self.facts: list[tuple[Any, ...]] = []
        self.days: Counter[tuple[Any, ...]] = Counter()
        self.clocks: dict[tuple[str, str, int], tuple[Any, ...]] = {}
        self.referrals: dict[tuple[str, int], tuple[Any, ...]] = {}

    def ancestors(self, unit: str) -> list[str]:
        """The unit and every unit above it: a day counter counts for each of them, so a
        subtree's figures are read from its root's counters alone."""
        found = self._ancestors.get(unit)
        if found is None:
            self.cursor.execute(
                f"SELECT ancestor FROM {self.units_table} WHERE descendant = ?", (unit,)
            )
            found = sorted({unit, *(str(row[0]) for row in self.cursor.fetchall())})
            self._ancestors[unit] = found
        return found

    def write(self, cursor: Cursor, view: StatisticsView) -> None:
        self.cases.flush(cursor)
        _insert(cursor, view.t("facts"), FACT_COLUMNS, self.facts)
        days = view.t("days")
        _insert(
            cursor,
            days,
            (*DAY_KEY, "n"),
            [(*key, n) for key, n in self.days.items()],
            f"ON CONFLICT ({', '.join(DAY_KEY)}) DO UPDATE SET n = d.n + excluded.n",
            alias="d",
        )
        _insert(
            cursor,
            view.t("clocks"),
            CLOCK_COLUMNS,
            list(self.clocks.values()),
            "ON CONFLICT (case_id, kind, seq) DO UPDATE SET stop_us = excluded.stop_us",
        )
        _insert(
            cursor,
            view.t("referrals"),
            REFERRAL_COLUMNS,
            list(self.referrals.values()),
            "ON CONFLICT (case_id, seq) DO UPDATE SET due_us = excluded.due_us, "
            "stop_us = excluded.stop_us",
        )

    def apply(self, event: Any) -> None:
        case_id = str(event.originator_id)
        if isinstance(event, Case.Registered):
            row = _registered(event, case_id)
            self.cases.put(row)
            _Case(self, row, event).registered()
        else:
            found = self.cases.get(case_id)
            if found is None:  # an event of a case this view never saw registered
                return
            row = found
            change = lookup(_CHANGES, type(event))
            if change is not None:
                change(_Case(self, row, event))
        deadlines = getattr(event, "deadlines", None)
        if isinstance(event, Case.Rejected):  # ends every clock without carrying a (now empty) set
            deadlines = {}
        if deadlines is not None:
            at = to_us(event.timestamp)
            self._replace_clocks(row, deadlines, event.originator_version, at)
            self._follow_clocks(row, deadlines)

    def _follow_clocks(self, row: Row, deadlines: Mapping[str, Deadline]) -> None:
        """A pending referral answer or 督办 clock moved (extended, recomputed) moves its due
        time; one that fired stays due when it was."""
        answer = deadlines.get(DeadlineKind.REFERRAL_ANSWER.value)
        if answer is not None and row["refer_seq"] is not None:
            row["refer_due_us"] = to_us(answer.due_at)
            self.referrals[(row["id"], row["refer_seq"])] = (
                row["id"], row["refer_seq"], row["unit"], row["refer_due_us"],
                row["refer_start_us"], OPEN,
            )  # fmt: skip
        order = deadlines.get(DeadlineKind.SUPERVISION.value)
        if order is not None and row["order_us"] is not None and not row["order_reminded"]:
            row["order_due_us"] = to_us(order.due_at)

    def _replace_clocks(
        self, row: Row, deadlines: Mapping[str, Deadline], seq: int, at: int
    ) -> None:
        """The event's set of clocks replaces the case's: a clock that changed (or went) ends
        here, a new one starts here; one carried over unchanged keeps running."""
        for kind in QUEUE_CLOCKS:
            new = deadlines.get(kind)
            due = to_us(new.due_at) if new else None
            started = to_us(new.started_at) if new else None
            current = row[f"{kind}_seq"]
            if current is not None:
                if row[f"{kind}_due_us"] == due and row[f"{kind}_started_us"] == started:
                    continue
                self.clocks[(row["id"], kind, current)] = (
                    row["id"], kind, current, row["unit"], row[f"{kind}_due_us"],
                    row[f"{kind}_from_us"], at,
                )  # fmt: skip
            if due is None:
                row[f"{kind}_seq"] = row[f"{kind}_due_us"] = None
                row[f"{kind}_started_us"] = row[f"{kind}_from_us"] = None
                continue
            row[f"{kind}_seq"], row[f"{kind}_due_us"] = seq, due
            row[f"{kind}_started_us"], row[f"{kind}_from_us"] = started, at
            self.clocks[(row["id"], kind, seq)] = (row["id"], kind, seq, row["unit"], due, at, OPEN)


def _insert(
    cursor: Cursor,
    table: str,
    columns: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    conflict: str = "",
    alias: str = "",
) -> None:
    if not rows:
        return
    named = f"{table} AS {alias}" if alias else table
    cursor.executemany(
        f"INSERT INTO {named} ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)}) {conflict}",
        rows,
    )


def _registered(event: Any, case_id: str) -> Row:
    row: Row = dict.fromkeys(CASE_COLUMNS)
    row.update(
        id=case_id,
        unit=event.unit,
        kind=kind_of(event),
        category=event.category,
        level=event.level,
        registered_us=to_us(event.timestamp),
        tier=event.tier,
        breached=0,
        signed=0,
        escalated=0,
        county=int(event.tier == COUNTY),
        paused_total_us=0,
        last_json="{}",
    )
    return row
