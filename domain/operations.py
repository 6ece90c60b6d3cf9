"""The operating mode (常规模式、假日模式、应急处置), switched as an audited event.

One small aggregate for the whole deployment: every process reads the current mode from the
log when it starts a clock, so a switch made through any process applies to every clock
started after it.
"""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.domain import Aggregate

from domain.errors import InvalidInputError
from domain.policy import Mode

OPERATIONS_ID = uuid5(NAMESPACE_URL, "https://fengqiao.example/operations")


class Operations(Aggregate):
    class Created(Aggregate.Created):
        pass

    class ModeSwitched(Aggregate.Event):
        mode: str
        reason: str
        actor: str
        role: str

        def apply(self, aggregate: Operations) -> None:
            aggregate.mode = Mode(self.mode)

    def __init__(self) -> None:
        self.mode = Mode.NORMAL

    @classmethod
    def create(cls, at: datetime) -> Operations:
        return cls._create(cls.Created, id=OPERATIONS_ID, timestamp=at)

    def switch(self, mode: Mode, reason: str, actor: str, role: str, at: datetime) -> None:
        if not reason.strip():
            raise InvalidInputError("reason", "a mode switch needs a reason")
        if mode is self.mode:
            raise InvalidInputError("mode", f"already in {mode} mode")
        self.trigger_event(
            self.ModeSwitched, mode=mode.value, reason=reason.strip(), actor=actor, role=role,
            timestamp=at,
        )  # fmt: skip
