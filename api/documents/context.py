"""What each document's template is given: plain strings and lists of them, already worded
(``api.documents.wording``) and masked or not (``api.documents.disclosure``), so that a
county's template needs no logic beyond a loop and an ``if``.

Every document gets the same common fields (``common``); each kind adds its own. A kind the
case cannot have is refused here, before anything is rendered or recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from api.documents import wording as w
from api.documents.case_file import CaseFile
from api.documents.disclosure import MASKED_NOTICE, Disclosure
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
from domain.jurisdiction import Jurisdiction

Context = dict[str, Any]
UNNUMBERED = "（未编号）"  # a case registered before numbering, until ``serve`` numbers it


@dataclass(frozen=True)
class Generation:
    """Who asks for a document and when: printed at its foot."""

    by: str
    at: datetime


def number_of(file: CaseFile) -> str:
    return file.case.number or UNNUMBERED


def committee(units: Jurisdiction, code: str) -> str:
    """The 人民调解委员会 of a unit, by the unit's name (石溪村人民调解委员会)."""
    name = units.get(code).name if code in units else code
    return f"{name}人民调解委员会"


def place(units: Jurisdiction, code: str) -> str:
    """A unit by its full name, from the city down (乐山市犍为县罗城镇石溪村)."""
    if code not in units:
        return code
    return "".join(unit.name for unit in reversed(units.lineage(code)))


def common(
    kind: DocumentKind,
    file: CaseFile,
    units: Jurisdiction,
    disclosure: Disclosure,
    generation: Generation,
    owner: str,
) -> Context:
    case = file.case
    return {
        "title": kind.title,
        "number": number_of(file),
        "kind": w.label(w.KINDS, case.kind),
        "is_dispute": file.is_dispute,
        "committee": committee(units, owner),
        "masked": disclosure.masked,
        "masked_notice": MASKED_NOTICE if disclosure.masked else "",
        "generated_at": w.minute(generation.at),
        "generated_by": generation.by,
        "case": {
            "category": w.clean(case.category),
            "summary": w.clean(disclosure.text(case.summary)),
            "location": place(units, case.unit),
            "channel": w.label(w.CHANNELS, case.channel),
            "level": w.label(w.LEVELS, case.level.value),
            "registered_at": w.minute(case.registered_at),
            "registered_on": w.day(case.registered_at),
            "occurred_at": w.minute(case.occurred_at),
            "people_involved": str(case.people_involved),
            "amount_involved": w.amount(case.amount_involved),
            "reporter": case.reporter,
            "recorded_by": file.registered_by,
            "assignee": case.assignee or w.BLANK,
        },
        "parties": [
            {
                "role": w.label(w.ROLES, party.role.value),
                "name": w.clean(party.name),
                "id_number": party.id_number or w.BLANK,
                "phone": party.phone or w.BLANK,
                "address": w.clean(party.address) or w.BLANK,
            }
            for party in disclosure.shown()
        ],
    }


def _registration(file: CaseFile, n: int | None, disclosure: Disclosure) -> tuple[str, Context]:
    return file.registered_owner, {}


def _mediation_record(file: CaseFile, n: int | None, disclosure: Disclosure) -> tuple[str, Context]:
    session = _nth(file.sessions, n, ("调解", "mediation session"))
    return session.owner, {
        "n": n,
        "session": {
            "held_at": w.minute(session.held_at),
            "held_on": w.day(session.held_at),
            "attendees": [w.clean(disclosure.text(a)) for a in session.attendees],
            "notes": w.clean(disclosure.text(session.notes)),
            "mediator": session.recorded_by,
            "recorded_at": w.minute(session.recorded_at),
        },
    }


def _agreement(file: CaseFile, n: int | None, disclosure: Disclosure) -> tuple[str, Context]:
    agreement = _agreement_in_force(file, "mediation agreement", "调解协议书")
    return agreement.owner, {
        "agreement": {
            "text": w.clean(disclosure.text(agreement.text)),
            "form": w.label(w.FORMS, agreement.form),
            "written": agreement.form == "written",
            "amount": w.amount(agreement.amount),
            "performance_due": w.clean(agreement.performance_due) or w.BLANK,
            "resolved_at": w.minute(agreement.resolved_at),
            "resolved_on": w.day(agreement.resolved_at),
            "mediator": agreement.mediator,
        },
        "copies": len(disclosure.parties) + 1,  # one for each party, one for the committee
    }


