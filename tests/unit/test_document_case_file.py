"""A case file read from a case's events, with no store: sessions and follow-up visits in the
order they were recorded, the agreement in force (none after a reopening), the 司法确认
request — and which documents the case has, or why not."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest

from api.documents.case_file import CaseFile, read_case_file
from api.documents.context import Generation, available, document_context
from api.documents.disclosure import Disclosure
from api.documents.kinds import (
    FOLLOW_UP_RECORD,
    JUDICIAL_CONFIRMATION,
    MEDIATION_AGREEMENT,
    MEDIATION_RECORD,
    REGISTRATION,
    DocumentKind,
    NoSuchDocumentError,
    NotAvailableError,
)
from domain.case import Case
from domain.case.commands import (
    CaseCommand,
    RecordFollowUp,
    RecordJudicialConfirmation,
    RecordMediationSession,
    ReopenCase,
    RequestJudicialConfirmation,
    ResolveCase,
    SignCase,
)
from domain.dispute import Dispute
from domain.incident import Incident
from domain.status import AgreementForm
from tests.support.builders import registration
from tests.support.decider import UNITS, clocks, later, run
from tests.support.world import MEDIATOR, REPORTER, SUPERVISOR, T0, VILLAGE

NUMBER = "（2026）犍调字第0007号"


class Story:
    """A case and every event it recorded, from registration on."""

    def __init__(self, kind: type[Case] = Dispute) -> None:
        self.case = kind.register(uuid4(), REPORTER, T0, UNITS, clocks(), registration(), NUMBER)
        self.events: list[Any] = list(self.case.collect_events())

    def then(self, command: CaseCommand, actor: Any = MEDIATOR) -> Story:
        at = later(self.case)
        self.events += run(self.case, command, actor, at)
        return self

    def session(self, notes: str) -> Story:
        return self.then(RecordMediationSession(later(self.case), notes, ["张三", "李四"]))

    def file(self) -> CaseFile:
        return read_case_file(self.case, self.events)


def resolved(form: AgreementForm = AgreementForm.WRITTEN) -> Story:
    story = Story().then(SignCase()).session("第一次").session("第二次")
    return story.then(ResolveCase("李四赔偿张三500元", form))


def kinds(file: CaseFile) -> list[tuple[str, int | None]]:
    return [(kind.slug, n) for kind, n in available(file)]


def context(file: CaseFile, kind: DocumentKind, n: int | None = None) -> dict[str, Any]:
    generation = Generation("mediator-1", T0 + timedelta(days=1))
    disclosure = Disclosure(False, file.case.parties)
    return document_context(kind, file, n, UNITS, disclosure, generation)


def test_a_registered_case_has_its_registration_form_only() -> None:
    file = Story().file()
    assert kinds(file) == [("registration", None)]
    form = context(file, REGISTRATION)
    assert form["number"] == NUMBER
    assert form["committee"] == "石溪村（示例）人民调解委员会"
    assert form["case"]["location"] == "乐山市犍为县罗城镇（示例）石溪村（示例）"
    assert [p["name"] for p in form["parties"]] == ["张*", "李*"]


def test_sessions_and_the_agreement_are_read_in_order() -> None:
    story = resolved()
    file = story.file()
    assert [s.notes for s in file.sessions] == ["第一次", "第二次"]
    assert all(s.owner == VILLAGE and s.recorded_by == MEDIATOR.user for s in file.sessions)
    assert file.agreement is not None
    assert file.agreement.text == "李四赔偿张三500元"
    assert kinds(file) == [
        ("registration", None),
        ("mediation-record", 1),
        ("mediation-record", 2),
        ("mediation-agreement", None),
        ("judicial-confirmation-application", None),
    ]
    second = context(file, MEDIATION_RECORD, 2)
    assert second["n"] == 2
    assert second["session"]["notes"] == "第二次"
    agreement = context(file, MEDIATION_AGREEMENT)
    assert agreement["agreement"]["text"] == "李*赔偿张*500元"
    assert agreement["copies"] == 3


def test_a_follow_up_knows_the_outcome_it_followed() -> None:
    story = resolved().then(RecordFollowUp(satisfied=False, agreement_honoured=False, note="未付"))
    visit = context(story.file(), FOLLOW_UP_RECORD, 1)["follow_up"]
    assert visit["outcome"] == "已化解"
    assert (visit["satisfied"], visit["agreement_honoured"], visit["note"]) == ("否", "否", "未付")


def test_a_reopening_voids_the_agreement_and_its_request_to_a_court() -> None:
    story = resolved().then(RequestJudicialConfirmation("犍为县人民法院"))
    file = story.file()
    assert file.judicial is not None
    assert file.judicial.court == "犍为县人民法院"
    assert context(file, JUDICIAL_CONFIRMATION)["court"] == "犍为县人民法院"
    story.then(RecordJudicialConfirmation(True, "裁定有效"))
    assert story.file().judicial is not None
    assert story.file().judicial.confirmed is True  # type: ignore[union-attr]
    story.then(ReopenCase("协议履行出现反复"), SUPERVISOR)
    file = story.file()
    assert file.agreement is None
    assert file.judicial is None
    assert len(file.sessions) == 2, "the sessions were held all the same"
    with pytest.raises(NotAvailableError) as refused:
        context(file, MEDIATION_AGREEMENT)
    assert refused.value.case_status == "reopened"


def test_documents_a_case_does_not_have_are_refused() -> None:
    story = Story().then(SignCase())
    with pytest.raises(NotAvailableError) as unresolved:
        context(story.file(), MEDIATION_AGREEMENT)
    assert unresolved.value.status == 409
    assert unresolved.value.case_status == "signed"
    with pytest.raises(NoSuchDocumentError) as missing:
        context(story.file(), MEDIATION_RECORD, 1)
    assert missing.value.status == 404
    assert "第 1 次" in missing.value.said[0]
    oral = resolved(AgreementForm.ORAL).file()
    assert ("judicial-confirmation-application", None) not in kinds(oral)
    with pytest.raises(NotAvailableError, match="oral"):
        context(oral, JUDICIAL_CONFIRMATION)
    incident = (
        Story(Incident)
        .then(SignCase())
        .session("整改")
        .then(ResolveCase("隐患已排除", AgreementForm.WRITTEN))
    )
    assert kinds(incident.file()) == [("registration", None), ("mediation-record", 1)]
    with pytest.raises(NoSuchDocumentError, match="incident"):
        context(incident.file(), MEDIATION_AGREEMENT)
