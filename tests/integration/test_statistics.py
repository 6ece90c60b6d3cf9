"""Statistics (docs/design.md) on SQLite and PostgreSQL, against a scenario counted by hand.

The scenario, times in Shanghai (T0 = Monday 2026-09-28 10:00; 国庆 holidays Oct 1-7, so a
yellow case's three working days run out at the end of Thursday Oct 8):

- H  yellow dispute 其他 grid_patrol in 石溪村, registered Mon Sep 21 10:00 (before the
     period), signed; never swept, resolved by the village Sep 28 16:00, after its resolve
     deadline (Sep 25 00:00): a breach. 174 h to resolve.
- A  yellow dispute 其他 grid_patrol in 石溪村, Sep 28 10:00; resolved by the village
     Sep 29 10:00 (24 h); rated satisfied Sep 30.
- B  yellow incident 房屋安全 hotline in the neighbour village, Sep 28 11:00; resolved by the
     village Oct 1 10:00 (71 h); rated dissatisfied Oct 2, which reopens it; resolved again
     Oct 8 10:00 (239 h); rated basically satisfied Oct 9.
- C  yellow dispute 土地承包 walk_in in 石溪村, Sep 28 12:00, signed; its resolve deadline
     (Oct 9 00:00) is missed: escalated overdue to 罗城镇 Oct 9 01:00 (sign-for due 05:00);
     signed late Oct 9 07:00; terminated Oct 12 10:00.
- D  red dispute 征地拆迁 police_110 in 石溪村, Sep 29 10:00 (owned by the county); referred to
     the court Sep 30 10:00, within its three days.
- E  orange dispute 劳动争议 online in 石溪村, Sep 29 10:00 (owned by the township); never
     signed: overdue from Sep 29 14:00 on.
- F  yellow dispute 其他 grid_patrol in 石溪村, Sep 30 10:00; level raised to orange 11:00
     (escalated to the township); resolved by the township Oct 3 10:00 (72 h); rated very
     dissatisfied Oct 4, which reopens it; escalated by hand to the county Oct 5 10:00 and
     never signed there (sign-for due Oct 5 11:00).
- G  yellow dispute 其他 petition_office in 石溪村, Oct 1 10:00; rejected 11:00.
- J  yellow incident written 消防隐患 (filed under the word 消防) grid_patrol in a village of
     the other township (清溪镇), Oct 2 10:00; resolved by that village Oct 3 10:00 (24 h);
     rated very satisfied Oct 4.
- I  yellow dispute in a village of another county (市中区), Sep 28 10:00, never signed: in
     no statistic of 犍为县.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from domain.actors import SYSTEM
from domain.application import FengqiaoApplication
from domain.calendar import SHANGHAI
from domain.case.commands import (
    ActOnDeadline,
    EscalateCase,
    RaiseLevel,
    RateCase,
    ReferCase,
    RejectCase,
    ReviewRating,
    SignCase,
    TerminateCase,
)
from domain.clocks import DeadlineKind
from domain.levels import Level
from domain.status import Agency, Channel, Grade, ReviewDecision
from projections.db import Cursor
from projections.engine import Batch
from projections.statistics import StatisticsView
from projections.stats_queries import (
    SeriesPoint,
    Statistics,
    get_children,
    get_series,
    get_statistics,
)
from projections.viewset import ViewSet
from tests.support.builders import mediate, register, resolve
from tests.support.views import build_views
from tests.support.world import (
    COUNTY,
    MEDIATOR,
    NEIGHBOUR_VILLAGE,
    OTHER_TOWNSHIP,
    REPORTER,
    SUPERVISOR,
    T0,
    TOWNSHIP,
    TOWNSHIP_MEDIATOR,
)

# Views live in SQLite or PostgreSQL: the in-memory store has no view databases.
pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)

CITY = "511100"
OTHER_TOWNSHIP_VILLAGE = OTHER_TOWNSHIP + "001"
OTHER_COUNTY_VILLAGE = "511102001001"


def cst(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def at(days: float = 0, hours: float = 0) -> datetime:
    return T0 + timedelta(days=days, hours=hours)


SEP28, OCT1, OCT8, NOV1 = cst(9, 28), cst(10, 1), cst(10, 8), cst(11, 1)
LATER = cst(12, 1)  # "now" long after every period asked about


@pytest.fixture
def views(
    app: FengqiaoApplication, env: dict[str, str], backend: str, tmp_path: Path
) -> Iterator[ViewSet]:
    build_scenario(app)
    viewset = build_views(app, env, backend, tmp_path)
    try:
        viewset.runners["statistics"].catch_up()
        yield viewset
    finally:
        viewset.close()


def build_scenario(app: FengqiaoApplication) -> dict[str, UUID]:
    """The cases of the module docstring, through the real application."""
    ids: dict[str, UUID] = {}

    h = ids["H"] = register(app, at=at(-7)).id
    app.execute(h, SignCase(), MEDIATOR, at=at(-7, 1))
    mediate(app, h, at=at(0, 5))
    resolve(app, h, at=at(0, 6))

    a = ids["A"] = register(app, at=at()).id
    app.execute(a, SignCase(), MEDIATOR, at=at(0, 1))
    mediate(app, a, at=at(0, 2))
    resolve(app, a, at=at(1))
    app.execute(a, RateCase(Grade.SATISFIED), REPORTER, at=at(2))

    b = ids["B"] = register(
        app,
        "incident",
        at=at(0, 1),
        unit=NEIGHBOUR_VILLAGE,
        category="房屋安全",
        channel=Channel.HOTLINE,
        parties=(),
    ).id
    app.execute(b, SignCase(), MEDIATOR, at=at(0, 2))
    mediate(app, b, at=at(0, 3))
    resolve(app, b, at=at(3))
    app.execute(b, RateCase(Grade.DISSATISFIED), REPORTER, at=at(4))
    app.execute(b, ReviewRating(ReviewDecision.CONFIRM), SUPERVISOR, at=at(4))  # 退回再办
    assert app.get_case(b).status == "reopened"
    resolve(app, b, at=at(10))
    app.execute(b, RateCase(Grade.BASICALLY_SATISFIED), REPORTER, at=at(11))

    c = ids["C"] = register(app, at=at(0, 2), category="土地承包", channel=Channel.WALK_IN).id
    app.execute(c, SignCase(), MEDIATOR, at=at(0, 3))
    due = app.get_case(c).deadlines["resolve"].due_at
    assert due == cst(10, 9)
    app.execute(c, ActOnDeadline(DeadlineKind.RESOLVE, due), SYSTEM, at=due + timedelta(hours=1))
    assert app.get_case(c).owner == TOWNSHIP
    assert app.get_case(c).deadlines["sign"].due_at == cst(10, 9, 5)
    app.execute(c, SignCase(), TOWNSHIP_MEDIATOR, at=cst(10, 9, 7))
    mediate(app, c, at=cst(10, 10, 10))
    app.execute(c, TerminateCase("一方拒绝调解"), TOWNSHIP_MEDIATOR, at=cst(10, 12, 10))

    d = ids["D"] = register(
        app, at=at(1), level=Level.RED, category="征地拆迁", channel=Channel.POLICE_110
    ).id
    assert app.get_case(d).owner == COUNTY
    app.execute(d, SignCase(), MEDIATOR, at=at(1, 0.5))
    app.execute(d, ReferCase(Agency.COURT, "诉调对接"), MEDIATOR, at=at(2))

    e = ids["E"] = register(
        app, at=at(1), level=Level.ORANGE, category="劳动争议", channel=Channel.ONLINE
    ).id
    assert app.get_case(e).deadlines["sign"].due_at == cst(9, 29, 14)

    f = ids["F"] = register(app, at=at(2)).id
    app.execute(f, RaiseLevel(Level.ORANGE, "矛盾激化"), SUPERVISOR, at=at(2, 1))
    assert app.get_case(f).owner == TOWNSHIP
    app.execute(f, SignCase(), TOWNSHIP_MEDIATOR, at=at(2, 2))
    mediate(app, f, at=at(3))
    resolve(app, f, at=at(5))
    app.execute(f, RateCase(Grade.VERY_DISSATISFIED), REPORTER, at=at(6))
    app.execute(f, ReviewRating(ReviewDecision.CONFIRM), SUPERVISOR, at=at(6))  # 退回再办
    app.execute(f, EscalateCase("久拖未决，提级办理"), SUPERVISOR, at=at(7))
    assert app.get_case(f).owner == COUNTY
    assert app.get_case(f).deadlines["sign"].due_at == cst(10, 5, 11)

    g = ids["G"] = register(app, at=at(3), channel=Channel.PETITION_OFFICE).id
    app.execute(g, RejectCase("不属于受理范围"), MEDIATOR, at=at(3, 1))

    j = ids["J"] = register(
        app,
        "incident",
        at=at(4),
        unit=OTHER_TOWNSHIP_VILLAGE,
        category="消防隐患",
        parties=(),
    ).id
    app.execute(j, SignCase(), MEDIATOR, at=at(4, 1))
    mediate(app, j, at=at(4, 2))
    resolve(app, j, at=at(5))
    app.execute(j, RateCase(Grade.VERY_SATISFIED), REPORTER, at=at(6))

    ids["I"] = register(app, at=at(), unit=OTHER_COUNTY_VILLAGE).id
    return ids


def stats_of(
    views: ViewSet, unit: str, start: datetime, end: datetime, now: datetime = LATER
) -> Statistics:
    return get_statistics(views.statistics, unit, start, end, now)


NO_AGENCY = {"court": 0, "police": 0, "procuratorate": 0, "petition_office": 0}
NO_ANSWER = {"accepted": 0, "declined": 0, "concluded": 0, "unanswered_overdue": 0}
NO_RATINGS = dict.fromkeys(
    ("citizen_link", "phone_callback", "visit", "hotline", "walk_in", "staff"), 0
)


def by_phone(ratings: int, good: int) -> dict[str, Any]:
    """Ratings all taken by phone callbacks (``RateCase``'s default): counts, and the rates."""
    counts = {**NO_RATINGS, "phone_callback": ratings}
    return {
        "ratings_by_channel": counts,
        "satisfaction_by_channel": {
            channel: (good / ratings if channel == "phone_callback" else None) for channel in counts
        },
    }


# The county, Sep 28 - Nov 1 (everything but H's registration and I).
COUNTY_WHOLE_PERIOD = Statistics(
    registered=8,  # A B C D E F G J
    registered_by_level={"yellow": 6, "orange": 1, "red": 1},  # A B C F G J | E | D
    by_kind={"dispute": 6, "incident": 2},  # A C D E F G | B J
    by_category={
        "其他": 3,  # A F G
        "房屋安全": 1,  # B
        "土地承包": 1,  # C
        "征地拆迁": 1,  # D
        "劳动争议": 1,  # E
        "消防": 1,  # J, written 消防隐患
    },
    by_channel={
        "grid_patrol": 3,  # A F J
        "hotline": 1,  # B
        "walk_in": 1,  # C
        "police_110": 1,  # D
        "court": 0,
        "petition_office": 1,  # G
        "online": 1,  # E
    },
    resolved=5,  # H A B (twice, one case) F J
    terminated=1,  # C
    referred=1,  # D
    resolution_rate=5 / 6,  # 5 / (5 + 1)
    local_resolution_rate=4 / 5,  # H A B J by a village; F by the township
    # C (overdue, after signing), F (by hand after signing; its level raise before anyone
    # signed moved it to where an orange case belongs: no escalation)
    escalation_rate=2 / 8,
    county_share=2 / 8,  # D (registered red), F (escalated to the county)
    on_time_rate=4 / 6,  # resolved H A B F J + terminated C; H (late outcome), C (overdue)
    overdue_open=2,  # at Nov 1: E (never signed), F (never signed at the county)
    median_hours_to_resolve=71.5,  # 24 (A) 24 (J) 71 (B) | 72 (F) 174 (H) 239 (B again)
    satisfaction_rate=3 / 5,  # A satisfied, B basically, J very | B, F dissatisfied
    reopen_rate=2 / 5,  # B and F were reopened after their resolution
    township_or_below_rate=1.0,  # H A B J by a village, F by the township
    follow_up_rate=0.0,  # nobody visited H A B C F J after their outcome
    performance_rate=None,
    referrals_by_agency={"court": 1, "police": 0, "procuratorate": 0, "petition_office": 0},
    # D's answer from the court (15 working days from Sep 30) had not come by Nov 1
    referral_outcomes={"accepted": 0, "declined": 0, "concluded": 0, "unanswered_overdue": 1},
    inbound_by_agency=NO_AGENCY,
    **by_phone(5, 3),  # as satisfaction_rate: every rating was taken by a phone callback
    invitations_sent=6,  # H A F resolved with two parties each with a phone; B J have none
    invitations_answered=0,
    bad_ratings_reviewed=2,  # B F
    bad_ratings_confirmed=2,  # both sent back for rework
)


def test_the_county_statistics_of_the_whole_period_are_the_hand_count(views: ViewSet) -> None:
    assert stats_of(views, COUNTY, SEP28, NOV1) == COUNTY_WHOLE_PERIOD


def test_a_period_counts_only_what_happened_in_it(views: ViewSet) -> None:
    # Oct 1 - Oct 8: B's first resolution and reopening, F's resolution, reopening and
    # escalation to the county, G's registration and rejection, J from registration to rating.
    # Not in it: B's second resolution (Oct 8 10:00), C's escalation and termination, D's
    # referral (Sep 30), A's rating (Sep 30), any other registration.
    assert stats_of(views, COUNTY, OCT1, OCT8) == Statistics(
        registered=2,  # G J
        registered_by_level={"yellow": 2, "orange": 0, "red": 0},
        by_kind={"dispute": 1, "incident": 1},
        by_category={"其他": 1, "消防": 1},
        by_channel={
            "grid_patrol": 1,  # J
            "hotline": 0,
            "walk_in": 0,
            "police_110": 0,
            "court": 0,
            "petition_office": 1,  # G
            "online": 0,
        },
        resolved=3,  # B F J
        terminated=0,
        referred=0,
        resolution_rate=1.0,  # 3 / (3 + 0)
        local_resolution_rate=2 / 3,  # B J; F by the township
        escalation_rate=0.0,  # neither G nor J ever moved up
        county_share=0.0,
        on_time_rate=1.0,  # B F J concluded, none breached by then
        overdue_open=2,  # at Oct 8 00:00: E, F (county sign-for due Oct 5 11:00)
        median_hours_to_resolve=71.0,  # 24 (J) 71 (B) 72 (F)
        satisfaction_rate=1 / 3,  # J good; B, F bad
        reopen_rate=2 / 3,  # B and F
        township_or_below_rate=1.0,
        follow_up_rate=0.0,
        referrals_by_agency=NO_AGENCY,
        referral_outcomes=NO_ANSWER,  # D's answer is not due before Oct 8
        inbound_by_agency=NO_AGENCY,
        **by_phone(3, 1),
        invitations_sent=2,  # F's two parties; B and J have none
        bad_ratings_reviewed=2,  # B F
        bad_ratings_confirmed=2,
    )


@pytest.mark.parametrize(
    ("end", "overdue"),
    [
        (at(0, 2), 1),  # Sep 28 12:00: H's resolve clock (due Sep 25) runs until 16:00
        (at(0, 7), 0),  # H resolved; A, B, C not due to sign before tomorrow
        (cst(9, 29, 15), 1),  # E unsigned since 14:00 (D signed within its hour)
        (cst(10, 9, 0, 30), 3),  # C (resolve due 00:00, escalated 01:00), E, F
        (cst(10, 9, 2), 2),  # C escalated: new clocks not due yet; E, F
        (cst(10, 9, 6), 3),  # C's township sign-for due 05:00, signed 07:00; E, F
        (cst(10, 9, 8), 2),  # E, F
    ],
)
def test_overdue_open_is_counted_at_the_end_of_a_past_period(
    views: ViewSet, end: datetime, overdue: int
) -> None:
    assert stats_of(views, COUNTY, SEP28 - timedelta(days=30), end).overdue_open == overdue
    # The same instant reached as "now" inside a longer period gives the same answer.
    assert stats_of(views, COUNTY, SEP28, NOV1, now=end).overdue_open == overdue


def test_children_add_up_to_their_parent_and_other_counties_stay_out(views: ViewSet) -> None:
    children = dict(get_children(views.statistics, COUNTY, SEP28, NOV1, LATER))
    assert list(children) == [TOWNSHIP, OTHER_TOWNSHIP]
    township, other = children[TOWNSHIP], children[OTHER_TOWNSHIP]
    assert (other.registered, other.resolved, other.satisfaction_rate) == (1, 1, 1.0)  # J
    assert township.registered == 7  # A B C D E F G
    assert township.local_resolution_rate == 3 / 4  # H A B of H A B F
    whole = COUNTY_WHOLE_PERIOD
    for name in ("registered", "resolved", "terminated", "referred", "overdue_open"):
        assert getattr(township, name) + getattr(other, name) == getattr(whole, name), name
    for name in ("registered_by_level", "by_kind", "by_category", "by_channel"):
        parts = (getattr(township, name), getattr(other, name))
        total = {key: sum(part.get(key, 0) for part in parts) for key in getattr(whole, name)}
        assert total == getattr(whole, name), name

    villages = dict(get_children(views.statistics, TOWNSHIP, SEP28, NOV1, LATER))
    assert [s.registered for s in villages.values()] == [6, 1, 0]  # 石溪村, B's village, none
    empty = villages[TOWNSHIP + "003"]
    assert empty.resolution_rate is None
    assert empty.median_hours_to_resolve is None
    assert empty.satisfaction_rate is None

    city = stats_of(views, CITY, SEP28, NOV1)
    assert city.registered == 9  # I counts for the city
    assert city.overdue_open == 3  # E, F and I (unsigned since Sep 29 10:00)


def test_a_period_with_nothing_in_it_has_no_rates(views: ViewSet) -> None:
    quiet = stats_of(views, COUNTY, cst(12, 1), cst(12, 2), now=cst(12, 3))
    assert quiet.registered == quiet.resolved == 0
    rates = [f.name for f in fields(Statistics) if f.name.endswith("rate")]
    assert len(rates) == 11
    assert all(getattr(quiet, name) is None for name in rates)
    assert quiet.county_share is None
    assert quiet.overdue_open == 2  # E and F are still open and overdue on Dec 2


def test_weekly_and_monthly_series(views: ViewSet) -> None:
    weekly = get_series(views.statistics, COUNTY, SEP28, cst(10, 19), "week")
    assert weekly == [
        SeriesPoint(
            "2026-W40",
            cst(9, 28),
            cst(10, 5),
            registered=8,  # A B C D E F G J
            registered_by_level={"yellow": 6, "orange": 1, "red": 1},
            resolved=5,  # H A B F J
            escalated=0,  # F's level raised Sep 30 before anyone signed: no escalation
        ),
        SeriesPoint(
            "2026-W41",
            cst(10, 5),
            cst(10, 12),
            registered=0,
            registered_by_level={"yellow": 0, "orange": 0, "red": 0},
            resolved=1,  # B again, Oct 8
            escalated=2,  # F by hand Oct 5, C overdue Oct 9
        ),
        SeriesPoint(
            "2026-W42",
            cst(10, 12),
            cst(10, 19),
            registered=0,
            registered_by_level={"yellow": 0, "orange": 0, "red": 0},
            resolved=0,
            escalated=0,
        ),
    ]
    monthly = get_series(views.statistics, COUNTY, cst(9, 1), NOV1, "month")
    assert [(p.label, p.start, p.end) for p in monthly] == [
        ("2026-09", cst(9, 1), cst(10, 1)),
        ("2026-10", cst(10, 1), NOV1),
    ]
    september, october = monthly
    assert (september.registered, september.registered_by_level) == (
        7,  # H A B C D E F
        {"yellow": 5, "orange": 1, "red": 1},
    )
    assert (september.resolved, september.escalated) == (2, 0)  # H A | none after signing
    assert (october.registered, october.resolved, october.escalated) == (
        2,
        3,
        2,
    )  # G J | B F J | F C


def test_a_series_starting_mid_week_counts_only_from_its_start(views: ViewSet) -> None:
    # Sep 30 10:00 onwards in week 40: F (registered Sep 30 10:00), G, J.
    first = get_series(views.statistics, COUNTY, at(2), cst(10, 5), "week")[0]
    assert (first.label, first.start, first.registered) == ("2026-W40", cst(9, 28), 3)
    with pytest.raises(ValueError, match="bucket"):
        get_series(views.statistics, COUNTY, SEP28, NOV1, "day")


def snapshot(views: ViewSet) -> dict[str, Any]:
    view = views.statistics
    return {
        "county": asdict(stats_of(views, COUNTY, SEP28, NOV1)),
        "short": asdict(stats_of(views, COUNTY, OCT1, OCT8)),
        "past": asdict(stats_of(views, COUNTY, SEP28, cst(10, 9, 6))),
        "children": get_children(view, COUNTY, SEP28, NOV1, LATER),
        "weeks": get_series(view, COUNTY, SEP28, NOV1, "week"),
        "months": get_series(view, CITY, cst(9, 1), NOV1, "month"),
    }


def test_a_rebuild_gives_identical_results(views: ViewSet) -> None:
    before = snapshot(views)
    applied = views.rebuild(["statistics"])
    assert applied["statistics"] == views.app.recorder.max_notification_id()
    assert snapshot(views) == before
    assert before["county"] == asdict(COUNTY_WHOLE_PERIOD)


def count_rows(views: ViewSet, table: str) -> int:
    with views.statistics.db.transaction(write=False) as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {views.statistics.t(table)}")
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


BREAKDOWNS = "('registered_level', 'registered_kind', 'registered_category')"


def facts_of(views: ViewSet) -> int:
    """Per unit, the facts its day counters count (rolled up from every unit below it),
    which must agree with the facts located in its subtree: the registrations' breakdowns
    (``registered_level``…) and the repeats (``-resolved``…) aside."""
    stats = views.statistics
    with stats.db.transaction(write=False) as cursor:
        cursor.execute(
            f"SELECT unit, SUM(n) FROM {stats.t('days')} WHERE measure NOT IN {BREAKDOWNS} "
            "AND substr(measure, 1, 1) <> '-' GROUP BY unit"
        )
        counted = {str(unit): int(n) for unit, n in cursor.fetchall()}
        cursor.execute(
            f"SELECT u.ancestor, COUNT(*) FROM {stats.t('facts')} f JOIN {stats.t('units')} u "
            "ON u.descendant = f.unit GROUP BY u.ancestor"
        )
        located = {str(unit): int(n) for unit, n in cursor.fetchall()}
        cursor.execute(
            f"SELECT SUM(n) FROM {stats.t('days')} WHERE measure IN {BREAKDOWNS} GROUP BY measure"
        )
        breakdowns = {int(n) for (n,) in cursor.fetchall()}
    assert counted == located
    # Each breakdown of the registrations counts each of them at each unit above it.
    assert breakdowns == {sum_registered(views)}
    return max(counted.values())


def sum_registered(views: ViewSet) -> int:
    stats = views.statistics
    with stats.db.transaction(write=False) as cursor:
        cursor.execute(f"SELECT SUM(n) FROM {stats.t('days')} WHERE measure = 'registered'")
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def test_a_batch_failing_half_way_is_rolled_back_and_a_restart_applies_each_event_once(
    app: FengqiaoApplication,
    env: dict[str, str],
    backend: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    build_scenario(app)
    log = [
        (n.id, type(app.mapper.to_domain_event(n)).__name__)
        for n in app.recorder.select_notifications(start=1, limit=10_000)
    ]
    original = StatisticsView.process
    failed: list[Batch] = []

    def fail_half_way(self: StatisticsView, cursor: Cursor, batch: Batch) -> None:
        """Applies half of the first batch holding a resolution, then crashes."""
        if not failed and any(type(e).__name__ == "Resolved" for _, e in batch):
            failed.append(batch)
            original(self, cursor, batch[: len(batch) // 2])
            raise RuntimeError("power cut")
        original(self, cursor, batch)

    monkeypatch.setattr(StatisticsView, "process", fail_half_way)
    views = build_views(app, env, backend, tmp_path)
    runner = views.runners["statistics"]
    runner.batch_size = 7
    with pytest.raises(RuntimeError, match="power cut"):
        runner.catch_up()
    committed = runner.read_position()
    first_failed = failed[0][0][0]
    assert committed == max(position for position, _ in log if position < first_failed)
    # Nothing of the failed batch is in the view: rows match the events before it.
    done = [name for position, name in log if position <= committed]
    assert count_rows(views, "cases") == done.count("Registered")
    # Each registration leaves one fact (registered) here, D's one more (county), each
    # resolution at least three (resolved, by whom, its hours), each rating one or two.
    assert count_rows(views, "facts") >= done.count("Registered") + 3 * done.count("Resolved")
    views.close()

    monkeypatch.setattr(StatisticsView, "process", original)
    restarted = build_views(app, env, backend, tmp_path)
    try:
        restarted.runners["statistics"].catch_up()
        everything = [name for _, name in log]
        assert count_rows(restarted, "cases") == everything.count("Registered") == 10
        assert count_rows(restarted, "facts") == facts_of(restarted)
        after_restart = snapshot(restarted)
        assert after_restart["county"] == asdict(COUNTY_WHOLE_PERIOD)
        restarted.rebuild(["statistics"])
        assert snapshot(restarted) == after_restart
    finally:
        restarted.close()
