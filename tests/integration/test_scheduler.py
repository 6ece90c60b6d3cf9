"""The deadline scheduler with an injected clock over a real store and real views.

Each sweep first brings the views up to the log's head, as the service does, then acts on
what the deadlines view says is due. Times are asserted to the microsecond: a sweep just
before a due time does nothing, one at it acts.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from api.wiring.settings import Settings, SettingsError
from domain.application import FengqiaoApplication
from domain.calendar import SHANGHAI
from domain.case import Registration
from domain.case.commands import (
    AddNote,
    ExtendDeadline,
    RecordMediationSession,
    ResolveCase,
    SignCase,
)
from domain.levels import Level
from domain.policy import Mode
from domain.status import AgreementForm, Channel
from projections.viewset import ViewSet
from scheduler.sweep import Sweeper, SweepReport
from tests.support.world import (
    ADMIN,
    COUNTY,
    MEDIATOR,
    REPORTER,
    SUPERVISOR,
    T0,
    TOWNSHIP,
    VILLAGE,
    Clock,
)

STORES = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
TICK = timedelta(microseconds=1)


def shanghai(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


class Harness:
    """Sweeps at chosen instants, the views caught up before and after."""

    def __init__(self, app: FengqiaoApplication, views: ViewSet, clock: Clock) -> None:
        self.app = app
        self.views = views
        self.clock = clock
        self.sweeper = Sweeper(app, views.deadlines, clock)

    def sweep_at(self, when: datetime) -> SweepReport:
        self.clock.now = when
        self.views.catch_up()
        report = self.sweeper.sweep()
        self.views.catch_up()
        assert report.refused == []
        return report

    def acted_at(self, when: datetime) -> set[tuple[UUID, str, str]]:
        """What a sweep at ``when`` recorded: (case, clock kind, event names)."""
        return {(d.case_id, d.kind, events) for d, events in self.sweep_at(when).acted}

    def events(self, case_id: UUID) -> list[str]:
        return [entry.event_type for entry in self.views.history.get_history(case_id)]


@pytest.fixture
def harness(app: FengqiaoApplication, views: ViewSet, clock: Clock) -> Harness:
    return Harness(app, views, clock)


def register(
    app: FengqiaoApplication,
    at: datetime = T0,
    level: Level = Level.YELLOW,
    summary: str = "占道堆放杂物",
) -> UUID:
    details = Registration("邻里纠纷", summary, VILLAGE, Channel.GRID_PATROL, level=level)
    return app.register(REPORTER, "dispute", details, at=at).case.id


def due(app: FengqiaoApplication, case_id: UUID, kind: str) -> datetime:
    return app.get_case(case_id).deadlines[kind].due_at


# --- escalation by deadline ---------------------------------------------------------------


@STORES
def test_a_yellow_case_left_alone_climbs_to_the_township_then_the_county_on_time(
    app: FengqiaoApplication, harness: Harness
) -> None:
    case_id = register(app)
    sign, resolve = due(app, case_id, "sign"), due(app, case_id, "resolve")
    assert sign == T0 + timedelta(hours=24)
    # 3 working days from Monday 28 Sep: 29, 30 Sep and (after 国庆) Thursday 8 Oct.
    assert resolve == shanghai(2026, 10, 9)

    assert harness.acted_at(T0) == set()
    assert harness.acted_at(sign - TICK) == set()
    assert harness.acted_at(sign) == {(case_id, "sign", "SignOverdueFlagged")}
    assert harness.acted_at(resolve - TICK) == set()
    assert harness.acted_at(resolve) == {(case_id, "resolve", "Escalated")}

    case = app.get_case(case_id)
    assert (case.owner, case.tier.value, case.level) == (TOWNSHIP, "township", Level.ORANGE)
    township_sign, township_resolve = due(app, case_id, "sign"), due(app, case_id, "resolve")
    assert township_sign == resolve + timedelta(hours=4)
    # 5 working days from Friday 9 Oct: Saturday 10 (调休), 12, 13, 14, 15 Oct.
    assert township_resolve == shanghai(2026, 10, 16)

    assert harness.acted_at(township_sign - TICK) == set()
    assert harness.acted_at(township_sign) == {(case_id, "sign", "SignOverdueFlagged")}
    assert harness.acted_at(township_resolve - TICK) == set()
    assert harness.acted_at(township_resolve) == {(case_id, "resolve", "Escalated")}

    case = app.get_case(case_id)
    assert (case.owner, case.tier.value, case.level) == (COUNTY, "county", Level.RED)
    arrived = township_resolve
    county_resolve = due(app, case_id, "resolve")
    assert (due(app, case_id, "sign"), county_resolve) == (
        arrived + timedelta(hours=1),
        arrived + timedelta(days=3),
    )
    assert harness.acted_at(arrived + timedelta(hours=1)) == {
        (case_id, "sign", "SignOverdueFlagged")
    }
    # A red case's status report falls due daily and starts its next day.
    for day in (1, 2):
        assert harness.acted_at(arrived + timedelta(days=day) - TICK) == set()
        assert harness.acted_at(arrived + timedelta(days=day)) == {
            (case_id, "status_report", "ClockFired")
        }
    assert harness.acted_at(county_resolve - TICK) == set()
    assert harness.acted_at(county_resolve) == {
        # at the top: flagged, and the city orders 督办 at once
        (case_id, "resolve", "ResolveOverdueFlagged, SupervisionOrdered"),
        (case_id, "status_report", "ClockFired"),
    }
    # The county is the top: the case stays there, flagged once, however long it waits (the
    # flagged resolve clock is not offered to the sweep again); the city's 督办 on the breach
    # is flagged again each working day until the county answers it.
    # The order came with the breach on Monday 19 Oct; its answer is due by the end of the
    # next working day, Tuesday 20 Oct (Shanghai): the sweep of day 5 (Wednesday 00:00) flags it.
    assert due(app, case_id, "supervision") == shanghai(2026, 10, 21)
    for day, supervision in ((4, []), (5, [("supervision", "SupervisionReminded")])):
        report = harness.sweep_at(arrived + timedelta(days=day))
        acted = sorted((d.kind, events) for d, events in report.acted)
        assert acted == [("status_report", "ClockFired"), *supervision]
    case = app.get_case(case_id)
    assert (case.owner, case.level) == (COUNTY, Level.RED)
    assert "resolve_overdue" in case.flags

    history = harness.views.history.get_history(case_id)
    assert Counter(h.event_type for h in history) == {
        "Registered": 1,
        "SignOverdueFlagged": 3,
        "Escalated": 2,
        "ResolveOverdueFlagged": 1,
        "SupervisionOrdered": 1,
        "SupervisionReminded": 1,
        "ClockFired": 5,
    }
    escalations = [h for h in history if h.event_type == "Escalated"]
    assert [h.at for h in escalations] == [resolve, township_resolve]
    assert all(h.fields["cause"] == "overdue" for h in escalations)
    moves = [
        tuple(h.fields[name] for name in ("from_unit", "from_tier", "from_level", "to_unit",
                                          "to_tier", "to_level"))
        for h in escalations
    ]  # fmt: skip
    assert moves == [
        (VILLAGE, "village", "yellow", TOWNSHIP, "township", "orange"),
        (TOWNSHIP, "township", "orange", COUNTY, "county", "red"),
    ]


@STORES
def test_a_case_resolved_in_time_never_escalates_and_its_later_clocks_fire(
    app: FengqiaoApplication, harness: Harness
) -> None:
    case_id = register(app)
    resolve = due(app, case_id, "resolve")
    app.execute(case_id, SignCase(), MEDIATOR, at=T0 + timedelta(hours=1))
    session = RecordMediationSession(T0 + timedelta(hours=2), "调解", ["张三", "李四"])
    app.execute(case_id, session, MEDIATOR, at=T0 + timedelta(hours=2))
    resolved_at = T0 + timedelta(hours=3)
    app.execute(case_id, ResolveCase("协议", AgreementForm.WRITTEN), MEDIATOR, at=resolved_at)

    follow_up = due(app, case_id, "follow_up")
    reminder = due(app, case_id, "judicial_reminder")
    window = due(app, case_id, "judicial_confirmation")
    assert (follow_up, reminder, window) == (
        resolved_at + timedelta(days=7),
        resolved_at + timedelta(days=20),
        resolved_at + timedelta(days=30),
    )
    assert harness.acted_at(follow_up - TICK) == set()
    assert harness.acted_at(follow_up) == {(case_id, "follow_up", "ClockFired")}
    # The resolve clock it beat is gone: nothing happens when it would have fallen due.
    assert follow_up < resolve < reminder
    assert harness.acted_at(resolve) == set()
    assert harness.acted_at(resolve + timedelta(days=2)) == set()
    for moment, kind in ((reminder, "judicial_reminder"), (window, "judicial_confirmation")):
        assert harness.acted_at(moment - TICK) == set()
        assert harness.acted_at(moment) == {(case_id, kind, "ClockFired")}
        assert harness.acted_at(moment) == set()
    assert app.get_case(case_id).deadlines == {}
    assert harness.acted_at(window + timedelta(days=60)) == set()

    case = app.get_case(case_id)
    assert (case.owner, case.level) == (VILLAGE, Level.YELLOW)
    assert "Escalated" not in harness.events(case_id)
    fired = [
        h.text for h in harness.views.history.get_history(case_id) if h.event_type == "ClockFired"
    ]
    assert len(fired) == 3


@STORES
def test_a_missed_sign_for_deadline_is_flagged_once(
    app: FengqiaoApplication, harness: Harness
) -> None:
    case_id = register(app)
    sign = due(app, case_id, "sign")

    assert harness.acted_at(sign) == {(case_id, "sign", "SignOverdueFlagged")}
    assert harness.acted_at(sign) == set()
    assert harness.acted_at(sign + timedelta(hours=5)) == set()
    # A later change to the case's clocks does not make the flagged clock due again.
    app.execute(
        case_id,
        ExtendDeadline(shanghai(2026, 10, 20), "汛期"),
        SUPERVISOR,
        at=sign + timedelta(hours=6),
    )
    report = harness.sweep_at(sign + timedelta(hours=7))
    assert (report.due, report.acted) == (0, [])

    assert harness.events(case_id).count("SignOverdueFlagged") == 1
    assert "sign_overdue" in app.get_case(case_id).flags
    assert app.get_case(case_id).owner == VILLAGE


@STORES
def test_a_repeated_sweep_at_the_same_time_acts_zero_times(
    app: FengqiaoApplication, harness: Harness
) -> None:
    cases = [register(app, summary=f"case {n}") for n in range(3)]
    resolve = due(app, cases[0], "resolve")
    now = resolve + timedelta(minutes=1)
    harness.clock.now = now
    harness.views.catch_up()

    first = harness.sweeper.sweep()
    again = harness.sweeper.sweep()  # the views not caught up: the same clocks are offered

    assert sorted((d.kind, e) for d, e in first.acted) == [
        *[("resolve", "Escalated")] * 3,
        *[("sign", "SignOverdueFlagged")] * 3,
    ]
    assert (again.due, again.acted, again.unchanged, again.refused) == (6, [], 6, [])
    assert harness.acted_at(now) == set()
    for case_id in cases:
        assert harness.events(case_id).count("Escalated") == 1


@STORES
def test_one_sweep_pages_through_a_burst_larger_than_a_page_in_small_transactions(
    app: FengqiaoApplication, harness: Harness
) -> None:
    cases = [register(app, summary=f"case {n}") for n in range(5)]
    harness.sweeper = Sweeper(app, harness.views.deadlines, harness.clock, batch=4, chunk=3)

    report = harness.sweep_at(due(app, cases[0], "resolve"))

    assert report.due == 10
    assert sorted((d.case_id, d.kind, e) for d, e in report.acted) == sorted(
        [(c, "resolve", "Escalated") for c in cases]
        + [(c, "sign", "SignOverdueFlagged") for c in cases]
    )
    assert all(app.get_case(c).owner == TOWNSHIP for c in cases)


@STORES
def test_a_case_refusing_its_clock_leaves_the_others_of_its_batch_acted_on(
    app: FengqiaoApplication, harness: Harness
) -> None:
    quiet, busy = register(app, summary="quiet case"), register(app, summary="busy case")
    resolve = due(app, quiet, "resolve")
    harness.sweep_at(T0 + timedelta(days=1))  # the sign-for flags
    # A note recorded with a time after the sweep's: the busy case cannot go back in time.
    app.execute(busy, AddNote("走访"), MEDIATOR, at=resolve + timedelta(minutes=5))

    harness.clock.now = resolve
    harness.views.catch_up()
    report = harness.sweeper.sweep()

    assert [(d.case_id, e) for d, e in report.acted] == [(quiet, "Escalated")]
    assert [(d.case_id, d.kind) for d, _ in report.refused] == [(busy, "resolve")]
    assert "earlier than the case's last change" in report.refused[0][1]
    # Tried again at the next sweep.
    assert harness.acted_at(resolve + timedelta(minutes=10)) == {(busy, "resolve", "Escalated")}


# --- modes, local holidays and the policy file -------------------------------------------


@STORES
def test_emergency_mode_halves_the_clocks_started_after_the_switch(
    app: FengqiaoApplication, harness: Harness
) -> None:
    before = register(app, summary="before the switch")
    switched_at = T0 + timedelta(minutes=10)
    app.switch_mode(SUPERVISOR, Mode.EMERGENCY, "汛期应急", at=switched_at)
    assert app.current_mode() is Mode.EMERGENCY
    after = register(app, at=switched_at, summary="after the switch")

    assert due(app, before, "sign") == T0 + timedelta(hours=24)
    assert due(app, after, "sign") == switched_at + timedelta(hours=12)
    # Half of 3 working days is 36 hours of working time: the rest of Monday 28 Sep
    # (13 h 50 min) and Tuesday 29 Sep until 22:10 (22 h 10 min).
    assert due(app, after, "resolve") == shanghai(2026, 9, 29, 22, 10)
    assert due(app, before, "resolve") == shanghai(2026, 10, 9)

    assert harness.acted_at(due(app, after, "sign")) == {(after, "sign", "SignOverdueFlagged")}
    escalated_at = due(app, after, "resolve")
    assert harness.acted_at(escalated_at) == {
        (before, "sign", "SignOverdueFlagged"),
        (after, "resolve", "Escalated"),
    }
    assert app.get_case(after).owner == TOWNSHIP
    assert due(app, after, "sign") == escalated_at + timedelta(hours=2)
    assert app.get_case(before).owner == VILLAGE
    assert harness.acted_at(escalated_at + timedelta(hours=2)) == {
        (after, "sign", "SignOverdueFlagged")
    }

    # The earlier case escalates on its normal clock, and arrives under the emergency rules.
    old_resolve = due(app, before, "resolve")
    assert harness.acted_at(old_resolve - TICK) == set()
    assert (before, "resolve", "Escalated") in harness.acted_at(old_resolve)
    township = app.get_case(before).deadlines["sign"]
    assert (township.due_at, township.mode) == (old_resolve + timedelta(hours=2), "emergency")


POLICY_WITH_A_LOCAL_HOLIDAY = """
version = "leshan-local-1"
holidays = ["2026-09-29"]  # a local holiday on Tuesday

