"""Enrolling staff from outside a request: the demo's sample staff, an operator's first admin."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from domain.actors import Actor
from domain.application import FengqiaoApplication
from domain.directory import Directory, StaffMember


def enrol_missing(
    app: FengqiaoApplication, actor: Actor, people: Sequence[StaffMember], at: datetime
) -> int:
    """Enrols those of ``people`` the directory does not know yet, in one event; returns how
    many (0: everyone was there, nothing recorded). Safe to run again."""
    added: list[StaffMember] = []

    def change(directory: Directory) -> None:
        added[:] = [person for person in people if directory.get(person.user) is None]
        directory.enrol(actor, added, at)

    app.change_directory(actor, change, units=[person.unit for person in people])
    return len(added)
