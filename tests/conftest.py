"""Shared fixtures: a fresh store per backend, a fixed clock and the sample jurisdiction.

The world they act in (units, actors, T0) is ``tests/support/world.py``. Each test is marked by
its layer's folder: ``pytest -m unit`` runs the store-free tests alone, in seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.application import FengqiaoApplication
from domain.samples import sample_units
from tests.support.backends import BACKENDS, store_env
from tests.support.staff import enrol_test_staff
from tests.support.world import ADMIN, T0, Clock

# The HTTP API suites' fixtures (``client``, ``store``).
pytest_plugins = ["tests.support.api"]
LAYERS = ("unit", "integration", "e2e")
TESTS = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks each test with the layer its folder names."""
    for item in items:
        parts = item.path.relative_to(TESTS).parts
        if parts[0] in LAYERS:
            item.add_marker(parts[0])


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
    enrol_test_staff(application)  # cases are assigned to active mediators of their owner
    try:
        yield application
    finally:
        application.close()
