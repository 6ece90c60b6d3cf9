"""The staff the tests act as: every token a test mints must name an active member of the
directory (``api.http.auth``), and every case is assigned to an active mediator of its owner.

The test directory holds the sample staff (``domain.samples.sample_staff``), every staff role at
every sample unit as ``f"{role}-{unit}"`` (the user ``tests.support.api.token`` names by
default), and the few named people the suites speak of. It is enrolled in one event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache

from api.wiring.bootstrap import OPERATOR, build_application
from api.wiring.settings import Settings
from api.wiring.staff import enrol_missing
from domain.actors import Role
from domain.application import FengqiaoApplication
from domain.directory import STAFF_ROLES, StaffMember
from domain.samples import sample_staff, sample_units

VILLAGE = "511123001001"
TOWNSHIP = "511123001"
COUNTY = "511123"

ROLE_WORDS = {
    Role.REPORTER: "网格员",
    Role.MEDIATOR: "调解员",
    Role.SUPERVISOR: "主管",
    Role.AUDITOR: "纪检监察员",
    Role.ADMIN: "管理员",
    Role.INSPECTOR: "督查员",
}
# People the suites name, beyond ROLE-UNIT: (user, unit, roles).
NAMED: tuple[tuple[str, str, tuple[Role, ...]], ...] = (
    ("mediator-3", VILLAGE, (Role.MEDIATOR,)),
    ("mediator-7", VILLAGE, (Role.MEDIATOR,)),
    ("mediator-9", VILLAGE, (Role.MEDIATOR,)),
    ("mediator-wang", VILLAGE, (Role.MEDIATOR,)),
    ("mediator-zhou", VILLAGE, (Role.MEDIATOR,)),
    ("mediator-7", VILLAGE, (Role.MEDIATOR,)),
    ("mediator-a", VILLAGE, (Role.MEDIATOR,)),  # two mediators writing at once
    ("mediator-b", VILLAGE, (Role.MEDIATOR,)),
    ("grid-worker-1", VILLAGE, (Role.REPORTER,)),
    ("grid-worker-2", VILLAGE, (Role.REPORTER,)),
    # one person, two roles: the same user acting in another role is another caller
    ("u-1", VILLAGE, (Role.REPORTER, Role.MEDIATOR)),
)


def member(user: str, unit: str, *roles: Role) -> StaffMember:
    """A test member of staff, named by their first role and unit."""
    return StaffMember(user, f"{ROLE_WORDS[roles[0]]}{user[-12:]}", unit, tuple(roles))


@cache
def _test_staff() -> tuple[StaffMember, ...]:
    units = sample_units()
    people = {person.user: person for person in sample_staff(units)}
    for unit in units:
        for role in sorted(STAFF_ROLES):
            user = f"{role.value}-{unit.code}"
            people.setdefault(user, member(user, unit.code, role))
    for user, unit_code, roles in NAMED:
        people.setdefault(user, member(user, unit_code, *roles))
    return tuple(people.values())


def staff_for_tests(*extra: StaffMember) -> list[StaffMember]:
    """The test directory, and ``extra`` people a suite adds."""
    return [*_test_staff(), *extra]


def enrol_test_staff(app: FengqiaoApplication, *extra: StaffMember) -> int:
    """Enrols the test directory (those not enrolled yet) in one event."""
    return enrol_missing(app, OPERATOR, staff_for_tests(*extra), app.clock())


def enrol(app: FengqiaoApplication, people: Iterable[StaffMember]) -> int:
    """Enrols these people alone (those not enrolled yet)."""
    return enrol_missing(app, OPERATOR, list(people), app.clock())


def enrol_in_store(environ: Mapping[str, str], *extra: StaffMember) -> None:
    """Enrols the test directory in the store a ``fengqiao`` process is given (``environ``:
    its FENGQIAO_ settings), before it serves."""
    app = build_application(Settings.from_env(environ))
    try:
        enrol_test_staff(app, *extra)
    finally:
        app.close()
