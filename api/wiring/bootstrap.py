"""Builds the application from settings: the one place that wires store, policy and clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from api.wiring.settings import Settings
from domain.actors import Actor, Role
from domain.application import FengqiaoApplication
from projections import store_breaker

OPERATOR = Actor("fengqiao-operator", Role.ADMIN, "")


def build_application(
    settings: Settings, clock: Callable[[], datetime] | None = None
) -> FengqiaoApplication:
    """An application on the configured store, with the configured policy adopted."""
    app = FengqiaoApplication(
        env=settings.application_env(), clock=clock or (lambda: datetime.now(UTC))
    )
    if settings.database_url:
        store_breaker.install(app.factory.datastore)  # type: ignore[attr-defined]
    app.adopt_policy(OPERATOR, settings.load_policy())
    return app
