"""督查回访: each month a random sample of the cases closed in a township is drawn, and the
inspectors (督查) of the county or the city above call the parties back.

The draw is an aggregate of its own, one per township and month (its id derived from them, so
a second draw of the same township-month finds the first and changes nothing). Its one event,
``Drawn``, freezes what the sample was drawn from and how: the population (the ids of the
cases closed in the month and located in the township's subtree, sorted), the seed, the
policy's percentage and minimum, and the sample. The sample is a pure function of the
population, the seed and its size (``derive_sample``): the cases whose SHA-256 of
``"<seed>:<case id>"`` is smallest, which anyone can compute again from the recorded event
(with any tool: ``printf '%s' "$seed:$id" | sha256sum``), so nobody can have chosen it and
nobody can change it afterwards.

The seed is drawn by whoever asks for the draw (the scheduler, a person, the command line),
with the operating system's randomness, and handed in: the domain reads no randomness.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.actors import Actor
from domain.calendar import SHANGHAI, start_of_day
from domain.clocks import Duration
from domain.errors import InvalidInputError, PolicyError
from domain.jurisdiction import Jurisdiction
from domain.levels import Tier

# uuid5 namespace of the draws' ids; fixed forever, since stored draws are found by it
DRAWS_NAMESPACE = UUID("5d0c4a3e-8f1b-5e27-9c6d-3a2b1f0e4d57")
# a seed: hexadecimal, 64 to 512 bits (the callers draw 128 with ``secrets.token_hex(16)``)
_SEED = re.compile(r"[0-9a-f]{16,128}")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


@dataclass(frozen=True)
class InspectionRules:
    """The policy's ``[inspection]``: the share of a township's closed cases drawn each month
    (whole per cent, rounded up), the least drawn (all of them when fewer were closed), and
    how long the inspectors have to call each one back."""

    percentage: int = 10
    minimum: int = 3
    due: Duration = Duration(10, "wd")


def inspection_from_table(table: Any, base: InspectionRules) -> InspectionRules:
    """``[inspection]``: ``percentage = 10``, ``minimum = 3``, ``due = "10wd"``."""
    if not isinstance(table, dict):
        raise PolicyError("inspection", "must be a table")
    known = ("percentage", "minimum", "due")
    for key in table:
        if key not in known:
            raise PolicyError(f"inspection.{key}", f"unknown key (known: {', '.join(known)})")
    changes: dict[str, Any] = {}
    for key, low, high in (("percentage", 1, 100), ("minimum", 0, 1000)):
        if key in table:
            value = table[key]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise PolicyError(
                    f"inspection.{key}", f"must be a whole number from {low} to {high}"
                )
            changes[key] = value
    if "due" in table:
        changes["due"] = Duration.parse(table["due"], "inspection.due")
    return replace(base, **changes)


def inspection_to_table(rules: InspectionRules) -> dict[str, Any]:
    return {"percentage": rules.percentage, "minimum": rules.minimum, "due": str(rules.due)}


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month in China (Asia/Shanghai): ``2026-10``."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str, field: str = "month") -> Month:
        found = _MONTH.fullmatch(text.strip()) if isinstance(text, str) else None
        if found is None or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 2000:
            raise InvalidInputError(
                field, "must be a month like 2026-10", "month", {"example": "2026-10"}
            )
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def of(cls, moment: datetime) -> Month:
        """The month ``moment`` falls in, in Shanghai."""
        local = moment.astimezone(SHANGHAI)
        return cls(local.year, local.month)

    @property
    def start(self) -> datetime:
        """Its first instant: midnight of its first day, in Shanghai."""
        return start_of_day(date(self.year, self.month, 1))

    @property
    def end(self) -> datetime:
        """The first instant after it."""
        return self.following().start

    def following(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def draw_id(township: str, month: Month) -> UUID:
    """The id of the draw of ``township`` for ``month``: the same for every caller."""
    return uuid5(DRAWS_NAMESPACE, f"{township}/{month}")


def sample_size(population: int, percentage: int, minimum: int) -> int:
    """How many of ``population`` cases are drawn: ``percentage`` of them rounded up, at least
    ``minimum``, and never more than there are (45 → 5, 12 → 3, 2 → 2 at 10 % and 3)."""
    share = -(-population * percentage // 100)
    return min(population, max(minimum, share))


def rank(seed: str, case_id: str) -> str:
    """A case's place in the draw: the SHA-256 of ``"<seed>:<case id>"`` (lowest drawn first)."""
    return hashlib.sha256(f"{seed}:{case_id}".encode()).hexdigest()