def _follow_up(file: CaseFile, n: int | None, disclosure: Disclosure) -> tuple[str, Context]:
    visit = _nth(file.follow_ups, n, ("回访", "follow-up visit"))
    return visit.owner, {
        "n": n,
        "follow_up": {
            "at": w.minute(visit.at),
            "on": w.day(visit.at),
            "by": visit.by,
            "outcome": w.label(w.OUTCOMES, visit.outcome),
            "satisfied": w.yes_no(visit.satisfied),
            "agreement_honoured": w.yes_no(visit.agreement_honoured),
            "note": w.clean(disclosure.text(visit.note)) or w.BLANK,
        },
    }


def _judicial(file: CaseFile, n: int | None, disclosure: Disclosure) -> tuple[str, Context]:
    agreement = _agreement_in_force(file, "judicial confirmation application", "司法确认申请书")
    if agreement.form != "written":
        raise NotAvailableError(
            ("口头协议不能申请司法确认：须为书面调解协议。", "only a written agreement can be "
             "confirmed by a court; this one is oral"),
            file.case.status.value,
        )  # fmt: skip
    request = file.judicial
    return agreement.owner, {
        "agreement": {
            "text": w.clean(disclosure.text(agreement.text)),
            "amount": w.amount(agreement.amount),
            "performance_due": w.clean(agreement.performance_due) or w.BLANK,
            "resolved_on": w.day(agreement.resolved_at),
        },
        "court": w.clean(request.court) if request else "",
        "requested_on": w.day(request.requested_at) if request else "",
    }


def _nth(records: tuple[Any, ...], n: int | None, what: tuple[str, str]) -> Any:
    if n is None or not 1 <= n <= len(records):
        held = len(records)
        raise NoSuchDocumentError(
            (f"本案没有第 {n} 次{what[0]}的记录（共 {held} 次）。",
             f"the case has no {what[1]} number {n} ({held} recorded)"),
        )  # fmt: skip
    return records[n - 1]


def _agreement_in_force(file: CaseFile, english: str, chinese: str) -> Any:
    if file.agreement is None:
        raise NotAvailableError(
            (f"本案当前没有生效的调解协议（尚未化解，或化解后已重新办理），不能生成{chinese}。",
             f"no {english}: the case has no agreement in force (not resolved yet, or "
             "reopened since)"),
            file.case.status.value,
        )  # fmt: skip
    return file.agreement


Filler = Callable[[CaseFile, int | None, Disclosure], tuple[str, Context]]
FILLERS: dict[str, Filler] = {
    REGISTRATION.slug: _registration,
    MEDIATION_RECORD.slug: _mediation_record,
    MEDIATION_AGREEMENT.slug: _agreement,
    FOLLOW_UP_RECORD.slug: _follow_up,
    JUDICIAL_CONFIRMATION.slug: _judicial,
}


def document_context(
    kind: DocumentKind,
    file: CaseFile,
    n: int | None,
    units: Jurisdiction,
    disclosure: Disclosure,
    generation: Generation,
) -> Context:
    """Everything ``kind``'s template is given for this case (and session or visit ``n``);
    refused when the case has no such document."""
    if kind.disputes_only and not file.is_dispute:
        raise NoSuchDocumentError(
            (f"事件、隐患类案件没有{kind.title}：只有矛盾纠纷才有调解协议。",
             f"an incident has no {kind.slug.replace('-', ' ')}: only disputes have agreements"),
        )  # fmt: skip
    owner, own = FILLERS[kind.slug](file, n, disclosure)
    return {**common(kind, file, units, disclosure, generation, owner), "n": None, **own}


def available(file: CaseFile) -> list[tuple[DocumentKind, int | None]]:
    """The documents this case has now, in the order of its file."""
    found: list[tuple[DocumentKind, int | None]] = [(REGISTRATION, None)]
    found += [(MEDIATION_RECORD, i) for i in range(1, len(file.sessions) + 1)]
    if file.is_dispute and file.agreement is not None:
        found.append((MEDIATION_AGREEMENT, None))
        if file.agreement.form == "written":
            found.append((JUDICIAL_CONFIRMATION, None))
    found += [(FOLLOW_UP_RECORD, i) for i in range(1, len(file.follow_ups) + 1)]
    return found
