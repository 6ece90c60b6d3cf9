"""One world for every test: the sample jurisdiction, the people acting in it and the time.

Sample units (``domain.samples``): 犍为县 > 罗城镇（示例） > 石溪村（示例）, and neighbours.
T0 is Monday 2026-09-28 10:00 in Shanghai, the week before 国庆 (Oct 1-7, 2026).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.actors import Actor, Role

T0 = datetime(2026, 9, 28, 2, 0, tzinfo=UTC)

CITY = "511100"
COUNTY = "511123"
TOWNSHIP = "511123001"
VILLAGE = "511123001001"
NEIGHBOUR_VILLAGE = "511123001002"
OTHER_TOWNSHIP = "511123002"
OTHER_COUNTY = "511102"

ADMIN = Actor("admin-1", Role.ADMIN, CITY)
REPORTER = Actor("grid-worker-1", Role.REPORTER, VILLAGE)
MEDIATOR = Actor("mediator-1", Role.MEDIATOR, VILLAGE)
TOWNSHIP_MEDIATOR = Actor("mediator-2", Role.MEDIATOR, TOWNSHIP)
TOWNSHIP_SUPERVISOR = Actor("supervisor-2", Role.SUPERVISOR, TOWNSHIP)
SUPERVISOR = Actor("supervisor-1", Role.SUPERVISOR, COUNTY)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now
