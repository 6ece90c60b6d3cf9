"""One demo case's life, told through the application's commands in time order.

A story draws its fate up front (resolved, terminated, referred, left open, rejected) and how
often it misses a resolve deadline, then acts step by step. Each step happens later than the
one before and no later than the demo's ``now``: a step that would lie in the future ends the
story there, which is how recent cases come to be still open. Before each command the story
looks at the case as the last command left it, so it only asks what the status allows.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime, timedelta
from decimal import Decimal
from random import Random
from uuid import UUID

from api.demo.data import (
    ATTENDEES,
    GRADES,
    HOTLINE,
    PAUSE_REASONS,
    REFERRALS,
    REJECT_REASONS,
    TERMINATION,
    TRIGGERS,
    agreement,
    office_hours,
    pick,
    registration,
    reporter,
)
from domain.actors import SYSTEM, Actor, Role
from domain.application import FengqiaoApplication
from domain.case import Case
from domain.case.commands import (
    ActOnDeadline,
    AddNote,
    AnswerReferral,
    AnswerSupervision,
    AssessCase,
    AssignCase,
    CaseCommand,
    CloseCase,
    ExtendDeadline,
    OrderSupervision,
    PauseCase,
    RaiseLevel,
    RateByInvitation,
    RateCase,
    RecordFollowUp,
    RecordJudicialConfirmation,
    RecordMediationSession,
    ReferCase,
    RejectCase,
    ReportBack,
    RequestJudicialConfirmation,
    ResolveCase,
    ResumeCase,
    ReviewRating,
    SignCase,
    TerminateCase,
)
from domain.clocks import DeadlineKind
from domain.jurisdiction import Unit
from domain.levels import Level, Tier
from domain.status import (
    OPEN,
    Agency,
    AgreementForm,
    Flag,
    Outcome,
    RatingChannel,
    ReviewDecision,
    Status,
)

MINUTE = timedelta(minutes=1)
CITIZEN = Actor("citizen", Role.CITIZEN, "")  # a party rating through their invitation
RECENT = timedelta(days=7)  # open cases arrived lately: older ones would have been worked
FATES = {"resolved": 72, "terminated": 11, "referred": 7, "open": 6, "rejected": 4}
OVERDUES = {0: 84, 1: 12, 2: 4}
NEXT_LEVEL = {Level.YELLOW: Level.ORANGE, Level.ORANGE: Level.RED}


# How each agency numbers the cases it accepts (its own 案号/受案号).
REFERENCE_PREFIX = {
    Agency.COURT: "（2026）川1123民诉前调",
    Agency.POLICE: "犍公（罗）受案字〔2026〕",
    Agency.PROCURATORATE: "犍检民调〔2026〕",
    Agency.PETITION_OFFICE: "犍信转〔2026〕",
}


class _Stop(Exception):  # noqa: N818 - a signal, not an error
    """The story goes no further: its next step lies in the future, or it is to stay open."""


class CaseStory:
    """A case from registration to wherever its fate and the demo's ``now`` leave it."""

    def __init__(
        self,
        app: FengqiaoApplication,
        case_id: UUID,
        rng: Random,
        village: Unit,
        now: datetime,
        window: timedelta,
    ) -> None:
        self.app, self.id, self.rng, self.village, self.now = app, case_id, rng, village, now
        self.fate = pick(rng, FATES)
        self.overdues = pick(rng, OVERDUES)
        self.kind = "incident" if rng.random() < 0.15 else "dispute"
        arrived = now - (RECENT if self.fate == "open" else window) * rng.random()
        self.at = office_hours(rng, arrived, now)
        self.case: Case | None = None
        self.command = "register"

    def tell(self) -> Case | None:
        """Runs the story, then plays the scheduler up to ``now``; domain errors propagate."""
        for part in (self._live, self._sweep):
            with suppress(_Stop):
                part()
        return self.case

    # --- the plot -----------------------------------------------------------------------

    def _live(self) -> None:
        self._register()
        if self.fate == "rejected":
            reason = self.rng.choice(REJECT_REASONS)
            self._do(self._before(self._due("sign")), self._med(), RejectCase(reason))
            return
        if self.rng.random() < 0.3:
            self._assess()
        self._sign()
        self._work()
        if self.fate == "open":
            raise _Stop
        self._conclude()
        self._aftercare()

    def _work(self) -> None:
        rng = self.rng
        if rng.random() < 0.8:
            # one of the owning unit's sample mediators (a village has one, a township two)
            mediators = self.app.directory(max_age=60).at_unit(self._case.owner, Role.MEDIATOR)
            if mediators:
                assignee = mediators[(rng.randint(1, 3) - 1) % len(mediators)].user
                self._do(self._later(0.1, 2), self._med(), AssignCase(assignee))
        self._session()
        if rng.random() < 0.06:
            self._pause_and_resume()
        if rng.random() < 0.03:
            self._raise_level()
        if rng.random() < 0.04:
            self._extend()
        for _ in range(self.overdues):
            self._miss_resolve_deadline()
        for _ in range(rng.randint(0, 2)):
            self._session()
        if rng.random() < 0.15:
            self._do(self._later(0.5, 4), self._med(), AddNote("已电话告知调解进展"))
        if rng.random() < 0.08:
            self._supervise()

    def _above(self) -> Actor | None:
        """The county's supervisor, when the county is above the owner."""
        county = self.app.units().at_tier(self.village.code, Tier.COUNTY).code
        if self._case.owner == county:
            return None
        return Actor(f"supervisor-{county}", Role.SUPERVISOR, county)

    def _supervise(self) -> None:
        """督办 from the county: answered within the day, mostly; now and then late (flagged
        again each working day by the scheduler) before the answer comes."""
        above = self._above()
        if above is None:
            return
        when = self._later(1, 24)
        due = when + timedelta(days=2)
        order = OrderSupervision("请加快化解进度，两日内报告调处情况", due)
        self._do(when, above, order)
        late = self.rng.random() < 0.2
        answered = due + timedelta(hours=30) if late else self._later(2, 40)
        if late:
            self._do(
                due + self._sweep_delay(), SYSTEM, ActOnDeadline(DeadlineKind.SUPERVISION, due)
            )
        self._do(answered, self._med(), AnswerSupervision("已约谈双方当事人，正在组织再次调解"))

    def _conclude(self) -> None:
        when = self._before(self._due("resolve"), 0.2, 0.9)
        if self.fate == "resolved":
            self._resolve(when)
        elif self.fate == "terminated":
            self._do(when, self._med(), TerminateCase(TERMINATION))
        else:
            agency = REFERRALS.get(self._case.category, Agency.COURT)
            self._do(when, self._med(), ReferCase(agency, "超出人民调解范围，转办对接"))
            reference = f"{REFERENCE_PREFIX[agency]}{self.rng.randint(10, 999)}号"
            answer = AnswerReferral("已受理，依法处理中", reference=reference)
            self._do(self._later(72, 336), self._med(), answer)

    def _aftercare(self) -> None:
        if self.rng.random() < 0.08:
            raise _Stop  # the follow-up visit has not happened (yet)
        self._follow_up()
        if self.rng.random() < 0.75:
            self._rate()
            if self._case.status is Status.REOPENED:  # 差评 退回再办, on the rework clock
                self._session()
                self._resolve(self._before(self._due("resolve")))
                self._follow_up()
        window = self._due("judicial_confirmation")
        if window is not None and window > self.at and self.rng.random() < 0.25:
            self._judicial_confirmation(window)
        if self._case.status is Status.FOLLOWED_UP and self.rng.random() < 0.8:
            if self._case.referral_in is not None:  # the referring body hears first
                result = ReportBack("经调解已化解，结果已书面反馈")
                self._do(self._later(1, 24), self._med(), result)
            if self._case.follow_up_troubled:  # only a supervisor closes it, saying why
                reason = "经多次回访和调解，当事人仍不满意，已告知其他救济途径，审核销号"
                self._do(self._later(2, 72), self._sup(), CloseCase(reason))
            else:
                self._do(self._later(2, 72), self._med(), CloseCase())

    def _rate(self) -> None:
        """好差评: a party on their own phone through their invitation (most), or the hotline
        calling back; a bad rating is checked by the owner's supervisor (差评核实): mostly
        found 属实 and sent back for rework, now and then disputed with a reason."""
        grade, when = pick(self.rng, GRADES), self._later(0.5, 48)
        case = self._case
        usable = [
            key
            for key, (_, expires_at) in case.invitations.items()
            if key not in case.used_invitations and expires_at >= self._step(when)
        ]
        if usable and self.rng.random() < 0.6:
            invitation = UUID(self.rng.choice(sorted(usable)))
            self._do(when, CITIZEN, RateByInvitation(invitation, grade))
        else:
            self._do(when, HOTLINE, RateCase(grade, RatingChannel.HOTLINE))
        if Flag.RATING_REVIEW in self._case.flags:
            confirmed = self.rng.random() < 0.7
            review = (
                ReviewRating(ReviewDecision.CONFIRM, "经核实，当事人反映属实，退回再办")
                if confirmed
                else ReviewRating(ReviewDecision.DISPUTE, "经核实，当事人诉求超出协议范围")
            )
            self._do(self._later(2, 72), self._sup(), review)

    def _sweep(self) -> None:
        """What the scheduler would have done by ``now``: flag a missed sign-for deadline and
        escalate on a missed resolve deadline, earliest first, until nothing more is due."""
        for _ in range(8):
            case = self.case
            if case is None or case.status not in OPEN - {Status.PAUSED}:
                return
            due: list[tuple[datetime, DeadlineKind]] = []
            if Flag.SIGN_OVERDUE not in case.flags and (sign := self._due("sign")) is not None:
                due.append((sign, DeadlineKind.SIGN))
            if Flag.RESOLVE_OVERDUE not in case.flags and (resolve := self._due("resolve")):
                due.append((resolve, DeadlineKind.RESOLVE))
            if not due:
                return
            moment, kind = min(due)
            self._do(moment + self._sweep_delay(), SYSTEM, ActOnDeadline(kind, moment))

    # --- steps --------------------------------------------------------------------------

    def _register(self) -> None:
        details = registration(self.rng, self.kind, self.village, self.at)
        actor = reporter(details.channel, self.village)
        when = self._step(self.at)
        self.case = self.app.register(actor, self.kind, details, at=when, case_id=self.id).case
        self.at = when

    def _assess(self) -> None:
        """研判; now and then the level found is higher, and the case moves up at once."""
        level = self._case.level
        if level in NEXT_LEVEL and self.rng.random() < 0.15:
            level = NEXT_LEVEL[level]
        triggers = self.rng.sample(TRIGGERS[level], k=2)
        when = self._before(self._due("sign"), 0.05, 0.3)
        self._do(when, self._med(), AssessCase(level, triggers, "依据预警指标研判"))

    def _sign(self) -> None:
        """签收, mostly within the window; a few late, after the scheduler flagged them."""
        due = self._due("sign")
        if due is None:
            return
        if self.rng.random() < 0.06:
            self._do(due + self._sweep_delay(), SYSTEM, ActOnDeadline(DeadlineKind.SIGN, due))
            when = self._later(0.5, 12)
        else:
            when = self._before(due, 0.05, 0.9)
        self._do(when, self._med(), SignCase())

    def _session(self) -> None:
        when = self._step(self._before(self._due("resolve"), 0.1, 0.4))
        held = max(self.at, when - timedelta(hours=self.rng.uniform(0.5, 3)))
        notes = f"第{self._case.sessions + 1}次调解：听取双方意见，释法明理"
        self._do(when, self._med(), RecordMediationSession(held, notes, ATTENDEES))

    def _pause_and_resume(self) -> None:
        """中止 while waiting on an appraisal or a party; resuming moves the clocks later."""
        reason = self.rng.choice(PAUSE_REASONS)
        when = self._before(self._due("resolve"), 0.1, 0.4)
        self._do(when, self._sup(), PauseCase(reason, when + timedelta(days=14)))
        self._do(self._later(48, 288), self._sup(), ResumeCase())

    def _raise_level(self) -> None:
        """The dispute flares up: the case moves to the new level's tier at once and is
        signed for there."""
        level = NEXT_LEVEL.get(self._case.level)
        if level is not None:
            when = self._before(self._due("resolve"), 0.05, 0.3)
            self._do(when, self._med(), RaiseLevel(level, "矛盾激化，提升预警等级"))
            self._sign()

    def _judicial_confirmation(self, window: datetime) -> None:
        """司法确认, asked within the 30-day window of a written agreement."""
        court = self.app.units().at_tier(self.village.code, Tier.COUNTY).name + "人民法院"
        when = self._before(window, 0.05, 0.5)
        self._do(when, self._med(), RequestJudicialConfirmation(court))
        confirmed = self.rng.random() < 0.92
        ruling = RecordJudicialConfirmation(confirmed)
        self._do(self._later(120, 480), self._med(), ruling)

    def _extend(self) -> None:
        due = self._due("resolve")
        if due is not None and due > self.at:
            until = due + timedelta(days=self.rng.randint(2, 5))
            when = self._before(due, 0.3, 0.8)
            self._do(when, self._sup(), ExtendDeadline(until, "案情复杂，批准延期"))

    def _miss_resolve_deadline(self) -> None:
        """Left unresolved past the deadline: the village hands it to the township, the
        township to the county; at the county it is flagged. The new owner signs again."""
        due = self._due("resolve")
        if due is None or "resolve_overdue" in self._case.flags:
            return
        self._do(due + self._sweep_delay(), SYSTEM, ActOnDeadline(DeadlineKind.RESOLVE, due))
        if self._case.awaiting_signature:
            self._sign()
            self._session()

    def _resolve(self, when: datetime) -> None:
        case = self._case
        form = AgreementForm.ORAL if self.rng.random() < 0.3 else AgreementForm.WRITTEN
        amount = performance_due = None
        if case.amount_involved is not None and self.kind == "dispute":
            share = Decimal(self.rng.randint(30, 100)) / 100
            amount = (case.amount_involved * share).quantize(Decimal("0.01"))
            performance_due = (when + timedelta(days=30)).date().isoformat()
        text = agreement(self.rng, self.kind)
        self._do(when, self._med(), ResolveCase(text, form, amount, performance_due))

    def _follow_up(self) -> None:
        satisfied = self.rng.random() < 0.9
        honoured = self.rng.random() < 0.92 if self._case.outcome is Outcome.RESOLVED else None
        when = self._before(self._due("follow_up"), 0.2, 0.95)
        self._do(when, self._med(), RecordFollowUp(satisfied, honoured, "电话回访"))

    # --- time and people ----------------------------------------------------------------

    def _step(self, when: datetime) -> datetime:
        """The next step's time: after the last step, and never after ``now``."""
        when = max(when, self.at + MINUTE)
        if when > self.now:
            raise _Stop
        return when

    def _do(self, when: datetime, actor: Actor, command: CaseCommand) -> None:
        when = self._step(when)
        self.command = type(command).__name__
        self.case = self.app.execute(self.id, command, actor, at=when).case
        self.at = when

    def _before(self, due: datetime | None, low: float = 0.1, high: float = 0.9) -> datetime:
        """A moment between the last step and ``due`` (two days on when none is pending)."""
        end = due if due is not None and due > self.at + MINUTE else self.at + timedelta(days=2)
        return self.at + (end - self.at) * self.rng.uniform(low, high)

    def _later(self, low_hours: float, high_hours: float) -> datetime:
        return self.at + timedelta(hours=self.rng.uniform(low_hours, high_hours))

    def _sweep_delay(self) -> timedelta:
        return timedelta(minutes=self.rng.uniform(1, 5))

    def _due(self, kind: str) -> datetime | None:
        deadline = self._case.deadlines.get(kind)
        return deadline.due_at if deadline is not None else None

    @property
    def _case(self) -> Case:
        if self.case is None:  # pragma: no cover - every step after registration has a case
            raise RuntimeError("the case is not registered yet")
        return self.case

    def _med(self) -> Actor:
        """The owning unit's mediator: whoever owns the case now does the work."""
        return Actor(f"mediator-{self._case.owner}", Role.MEDIATOR, self._case.owner)

    def _sup(self) -> Actor:
        """The owning unit's supervisor (a village's is its 调委会主任): approvals are the
        owner's too."""
        owner = self._case.owner
        return Actor(f"supervisor-{owner}", Role.SUPERVISOR, owner)
