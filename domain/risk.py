"""Risk triggers (预警指标): the facts of a case that suggest its warning level.

The three colours mean risk, and local rules name what makes a dispute risky: how many people
are involved, how much money, categories prone to escalate (征地拆迁, 群体性事件), repeated
police call-outs. ``RiskRules`` turns a case's facts into a suggested level and the triggers
that fired; registration applies the suggestion when it is higher than the level given, and an
assessment or a lowering below it needs a reason and is counted for supervisors.

The rules are policy (``[risk]`` in a policy file): a county sets its own thresholds. Triggers
are recorded as codes (``people_involved>=30``) so every reader can say them in its language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, TypeVar

from domain.bounds import non_negative_amount
from domain.errors import InvalidInputError, PolicyError
from domain.levels import Level


@dataclass(frozen=True)
class Facts:
    """What a registration or an assessment knows about a case's risk."""

    category: str
    people_involved: int
    amount_involved: Decimal | None = None
    police_callouts: int = 0
    # it repeats an earlier case (重复纠纷), it involves a key person (重点人员): each raises
    # what the other facts suggest by one step (``domain.repeats``)
    repeat: bool = False
    key_person: bool = False


@dataclass(frozen=True)
class Suggestion:
    """The level the facts suggest (yellow when no trigger fired) and the triggers that did."""

    level: Level
    triggers: tuple[str, ...] = ()


def _default_categories() -> Mapping[str, Level]:
    return MappingProxyType({"征地拆迁": Level.ORANGE, "群体性事件": Level.RED})


@dataclass(frozen=True)
class RiskRules:
    """Thresholds (at or above) per fact, each with the level it suggests."""

    people: tuple[tuple[int, Level], ...] = ((30, Level.RED), (10, Level.ORANGE))
    amount: tuple[tuple[Decimal, Level], ...] = (
        (Decimal(1_000_000), Level.RED),
        (Decimal(100_000), Level.ORANGE),
    )
    police_callouts: tuple[tuple[int, Level], ...] = ((3, Level.ORANGE),)
    categories: Mapping[str, Level] = field(default_factory=_default_categories)

    def suggest(self, facts: Facts) -> Suggestion:
        """The highest level any trigger suggests, with every trigger that fired."""
        fired: list[tuple[str, Level]] = []
        fired += _at_least("people_involved", facts.people_involved, self.people)
        if facts.amount_involved is not None:
            fired += _at_least("amount_involved", facts.amount_involved, self.amount)
        fired += _at_least("police_callouts", facts.police_callouts, self.police_callouts)
        level_of_category = self.categories.get(facts.category)
        if level_of_category is not None:
            fired.append((f"category={facts.category}", level_of_category))
        level = max((level for _, level in fired), default=Level.YELLOW)
        for code, applies in (("repeat", facts.repeat), ("key_person", facts.key_person)):
            if applies:
                level = level.raised()
                fired.append((code, level))
        return Suggestion(level, tuple(code for code, _ in fired))


Thresholds = tuple[tuple[int, Level], ...] | tuple[tuple[Decimal, Level], ...]


def _at_least(name: str, value: int | Decimal, thresholds: Thresholds) -> list[tuple[str, Level]]:
    """The highest threshold ``value`` reaches, as a trigger code and its level."""
    reached = [(limit, level) for limit, level in thresholds if value >= limit]
    if not reached:
        return []
    limit, level = max(reached, key=lambda pair: pair[1])
    return [(f"{name}>={limit}", level)]


@dataclass(frozen=True)
class FactsUpdate:
    """What an assessment corrects of a case's risk facts (None: as they stand), and why the
    level it gives is below what the risk triggers suggest, when it is."""

    people_involved: int | None = None
    amount_involved: Decimal | None = None
    police_callouts: int | None = None
    below_suggestion_reason: str = ""

    def applied_to(self, current: Facts) -> Facts:
        """The facts after the corrections, each checked."""
        for name in ("people_involved", "police_callouts"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise InvalidInputError(name, "must not be negative")
        amount = non_negative_amount("amount_involved", self.amount_involved)
        return Facts(
            category=current.category,
            people_involved=_either(self.people_involved, current.people_involved),
            amount_involved=_either(amount, current.amount_involved),
            police_callouts=_either(self.police_callouts, current.police_callouts),
        )


T = TypeVar("T")


def _either(given: T | None, current: T) -> T:
    return current if given is None else given


# --- as a policy document's ``[risk]`` table --------------------------------------------------

_NUMBER_RULES = ("people", "police_callouts")
_KEYS = ("people", "amount", "police_callouts", "categories")


def risk_from_table(table: Any, base: RiskRules) -> RiskRules:
    """``[risk]``: each rule given replaces the built-in one, e.g.
    ``people = {red = 30, orange = 10}``, ``amount = {orange = "100000"}``,
    ``police_callouts = {orange = 3}``, ``categories = {"征地拆迁" = "orange"}``."""
    if not isinstance(table, dict):
        raise PolicyError("risk", "must be a table")
    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        raise PolicyError(f"risk.{unknown[0]}", f"unknown key (known: {', '.join(_KEYS)})")
    changes: dict[str, Any] = {}
    for key in _NUMBER_RULES:
        if key in table:
            changes[key] = _thresholds(f"risk.{key}", table[key], _count)
    if "amount" in table:
        changes["amount"] = _thresholds("risk.amount", table["amount"], _amount)
    if "categories" in table:
        changes["categories"] = MappingProxyType(_categories(table["categories"]))
    return replace(base, **changes)


def risk_to_table(rules: RiskRules) -> dict[str, Any]:
    """The rules as a ``[risk]`` table (amounts as text: TOML has no decimals)."""
    return {
        "people": {level.value: limit for limit, level in rules.people},
        "amount": {level.value: str(limit) for limit, level in rules.amount},
        "police_callouts": {level.value: limit for limit, level in rules.police_callouts},
        "categories": {word: level.value for word, level in sorted(rules.categories.items())},
    }


def _thresholds(key: str, value: Any, number: Any) -> tuple[Any, ...]:
    if not isinstance(value, dict):
        raise PolicyError(key, "must be a table of levels, like {red = 30, orange = 10}")
    pairs = [(number(f"{key}.{name}", limit), _level(f"{key}.{name}", name))
             for name, limit in value.items()]  # fmt: skip
    return tuple(sorted(pairs, key=lambda pair: pair[1], reverse=True))


def _categories(value: Any) -> dict[str, Level]:
    if not isinstance(value, dict):
        raise PolicyError("risk.categories", 'must be a table, like {"征地拆迁" = "orange"}')
    return {str(word): _level(f"risk.categories.{word}", name) for word, name in value.items()}


def _level(key: str, name: Any) -> Level:
    try:
        level = Level(name)
    except ValueError:
        raise PolicyError(key, f"{name!r} is not a level (red, orange)") from None
    if level is Level.YELLOW:
        raise PolicyError(key, "yellow is where every case starts: a trigger raises it")
    return level


def _count(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise PolicyError(key, "must be a whole number of at least 1")
    return int(value)


def _amount(key: str, value: Any) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise PolicyError(key, f"{value!r} is not an amount in yuan") from None
    if not amount.is_finite() or amount <= 0:
        raise PolicyError(key, "must be an amount in yuan above zero")
    return amount
