"""How the case's value objects are stored inside events.

Each transcoding writes a value object as the plain mapping that events stored before version 2
held in its place (see the ``upcast_v1_v2`` methods in ``domain.case._state``), tagged with its
name so it decodes back into the typed object. Names are stored schema: never change one.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from domain.clocks import Deadline
from domain.parties import Party


class DeadlineAsDict(Transcoding):
    type = Deadline
    name = "deadline"

    def encode(self, obj: Deadline) -> dict[str, Any]:
        return obj.to_dict()

    def decode(self, data: dict[str, Any]) -> Deadline:
        return Deadline.from_dict(data)


class PartyAsDict(Transcoding):
    type = Party
    name = "party"

    def encode(self, obj: Party) -> dict[str, Any]:
        return obj.to_dict()

    def decode(self, data: dict[str, Any]) -> Party:
        return Party.from_dict(data)


def register_value_objects(transcoder: JSONTranscoder) -> None:
    """Registers every value-object transcoding on the application's transcoder."""
    for transcoding in (DeadlineAsDict(), PartyAsDict()):
        transcoder.register(transcoding)
