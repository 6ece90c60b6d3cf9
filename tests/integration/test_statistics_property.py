"""The statistics view's summaries agree with the definitions (docs/design.md, "Statistics")
computed straight from the cases' events, for random subtrees and periods, on SQLite and
PostgreSQL. The store holds the demo's case stories and both hand-counted scenarios (every
kind of event the figures count: escalations, referrals both ways, 督办, pauses, follow-ups,
ratings, reopenings)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.demo.load import run_demo
from domain.application import FengqiaoApplication
from domain.calendar import SHANGHAI
from domain.case import Case
from domain.status import Grade
from projections.stats_queries import get_statistics
from projections.viewset import ViewSet
from tests.integration.test_statistics import build_scenario as build_first_scenario
from tests.integration.test_statistics_definitions import build_scenario
from tests.support.views import build_views

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)

NOW = datetime(2026, 12, 1, 10, tzinfo=SHANGHAI)
CASES = 60
GOOD = {Grade.VERY_SATISFIED, Grade.SATISFIED, Grade.BASICALLY_SATISFIED}
UNITS = ["511100", "511123", "511123001", "511123001001", "511123002", "511102"]


@dataclass
class Store:
    views: ViewSet
    cases: list[list[Any]]  # each case's events, oldest first
    within: Any  # (unit, root) -> bool


@pytest.fixture
def store(
    app: FengqiaoApplication, env: dict[str, str], backend: str, tmp_path: Path
) -> Iterator[Store]:
    run_demo(app, CASES, 13, NOW)
    build_scenario(app)  # pauses, a declined referral, a late 督办, an assessment below
    build_first_scenario(app)  # reopenings by rating, overdue moves, rejections
    events: defaultdict[Any, list[Any]] = defaultdict(list)
    for notification in app.recorder.select_notifications(start=1, limit=1_000_000):
        event = app.mapper.to_domain_event(notification)
        if isinstance(event, Case.Event):
            events[event.originator_id].append(event)
    viewset = build_views(app, env, backend, tmp_path)
    units = app.units()
    try:
        viewset.runners["statistics"].catch_up()
        yield Store(viewset, list(events.values()), units.is_within)
    finally:
        viewset.close()


@dataclass
class Expected:
    registered: int = 0
    by_level: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    by_channel: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    resolved: set[Any] = field(default_factory=set)
    terminated: set[Any] = field(default_factory=set)
    village: set[Any] = field(default_factory=set)
    local: set[Any] = field(default_factory=set)
    breached: int = 0
    escalated: int = 0
    county: int = 0
    reopened: set[Any] = field(default_factory=set)
    followed: int = 0
    referred: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    answers: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    inbound: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    reported_back: int = 0
    rated: int = 0
    good: int = 0
    honoured: list[bool] = field(default_factory=list)
    hours: list[float] = field(default_factory=list)
    orders: int = 0
    on_time: int = 0
    late: int = 0
    below: int = 0
    triggers: int = 0
    overdue: int = 0


def expected(cases: list[list[Any]], lo: datetime, hi: datetime, at: datetime) -> Expected:
    """Each figure as the definitions say, case by case, event by event."""
    x = Expected()
    for events in cases:
        _one_case(x, events, lo, hi, at)
    return x


def _one_case(x: Expected, events: list[Any], lo: datetime, hi: datetime, at: datetime) -> None:
    reg = events[0]
    cid = reg.originator_id

    def inside(t: datetime) -> bool:
        return lo <= t < hi

    if inside(reg.timestamp):
        x.registered += 1
        x.by_level[reg.level] += 1
        x.by_channel[reg.channel] += 1
        x.triggers += reg.level_cause == "triggers"
        if reg.referral_in:
            x.inbound[reg.referral_in["agency"]] += 1
    tier, signed, breached, county = reg.tier, False, False, reg.tier == "county"
    escalated_after_signing = False
    deadlines: dict[str, Any] = dict(reg.deadlines)
    paused_at, paused = None, timedelta(0)
    outcomes: list[tuple[str, datetime, bool]] = []  # (kind, at, breached then)
    followed_outcomes: set[datetime] = set()
    reopened_after: set[datetime] = set()
    current: tuple[str, datetime] | None = None
    order: tuple[datetime, datetime, bool] | None = None  # (ordered, due, reminded)
    referral: tuple[datetime, datetime | None] | None = None  # (referred, due)
    pending_at_t: dict[str, Any] = dict(reg.deadlines) if reg.timestamp < at else {}
    unanswered_at_t = False
    for e in events[1:]:
        name = type(e).__name__
        if name == "Signed":
            signed = True
        elif name == "Escalated":
            if e.cause == "overdue":
                breached = True
            if signed:
                escalated_after_signing = True
            tier = e.to_tier
        elif name in ("LevelLowered",):
            tier = e.tier
        elif name == "Returned":
            tier = e.to_tier
        elif name == "ResolveOverdueFlagged":
            breached = True
        elif name in ("Resolved", "Terminated"):
            due = deadlines.get("resolve")
            if due is not None and e.timestamp > due.due_at:
                breached = True
            kind = name.lower()
            outcomes.append((kind, e.timestamp, breached))
            current = (kind, e.timestamp)
            if inside(e.timestamp) and name == "Resolved":
                x.resolved.add(cid)
                if tier == "village":
                    x.village.add(cid)
                if tier in ("village", "township"):
                    x.local.add(cid)
                took = e.timestamp - reg.timestamp - paused
                x.hours.append(took / timedelta(hours=1))
            if inside(e.timestamp) and name == "Terminated":
                x.terminated.add(cid)
        elif name == "Referred":
            current = None
            if inside(e.timestamp):
                x.referred[e.agency] += 1
            referral = (e.timestamp, e.deadlines["referral_answer"].due_at)
        elif name in ("ReferralAnswered", "ReferralDeclined"):
            outcome = "declined" if name == "ReferralDeclined" else (e.outcome or "accepted")
            if inside(e.timestamp):
                x.answers[outcome] += 1
            if referral is not None and referral[0] < at and e.timestamp >= at:
                unanswered_at_t = referral[1] is not None and referral[1] <= at
            referral = None
        elif name == "ReportedBack":
            x.reported_back += inside(e.timestamp)
        elif name == "FollowUpRecorded":
            if current is not None:
                followed_outcomes.add(current[1])
            if inside(e.timestamp) and e.agreement_honoured is not None:
                x.honoured.append(bool(e.agreement_honoured))
        elif name == "Rated":
            if inside(e.timestamp):
                x.rated += 1
                x.good += Grade(e.grade) in GOOD
        elif name == "Reopened":
            if current is not None and current[0] == "resolved":
                reopened_after.add(current[1])
            current = None
        elif name == "Paused":
            paused_at = e.timestamp
        elif name == "Resumed" and paused_at is not None:
            paused += e.timestamp - paused_at
            paused_at = None
        elif name == "Assessed":
            x.below += bool(e.below_suggestion_reason) and inside(e.timestamp)
        elif name == "SupervisionOrdered":
            order = (e.timestamp, e.due_at, False)
            x.orders += inside(e.timestamp)
        elif name == "SupervisionReminded" and order is not None:
            if not order[2]:
                x.late += inside(order[0])
            order = (order[0], order[1], True)
        elif name == "SupervisionAnswered" and order is not None:
            if not order[2] and e.timestamp <= order[1]:
                x.on_time += inside(order[0])
            order = None
        if name == "ReferralDeclined":
            current = None
        if getattr(e, "deadlines", None) is not None or name == "Rejected":
            deadlines = dict(e.deadlines) if name != "Rejected" else {}
            if name == "Escalated" and deadlines.get("referral_answer") and referral:
                referral = (referral[0], deadlines["referral_answer"].due_at)
            if referral is not None and "referral_answer" in deadlines:
                referral = (referral[0], deadlines["referral_answer"].due_at)
            if e.timestamp < at:
                pending_at_t = deadlines
        if tier == "county":
            county = True
    if referral is not None and referral[0] < at and referral[1] is not None:
        unanswered_at_t = referral[1] <= at
    x.answers["unanswered_overdue"] += unanswered_at_t
    if inside(reg.timestamp):
        x.escalated += escalated_after_signing
        x.county += county
    for kind in ("resolved", "terminated"):
        mine = [o for o in outcomes if o[0] == kind and inside(o[1])]
        x.breached += any(b for _, _, b in mine)
        x.followed += any(t in followed_outcomes for _, t, _ in mine)
        if kind == "resolved" and any(t in reopened_after for _, t, _ in mine):
            x.reopened.add(cid)
    x.overdue += any(pending_at_t[k].due_at <= at for k in ("sign", "resolve") if k in pending_at_t)


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def check(store: Store, root: str, lo: datetime, hi: datetime) -> None:
    cases = [events for events in store.cases if store.within(events[0].unit, root)]
    x = expected(cases, lo, hi, min(hi, NOW))
    got = asdict(get_statistics(store.views.statistics, root, lo, hi, NOW))
    resolved, terminated = len(x.resolved), len(x.terminated)
    concluded = resolved + terminated
    want = {
        "registered": x.registered,
        "resolved": resolved,
        "terminated": terminated,
        "referred": sum(x.referred.values()),
        "resolution_rate": rate(resolved, concluded),
        "local_resolution_rate": rate(len(x.village), resolved),
        "township_or_below_rate": rate(len(x.local), resolved),
        "escalation_rate": rate(x.escalated, x.registered),
        "county_share": rate(x.county, x.registered),
        "on_time_rate": rate(concluded - x.breached, concluded),
        "overdue_open": x.overdue,
        "median_hours_to_resolve": statistics.median(x.hours) if x.hours else None,
        "satisfaction_rate": rate(x.good, x.rated),
        "reopen_rate": rate(len(x.reopened), resolved),
        "follow_up_rate": rate(x.followed, concluded),
        "performance_rate": rate(sum(x.honoured), len(x.honoured)),
        "reported_back": x.reported_back,
        "supervision_orders": x.orders,
        "supervision_answered_on_time": x.on_time,
        "supervision_overdue": x.late,
        "below_suggestion": x.below,
        "raised_by_triggers": x.triggers,
    }
    for name, value in want.items():
        assert got[name] == pytest.approx(value) if value is not None else got[name] is None, name
    assert {k: v for k, v in got["registered_by_level"].items() if v} == dict(x.by_level)
    assert {k: v for k, v in got["by_channel"].items() if v} == dict(x.by_channel)
    for name, counts in (
        ("referrals_by_agency", x.referred),
        ("referral_outcomes", x.answers),
        ("inbound_by_agency", x.inbound),
    ):
        assert {k: v for k, v in got[name].items() if v} == {k: v for k, v in counts.items() if v}


moments = st.integers(min_value=0, max_value=100 * 24 * 60).map(
    lambda minutes: NOW - timedelta(days=95) + timedelta(minutes=minutes)
)
whole_days = st.integers(min_value=0, max_value=100).map(
    lambda days: datetime(2026, 8, 28, tzinfo=SHANGHAI) + timedelta(days=days)
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    root=st.sampled_from(UNITS), a=st.one_of(moments, whole_days), b=st.one_of(moments, whole_days)
)
def test_summaries_agree_with_the_definitions(
    store: Store, root: str, a: datetime, b: datetime
) -> None:
    if a == b:
        b = a + timedelta(hours=1)
    check(store, root, min(a, b), max(a, b))
