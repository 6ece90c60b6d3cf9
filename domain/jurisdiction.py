"""The jurisdiction tree: city → county → township → village (→ grid).

One aggregate holds the whole tree of a deployment. A prefecture city has a few thousand
units at most, units are added rarely and never removed, and every command needs the tree to
decide who owns a case, so one small, snapshot-friendly aggregate is the simplest thing that
keeps the tree consistent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.domain import Aggregate

from domain.errors import InvalidInputError, UnknownUnitError
from domain.levels import Tier

JURISDICTION_ID = uuid5(NAMESPACE_URL, "https://fengqiao.example/jurisdiction")

_CHILD_TIERS = {
    Tier.CITY: (Tier.COUNTY,),
    Tier.COUNTY: (Tier.TOWNSHIP,),
    Tier.TOWNSHIP: (Tier.VILLAGE,),
    Tier.VILLAGE: (Tier.GRID,),
    Tier.GRID: (),
}


@dataclass(frozen=True)
class Unit:
    """One jurisdiction unit. ``code`` is the national division code where one exists."""

    code: str
    name: str
    tier: Tier
    parent: str | None
    sample: bool = False


class Jurisdiction(Aggregate):
    """The tree of units, with the queries the case rules need."""

    class Created(Aggregate.Created):
        pass

    class UnitAdded(Aggregate.Event):
        code: str
        name: str
        tier: str
        parent: str | None
        sample: bool
        actor: str

        def apply(self, aggregate: Jurisdiction) -> None:
            aggregate._insert(Unit(self.code, self.name, Tier(self.tier), self.parent, self.sample))

    def __init__(self) -> None:
        self.units: dict[str, Unit] = {}
        self.children: dict[str, list[str]] = {}

    @classmethod
    def create(cls, at: datetime) -> Jurisdiction:
        return cls._create(cls.Created, id=JURISDICTION_ID, timestamp=at)

    # --- commands -----------------------------------------------------------------------

    def add_unit(self, unit: Unit, actor: str, at: datetime) -> None:
        """Adds a unit under an existing parent of the tier just above it."""
        if unit.code in self.units:
            raise InvalidInputError("code", f"unit {unit.code} already exists")
        self._check_parent(unit)
        self.trigger_event(
            self.UnitAdded,
            code=unit.code,
            name=unit.name,
            tier=unit.tier.value,
            parent=unit.parent,
            sample=unit.sample,
            actor=actor,
            timestamp=at,
        )

    def _check_parent(self, unit: Unit) -> None:
        if unit.parent is None:
            if unit.tier is not Tier.CITY:
                raise InvalidInputError("parent", f"a {unit.tier} needs a parent unit")
            return
        parent = self.units.get(unit.parent)
        if parent is None:
            raise InvalidInputError("parent", f"unknown parent unit {unit.parent!r}")
        if unit.tier not in _CHILD_TIERS[parent.tier]:
            raise InvalidInputError("tier", f"a {unit.tier} cannot sit under a {parent.tier}")

    def _insert(self, unit: Unit) -> None:
        self.units[unit.code] = unit
        self.children.setdefault(unit.code, [])
        if unit.parent is not None:
            self.children.setdefault(unit.parent, []).append(unit.code)

    # --- queries ------------------------------------------------------------------------

    def get(self, code: str) -> Unit:
        try:
            return self.units[code]
        except KeyError:
            raise UnknownUnitError(code) from None

    def __contains__(self, code: object) -> bool:
        return code in self.units

    def ancestors(self, code: str) -> list[Unit]:
        """The unit's ancestors, nearest first (the unit itself excluded)."""
        chain: list[Unit] = []
        parent = self.get(code).parent
        while parent is not None:
            unit = self.units[parent]
            chain.append(unit)
            parent = unit.parent
        return chain

    def lineage(self, code: str) -> list[Unit]:
        """The unit and its ancestors, nearest first."""
        return [self.get(code), *self.ancestors(code)]

    def subtree(self, code: str) -> list[Unit]:
        """The unit and every unit below it, breadth first."""
        found = [self.get(code)]
        for unit in found:
            found.extend(self.units[child] for child in self.children.get(unit.code, ()))
        return found

    def is_within(self, code: str, root: str) -> bool:
        """True when ``code`` is ``root`` or lies below it."""
        return any(unit.code == root for unit in self.lineage(code))

    def at_tier(self, code: str, tier: Tier) -> Unit:
        """The unit's ancestor-or-self at ``tier``; the unit itself if it sits above it.

        A case at a township office with a yellow level is owned by the township: nothing
        below the location can own it.
        """
        for unit in self.lineage(code):
            if unit.tier.height >= tier.height:
                return unit
        raise UnknownUnitError(code)  # pragma: no cover - the root is a city

    def tier_above(self, code: str) -> Unit | None:
        """The next case-owning unit above this one (grids are skipped); None at county."""
        floor = max(self.get(code).tier.height, Tier.VILLAGE.height)
        for ancestor in self.ancestors(code):
            if ancestor.tier is Tier.CITY:
                return None
            if ancestor.tier.height > floor:
                return ancestor
        return None

    def common_ancestor(self, first: str, second: str) -> Unit:
        """The lowest unit whose subtree holds both."""
        second_codes = {unit.code for unit in self.lineage(second)}
        for unit in self.lineage(first):
            if unit.code in second_codes:
                return unit
        raise UnknownUnitError(second)  # pragma: no cover - one tree, one root
