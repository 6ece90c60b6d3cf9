"""Who does things: every event records the actor and the role they acted in."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    REPORTER = "reporter"  # 网格员, 热线话务员
    MEDIATOR = "mediator"  # 调解员, 司法所
    SUPERVISOR = "supervisor"  # 综治中心 / 矛调中心, 包案领导
    AUDITOR = "auditor"  # 纪检监察, 督查
    ADMIN = "admin"
    INSPECTOR = "inspector"  # 督查: county or city, checks a sample of closed cases (督查回访)
    CITIZEN = "citizen"  # a party rating their case through a signed link; never a token
    SYSTEM = "system"  # the scheduler acting on a missed deadline


@dataclass(frozen=True)
class Actor:
    user: str
    role: Role
    unit: str

    @property
    def approves(self) -> bool:
        """Supervisors (and admins, and the rules themselves) approve what needs approval."""
        return self.role in (Role.SUPERVISOR, Role.ADMIN, Role.SYSTEM)


SYSTEM = Actor("fengqiao-scheduler", Role.SYSTEM, "")

# Who may send which command (each command names its group): staff who record what happened,
# staff who work cases, and those who approve what needs approval.
REPORTERS = frozenset({Role.REPORTER, Role.MEDIATOR, Role.SUPERVISOR, Role.ADMIN})
WORKERS = frozenset({Role.MEDIATOR, Role.SUPERVISOR, Role.ADMIN})
APPROVERS = frozenset({Role.SUPERVISOR, Role.ADMIN})
