"""Policy: how long each tier has for a case of each level, and what a breach does.

Policies are versioned data. A case records the version it was registered under and every
clock it starts later uses that version's rules, so a new policy applies to new cases only. The
calendar facts (``holidays``, ``workdays``) are not rules but facts about the world: the current
policy's count for every case (``domain.calendar_change``). The
policy's intake rules (``domain.intake``: categories, a summary's length) are read when a case
is registered and never again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from domain.calendar import WorkingCalendar
from domain.clocks import Basis, Deadline, DeadlineKind, Duration, utc
from domain.inspection import InspectionRules
from domain.intake import Intake
from domain.levels import Level, Tier
from domain.notice_rules import NoticeRules
from domain.numbering import Numbering
from domain.risk import RiskRules
from domain.screening import ScreeningRules


class Mode(StrEnum):
    """Operating modes (常规模式、假日模式、应急处置), switched by an audited event."""

    NORMAL = "normal"
    HOLIDAY = "holiday"  # non-urgent clocks count working days only; red keeps calendar time
    EMERGENCY = "emergency"  # every clock halved; red sign-for 15 minutes


class Breach(StrEnum):
    """What missing a resolve deadline does."""

    ESCALATE = "escalate"  # move up one tier, level up to that tier's level
    FLAG = "flag"  # stay (county is the top), flag overdue to supervisors


@dataclass(frozen=True)
class ClockRule:
    """The sign-for and resolve clocks of a level at a tier."""

    sign: Duration
    resolve: Duration
    on_breach: Breach


def _d(text: str) -> Duration:
    return Duration.parse(text)


DEFAULT_CLOCKS: Mapping[tuple[Level, Tier], ClockRule] = {
    (Level.YELLOW, Tier.VILLAGE): ClockRule(_d("24h"), _d("3wd"), Breach.ESCALATE),
    (Level.ORANGE, Tier.TOWNSHIP): ClockRule(_d("4h"), _d("5wd"), Breach.ESCALATE),
    (Level.RED, Tier.COUNTY): ClockRule(_d("1h"), _d("3d"), Breach.FLAG),
}


STATUTORY = frozenset({DeadlineKind.JUDICIAL_CONFIRMATION, DeadlineKind.JUDICIAL_REMINDER})


@dataclass(frozen=True)
class Policy:
    """One version of the rules. Every field is a default an operator can override."""

    version: str = "default-1"
    clocks: Mapping[tuple[Level, Tier], ClockRule] = field(default_factory=lambda: DEFAULT_CLOCKS)
    follow_up_due_after: Duration = Duration(7, "d")
    mediation_limit: Duration = Duration(30, "d")
    judicial_window: Duration = Duration(30, "d")
    judicial_reminder: Duration = Duration(20, "d")
    rework: Duration = Duration(15, "wd")
    status_report_every: Duration = Duration(1, "d")
    rating_window: Duration = Duration(30, "d")
    emergency_red_sign: Duration = Duration(15, "m")
    # 督办: while the owner has not answered, the order is flagged again each interval.
    supervision_reflag: Duration = Duration(1, "wd")
    # 中止: a pause names a review date at most this far ahead (it becomes a clock).
    pause_max: Duration = Duration(30, "d")
    # 延期: all extensions of one clock together move it at most this far past its first due.
    extension_total: Duration = Duration(30, "d")
    # 转办: the agency a case was referred to answers within this.
    referral_answer: Duration = Duration(15, "wd")
    # 差评核实: a bad rating is confirmed (rework) or disputed with a reason within this.
    rating_review: Duration = Duration(5, "wd")
    # 预警指标: the facts that suggest a case's level (people involved, amount, categories…).
    risk: RiskRules = field(default_factory=RiskRules)
    holidays: frozenset[date] = frozenset()
    # 调休: days worked although a weekend or a holiday (never also in ``holidays``).
    workdays: frozenset[date] = frozenset()
    # Clocks the law fixes, which no operating mode shortens or stretches: 人民调解法 §33 gives
    # the parties 30 days to ask a court for 司法确认, whatever the county's mode.
    statutory: frozenset[DeadlineKind] = STATUTORY
    # What a registration must carry: its kind's categories, a summary's least length.
    intake: Intake = field(default_factory=Intake)
    # How case numbers are written: a format per kind, counties' short names.
    numbering: Numbering = field(default_factory=Numbering)
    # Notifications: the warning before a resolve deadline, SMS quiet hours (北京时间).
    notices: NoticeRules = field(default_factory=NoticeRules)
    # 督查回访: the monthly sample of closed cases per township, and the callback's clock.
    inspection: InspectionRules = field(default_factory=InspectionRules)
    # 线索: a clue is dismissed or promoted into a case within this, at its village.
    clue_triage: Duration = Duration(1, "wd")
    # 排查: each village's screening report per period (monthly), due on a day of it.
    screening: ScreeningRules = field(default_factory=ScreeningRules)
    # 重点人员: a key person's 包案 leader visits them at least this often.
    key_person_visit: Duration = Duration(7, "d")
    # 重复纠纷: an earlier case this recent with the same parties or place makes a repeat.
    repeat_window: Duration = Duration(180, "d")

    @property
    def calendar_facts(self) -> tuple[frozenset[date], frozenset[date]]:
        """The local holidays and make-up working days: facts about the world, so the latest
        adopted ones count for every case's new clocks (``FengqiaoApplication.calendar``)."""
        return self.holidays, self.workdays

    def calendar(self) -> WorkingCalendar:
        """The working calendar of this policy's calendar facts."""
        return WorkingCalendar(self.holidays, self.workdays)

    def rule_for(self, level: Level, tier: Tier) -> ClockRule:
        """The clocks of ``level`` at ``tier``.

        A case can sit above its level's tier (escalated by hand); it then runs on the clocks
        the owning tier uses for its own level, which are never slower.
        """
        exact = self.clocks.get((level, tier))
        if exact is not None:
            return exact
        native = tier.native_level
        if native is not None and (native, tier) in self.clocks:
            return self.clocks[(native, tier)]
        return self.clocks[(level, level.owner_tier)]


