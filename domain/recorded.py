"""What a command returns."""

from __future__ import annotations

from dataclasses import dataclass

from domain.case import Case


@dataclass(frozen=True)
class Recorded:
    """A command's result: the case as it now stands, the log position of its last event
    (``None`` when the command recorded nothing, for read-your-writes waits) and the names of
    the events it recorded."""

    case: Case
    position: int | None
    events: tuple[str, ...] = ()
