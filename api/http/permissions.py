"""Who may do what, where: each command's roles, and the caller's jurisdiction subtree."""

from __future__ import annotations

from api.http import messages
from api.http.errors import ForbiddenError
from domain.actors import REPORTERS, Actor, Role
from domain.case import Case
from domain.case.commands import CASE_COMMANDS, CaseCommand, Scope
from domain.errors import UnknownUnitError
from domain.jurisdiction import Jurisdiction
from domain.levels import Tier

# who may register a case in their subtree
REGISTER_ROLES = REPORTERS
# who may export the audit trail of their subtree
EXPORTERS = frozenset({Role.AUDITOR, Role.SUPERVISOR, Role.ADMIN})
# a supervisor or an admin at these tiers may switch the mode of their subtree
_MODE_SWITCHING_TIERS = frozenset({Tier.CITY, Tier.COUNTY})
_MODE_SWITCHERS = frozenset({Role.SUPERVISOR, Role.ADMIN})
# command → roles that may send it, as each command declares
COMMAND_ROLES: dict[type[CaseCommand], frozenset[Role]] = {
    command: command.roles for command in CASE_COMMANDS
}


# the roles and the actions a role may be refused, as the refusal says them in Chinese
ROLE_WORDS = {
    Role.REPORTER: "网格员/话务员",
    Role.MEDIATOR: "调解员",
    Role.SUPERVISOR: "主管",
    Role.AUDITOR: "纪检监察人员",
    Role.ADMIN: "管理员",
    Role.INSPECTOR: "督查人员",
    Role.CITIZEN: "当事人",
    Role.SYSTEM: "系统",
}
ACTION_WORDS = {
    "register a case": "登记案件",
    "export the audit trail": "导出审计记录",
    "read the log's heads and proofs": "查看日志签名树头与证明",
    "export the ledger": "导出台账",
    "read the 督查 samples": "查看督查抽查",
    "draw 督查 samples": "抽取督查样本",
    "read the screening reports": "查看排查情况",
    "attach a file to a case": "上传附件",
}


def require_role(actor: Actor, allowed: frozenset[Role], action: str) -> None:
    """The caller's role must be one of ``allowed``; the refusal names the role and the
    action in Chinese (a command by its own words: ``messages.COMMANDS``)."""
    if actor.role not in allowed:
        verb = ACTION_WORDS.get(action) or messages.COMMANDS.get(action)
        zh = f"{ROLE_WORDS.get(actor.role, actor.role)}无权{verb}。" if verb else ""
        raise ForbiddenError(f"a {actor.role} may not {action}", zh)


def require_unit(actor: Actor, units: Jurisdiction, code: str) -> None:
    """The unit must be the caller's own or lie below it."""
    if code not in units:
        raise UnknownUnitError(code)
    if not units.is_within(code, actor.unit):
        raise ForbiddenError(f"unit {code} is outside {actor.unit}'s jurisdiction")


def may_read_case(actor: Actor, units: Jurisdiction, case: Case) -> bool:
    """A case is visible where it happened and where it is owned."""
    return any(
        code in units and units.is_within(code, actor.unit) for code in (case.unit, case.owner)
    )


def require_read(actor: Actor, units: Jurisdiction, case: Case) -> None:
    if not may_read_case(actor, units, case):
        raise ForbiddenError(f"case {case.id} is outside {actor.unit}'s jurisdiction")


def require_command(
    actor: Actor, units: Jurisdiction, case: Case, command: type[CaseCommand]
) -> None:
    """The owning unit's people work a case; a unit above it orders supervision (督办) or
    takes it over (提级办理); notes and attachments come from anyone who may read it."""
    require_role(actor, COMMAND_ROLES[command], command.words)
    require_read(actor, units, case)
    if command.scope is Scope.RECORD:
        return
    if command.scope is Scope.INSPECTION:
        require_inspector_seat(actor, units, case.unit)
        return
    if command.scope is Scope.ABOVE:
        if actor.unit == case.owner or not units.is_within(case.owner, actor.unit):
            raise ForbiddenError(
                f"case {case.id} is owned by {case.owner}: only a unit above it may "
                f"{command.words} it",
                f"案件由 {case.owner} 负责办理：只有它的上级单位可以督办或提级办理。",
            )
        return
    if actor.unit != case.owner:
        raise ForbiddenError(
            f"case {case.id} is owned by {case.owner}: only its people work it; a unit above "
            "orders supervision (supervision-orders) or takes it over (take-over)",
            f"案件由 {case.owner} 负责办理，只有该单位的人员可以办理；"
            "上级单位可以督办（supervision-orders）或提级办理（take-over）。",
        )


