"""``fengqiao demo``: the sample jurisdiction and a realistic case load.

Every case is driven through the application's own commands, in time order, with times spread
over the last 90 days: the events are the ones production would write, so read models, the
scheduler and the statistics have something true to work on. The scheduler's part (flagging a
missed sign-for, escalating a missed resolve deadline) is played at the times it would have
acted. Case ids come from the seed and the index, so a second run with the same seed finds its
cases and leaves them alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from random import Random
from time import perf_counter
from uuid import NAMESPACE_URL, UUID, uuid5

from api.demo.story import CaseStory
from api.wiring.bootstrap import OPERATOR
from api.wiring.staff import enrol_missing
from domain.application import FengqiaoApplication
from domain.case import Case
from domain.errors import CaseNotFoundError, DomainError
from domain.levels import Tier
from domain.samples import sample_staff, sample_units

WINDOW = timedelta(days=90)
DEMO_NAMESPACE = uuid5(NAMESPACE_URL, "https://fengqiao.example/demo")


def demo_case_id(seed: int, index: int) -> UUID:
    """The same seed and index always name the same case: that is what makes reruns safe."""
    return uuid5(DEMO_NAMESPACE, f"{seed}:{index}")


def demo_epoch(now: datetime) -> datetime:
    """When the demo's world begins: units and policy are in place before the first case."""
    return now - WINDOW - timedelta(days=1)


@dataclass
class DemoReport:
    """What a run did, for the summary: the demo's cases as they now stand, and the cost."""

    requested: int
    units_added: int = 0
    staff_added: int = 0
    created: int = 0
    existing: int = 0
    events: int = 0
    seconds: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)
    levels: Counter[str] = field(default_factory=Counter)
    tiers: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    first_errors: dict[str, str] = field(default_factory=dict)

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def tally(self, case: Case) -> None:
        self.statuses[case.status.value] += 1
        self.levels[case.level.value] += 1
        self.tiers[case.tier.value] += 1

    def fail(self, command: str, error: DomainError) -> None:
        """A refused command ends its story; it is counted, not raised, so one surprise does
        not throw away a long run."""
        key = f"{command}: {type(error).__name__}"
        self.errors[key] += 1
        self.first_errors.setdefault(key, str(error))


def run_demo(
    app: FengqiaoApplication,
    cases: int,
    seed: int,
    now: datetime,
    advance: Callable[[], None] = lambda: None,
) -> DemoReport:
    """Loads the sample units and staff, then tells ``cases`` case stories, none going past
    ``now``; only the units and staff not there yet are added.

    ``advance`` is called once per case (the progress bar)."""
    report = DemoReport(cases)
    report.units_added = app.add_units(OPERATOR, sample_units(), at=demo_epoch(now))
    staff = sample_staff(sample_units())
    report.staff_added = enrol_missing(app, OPERATOR, staff, demo_epoch(now))
    villages = [unit for unit in sample_units() if unit.tier is Tier.VILLAGE]
    rng = Random(seed)
    started = perf_counter()
    for index in range(cases):
        # Drawn whether or not the case exists, so each case's story never depends on others.
        story_rng = Random(rng.getrandbits(64))
        village = rng.choice(villages)
        story = CaseStory(app, demo_case_id(seed, index), story_rng, village, now, WINDOW)
        _tell(app, report, story)
        advance()
    report.seconds = perf_counter() - started
    return report


def _tell(app: FengqiaoApplication, report: DemoReport, story: CaseStory) -> None:
    try:
        existing = app.get_case(story.id)
    except CaseNotFoundError:
        pass
    else:
        report.existing += 1
        report.tally(existing)
        return
    try:
        story.tell()
    except DomainError as error:
        report.fail(story.command, error)
    if story.case is not None:
        report.created += 1
        report.events += story.case.version  # one version per event: a new case's event count
        report.tally(story.case)
