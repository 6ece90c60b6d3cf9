"""Issue 13's statistics definitions (docs/design.md, "Statistics"), on SQLite and PostgreSQL,
against a scenario counted by hand. Times in Shanghai; T0 = Monday 2026-09-28 10:00; 国庆
holidays Oct 1-7. Every case is a yellow dispute 其他 grid_patrol in 石溪村 unless said.

- P  Sep 28 10:00; assessed orange 11:00 before anyone signed: moved to 罗城镇 at once (a move
     before the first signature: no escalation); the township signs 12:00; never resolved.
- Q  Sep 28 11:00, signed 12:00; its resolve deadline (Oct 9 00:00) missed: escalated overdue
     to the township Oct 9 01:00 (an escalation; a breach); the township signs, mediates and
     resolves Oct 9 10:00 (resolved by a township: not 就地, but 不出镇): 263 h.
- R  Sep 28 12:00, signed 13:00; referred to the court Sep 29 10:00, declined Sep 30 10:00,
     back to work; resolved by the village Sep 30 12:00: 48 h. Follow-up Oct 10: honoured.
- S  Sep 29 10:00, signed 11:00; referred to the police 12:00, accepted Sep 30 10:00.
- U  channel court, referred in by the court (report back by Oct 20), Sep 29 11:00; signed,
     resolved by the village Sep 30 14:00: 27 h; reported back Oct 8 10:00. Follow-up Oct 10,
     agreement_honoured not asked (null).
- V  Sep 28 13:00, signed 14:00; paused Sep 29 14:00, resumed Oct 2 14:00 (72 h paused);
     resolved by the village Oct 3 13:00: 120 h, 48 h without the pause. Follow-up Oct 10:
     agreement not honoured.
- X  Sep 29 12:00, signed 13:00; 督办 by the county 14:00, due Oct 9 12:00, answered Sep 30
     09:00: on time.
- Y  Sep 29 13:00, signed 14:00; 督办 15:00, due Sep 30 15:00; reminded Sep 30 16:00 (late),
     answered Oct 8 10:00.
- Z  Sep 30 10:00 with 12 people involved: the triggers raise it to orange (township); the
     township assesses it orange with 30 people Sep 30 11:00, below the triggers' red: a
     reason given. Never signed.
- W  Sep 30 11:00, signed 12:00, terminated 15:00; follow-up Oct 9 (honoured not asked).

Medians: 27 (U) 48 (R) 48 (V, not 120) 263 (Q) → 48.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from domain.actors import SYSTEM, Actor
from domain.application import FengqiaoApplication
from domain.calendar import SHANGHAI
from domain.case import InboundReferral
from domain.case.commands import (
    ActOnDeadline,
    AnswerReferral,
    AnswerSupervision,
    AssessCase,
    CaseCommand,
    OrderSupervision,
    PauseCase,
    RecordFollowUp,
    RecordMediationSession,
    ReferCase,
    ReportBack,
    ResolveCase,
    ResumeCase,
    SignCase,
    TerminateCase,
)
from domain.clocks import DeadlineKind
from domain.levels import Level
from domain.status import Agency, AgreementForm, Channel, ReferralOutcome
from projections.stats_queries import Statistics, get_statistics
from projections.viewset import ViewSet
from tests.support.builders import register
from tests.support.views import build_views
from tests.support.world import (
    COUNTY,
    MEDIATOR,
    SUPERVISOR,
    T0,
    TOWNSHIP,
    TOWNSHIP_MEDIATOR,
)

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def cst(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SHANGHAI)


SEP28, NOV1, LATER = cst(9, 28), cst(11, 1), cst(12, 1)


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
    ids: dict[str, UUID] = {}

    def run(name: str, command: CaseCommand, actor: Actor, when: datetime) -> Any:
        return app.execute(ids[name], command, actor, at=when).case

    def work_out(name: str, actor: Actor, when: datetime) -> None:
        """A mediation session an hour before ``when``, then the agreement."""
        held = when - timedelta(hours=1)
        run(name, RecordMediationSession(held, "双方到场", ["张三", "李四"]), actor, held)
        run(name, ResolveCase("达成协议", AgreementForm.WRITTEN), actor, when)

    ids["P"] = register(app, at=T0).id
    case = run("P", AssessCase(Level.ORANGE, ["邻里积怨"], "矛盾易激化"), MEDIATOR, cst(9, 28, 11))
    assert case.owner == TOWNSHIP
    run("P", SignCase(), TOWNSHIP_MEDIATOR, cst(9, 28, 12))

    ids["Q"] = register(app, at=cst(9, 28, 11)).id
    case = run("Q", SignCase(), MEDIATOR, cst(9, 28, 12))
    due = case.deadlines["resolve"].due_at
    assert due == cst(10, 9)
    case = run("Q", ActOnDeadline(DeadlineKind.RESOLVE, due), SYSTEM, cst(10, 9, 1))
    assert case.owner == TOWNSHIP
    run("Q", SignCase(), TOWNSHIP_MEDIATOR, cst(10, 9, 7))
    work_out("Q", TOWNSHIP_MEDIATOR, cst(10, 9, 10))

    ids["R"] = register(app, at=cst(9, 28, 12)).id
    run("R", SignCase(), MEDIATOR, cst(9, 28, 13))
    run("R", ReferCase(Agency.COURT, "诉调对接"), MEDIATOR, cst(9, 29, 10))
    declined = AnswerReferral("不予受理", ReferralOutcome.DECLINED)
    assert run("R", declined, MEDIATOR, cst(9, 30, 10)).status == "reopened"
    work_out("R", MEDIATOR, cst(9, 30, 12))
    run("R", RecordFollowUp(True, True), MEDIATOR, cst(10, 10, 10))

    ids["S"] = register(app, at=cst(9, 29, 10)).id
    run("S", SignCase(), MEDIATOR, cst(9, 29, 11))
    run("S", ReferCase(Agency.POLICE, "公调对接"), MEDIATOR, cst(9, 29, 12))
    accepted = AnswerReferral("已受理", ReferralOutcome.ACCEPTED, "犍公调2026-1")
    run("S", accepted, MEDIATOR, cst(9, 30, 10))

    inbound = InboundReferral(Agency.COURT, "（2026）川1123民诉前调1号", cst(10, 20))
    ids["U"] = register(app, at=cst(9, 29, 11), channel=Channel.COURT, referral_in=inbound).id
    run("U", SignCase(), MEDIATOR, cst(9, 29, 12))
    work_out("U", MEDIATOR, cst(9, 30, 14))
    run("U", ReportBack("已调解结案"), MEDIATOR, cst(10, 8, 10))
    run("U", RecordFollowUp(True, None), MEDIATOR, cst(10, 10, 11))

    ids["V"] = register(app, at=cst(9, 28, 13)).id
    run("V", SignCase(), MEDIATOR, cst(9, 28, 14))
    run("V", PauseCase("等待伤情鉴定", cst(10, 9, 14)), SUPERVISOR, cst(9, 29, 14))
    run("V", ResumeCase(), MEDIATOR, cst(10, 2, 14))
    work_out("V", MEDIATOR, cst(10, 3, 13))
    run("V", RecordFollowUp(False, False), MEDIATOR, cst(10, 10, 12))

    ids["X"] = register(app, at=cst(9, 29, 12)).id
    run("X", SignCase(), MEDIATOR, cst(9, 29, 13))
    run("X", OrderSupervision("尽快化解", cst(10, 9, 12)), SUPERVISOR, cst(9, 29, 14))
    run("X", AnswerSupervision("已约谈双方"), MEDIATOR, cst(9, 30, 9))

    ids["Y"] = register(app, at=cst(9, 29, 13)).id
    run("Y", SignCase(), MEDIATOR, cst(9, 29, 14))
    case = run("Y", OrderSupervision("限期化解", cst(9, 30, 15)), SUPERVISOR, cst(9, 29, 15))
    due = case.deadlines["supervision"].due_at
    run("Y", ActOnDeadline(DeadlineKind.SUPERVISION, due), SYSTEM, cst(9, 30, 16))
    run("Y", AnswerSupervision("已化解一半"), MEDIATOR, cst(10, 8, 10))

    ids["Z"] = register(app, at=cst(9, 30, 10), people_involved=12).id
    case = app.get_case(ids["Z"])
    assert (case.level, case.owner, case.level_cause) == (Level.ORANGE, TOWNSHIP, "triggers")
    below = AssessCase(
        Level.ORANGE, [], "人数虽多但诉求单一", people_involved=30,
        below_suggestion_reason="诉求单一，不需县级处置",
    )  # fmt: skip
    run("Z", below, TOWNSHIP_MEDIATOR, cst(9, 30, 11))

    ids["W"] = register(app, at=cst(9, 30, 11)).id
    run("W", SignCase(), MEDIATOR, cst(9, 30, 12))
    run("W", TerminateCase("一方拒绝调解"), MEDIATOR, cst(9, 30, 15))
    run("W", RecordFollowUp(True, None), MEDIATOR, cst(10, 9, 10))
    return ids


AGENCIES = ("court", "police", "procuratorate", "petition_office")
CHANNELS = ("grid_patrol", "hotline", "walk_in", "police_110", "court", "petition_office", "online")
RATING_CHANNELS = ("citizen_link", "phone_callback", "visit", "hotline", "walk_in", "staff")

EXPECTED = Statistics(
    registered=10,  # P Q R S U V X Y Z W
    registered_by_level={"yellow": 9, "orange": 1, "red": 0},  # Z raised by the triggers
    by_kind={"dispute": 10, "incident": 0},
    by_category={"其他": 10},
    by_channel={**dict.fromkeys(CHANNELS, 0), "grid_patrol": 9, "court": 1},
    resolved=4,  # Q R U V
    terminated=1,  # W
    referred=2,  # R (court), S (police): referrals are no conclusion
    resolution_rate=4 / 5,
    local_resolution_rate=3 / 4,  # R U V by the village; Q by the township
    escalation_rate=1 / 10,  # Q (overdue after signing); P's move came before any signature
    county_share=0 / 10,
    on_time_rate=4 / 5,  # (4 resolved + 1 terminated − Q breached) / 5
    overdue_open=4,  # at Nov 1: P, X, Y (resolve clocks run out), Z (never signed)
    median_hours_to_resolve=48.0,  # 27 (U) 48 (R) 48 (V less 72 h paused) 263 (Q)
    satisfaction_rate=None,  # nobody rated
    reopen_rate=0 / 4,
    township_or_below_rate=4 / 4,
    follow_up_rate=4 / 5,  # R U V W visited after their outcome; Q not
    performance_rate=1 / 2,  # R honoured, V not; U and W not asked
    referrals_by_agency={**dict.fromkeys(AGENCIES, 0), "court": 1, "police": 1},
    referral_outcomes={"accepted": 1, "declined": 1, "concluded": 0, "unanswered_overdue": 0},
    inbound_by_agency={**dict.fromkeys(AGENCIES, 0), "court": 1},  # U
    reported_back=1,  # U
    supervision_orders=2,  # X Y
    supervision_answered_on_time=1,  # X
    supervision_overdue=1,  # Y, reminded once
    below_suggestion=1,  # Z's assessment
    raised_by_triggers=1,  # Z's registration
    ratings_by_channel=dict.fromkeys(RATING_CHANNELS, 0),  # nobody rated
    satisfaction_by_channel=dict.fromkeys(RATING_CHANNELS),
    invitations_sent=8,  # Q R U V resolved, two parties with a phone each; W terminated
    follow_up_satisfaction_rate=3 / 4,  # follow-ups in the period: R U W satisfied, V not
)


def stats(views: ViewSet, start: datetime, end: datetime, now: datetime = LATER) -> Statistics:
    return get_statistics(views.statistics, COUNTY, start, end, now)


def test_every_corrected_definition_is_the_hand_count(views: ViewSet) -> None:
    assert stats(views, SEP28, NOV1) == EXPECTED


def test_a_period_inside_one_day_counts_to_the_microsecond(views: ViewSet) -> None:
    # Sep 30 12:00 - 14:00: R's resolution (12:00) in, U's (14:00) out; W's registration
    # (11:00) out, its termination (15:00) out; Z's assessment (11:00) out.
    part = stats(views, cst(9, 30, 12), cst(9, 30, 14))
    assert (part.resolved, part.terminated, part.registered) == (1, 0, 0)
    assert part.median_hours_to_resolve == 48.0
    assert part.follow_up_rate == 1.0  # R was visited later
    assert part.below_suggestion == 0
    # Across midnight, with offsets: Sep 29 22:00 - Sep 30 11:00 (+08:00), given in UTC.
    utc = stats(views, cst(9, 29, 22).astimezone(UTC), cst(9, 30, 11).astimezone(UTC))
    assert utc.registered == 1  # Z at Sep 30 10:00 (W at 11:00 is the period's end)
    assert (utc.referral_outcomes["declined"], utc.referral_outcomes["accepted"]) == (1, 1)
    assert (utc.supervision_orders, utc.supervision_answered_on_time) == (0, 0)


def test_unanswered_referrals_are_counted_as_of_the_end(views: ViewSet) -> None:
    # At Sep 29 13:00 R and S wait for their answers, neither due yet.
    early = stats(views, SEP28, cst(9, 29, 13))
    assert early.referral_outcomes == {
        "accepted": 0, "declined": 0, "concluded": 0, "unanswered_overdue": 0,
    }  # fmt: skip
    assert early.referred == 2
