"""重点人员: the key-person list of a unit's subtree, one person, and what supervisors do about
them: flag (from a case's party or typed in), assign a 包案 leader, record a visit, review the
flag, take the person off the list (``/key-persons``).

Supervisors keep the list; auditors read it; a leader records their own visits. Every answer
shows the person's name masked and no ID number or phone (the list holds none). A write
answers once the key-persons view has applied it, so the list read next shows it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import anyio.to_thread
from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import Parameter

from api.http.errors import ForbiddenError
from api.http.key_person_schemas import (
    AssignLeader,
    FlagKeyPerson,
    KeyPersonListOut,
    KeyPersonOut,
    KeyPersonState,
    RecordVisit,
    ReviewKeyPerson,
    UnflagKeyPerson,
)
from api.http.openapi import COMMAND_ERRORS, READ_ERRORS, REGISTER_ERRORS, answers, contract
from api.http.permissions import require_read
from api.http.routes.reads import require_known
from api.http.runtime import READ_YOUR_WRITES_TIMEOUT, Runtime
from api.http.schemas import MAX_OFFSET
from domain.actors import Actor, Role
from domain.errors import InvalidInputError, KeyPersonNotFoundError
from domain.jurisdiction import Jurisdiction
from domain.key_person import Identity, KeyPerson
from domain.parties import mask_name
from projections.key_persons import KeyPersonItem

Req = Request[Any, Any, Any]
FLAG_ERRORS = (*REGISTER_ERRORS, 404)  # flagged from a case's party: a case not found
KEEPERS = frozenset({Role.SUPERVISOR})
READERS = frozenset({Role.SUPERVISOR, Role.AUDITOR})
VIEWS = ("key_persons",)


# --- who may --------------------------------------------------------------------------------


def _require_within(actor: Actor, units: Jurisdiction, code: str) -> None:
    if actor.unit not in units or code not in units or not units.is_within(code, actor.unit):
        raise ForbiddenError(
            f"unit {code} is outside {actor.unit}'s jurisdiction",
            f"{code} 不在 {actor.unit} 的管辖范围内。",
        )


def require_keeper(actor: Actor) -> None:
    if actor.role not in KEEPERS:
        raise ForbiddenError(
            f"a {actor.role} may not keep the key-person list",
            "只有主管可以管理重点人员名单。",
        )


def require_reader(actor: Actor, units: Jurisdiction, code: str) -> None:
    if actor.role not in READERS:
        raise ForbiddenError(
            f"a {actor.role} may not read the key-person list",
            "只有主管或纪检监察人员可以查看重点人员名单。",
        )
    _require_within(actor, units, code)


def require_over(actor: Actor, units: Jurisdiction, person: KeyPerson) -> None:
    """A supervisor of the owning unit or a unit above it."""
    require_keeper(actor)
    _require_within(actor, units, person.unit)


def require_visitor(actor: Actor, units: Jurisdiction, person: KeyPerson) -> None:
    """The 包案 leader, or a supervisor of the owning unit or above."""
    if person.leader is not None and actor.user == person.leader:
        return
    require_over(actor, units, person)


# --- answers --------------------------------------------------------------------------------


def person_out(person: KeyPerson, now: datetime, new: bool = False) -> KeyPersonOut:
    return KeyPersonOut(
        id=str(person.id),
        name=mask_name(person.name) or "*",
        reason=person.reason,
        unit=person.unit,
        active=person.active,
        flagged_at=person.flagged_at,
        review_at=person.review_at,
        review_due=person.active and person.review_at <= now,
        leader=person.leader,
        visit_due_at=person.visit_due_at,
        visit_overdue=person.visit_overdue(now),
        last_visit_at=person.last_visit_at,
        visits=person.visits,
        source_case=person.case_id,
        new=new,
    )


def item_out(item: KeyPersonItem) -> KeyPersonOut:
    return KeyPersonOut(
        id=str(item.id),
        name=item.name,
        reason=item.reason,
        unit=item.unit,
        active=item.active,
        flagged_at=item.flagged_at,
        review_at=item.review_at,
        review_due=item.review_due,
        leader=item.leader,
        visit_due_at=item.visit_due_at,
        visit_overdue=item.visit_overdue,
        last_visit_at=item.last_visit_at,
        visits=item.visits,
        source_case=item.source_case,
    )


def _person_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise NotFoundException(f"key person {text} not found") from None


def _loaded(runtime: Runtime, text: str) -> KeyPerson:
    try:
        return runtime.app.key_person(_person_id(text))
    except KeyPersonNotFoundError:
        raise NotFoundException(f"key person {text} not found") from None


def _saw(runtime: Runtime, position: int | None) -> None:
    runtime.views.poke()
    runtime.views.wait(position, READ_YOUR_WRITES_TIMEOUT, VIEWS)


# --- handlers -------------------------------------------------------------------------------


def _identity(runtime: Runtime, actor: Actor, data: FlagKeyPerson) -> Identity:
    """Who is flagged: a case's party (which the caller must be able to read), or typed in."""
    if data.case_id is not None or data.party is not None:
        if data.case_id is None or data.party is None:
            field = "case_id" if data.case_id is None else "party"
            raise InvalidInputError(
                field, "a case's party is named by case_id and party together", "required"
            )
        try:
            case_id = UUID(data.case_id)
        except ValueError:
            raise InvalidInputError("case_id", "must be a case id (UUID)", "case_id") from None
        require_read(actor, runtime.app.units(), runtime.app.get_case(case_id))
        return runtime.app.key_person_of_party(case_id, data.party)
    return runtime.app.key_person_typed(data.name or "", data.id_number, data.phone)