[clocks.yellow.village]
resolve = "3wd"
"""


@STORES
def test_a_local_holiday_in_the_policy_file_moves_a_working_day_deadline(
    app: FengqiaoApplication, harness: Harness, tmp_path: Path
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(POLICY_WITH_A_LOCAL_HOLIDAY, encoding="utf-8")
    policy = Settings(data_dir=tmp_path, policy_path=path).load_policy()
    usual = register(app, summary="under the default policy")
    app.adopt_policy(ADMIN, policy, at=T0)
    local = register(app, summary="under the local policy")

    assert due(app, usual, "resolve") == shanghai(2026, 10, 9)
    # Tuesday 29 Sep is off locally: 30 Sep, 8 Oct and 9 Oct.
    assert due(app, local, "resolve") == shanghai(2026, 10, 10)
    assert app.get_case(local).deadlines["resolve"].calendar == "cn-statutory+1-local"

    harness.sweep_at(T0 + timedelta(days=1))  # the sign-for flags
    assert harness.acted_at(shanghai(2026, 10, 9)) == {(usual, "resolve", "Escalated")}
    harness.sweep_at(shanghai(2026, 10, 9, 4))  # the township's sign-for flag
    assert harness.acted_at(shanghai(2026, 10, 10) - TICK) == set()
    assert harness.acted_at(shanghai(2026, 10, 10)) == {(local, "resolve", "Escalated")}


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[clocks.yellow.village]\nresolv = "3wd"\n', "clocks.yellow.village.resolv"),
        ('[clocks.yellow.village]\nresolve = "3 weeks"\n', "clocks.yellow.village.resolve"),
        ('[clocks.orange.township]\nsign = "0h"\n', "clocks.orange.township.sign"),
        ('holiday = ["2026-09-29"]\n', "holiday"),
        ('holidays = ["2026-02-30"]\n', "holidays"),
    ],
)
def test_a_policy_file_with_an_unknown_key_or_a_bad_duration_is_refused_naming_the_key(
    tmp_path: Path, text: str, key: str
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(f'version = "v"\n{text}', encoding="utf-8")
    with pytest.raises(SettingsError, match=rf"^FENGQIAO_POLICY: policy {re.escape(key)}: "):
        Settings(data_dir=tmp_path, policy_path=path).load_policy()


def test_an_unreadable_policy_file_is_refused_naming_the_setting(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("version = \n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"^FENGQIAO_POLICY: cannot read"):
        Settings(data_dir=tmp_path, policy_path=path).load_policy()
