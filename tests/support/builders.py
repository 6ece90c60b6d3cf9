"""Helpers that register cases and drive them through the lifecycle, for the behavioural tests.

Every step acts at the application's (injected) clock unless told otherwise, by the actor a
real deployment would use: the grid worker registers, the village mediator works the case,
the supervisor approves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from domain.application import FengqiaoApplication
from domain.case import Case, Registration
from domain.case.commands import (
    AnswerReferral,
    CloseCase,
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
from domain.levels import Level
from domain.parties import Party
from domain.status import Agency, AgreementForm, Channel, PartyRole
from tests.support.world import MEDIATOR, REPORTER, SUPERVISOR, VILLAGE

SHA = "ab" * 32


def registration(**overrides: Any) -> Registration:
    """A neighbours' drainage dispute in 石溪村, yellow, two parties, filed under 其他 (a
    category of disputes and incidents alike, so that either kind registers from it)."""
    details = Registration(
        category="其他",  # in both kinds' vocabularies: ``drive(kind=Incident)`` uses it too
        summary="排水沟堵塞，两户因雨水倒灌发生争执",
        unit=VILLAGE,
        channel=Channel.GRID_PATROL,
        level=Level.YELLOW,
        parties=(
            Party("张三", PartyRole.APPLICANT, "51112319800109123X", "13800000001"),
            Party("李四", PartyRole.RESPONDENT, phone="13800000002"),
        ),
        people_involved=2,
    )
    return replace(details, **overrides)


def register(
    app: FengqiaoApplication, kind: str = "dispute", at: datetime | None = None, **overrides: Any
) -> Case:
    return app.register(REPORTER, kind, registration(**overrides), at=at).case


Step = Callable[[FengqiaoApplication, UUID], object]


def _sign(app: FengqiaoApplication, case_id: UUID) -> object:
    return app.execute(case_id, SignCase(), MEDIATOR)


def _mediate(app: FengqiaoApplication, case_id: UUID) -> object:
    return mediate(app, case_id)


def _resolve(app: FengqiaoApplication, case_id: UUID) -> object:
    return resolve(app, case_id)


def _follow_up(app: FengqiaoApplication, case_id: UUID) -> object:
    return app.execute(case_id, RecordFollowUp(satisfied=True, agreement_honoured=True), MEDIATOR)


def _refer(app: FengqiaoApplication, case_id: UUID) -> object:
    return app.execute(case_id, ReferCase(Agency.COURT, "涉及土地确权，转诉调对接"), MEDIATOR)


def _pause(app: FengqiaoApplication) -> PauseCase:
    return PauseCase("等待伤情鉴定", app.clock() + timedelta(days=10))


_RESOLVED: list[Step] = [_sign, _mediate, _resolve]

# How to reach each status; "answered" is a referred case whose referral was answered.
ROUTES: dict[str, list[Step]] = {
    "registered": [],
    "rejected": [lambda app, c: app.execute(c, RejectCase("不属于人民调解受理范围"), MEDIATOR)],
    "signed": [_sign],
    "paused": [_sign, lambda app, c: app.execute(c, _pause(app), MEDIATOR)],
    "referred": [_sign, _refer],
    "answered": [
        _sign,
        _refer,
        lambda app, c: app.execute(
            c, AnswerReferral("法院已立案", reference="（2026）川1123民诉前调12号"), MEDIATOR
        ),
    ],
    "terminated": [
        _sign,
        lambda app, c: app.execute(c, TerminateCase("一方拒绝调解，已告知诉讼途径"), MEDIATOR),
    ],
    "in_mediation": [_sign, _mediate],
    "resolved": _RESOLVED,
    "reopened": [
        *_RESOLVED,
        lambda app, c: app.execute(c, ReopenCase("协议履行出现反复"), SUPERVISOR),
    ],
    "followed_up": [*_RESOLVED, _follow_up],
    "closed": [*_RESOLVED, _follow_up, lambda app, c: app.execute(c, CloseCase(), MEDIATOR)],
}
REACHABLE = tuple(ROUTES)


def drive(app: FengqiaoApplication, status: str, kind: str = "dispute", **overrides: Any) -> Case:
    """A new case, registered and driven to ``status`` (one of ``REACHABLE``)."""
    case = register(app, kind, **overrides)
    for step in ROUTES[status]:
        step(app, case.id)
    return app.get_case(case.id)


def mediate(app: FengqiaoApplication, case_id: UUID, at: datetime | None = None) -> Case:
    when = at or app.clock()
    return app.execute(
        case_id,
        RecordMediationSession(when, "双方到场，陈述意见", ["张三", "李四"]),
        MEDIATOR,
        at=when,
    ).case


def resolve(
    app: FengqiaoApplication,
    case_id: UUID,
    form: AgreementForm = AgreementForm.WRITTEN,
    at: datetime | None = None,
) -> Case:
    return app.execute(
        case_id, ResolveCase("李四疏通排水沟并赔偿500元", form), MEDIATOR, at=at
    ).case


def event_names(app: FengqiaoApplication, case_id: UUID) -> list[str]:
    """The stored events of a case, by class name, oldest first."""
    return [type(e).__name__ for e in app.repository.event_store.get(case_id)]


def last_event(app: FengqiaoApplication, case_id: UUID) -> Any:
    return list(app.repository.event_store.get(case_id))[-1]


def refused(
    app: FengqiaoApplication,
    case_id: UUID,
    error: type[Exception],
    command: Callable[[], object],
) -> Any:
    """Runs ``command``, which must raise ``error`` and store nothing; returns the error."""
    before = app.get_case(case_id).version
    with pytest.raises(error) as caught:
        command()
    assert app.get_case(case_id).version == before, "a refused command stored an event"
    return caught.value
