"""The staff directory over HTTP: ``/api/v1/users``.

Supervisors and admins read the members of their subtree (the assignee picker asks for the
active mediators of a case's owning unit); admins enrol, update, disable and reactivate them
there; everyone reads themselves (``/users/me``) and chooses their own notice channels. A
disabled member keeps their cases: each member says how many open cases are assigned to them,
and ``/users/{id}/cases`` lists them for their supervisor to reassign.

Phones are masked like a party's except to the member themselves; emails are work addresses and
shown whole. Every change is idempotent by nature, so a resend after a lost answer changes
nothing: an enrolment sent again with its ``Idempotency-Key`` that finds the same member
enrolled answers as the first did (201), and without the key it is a conflict (409).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import anyio.to_thread
import msgspec
from litestar import Request, Response, get, post, put
from litestar.params import Parameter

from api.http.openapi import (
    BODYLESS_COMMAND_ERRORS,
    COMMAND_ERRORS,
    LOCATION,
    READ_ERRORS,
    answers,
    contract,
)
from api.http.permissions import require_staff_change, require_staff_read
from api.http.presenters import queue_item_out
from api.http.runtime import Runtime
from api.http.schemas import (
    MAX_OFFSET,
    CaseListOut,
    ChooseChannels,
    DisableUser,
    EnrolUser,
    MeOut,
    RoleName,
    UpdateUser,
    UserListOut,
    UserOut,
)
from domain.actors import Actor, Role
from domain.directory import Channel, Directory, StaffMember, checked_member
from domain.errors import UserExistsError
from domain.parties import mask_digits
from projections.queue import assigned_to, open_assigned

Req = Request[Any, Any, Any]
MAX_LIMIT = 1000
Limit = Annotated[int, Parameter(ge=1, le=MAX_LIMIT)]
Offset = Annotated[int, Parameter(ge=0, le=MAX_OFFSET)]
USER_ERRORS = (401, 403, 404, 503)


def user_out(member: StaffMember, open_cases: int, unmasked: bool = False) -> UserOut:
    return UserOut(
        user=member.user,
        name=member.name,
        unit=member.unit,
        roles=[role.value for role in member.roles],
        phone=member.phone if unmasked else mask_digits(member.phone),
        email=member.email,
        active=member.active,
        channels=None if member.channels is None else [c.value for c in member.channels],
        reachable_by=[channel.value for channel in member.reachable_by()],
        open_cases=open_cases,
    )


def _location(user: str) -> str:
    return f"/api/v1/users/{user}"


@get(
    "/users",
    responses=answers(200, UserListOut, "Members of staff in the caller's subtree.", READ_ERRORS),
    operation_class=contract(),
)
async def list_users(
    request: Req,
    runtime: Runtime,
    unit: Annotated[str | None, Parameter(max_length=64)] = None,
    within: Annotated[str | None, Parameter(max_length=64)] = None,
    role: RoleName | None = None,
    active: bool | None = None,
    limit: Limit = 200,
    offset: Offset = 0,
) -> UserListOut:
    """Members of staff, by user id: those at ``unit`` exactly (the assignee picker:
    ``?unit=<owner>&role=mediator&active=true``), or everyone at ``within`` and below (the
    caller's own unit by default); ``role`` and ``active`` filter further. Each says how many
    open cases are assigned to them: ``?active=false`` shows who left cases behind. For
    supervisors and admins, within their subtree."""
    actor: Actor = request.user

    def work() -> UserListOut:
        units = runtime.app.units()
        root = within or actor.unit
        require_staff_read(actor, units, *(code for code in (unit, root) if code is not None))
        wanted = Role(role) if role is not None else None
        members = [
            member
            for member in sorted(runtime.app.directory().members.values(), key=lambda m: m.user)
            if (member.unit == unit if unit is not None else units.is_within(member.unit, root))
            and (wanted is None or wanted in member.roles)
            and (active is None or member.active == active)
        ]
        counts = open_assigned(runtime.views.cases)
        page = members[offset : offset + limit]
        items = [user_out(member, counts.get(member.user, 0)) for member in page]
        return UserListOut(items=items, total=len(members))

    return await anyio.to_thread.run_sync(work)


@get(
    "/users/me",
    responses=answers(200, MeOut, "The caller's own record.", (401, 503)),
    operation_class=contract(),
)
async def get_me(request: Req, runtime: Runtime) -> MeOut:
    """The caller as the directory knows them (their own phone unmasked), and the role and
    unit they act in: what the dashboard shows, whoever signed the token."""
    actor: Actor = request.user

    def work() -> MeOut:
        member = runtime.app.directory().member(actor.user)
        out = user_out(member, open_assigned(runtime.views.cases).get(member.user, 0), True)
        return MeOut(**msgspec.structs.asdict(out), acting_as=actor.role.value)

    return await anyio.to_thread.run_sync(work)


def _readable(runtime: Runtime, actor: Actor, user: str) -> StaffMember:
    """A member the caller may read: themselves, or one in their subtree (supervisors and
    admins); an unknown user is 404."""
    member = runtime.app.directory().member(user)
    if member.user != actor.user:
        require_staff_read(actor, runtime.app.units(), member.unit)
    return member


@get(
    "/users/{user:str}",
    responses=answers(200, UserOut, "A member of staff.", USER_ERRORS),
    operation_class=contract(),
)
async def get_user(user: str, request: Req, runtime: Runtime) -> UserOut:
    """One member of staff: for supervisors and admins of their unit or above, and for the
    member themselves."""
    actor: Actor = request.user

    def work() -> UserOut:
        member = _readable(runtime, actor, user)
        return user_out(member, open_assigned(runtime.views.cases).get(member.user, 0))

    return await anyio.to_thread.run_sync(work)


@get(
    "/users/{user:str}/cases",
    responses=answers(200, CaseListOut, "Open cases assigned to the member.", (*USER_ERRORS, 422)),
    operation_class=contract(),
)
async def get_user_cases(
    user: str,
    request: Req,
    runtime: Runtime,
    limit: Limit = 200,
    offset: Offset = 0,
) -> CaseListOut:
    """The open cases assigned to a member, in queue order: what a disabled member left for
    their supervisor to reassign (disabling moves no case)."""
    actor: Actor = request.user

    def work() -> CaseListOut:
        member = _readable(runtime, actor, user)
        items = assigned_to(runtime.views.cases, member.user, runtime.clock(), limit, offset)
        return CaseListOut(items=[queue_item_out(i) for i in items], limit=limit, offset=offset)

    return await anyio.to_thread.run_sync(work)


def _answer(runtime: Runtime, user: str, status: int = 200) -> Response[bytes]:
    member = runtime.app.directory().member(user)
    body = user_out(member, open_assigned(runtime.views.cases).get(user, 0))
    headers = {"location": _location(user)} if status == 201 else {}
    return Response(msgspec.json.encode(body), status_code=status, headers=headers)


def _member(user: str, data: UpdateUser) -> StaffMember:
    roles = tuple(Role(role) for role in data.roles)
    return StaffMember(user, data.name, data.unit, roles, data.phone, data.email)


@post(
    "/users",
    status_code=201,
    responses=answers(201, UserOut, "The member, enrolled.", COMMAND_ERRORS),
    operation_class=contract(headers={201: {"Location": LOCATION}}),
)
async def enrol_user(data: EnrolUser, request: Req, runtime: Runtime) -> Response[bytes]:
    """Enrols one member of staff at a unit of the admin's subtree. A user id already taken is
    409, unless the same enrolment is sent again with its Idempotency-Key."""
    actor: Actor = request.user
    resent = request.headers.get("idempotency-key") is not None
    member = _member(data.user, data)

    def work() -> Response[bytes]:
        require_staff_change(actor, runtime.app.units(), member.unit)
        at = runtime.clock()
        try:
            runtime.app.change_directory(
                actor, lambda d: d.enrol(actor, [member], at), [member.unit]
            )
        except UserExistsError:
            known = runtime.app.directory().get(member.user)
            same = known is not None and known.active and _same(known, member)
            if not (resent and same):
                raise
        return _answer(runtime, member.user, 201)

    return await anyio.to_thread.run_sync(work)


def _same(known: StaffMember, asked: StaffMember) -> bool:
    """Whether an enrolment asked for is the member as enrolled (a resend of it)."""
    return known.to_dict() == checked_member(asked).to_dict()


# A change to one member: given the directory, the caller and the time, it decides.
Change = Callable[[Directory, Actor, datetime], None]


async def _change(
    runtime: Runtime,
    request: Req,
    user: str,
    change: Change,
    moved_to: str | None = None,
    by_themselves: bool = False,
) -> Response[bytes]:
    """Changes a member of an admin's subtree (and, for a move, of the unit ``moved_to``
    too); ``by_themselves``: the member may also change it. Answers the member after."""
    actor: Actor = request.user

    def work() -> Response[bytes]:
        old = runtime.app.directory().member(user)
        moved = [] if moved_to is None else [moved_to]
        if not (by_themselves and old.user == actor.user):
            require_staff_change(actor, runtime.app.units(), old.unit, *moved)
        at = runtime.clock()
        runtime.app.change_directory(actor, lambda d: change(d, actor, at), moved)
        return _answer(runtime, user)

    return await anyio.to_thread.run_sync(work)


@put(
    "/users/{user:str}",
    responses=answers(200, UserOut, "The member as updated.", COMMAND_ERRORS),
    operation_class=contract(),
)
async def update_user(
    user: str, data: UpdateUser, request: Req, runtime: Runtime
) -> Response[bytes]:
    """Replaces a member's name, unit, roles and contact details (an admin of both the old unit
    and the new one). Their tokens then work only as the member now is."""
    member = _member(user, data)

    def change(directory: Directory, actor: Actor, at: datetime) -> None:
        directory.update(actor, member, at)

    return await _change(runtime, request, user, change, moved_to=member.unit)


@post(
    "/users/{user:str}/disable",
    status_code=200,
    responses=answers(200, UserOut, "The member, disabled.", COMMAND_ERRORS),
    operation_class=contract(),
)
async def disable_user(
    user: str, data: DisableUser, request: Req, runtime: Runtime
) -> Response[bytes]:
    """Disables a member (调离、退休): their tokens stop working within a second; their cases
    stay assigned to them, listed at ``/users/{id}/cases`` for reassignment. Not oneself."""

    def change(directory: Directory, actor: Actor, at: datetime) -> None:
        directory.disable(actor, user, data.reason, at)

    return await _change(runtime, request, user, change)


@post(
    "/users/{user:str}/reactivate",
    status_code=200,
    responses=answers(200, UserOut, "The member, active again.", BODYLESS_COMMAND_ERRORS),
    operation_class=contract(),
)
async def reactivate_user(user: str, request: Req, runtime: Runtime) -> Response[bytes]:
    """Lets a disabled member in again, as they were."""

    def change(directory: Directory, actor: Actor, at: datetime) -> None:
        directory.reactivate(actor, user, at)

    return await _change(runtime, request, user, change)


@put(
    "/users/{user:str}/channels",
    responses=answers(200, UserOut, "The member with the channels chosen.", COMMAND_ERRORS),
    operation_class=contract(),
)
async def choose_channels(
    user: str, data: ChooseChannels, request: Req, runtime: Runtime
) -> Response[bytes]:
    """How notices reach a member: chosen by the member themselves or an admin of their unit;
    null goes back to every channel they have an address for."""
    chosen = None if data.channels is None else [Channel(c) for c in data.channels]

    def change(directory: Directory, actor: Actor, at: datetime) -> None:
        directory.choose_channels(actor, user, chosen, at)

    return await _change(runtime, request, user, change, by_themselves=True)


HANDLERS = [
    list_users,
    get_me,
    get_user,
    get_user_cases,
    enrol_user,
    update_user,
    disable_user,
    reactivate_user,
    choose_channels,
]
