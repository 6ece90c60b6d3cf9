"""``POST /api/v1/cases/{id}/<command>``: one handler per command, each a few lines."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from litestar import Request, Response, post

from api.commands import Decide, case_command, run
from api.runtime import Runtime
from api.schemas import (
    AddNote,
    AnswerReferral,
    AssessCase,
    AssignCase,
    EscalateCase,
    ExtendDeadline,
    JudicialConfirmation,
    LowerLevel,
    RateCase,
    ReasonOnly,
    RecordFollowUp,
    RecordMediationSession,
    ReferCase,
    ResolveCase,
)
from domain.actors import Actor
from domain.application import Recorded
from domain.errors import InvalidInputError
from domain.levels import Level
from domain.status import Agency, AgreementForm, Grade

Req = Request[Any, Any, Any]


async def _send(
    runtime: Runtime, request: Req, case_id: UUID, command: str, decide: Decide
) -> Response[bytes]:
    return await run(runtime, request, case_command(runtime, case_id, command, decide))


@post("/cases/{case_id:uuid}/assess", status_code=200)
async def assess(
    case_id: UUID, data: AssessCase, request: Req, runtime: Runtime
) -> Response[bytes]:
    return await _send(
        runtime,
        request,
        case_id,
        "assess",
        lambda a, v: runtime.app.assess(
            case_id, a, Level(data.level), data.triggers, data.reason, expected_version=v
        ),
    )


@post("/cases/{case_id:uuid}/sign", status_code=200)
async def sign(case_id: UUID, request: Req, runtime: Runtime) -> Response[bytes]:
    return await _send(
        runtime,
        request,
        case_id,
        "sign",
        lambda a, v: runtime.app.sign(case_id, a, expected_version=v),
    )


@post("/cases/{case_id:uuid}/assign", status_code=200)
async def assign(
    case_id: UUID, data: AssignCase, request: Req, runtime: Runtime
) -> Response[bytes]:
    return await _send(
        runtime,
        request,
        case_id,
        "assign",
        lambda a, v: runtime.app.assign(case_id, a, data.assignee, expected_version=v),
    )


@post("/cases/{case_id:uuid}/mediation-sessions", status_code=200)
async def mediation_session(
    case_id: UUID, data: RecordMediationSession, request: Req, runtime: Runtime
) -> Response[bytes]:
    return await _send(
        runtime,
        request,
        case_id,
        "mediation-sessions",
        lambda a, v: runtime.app.record_mediation(
            case_id, a, data.held_at, data.notes, data.attendees, expected_version=v
        ),
    )


@post("/cases/{case_id:uuid}/resolve", status_code=200)
async def resolve(
    case_id: UUID, data: ResolveCase, request: Req, runtime: Runtime
) -> Response[bytes]:
    amount = Decimal(data.amount) if data.amount is not None else None
    return await _send(
        runtime,
        request,
        case_id,
        "resolve",
        lambda a, v: runtime.app.resolve(
            case_id,
            a,
            data.agreement,
            AgreementForm(data.form),
            amount,
            data.performance_due,
            expected_version=v,
        ),
    )


@post("/cases/{case_id:uuid}/terminate", status_code=200)
async def terminate(
    case_id: UUID, data: ReasonOnly, request: Req, runtime: Runtime
) -> Response[bytes]:
    return await _send(
        runtime,
        request,
        case_id,
        "terminate",
        lambda a, v: runtime.app.terminate(case_id, a, data.reason, expected_version=v),
    )


@post("/cases/{case_id:uuid}/referrals", status_code=200)
async def refer(case_id: UUID, data: ReferCase, request: Req, runtime: Runtime) -> Response[bytes]:
    return await _send(
        runtime,
        request,
        case_id,
        "referrals",
        lambda a, v: runtime.app.refer(
            case_id, a, Agency(data.agency), data.reason, expected_version=v
        ),
    )


@post("/cases/{case_id:uuid}/referral-answers", status_code=200)
async def answer_referral(
    case_id: UUID, data: AnswerReferral, request: Req, runtime: Runtime
) -> Response[bytes]:
    return await _send(
        runtime,
        request,
        case_id,
        "referral-answers",
        lambda a, v: runtime.app.answer_referral(case_id, a, data.answer, expected_version=v),
    )


@post("/cases/{case_id:uuid}/judicial-confirmation", status_code=200)
async def judicial_confirmation(
    case_id: UUID, data: JudicialConfirmation, request: Req, runtime: Runtime
) -> Response[bytes]:
    """With ``confirmed`` the court's ruling is recorded; otherwise confirmation is requested."""
    if data.confirmed is not None:
        confirmed = data.confirmed
        return await _send(
            runtime,
            request,
            case_id,
            "judicial-confirmation",
            lambda a, v: runtime.app.record_judicial_confirmation(
                case_id, a, confirmed, data.note, expected_version=v
            ),
        )
    court = data.court or "人民法院"
    return await _send(
        runtime,
        request,
        case_id,
        "judicial-confirmation",
        lambda a, v: runtime.app.request_judicial_confirmation(
            case_id, a, court, expected_version=v
        ),
    )


