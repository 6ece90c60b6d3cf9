"""The read models a registration consults (``domain.repeats``), brought up to the log first.

A view is a moment behind the log. Two calls about the same family a minute apart must still
link: the hotline operator registers the second while the first is on screen. So before the
repeat index or the key persons' list answers, it waits (briefly, without polling when this
process follows the views) until it has applied everything recorded so far. A view that lags
past the bound, or has stopped, answers from what it has: a registration is never refused
because a read model is behind, and what was known is what the case records.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from uuid import UUID

from domain.repeats import EarlierCase, RepeatFinder, WatchList

log = logging.getLogger(__name__)

# How long a registration waits for a lagging view before it answers from what it has.
CATCH_UP_SECONDS = 1.0

CaughtUp = Callable[[str, float], bool]  # (view name, timeout) -> True once at the log's head


class CurrentRepeats:
    """``RepeatFinder`` over the repeat index once it has applied the whole log."""

    def __init__(self, finder: RepeatFinder, caught_up: CaughtUp, name: str = "repeats") -> None:
        self.finder = finder
        self.caught_up = caught_up
        self.name = name

    def earlier_cases(
        self, fingerprints: Sequence[str], unit: str, category: str, since: datetime
    ) -> list[EarlierCase]:
        _bring_up(self.caught_up, self.name)
        return self.finder.earlier_cases(fingerprints, unit, category, since)


class CurrentWatchList:
    """``WatchList`` over the key persons' list once it has applied the whole log."""

    def __init__(self, watch: WatchList, caught_up: CaughtUp, name: str = "key_persons") -> None:
        self.watch = watch
        self.caught_up = caught_up
        self.name = name

    def key_persons_among(self, fingerprints: Sequence[str]) -> list[UUID]:
        _bring_up(self.caught_up, self.name)
        return self.watch.key_persons_among(fingerprints)


def _bring_up(caught_up: CaughtUp, name: str) -> None:
    if not caught_up(name, CATCH_UP_SECONDS):
        log.warning("the %s view is behind the log: a registration answers from what it has", name)