@post(
    "/key-persons",
    status_code=201,
    responses=answers(201, KeyPersonOut, "The person, put on the list now.", FLAG_ERRORS),
    operation_class=contract(),
)
async def flag_key_person(
    data: FlagKeyPerson, request: Req, runtime: Runtime
) -> Response[KeyPersonOut]:
    """标记重点人员: a supervisor puts a case's party or a person typed in on the list of their
    unit. A person on it already is answered as they are (200); one taken off it is put back."""
    actor: Actor = request.user
    require_keeper(actor)

    def work() -> Response[KeyPersonOut]:
        identity = _identity(runtime, actor, data)
        source = None
        if data.case_id is not None and data.party is not None:
            source = (UUID(data.case_id), data.party)
        answer = runtime.app.flag_key_person(
            actor, identity, data.reason, data.review_on, source, runtime.clock()
        )
        _saw(runtime, answer.position)
        body = person_out(answer.person, runtime.clock(), answer.new)
        return Response(body, status_code=201 if answer.new else 200)

    return await anyio.to_thread.run_sync(work)


@get(
    "/key-persons",
    responses=answers(200, KeyPersonListOut, "The key persons of the unit's subtree.", READ_ERRORS),
    operation_class=contract(),
)
async def list_key_persons(
    request: Req,
    runtime: Runtime,
    unit: Annotated[str | None, Parameter(max_length=200)] = None,
    which: Annotated[KeyPersonState, Parameter(query="state")] = "active",
    limit: Annotated[int, Parameter(ge=1, le=1000)] = 200,
    offset: Annotated[int, Parameter(ge=0, le=MAX_OFFSET)] = 0,
) -> KeyPersonListOut:
    """重点人员名单 of ``unit``'s subtree (the caller's unit by default): the next visit due
    first; ``state`` picks those on the list (default), with a visit overdue, with the review
    due, taken off it, or all."""
    actor: Actor = request.user
    code = unit or actor.unit
    require_known(runtime, code)
    require_reader(actor, runtime.app.units(), code)

    def work() -> KeyPersonListOut:
        now = runtime.clock()
        items = runtime.views.key_persons.people(code, now, which, limit, offset)
        return KeyPersonListOut(unit=code, state=which, now=now, items=[item_out(i) for i in items])

    return await anyio.to_thread.run_sync(work)