@post("/cases/{case_id:uuid}/follow-ups", status_code=200)
async def follow_up(
    case_id: UUID, data: RecordFollowUp, request: Req, runtime: Runtime
) -> Response[bytes]:
    return await _send(
        runtime,
        request,
        case_id,
        "follow-ups",
        lambda a, v: runtime.app.record_follow_up(
            case_id, a, data.satisfied, data.agreement_honoured, data.note, expected_version=v
        ),
    )


@post("/cases/{case_id:uuid}/ratings", status_code=200)
async def rate(case_id: UUID, data: RateCase, request: Req, runtime: Runtime) -> Response[bytes]:
    return await _send(
        runtime,
        request,
        case_id,
        "ratings",
        lambda a, v: runtime.app.rate(case_id, a, Grade(data.grade), expected_version=v),
    )


@post("/cases/{case_id:uuid}/pause", status_code=200)
async def pause(case_id: UUID, data: ReasonOnly, request: Req, runtime: Runtime) -> Response[bytes]:
    return await _send(
        runtime,
        request,
        case_id,
        "pause",
        lambda a, v: runtime.app.pause(case_id, a, data.reason, expected_version=v),
    )


@post("/cases/{case_id:uuid}/resume", status_code=200)
async def resume(case_id: UUID, request: Req, runtime: Runtime) -> Response[bytes]:
    return await _send(
        runtime,
        request,
        case_id,
        "resume",
        lambda a, v: runtime.app.resume(case_id, a, expected_version=v),
    )


@post("/cases/{case_id:uuid}/extend", status_code=200)
async def extend(
    case_id: UUID, data: ExtendDeadline, request: Req, runtime: Runtime
) -> Response[bytes]:
    return await _send(
        runtime,
        request,
        case_id,
        "extend",
        lambda a, v: runtime.app.extend_deadline(
            case_id, a, data.until, data.reason, data.kind, expected_version=v
        ),
    )


@post("/cases/{case_id:uuid}/escalate", status_code=200)
async def escalate(
    case_id: UUID, data: EscalateCase, request: Req, runtime: Runtime
) -> Response[bytes]:
    def decide(actor: Actor, version: int | None) -> Recorded:
        other = data.other_unit
        units = runtime.app.units
        if other is not None and other not in units() and other not in units(refresh=True):
            raise InvalidInputError("other_unit", f"no unit has code {other!r}")
        return runtime.app.escalate(case_id, actor, data.reason, other, expected_version=version)

    return await _send(runtime, request, case_id, "escalate", decide)


@post("/cases/{case_id:uuid}/lower", status_code=200)
async def lower(case_id: UUID, data: LowerLevel, request: Req, runtime: Runtime) -> Response[bytes]:
    return await _send(
        runtime,
        request,
        case_id,
        "lower",
        lambda a, v: runtime.app.lower_level(
            case_id, a, Level(data.level), data.reason, expected_version=v
        ),
    )


@post("/cases/{case_id:uuid}/reopen", status_code=200)
async def reopen(
    case_id: UUID, data: ReasonOnly, request: Req, runtime: Runtime
) -> Response[bytes]:
    return await _send(
        runtime,
        request,
        case_id,
        "reopen",
        lambda a, v: runtime.app.reopen(case_id, a, data.reason, expected_version=v),
    )


@post("/cases/{case_id:uuid}/close", status_code=200)
async def close_case(case_id: UUID, request: Req, runtime: Runtime) -> Response[bytes]:
    return await _send(
        runtime,
        request,
        case_id,
        "close",
        lambda a, v: runtime.app.close_case(case_id, a, expected_version=v),
    )


@post("/cases/{case_id:uuid}/reject", status_code=200)
async def reject(
    case_id: UUID, data: ReasonOnly, request: Req, runtime: Runtime
) -> Response[bytes]:
    return await _send(
        runtime,
        request,
        case_id,
        "reject",
        lambda a, v: runtime.app.reject(case_id, a, data.reason, expected_version=v),
    )


@post("/cases/{case_id:uuid}/notes", status_code=200)
async def add_note(case_id: UUID, data: AddNote, request: Req, runtime: Runtime) -> Response[bytes]:
    return await _send(
        runtime,
        request,
        case_id,
        "notes",
        lambda a, v: runtime.app.add_note(case_id, a, data.text, expected_version=v),
    )


HANDLERS = [
    assess, sign, assign, mediation_session, resolve, terminate, refer, answer_referral,
    judicial_confirmation, follow_up, rate, pause, resume, extend, escalate, lower, reopen,
    close_case, reject, add_note,
]  # fmt: skip
