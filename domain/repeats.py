"""What a new case or clue is found to share with the past: repeat disputes and key persons.

A red case in practice often follows several call-outs about the same family or the same
factory gate. When a case is registered, the application asks two read models, through the
ports below, what the new case shares with the record:

- ``RepeatFinder``: the cases of the last ``repeat_window`` (policy ``[repeats] window``, 180
  days) that involved one of its parties (by fingerprint, ``domain.fingerprints``) or that were
  located at the same unit with the same category (重复纠纷);
- ``WatchList``: the key persons (重点人员) among its parties.

What was found is recorded on the new case's registration (``Background``): which earlier
cases it repeats and why, which key persons it involves. A key person, and an earlier case of
the same parties, each raise the level the risk triggers suggest by one step (``domain.risk``).
An earlier case of the same place and category alone is linked and counted, but raises
nothing: a village sees several 邻里 disputes of different families in half a year, and raising
every second one to the township would undo 小事不出村. The link lets a supervisor see a place
that keeps coming back. The registration is the record of what was
known when the level was set; a key person flagged later changes no past case.

The ports are read models and so may be a moment behind the log; the composition root hands
over ports that first wait (briefly) until they have applied everything recorded, so two
calls about one family a minute apart link. A view that stays behind answers from what it has.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

PARTY = "party"  # an earlier case involved one of the parties (ID number or phone)
PLACE = "place"  # an earlier case was located at the same unit, with the same category


@dataclass(frozen=True)
class EarlierCase:
    """An earlier case a new one repeats, and what they share (``PARTY``, ``PLACE``)."""

    case_id: UUID
    number: str
    registered_at: datetime
    matched_by: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_id": str(self.case_id),
            "number": self.number,
            "registered_at": self.registered_at.isoformat(),
            "matched_by": list(self.matched_by),
        }


@dataclass(frozen=True)
class Background:
    """What the record says about a new case's people and place when it is registered."""

    repeat_of: tuple[EarlierCase, ...] = ()
    key_persons: tuple[UUID, ...] = ()
    clue_id: UUID | None = None  # the clue (线索) the case was promoted from


class RepeatFinder(Protocol):
    """The repeat index (``projections.repeats``)."""

    def earlier_cases(
        self, fingerprints: Sequence[str], unit: str, category: str, since: datetime
    ) -> list[EarlierCase]:
        """Cases registered at or after ``since`` that share a fingerprint, or the unit and
        the category, oldest first."""
        ...


class WatchList(Protocol):
    """The key persons' list (``projections.key_persons``)."""

    def key_persons_among(self, fingerprints: Sequence[str]) -> list[UUID]:
        """The key persons still on the list that one of ``fingerprints`` identifies."""
        ...


class NoHistory:
    """The ports of a deployment that cannot fingerprint (no cipher key) or keeps no views:
    nothing is ever found."""

    def earlier_cases(
        self, fingerprints: Sequence[str], unit: str, category: str, since: datetime
    ) -> list[EarlierCase]:
        return []

    def key_persons_among(self, fingerprints: Sequence[str]) -> list[UUID]:
        return []