@get(
    "/key-persons/{person_id:str}",
    responses=answers(200, KeyPersonOut, "The key person.", READ_ERRORS),
    operation_class=contract(),
)
async def get_key_person(person_id: str, request: Req, runtime: Runtime) -> KeyPersonOut:
    actor: Actor = request.user

    def work() -> KeyPersonOut:
        person = _loaded(runtime, person_id)
        require_reader(actor, runtime.app.units(), person.unit)
        return person_out(person, runtime.clock())

    return await anyio.to_thread.run_sync(work)


def _command(
    runtime: Runtime,
    actor: Actor,
    person_id: str,
    allowed: Any,
    act: Any,
) -> KeyPersonOut:
    """Loads the person, checks the caller (``allowed``), lets ``act`` decide and save."""
    person = _loaded(runtime, person_id)
    allowed(actor, runtime.app.units(), person)
    changed, position = act(person.id, runtime.clock())
    _saw(runtime, position)
    return person_out(changed, runtime.clock())


@post(
    "/key-persons/{person_id:str}/leader",
    status_code=200,
    responses=answers(200, KeyPersonOut, "The leader assigned.", COMMAND_ERRORS),
    operation_class=contract(),
)
async def assign_leader(
    person_id: str, data: AssignLeader, request: Req, runtime: Runtime
) -> KeyPersonOut:
    """包案: a supervisor of the owning unit or above assigns the leader (an active supervisor
    of the owning unit or above), whose first visit falls due a visit interval from now."""
    actor: Actor = request.user
    app = runtime.app
    return await anyio.to_thread.run_sync(
        lambda: _command(
            runtime,
            actor,
            person_id,
            require_over,
            lambda pid, at: app.assign_key_person_leader(actor, pid, data.leader, at),
        )
    )


@post(
    "/key-persons/{person_id:str}/visits",
    status_code=200,
    responses=answers(200, KeyPersonOut, "The visit recorded.", COMMAND_ERRORS),
    operation_class=contract(),
)
async def record_visit(
    person_id: str, data: RecordVisit, request: Req, runtime: Runtime
) -> KeyPersonOut:
    """走访: by the leader or a supervisor of the owning unit or above; the next visit falls
    due a visit interval from now."""
    actor: Actor = request.user
    app = runtime.app
    return await anyio.to_thread.run_sync(
        lambda: _command(
            runtime,
            actor,
            person_id,
            require_visitor,
            lambda pid, at: app.record_key_person_visit(actor, pid, data.note, at),
        )
    )


@post(
    "/key-persons/{person_id:str}/reviews",
    status_code=200,
    responses=answers(200, KeyPersonOut, "Kept on the list until the new date.", COMMAND_ERRORS),
    operation_class=contract(),
)
async def review_key_person(
    person_id: str, data: ReviewKeyPerson, request: Req, runtime: Runtime
) -> KeyPersonOut:
    """复查: kept on the list until a new review date."""
    actor: Actor = request.user
    app = runtime.app
    return await anyio.to_thread.run_sync(
        lambda: _command(
            runtime,
            actor,
            person_id,
            require_over,
            lambda pid, at: app.review_key_person(actor, pid, data.note, data.review_on, at),
        )
    )


@post(
    "/key-persons/{person_id:str}/removal",
    status_code=200,
    responses=answers(200, KeyPersonOut, "Taken off the list.", COMMAND_ERRORS),
    operation_class=contract(),
)
async def unflag_key_person(
    person_id: str, data: UnflagKeyPerson, request: Req, runtime: Runtime
) -> KeyPersonOut:
    """移出名单: new cases no longer match the person."""
    actor: Actor = request.user
    app = runtime.app
    return await anyio.to_thread.run_sync(
        lambda: _command(
            runtime,
            actor,
            person_id,
            require_over,
            lambda pid, at: app.unflag_key_person(actor, pid, data.reason, at),
        )
    )


HANDLERS = [
    flag_key_person,
    list_key_persons,
    get_key_person,
    assign_leader,
    record_visit,
    review_key_person,
    unflag_key_person,
]
