"""Named domain errors. ``api/`` maps each family to one HTTP status in one place."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime


class DomainError(Exception):
    """Base of every business-rule refusal."""


class InvalidInputError(DomainError):
    """A command's argument breaks a rule; names the field and why.

    ``reason`` is English, for logs and English-speaking callers. ``rule`` names the rule
    that was broken and ``limits`` holds what it allows (a length, a list of choices, a time),
    so an answer in another language is built from them, not from the English sentence. An
    error raised without a rule can only be told in other languages in general terms.
    """

    def __init__(
        self,
        field: str,
        reason: str,
        rule: str = "",
        limits: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.rule = rule
        self.limits: Mapping[str, object] = dict(limits or {})


class CommandNotAllowedError(DomainError):
    """The command does not apply in the case's current status."""

    def __init__(self, command: str, status: str, detail: str = "") -> None:
        message = f"cannot {command} a case that is {status}"
        super().__init__(f"{message}: {detail}" if detail else message)
        self.command = command
        self.status = status
        self.detail = detail


class UnknownUnitError(DomainError):
    """No jurisdiction unit has this code."""

    def __init__(self, code: str) -> None:
        super().__init__(f"unknown unit {code!r}")
        self.code = code


class CaseNotFoundError(DomainError):
    """No case has this id."""

    def __init__(self, case_id: object) -> None:
        super().__init__(f"case {case_id} not found")
        self.case_id = case_id


class VersionConflictError(DomainError):
    """The caller's expected version is stale, or concurrent writers kept winning."""

    def __init__(self, current_version: int, expected_version: int | None = None) -> None:
        if expected_version is None:
            message = (
                f"the case kept changing under this command; current version is {current_version}"
            )
        else:
            message = f"expected version {expected_version}, current version is {current_version}"
        super().__init__(message)
        self.current_version = current_version
        self.expected_version = expected_version


class PolicyError(DomainError):
    """A policy document or duration is not valid; names the key."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"policy {key}: {reason}")
        self.key = key
        self.reason = reason


class NotPermittedError(DomainError):
    """The rule needs an approving role (a supervisor) that the actor does not have."""

    def __init__(self, command: str, needs: str) -> None:
        super().__init__(f"{command} needs {needs}")
        self.command = command
        self.needs = needs


class UnknownUserError(DomainError):
    """No member of staff has this user id."""

    def __init__(self, user: str) -> None:
        super().__init__(f"no member of staff is {user!r}")
        self.user = user


class UserExistsError(DomainError):
    """A member of staff has this user id already."""

    def __init__(self, user: str) -> None:
        super().__init__(f"a member of staff is {user!r} already")
        self.user = user


class UnknownInvitationError(DomainError):
    """No rating invitation of the case has this id."""

    def __init__(self, invitation: str) -> None:
        super().__init__(f"no rating invitation {invitation}")
        self.invitation = invitation


class InvitationUsedError(DomainError):
    """A rating invitation works once, and this one was used."""

    def __init__(self, invitation: str) -> None:
        super().__init__(f"the rating invitation {invitation} was used already")
        self.invitation = invitation


class InvitationExpiredError(DomainError):
    """A rating invitation works until the policy's rating window has passed."""

    def __init__(self, invitation: str, expired_at: datetime) -> None:
        super().__init__(f"the rating invitation {invitation} expired at {expired_at.isoformat()}")
        self.invitation = invitation
        self.expired_at = expired_at


class KeyPersonNotFoundError(DomainError):
    """No key person (重点人员) has this id."""

    def __init__(self, person_id: object) -> None:
        super().__init__(f"key person {person_id} not found")
        self.person_id = person_id


class KeyPersonRemovedError(DomainError):
    """The key person was taken off the list: nothing more is done about them until a
    supervisor flags them again."""

    def __init__(self, person_id: object, command: str) -> None:
        super().__init__(f"cannot {command} key person {person_id}: taken off the list")
        self.person_id = person_id
        self.command = command