@dataclass(frozen=True)
class Clocks:
    """A policy bound to a calendar and an operating mode: starts deadlines at a given time."""

    policy: Policy
    calendar: WorkingCalendar
    mode: Mode = Mode.NORMAL

    def start(
        self,
        kind: DeadlineKind,
        level: Level,
        tier: Tier,
        at: datetime,
        duration: Duration | None = None,
    ) -> Deadline:
        """A new deadline of ``kind`` for a ``level`` case owned at ``tier``, started ``at``.

        ``duration`` overrides the policy's (rework after a bad rating runs on its own rule).
        """
        chosen = duration or self._duration(kind, level, tier)
        # a clock the law fixes runs as in normal mode, and says so
        mode = Mode.NORMAL if kind in self.policy.statutory else self.mode
        red_sign_in_emergency = (
            mode is Mode.EMERGENCY and kind is DeadlineKind.SIGN and level is Level.RED
        )
        if red_sign_in_emergency:
            chosen = self.policy.emergency_red_sign
        halve = mode is Mode.EMERGENCY and not red_sign_in_emergency
        due, calendar = self._due(chosen, level, at, halve, mode)
        return Deadline(
            kind=kind,
            due_at=utc(due),
            started_at=utc(at),
            rule=str(chosen),
            calendar=calendar,
            mode=mode.value,
            policy_version=self.policy.version,
        )

    def on_arrival(self, level: Level, tier: Tier, at: datetime) -> dict[str, Deadline]:
        """The clocks that start when a case arrives at a tier (registration, escalation, a
        return): sign-for and resolve, and a red case's daily status report."""
        kinds = [DeadlineKind.SIGN, DeadlineKind.RESOLVE]
        if level is Level.RED:
            kinds.append(DeadlineKind.STATUS_REPORT)
        return {kind.value: self.start(kind, level, tier, at) for kind in kinds}

    def given(self, kind: DeadlineKind, at: datetime, due_at: datetime) -> Deadline:
        """A clock whose due time a person set (a 督办's answer, a pause's review date)."""
        return Deadline(
            kind=kind,
            due_at=utc(due_at),
            started_at=utc(at),
            rule="given",
            calendar=Basis.CALENDAR.value,
            mode=self.mode.value,
            policy_version=self.policy.version,
        )

    def rework(self, level: Level, tier: Tier, at: datetime) -> Deadline:
        """The resolve clock of a case sent back for rework (差评 退回再办)."""
        return self.start(DeadlineKind.RESOLVE, level, tier, at, self.policy.rework)

    def _duration(self, kind: DeadlineKind, level: Level, tier: Tier) -> Duration:
        rule = self.policy.rule_for(level, tier)
        by_kind = {
            DeadlineKind.SIGN: rule.sign,
            DeadlineKind.RESOLVE: rule.resolve,
            DeadlineKind.MEDIATION: self.policy.mediation_limit,
            DeadlineKind.FOLLOW_UP: self.policy.follow_up_due_after,
            DeadlineKind.JUDICIAL_REMINDER: self.policy.judicial_reminder,
            DeadlineKind.JUDICIAL_CONFIRMATION: self.policy.judicial_window,
            DeadlineKind.STATUS_REPORT: self.policy.status_report_every,
            DeadlineKind.SUPERVISION: self.policy.supervision_reflag,
            DeadlineKind.PAUSE_REVIEW: self.policy.pause_max,
            DeadlineKind.REFERRAL_ANSWER: self.policy.referral_answer,
            DeadlineKind.RATING_REVIEW: self.policy.rating_review,
            DeadlineKind.INSPECTION: self.policy.inspection.due,
        }
        return by_kind[kind]

    def _due(
        self, duration: Duration, level: Level, at: datetime, halve: bool, mode: Mode
    ) -> tuple[datetime, str]:
        working_time = mode is Mode.HOLIDAY and level is not Level.RED
        if duration.basis is Basis.WORKING_DAYS or working_time:
            return on_calendar(self.calendar, duration, at, halve), self.calendar.name
        span = duration.as_timedelta() / 2 if halve else duration.as_timedelta()
        return at + span, Basis.CALENDAR.value

    def rating_window_open(self, outcome_at: datetime, now: datetime) -> bool:
        return now - outcome_at <= self.policy.rating_window.as_timedelta()


def on_calendar(
    calendar: WorkingCalendar, duration: Duration, at: datetime, halve: bool
) -> datetime:
    """When ``duration`` from ``at`` ends on the working ``calendar``: whole working days, or
    working time (a halved working-day rule, a calendar-time rule in holiday mode)."""
    if duration.basis is Basis.WORKING_DAYS and not halve:
        return calendar.add_working_days(at, duration.amount)
    span = duration.as_timedelta() / 2 if halve else duration.as_timedelta()
    return calendar.add_working_time(at, span)


def on_working_calendar(deadline: Deadline) -> bool:
    """Whether ``deadline`` was computed on the working calendar (a working-day rule, or
    calendar time counted as working time in holiday mode), so calendar facts move it."""
    return deadline.calendar != Basis.CALENDAR.value


def rule_due(deadline: Deadline, calendar: WorkingCalendar) -> datetime:
    """The due time ``deadline``'s rule gives from its start on ``calendar``, before any pause
    or extension moved it. Only for a clock on the working calendar (``on_working_calendar``)."""
    halve = deadline.mode == Mode.EMERGENCY.value
    return on_calendar(calendar, Duration.parse(deadline.rule, "rule"), deadline.started_at, halve)
