"""Shared fixtures: a fresh store per backend, a fixed clock, sample jurisdiction, actors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.actors import Actor, Role
from domain.application import FengqiaoApplication
from domain.samples import sample_units
from tests.backends import BACKENDS, store_env

# The HTTP API suites' fixtures (``client``, ``store``).
pytest_plugins = ["tests.api_support"]

# Monday 2026-09-28 10:00 in Shanghai: the week before 国庆 (Oct 1-7, 2026).
T0 = datetime(2026, 9, 28, 2, 0, tzinfo=UTC)

# Sample units (domain/samples.py): 犍为县 > 罗城镇（示例） > 石溪村（示例）, and neighbours.
COUNTY = "511123"
TOWNSHIP = "511123001"
VILLAGE = "511123001001"
NEIGHBOUR_VILLAGE = "511123001002"
OTHER_TOWNSHIP = "511123002"
OTHER_COUNTY = "511102"

ADMIN = Actor("admin-1", Role.ADMIN, "511100")
REPORTER = Actor("grid-worker-1", Role.REPORTER, VILLAGE)
MEDIATOR = Actor("mediator-1", Role.MEDIATOR, VILLAGE)
TOWNSHIP_MEDIATOR = Actor("mediator-2", Role.MEDIATOR, TOWNSHIP)
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


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def env(backend: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    with store_env(backend, tmp_path) as environment:
        yield environment


@pytest.fixture
def app(env: dict[str, str], clock: Clock) -> Iterator[FengqiaoApplication]:
    """An application on a fresh store with the sample jurisdiction loaded."""
    application = FengqiaoApplication(env=env, clock=clock)
    application.add_units(ADMIN, sample_units(), at=T0)
    try:
        yield application
    finally:
        application.close()
