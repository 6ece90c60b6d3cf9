"""The operating modes (常规模式、假日模式、应急处置), switched per unit as audited events.

One small aggregate for the whole deployment: every process reads the modes from the log when
it starts a clock, so a switch made through any process applies to every clock started after
it. A mode is set on the city or on a county and applies to that unit's subtree; a case's new
clocks run in the mode of the nearest unit above its location (itself included) that has one
set, and in the city's (normal, when none was ever switched) otherwise. A county can go back to
following the city ("inherit").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.domain import Aggregate

from domain.errors import InvalidInputError
from domain.jurisdiction import Jurisdiction, Unit
from domain.levels import Tier
from domain.policy import Mode

OPERATIONS_ID = uuid5(NAMESPACE_URL, "https://fengqiao.example/operations")
# A county's switch back to following the city: its own setting is removed.
INHERIT = "inherit"
# The unit of a switch recorded before modes were set per unit: the root of the tree (the city).
ROOT = ""
_MODE_TIERS = frozenset({Tier.CITY, Tier.COUNTY})


@dataclass(frozen=True)
class ModeInForce:
    """The mode new clocks start under at a unit, and where it comes from: ``source`` is the
    unit whose setting applies (None: nothing was ever set, so the default, normal);
    ``set_here`` says whether that is the unit itself."""

    unit: str
    mode: Mode
    source: str | None
    set_here: bool


class Operations(Aggregate):
    class Created(Aggregate.Created):
        pass

    class ModeSwitched(Aggregate.Event):
        mode: str  # a Mode's value, or "inherit" (a county follows the city again)
        reason: str
        actor: str
        role: str
        unit: str = ROOT  # whose subtree; "" (every switch before per-unit modes) is the city

        def apply(self, aggregate: Operations) -> None:
            mode = None if self.mode == INHERIT else Mode(self.mode)
            aggregate._settle(self.unit, mode, self.originator_version)

    def __init__(self) -> None:
        # unit code (or ROOT) → (the version of the switch that set it, its mode)
        self.settings: dict[str, tuple[int, Mode]] = {}

    @classmethod
    def create(cls, at: datetime) -> Operations:
        return cls._create(cls.Created, id=OPERATIONS_ID, timestamp=at)

    def _settle(self, unit: str, mode: Mode | None, version: int) -> None:
        if mode is None:
            self.settings.pop(unit, None)
        else:
            self.settings[unit] = (version, mode)

    # --- queries ------------------------------------------------------------------------

    @property
    def mode(self) -> Mode:
        """The mode recorded for the root as ``ROOT`` (normal when none): the city's when the
        tree has no units to name it by; ``in_force`` is the mode at a unit."""
        own = self.settings.get(ROOT)
        return own[1] if own else Mode.NORMAL

    def setting(self, unit: Unit) -> Mode | None:
        """The mode set on ``unit`` itself, if any. The root's may have been recorded under
        its code or (before per-unit modes) as ``ROOT``: the later switch holds."""
        found = [self.settings.get(unit.code)]
        if unit.parent is None:
            found.append(self.settings.get(ROOT))
        latest = max((s for s in found if s is not None), default=None)
        return latest[1] if latest else None

    def in_force(self, units: Jurisdiction, code: str) -> ModeInForce:
        """The mode at ``code``: the nearest unit of its lineage (itself first) that has one
        set, or the default (normal) when none has."""
        for unit in units.lineage(code):
            mode = self.setting(unit)
            if mode is not None:
                return ModeInForce(code, mode, unit.code, unit.code == code)
        return ModeInForce(code, Mode.NORMAL, None, False)

    def mode_at(self, units: Jurisdiction, code: str) -> Mode:
        return self.in_force(units, code).mode

    # --- commands -----------------------------------------------------------------------

    def switch(
        self,
        mode: Mode | None,
        reason: str,
        actor: str,
        role: str,
        at: datetime,
        unit: Unit | None = None,
    ) -> None:
        """Sets ``mode`` on ``unit``'s subtree (None: the unit follows the one above again);
        ``unit`` None is the root, for a caller that does not know the tree."""
        if not reason.strip():
            raise InvalidInputError("reason", "a mode switch needs a reason")
        if unit is not None and unit.tier not in _MODE_TIERS:
            raise InvalidInputError(
                "unit", f"only a city or a county has a mode, not a {unit.tier}"
            )
        root = unit is None or unit.parent is None
        if mode is None and root:
            raise InvalidInputError("mode", "the city follows no unit: switch it to a mode")
        own = self.mode if unit is None else self.setting(unit)
        if root and own is None:
            own = Mode.NORMAL
        if mode is own:
            raise InvalidInputError(
                "mode", f"already in {mode} mode" if mode else "already follows the city"
            )
        self.trigger_event(
            self.ModeSwitched, mode=mode.value if mode else INHERIT, reason=reason.strip(),
            actor=actor, role=role, unit=unit.code if unit else ROOT, timestamp=at,
        )  # fmt: skip
