"""The case aggregate with no store: given its past events, when a command runs, then these
events (or this refusal). Commands run exactly as ``FengqiaoApplication.execute`` runs them,
minus loading and saving, so unit tests exercise the same decisions in milliseconds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import uuid4

import pytest

from domain.actors import Actor, Role
from domain.calendar import WorkingCalendar
from domain.case import Case, Registration
from domain.case.commands import (
    AnswerReferral,
    CaseCommand,
    CloseCase,
    Context,
    PauseCase,
    RecordFollowUp,
    RecordMediationSession,
    ReferCase,
    RejectCase,
    ReopenCase,
    ResolveCase,
    SignCase,
    TerminateCase,
)
from domain.clocks import DeadlineKind
from domain.directory import Directory, StaffMember
from domain.dispute import Dispute
from domain.jurisdiction import Jurisdiction
from domain.levels import Level
from domain.policy import Clocks, Mode, Policy
from domain.samples import sample_units
from domain.status import Agency, AgreementForm
from tests.support.builders import registration
from tests.support.world import (
    ADMIN,
    COUNTY,
    MEDIATOR,
    REPORTER,
    SUPERVISOR,
    T0,
    TOWNSHIP,
    VILLAGE,
)

E = TypeVar("E", bound=Exception)

_CALENDAR = WorkingCalendar()


def sample_jurisdiction() -> Jurisdiction:
    units = Jurisdiction.create(T0)
    for unit in sample_units():
        units.add_unit(unit, ADMIN.user, T0)
    return units


UNITS = sample_jurisdiction()


def sample_directory() -> Directory:
    """The staff the unit tests assign cases to: mediators of the village, the township and
    the county, and a village mediator who has left (disabled)."""
    staff = Directory.create(T0)
    people = [
        StaffMember(user, f"调解员{user}", unit, (Role.MEDIATOR,))
        for user, unit in (
            ("mediator-1", VILLAGE),
            ("mediator-7", VILLAGE),
            ("mediator-9", VILLAGE),
            ("mediator-village", VILLAGE),
            ("mediator-gone", VILLAGE),
            ("mediator-township", TOWNSHIP),
            ("mediator-county", COUNTY),
        )
    ]
    staff.enrol(ADMIN, people, T0)
    staff.disable(ADMIN, "mediator-gone", "调离", T0)
    return staff


STAFF = sample_directory()


def clocks(mode: Mode = Mode.NORMAL, policy: Policy | None = None) -> Clocks:
    return Clocks(policy or Policy(), _CALENDAR, mode)


def registered(
    details: Registration, kind: type[Case] = Dispute, at: datetime = T0, actor: Actor = REPORTER
) -> Case:
    """A case just registered, its registration already collected (the past)."""
    case = kind.register(uuid4(), actor, at, UNITS, clocks(), details)
    case.collect_events()
    return case


def run(
    case: Case, command: CaseCommand, actor: Actor, at: datetime, mode: Mode = Mode.NORMAL
) -> list[Any]:
    """Runs ``command`` on ``case`` and returns the events it recorded (collected, so the
    next command starts from them as the past)."""
    command.run(case, Context(actor, at, lambda *codes: UNITS, lambda: clocks(mode), lambda: STAFF))
    return list(case.collect_events())


def names(events: Sequence[Any]) -> list[str]:
    return [type(event).__name__ for event in events]


# --- driving a case through its lifecycle, with no store -----------------------------------

STEP = timedelta(minutes=1)  # how far the clock moves between two steps of ``drive``
# A yellow case registered in the village at T0 (Mon Sep 28, 10:00 in Shanghai) has three
# working days to be resolved; across 国庆 (Oct 1-7) that is the end of Thu Oct 8 in Shanghai.
YELLOW_RESOLVE_DUE = datetime(2026, 10, 8, 16, 0, tzinfo=UTC)

StepFn = tuple[Callable[[datetime], CaseCommand], Actor]

_SIGN: StepFn = (lambda at: SignCase(), MEDIATOR)
_MEDIATE: StepFn = (
    lambda at: RecordMediationSession(at, "双方到场，陈述意见", ["张三", "李四"]),
    MEDIATOR,
)
_RESOLVE: StepFn = (
    lambda at: ResolveCase("李四疏通排水沟并赔偿500元", AgreementForm.WRITTEN),
    MEDIATOR,
)
_REFER: StepFn = (lambda at: ReferCase(Agency.COURT, "涉及土地确权，转诉调对接"), MEDIATOR)
_FOLLOW_UP: StepFn = (
    lambda at: RecordFollowUp(satisfied=True, agreement_honoured=True),
    MEDIATOR,
)
_RESOLVED = [_SIGN, _MEDIATE, _RESOLVE]

# The store-free twin of ``tests.support.builders.ROUTES``: the commands that bring a new case to
# each status ("answered" is a referred case whose referral was answered).
ROUTES: dict[str, list[StepFn]] = {
    "registered": [],
    "rejected": [(lambda at: RejectCase("不属于人民调解受理范围"), MEDIATOR)],
    "signed": [_SIGN],
    "paused": [_SIGN, (lambda at: PauseCase("等待伤情鉴定", at + timedelta(days=10)), MEDIATOR)],
    "referred": [_SIGN, _REFER],
    "answered": [
        _SIGN,
        _REFER,
        (lambda at: AnswerReferral("法院已立案", reference="（2026）川1123民诉前调12号"), MEDIATOR),
    ],
    "terminated": [
        _SIGN,
        (lambda at: TerminateCase("一方拒绝调解，已告知诉讼途径"), MEDIATOR),
    ],
    "in_mediation": [_SIGN, _MEDIATE],
    "resolved": _RESOLVED,
    "reopened": [*_RESOLVED, (lambda at: ReopenCase("协议履行出现反复"), SUPERVISOR)],
    "followed_up": [*_RESOLVED, _FOLLOW_UP],
    "closed": [*_RESOLVED, _FOLLOW_UP, (lambda at: CloseCase(), MEDIATOR)],
}
REACHABLE = tuple(ROUTES)


def drive(
    status: str, kind: type[Case] = Dispute, level: Level = Level.YELLOW, **overrides: Any
) -> Case:
    """A new case of ``kind`` registered at T0 (the sample yellow dispute of
    ``tests.support.builders.registration``, at ``level``), driven to ``status`` (one of
    ``REACHABLE``), one step a minute. Its events are collected: they are the past."""
    case = registered(registration(level=level, **overrides), kind)
    for make, actor in ROUTES[status]:
        at = later(case)
        run(case, make(at), actor, at)
    return case


def later(case: Case, by: timedelta = STEP) -> datetime:
    """A moment ``by`` after the case's last change (a minute, unless told)."""
    return case.modified_on + by


def due(case: Case, kind: DeadlineKind) -> datetime:
    deadline = case.pending(kind)
    assert deadline is not None, f"no pending {kind} clock"
    return deadline.due_at


def refused(
    case: Case,
    error: type[E],
    command: CaseCommand,
    actor: Actor,
    at: datetime | None = None,
) -> E:
    """Runs ``command``, which must raise ``error`` and record nothing; returns the error."""
    version = case.version
    with pytest.raises(error) as caught:
        run(case, command, actor, later(case) if at is None else at)
    assert not case.pending_events, "a refused command recorded an event"
    assert case.version == version, "a refused command moved the case's version"
    return caught.value


def mediate(case: Case, actor: Actor = MEDIATOR) -> list[Any]:
    """A mediation session held and recorded a minute after the case's last change."""
    at = later(case)
    return run(case, RecordMediationSession(at, "双方到场，再次调解", ["张三", "李四"]), actor, at)