def require_unmask(actor: Actor, units: Jurisdiction, case: Case) -> None:
    """Plain personal data: the assigned mediator, or a supervisor of the owning unit."""
    assigned = actor.role is Role.MEDIATOR and actor.user == case.assignee
    supervising = actor.role is Role.SUPERVISOR and units.is_within(case.owner, actor.unit)
    if not (assigned or supervising):
        raise ForbiddenError(
            "only the assigned mediator or a supervisor of the owning unit may unmask"
        )


# --- the staff directory --------------------------------------------------------------------

# who reads the directory of their subtree (the assignee picker, a disabled member's cases),
# and who changes it
STAFF_READERS = frozenset({Role.SUPERVISOR, Role.ADMIN})
STAFF_KEEPERS = frozenset({Role.ADMIN})


def require_staff_read(actor: Actor, units: Jurisdiction, *codes: str) -> None:
    """A supervisor or an admin, of a unit at or above each of ``codes``."""
    if actor.role not in STAFF_READERS:
        raise ForbiddenError(
            f"a {actor.role} may not read the staff directory",
            "只有主管或管理员可以查看人员名录。",
        )
    _require_staff_units(actor, units, codes)


def require_staff_change(actor: Actor, units: Jurisdiction, *codes: str) -> None:
    """An admin, of a unit at or above each of ``codes`` (where the member works, and where
    they are moved to)."""
    if actor.role not in STAFF_KEEPERS:
        raise ForbiddenError(
            f"a {actor.role} may not change the staff directory", "只有管理员可以管理人员名录。"
        )
    _require_staff_units(actor, units, codes)


def _require_staff_units(actor: Actor, units: Jurisdiction, codes: tuple[str, ...]) -> None:
    require_known_unit(actor, units)
    for code in codes:
        require_unit(actor, units, code)


def require_mode_switch(actor: Actor, units: Jurisdiction, code: str) -> None:
    """A supervisor or an admin of a city or county switches the mode of their own unit or of
    a unit below it (the domain then refuses a unit that has no mode: a township, a village)."""
    tier = units.get(actor.unit).tier if actor.unit in units else None
    if actor.role not in _MODE_SWITCHERS or tier not in _MODE_SWITCHING_TIERS:
        raise ForbiddenError("only a supervisor or an admin of a city or county switches a mode")
    if not units.is_within(code, actor.unit):
        raise ForbiddenError(f"unit {code} is outside {actor.unit}'s jurisdiction")


def require_mode_read(actor: Actor, units: Jurisdiction, code: str) -> None:
    """The mode in force is read at the caller's own unit, a unit above it (whose setting
    may be the one in force where they work) or a unit below it."""
    require_known_unit(actor, units)
    if not (units.is_within(code, actor.unit) or units.is_within(actor.unit, code)):
        raise ForbiddenError(f"unit {code} is outside {actor.unit}'s jurisdiction")


def require_known_unit(actor: Actor, units: Jurisdiction) -> None:
    """A caller whose own unit is not in the tree sees nothing."""
    if actor.unit not in units:
        raise ForbiddenError(f"unit {actor.unit} is not in the jurisdiction")


# --- 督查回访 ----------------------------------------------------------------------------------

# who reads the sampled cases and draws of their subtree, and who draws by hand
INSPECTION_READERS = frozenset({Role.INSPECTOR, Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN})
INSPECTION_DRAWERS = frozenset({Role.INSPECTOR, Role.ADMIN})
_INSPECTOR_TIERS = frozenset({Tier.CITY, Tier.COUNTY})


def require_inspector_seat(actor: Actor, units: Jurisdiction, location: str) -> None:
    """An inspector sits at a county or at the city, and inspects what happened in its
    subtree: a case located there, a township's draw."""
    tier = units.get(actor.unit).tier if actor.unit in units else None
    if tier not in _INSPECTOR_TIERS:
        raise ForbiddenError(
            "inspectors sit at a county or the city",
            "督查回访由县级或市级督查人员进行。",
        )
    if location not in units or not units.is_within(location, actor.unit):
        raise ForbiddenError(
            f"{location} is outside {actor.unit}'s jurisdiction",
            f"{location} 不在 {actor.unit} 的督查范围内。",
        )


def require_inspection_read(actor: Actor, units: Jurisdiction, code: str) -> None:
    """An inspector, a supervisor, an auditor or an admin, of ``code`` or a unit above it."""
    require_role(actor, INSPECTION_READERS, "read the 督查 samples")
    require_unit(actor, units, code)


def require_inspection_draw(actor: Actor, units: Jurisdiction, township: str) -> None:
    """An inspector of the county or city above the township, or an admin above it."""
    require_role(actor, INSPECTION_DRAWERS, "draw 督查 samples")
    if township not in units:
        raise UnknownUnitError(township)
    if actor.role is Role.INSPECTOR:
        require_inspector_seat(actor, units, township)
    else:
        require_unit(actor, units, township)
