"""Warning levels (三色预警) and jurisdiction tiers, and how one decides the other."""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    """A case's warning level. Order matters: red is the most urgent."""

    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"

    @property
    def rank(self) -> int:
        return _LEVEL_RANK[self]

    def raised(self) -> Level:
        """One step up (yellow to orange to red); red stays red."""
        return _LEVELS[min(self.rank + 1, len(_LEVELS) - 1)]

    @property
    def owner_tier(self) -> Tier:
        """The lowest tier that may own a case of this level."""
        return _OWNER_TIER[self]

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank > other.rank

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank < other.rank

    def __ge__(self, other: object) -> bool:
        return self == other or self > other

    def __le__(self, other: object) -> bool:
        return self == other or self < other


class Tier(StrEnum):
    """A level of the jurisdiction tree, from the city root down to an optional grid."""

    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"
    GRID = "grid"

    @property
    def height(self) -> int:
        """Higher tiers have larger heights: grid 0 … city 4."""
        return _TIER_HEIGHT[self]

    @property
    def native_level(self) -> Level | None:
        """The level whose cases this tier owns by default (none for city and grid)."""
        return _NATIVE_LEVEL.get(self)


_LEVEL_RANK = {Level.YELLOW: 0, Level.ORANGE: 1, Level.RED: 2}
_LEVELS = (Level.YELLOW, Level.ORANGE, Level.RED)
_OWNER_TIER = {Level.YELLOW: Tier.VILLAGE, Level.ORANGE: Tier.TOWNSHIP, Level.RED: Tier.COUNTY}
_NATIVE_LEVEL = {tier: level for level, tier in _OWNER_TIER.items()}
_TIER_HEIGHT = {Tier.GRID: 0, Tier.VILLAGE: 1, Tier.TOWNSHIP: 2, Tier.COUNTY: 3, Tier.CITY: 4}
