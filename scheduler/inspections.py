"""督查抽查 each month: every township's draw of the cases closed in the month before.

The population is read from the cases view (closed in the month, in Shanghai, located in the
township's subtree), the seed drawn from the operating system's randomness, and both handed to
the application, which records the draw with its seed and starts the sampled cases' callback
clocks. A draw's id is its township and month, so drawing again (a second scheduler, a
restart, a person asking by hand) finds the first and changes nothing.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from domain.actors import SYSTEM, Actor
from domain.application import FengqiaoApplication
from domain.inspection import DrawAnswer, Month
from domain.levels import Tier
from projections.cases import CasesView
from projections.inspections import closed_in

log = logging.getLogger(__name__)


def new_seed() -> str:
    """128 bits from the operating system's randomness, as 32 hexadecimal digits."""
    return secrets.token_hex(16)


@dataclass(frozen=True)
class DrawReport:
    """A township's draw for a month: made now, or found made before."""

    township: str
    month: Month
    answer: DrawAnswer

    @property
    def sampled(self) -> int:
        return len(self.answer.draw.sample)


class MonthlyDraw:
    """Draws townships' samples for a month, from the cases view."""

    def __init__(
        self,
        app: FengqiaoApplication,
        cases: CasesView,
        clock: Callable[[], datetime],
        seed: Callable[[], str] = new_seed,
    ) -> None:
        self.app = app
        self.cases = cases
        self.clock = clock
        self.seed = seed

    def townships(self) -> list[str]:
        return sorted(
            unit.code for unit in self.app.units().units.values() if unit.tier is Tier.TOWNSHIP
        )

    def draw(self, township: str, month: Month, actor: Actor = SYSTEM) -> DrawReport:
        """``township``'s draw for ``month``: the one made before, or a new one."""
        earlier = self.app.inspection_draw(township, month)
        if earlier is not None:
            return DrawReport(township, month, DrawAnswer(earlier, False, None))
        population = closed_in(self.cases, township, month.start, month.end)
        answer = self.app.draw_inspection(
            actor, township, month, population, self.seed(), self.clock()
        )
        return DrawReport(township, month, answer)

    def run(
        self,
        month: Month | None = None,
        townships: Iterable[str] | None = None,
        actor: Actor = SYSTEM,
    ) -> list[DrawReport]:
        """Every township's draw for ``month`` (default: the month before now, in Shanghai)."""
        chosen = month or Month.of(self.clock()).previous()
        codes = self.townships() if townships is None else list(townships)
        reports = [self.draw(code, chosen, actor) for code in codes]
        made = [r for r in reports if r.answer.new]
        if made:
            log.info(
                "督查抽查 %s: %d townships drawn, %d cases sampled",
                chosen, len(made), sum(r.sampled for r in made),
            )  # fmt: skip
        return reports