def derive_sample(population: Iterable[str], seed: str, size: int) -> list[str]:
    """The ``size`` cases of ``population`` whose rank under ``seed`` is lowest, sorted: a pure
    function of its arguments, so anyone holding the recorded draw derives the same sample."""
    ranked = sorted(set(population), key=lambda case_id: (rank(seed, case_id), case_id))
    return sorted(ranked[:size])


class InspectionDraw(Aggregate):
    """One township's draw for one month, recorded once."""

    class Drawn(Aggregate.Created):
        township: str
        month: str  # 2026-10
        seed: str
        population: list[str]  # the case ids drawn from, sorted
        percentage: int
        minimum: int
        sample: list[str]  # the case ids drawn, sorted
        actor: str
        role: str

    def __init__(
        self,
        township: str,
        month: str,
        seed: str,
        population: list[str],
        percentage: int,
        minimum: int,
        sample: list[str],
        actor: str,
        role: str,
    ) -> None:
        self.township = township
        self.month = month
        self.seed = seed
        self.population = list(population)
        self.percentage = percentage
        self.minimum = minimum
        self.sample = list(sample)
        self.actor = actor
        self.role = role

    @classmethod
    def draw(
        cls,
        actor: Actor,
        at: datetime,
        units: Jurisdiction,
        township: str,
        month: Month,
        population: Iterable[UUID | str],
        seed: str,
        rules: InspectionRules,
    ) -> InspectionDraw:
        """Draws ``township``'s sample for ``month`` (a month that has ended) from
        ``population`` (the cases closed in it, located in the township's subtree) under
        ``seed``: ``rules.percentage`` of them rounded up, at least ``rules.minimum``."""
        if township not in units or units.get(township).tier is not Tier.TOWNSHIP:
            raise InvalidInputError("township", f"{township!r} is not a township", "township")
        if at < month.end:
            raise InvalidInputError(
                "month", f"{month} has not ended yet", "month_ended", {"month": str(month)}
            )
        if not isinstance(seed, str) or not _SEED.fullmatch(seed):
            raise InvalidInputError("seed", "must be 16 to 128 lowercase hexadecimal digits")
        ids = sorted({str(UUID(str(case_id))) for case_id in population})
        size = sample_size(len(ids), rules.percentage, rules.minimum)
        return cls._create(
            cls.Drawn,
            id=draw_id(township, month),
            timestamp=at,
            township=township,
            month=str(month),
            seed=seed,
            population=ids,
            percentage=rules.percentage,
            minimum=rules.minimum,
            sample=derive_sample(ids, seed, size),
            actor=actor.user,
            role=actor.role.value,
        )

    @property
    def drawn_at(self) -> datetime:
        return self.created_on

    def rederived(self) -> list[str]:
        """The sample derived again from what the draw recorded."""
        size = sample_size(len(self.population), self.percentage, self.minimum)
        return derive_sample(self.population, self.seed, size)

    @property
    def verified(self) -> bool:
        """Whether the recorded sample is the one its population, seed and rules give."""
        return self.rederived() == self.sample


@dataclass(frozen=True)
class DrawAnswer:
    """What asking for a draw did: the draw, whether this asking made it (False: it was made
    before and nothing changed) and the log position of what was saved."""

    draw: InspectionDraw
    new: bool
    position: int | None
