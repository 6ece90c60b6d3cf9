"""Everything one API process holds: the application, the views, idempotency keys, a clock.

Built once by ``build_runtime`` (the composition root) and handed to ``create_app``; tests build
their own with an injected clock and store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from api.bootstrap import build_application
from api.idempotency import IdempotencyStore
from api.settings import Settings
from api.views import build_views, split_schema
from domain.application import FengqiaoApplication
from projections.db import PostgresViews, SqliteViews
from projections.viewset import ViewSet

READ_YOUR_WRITES_TIMEOUT = 2.0


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    app: FengqiaoApplication
    views: ViewSet
    idempotency: IdempotencyStore
    secret: str
    clock: Callable[[], datetime] = field(default=_utc_now)
    follow: bool = True  # run the view followers in this process
    subscribe: bool = False  # follow with PostgreSQL LISTEN/NOTIFY

    def start(self) -> None:
        if self.follow:
            self.views.follow(self.subscribe)

    def stop(self) -> None:
        self.views.close()
        self.idempotency.db.close()
        self.app.close()

    def saw(self, position: int | None) -> None:
        """Read your writes: wait (briefly) until every view has applied ``position``."""
        self.views.poke()
        self.views.wait(position, READ_YOUR_WRITES_TIMEOUT)


def build_runtime(
    settings: Settings, secret: str, clock: Callable[[], datetime] | None = None
) -> Runtime:
    app = build_application(settings, clock=clock)
    views = build_views(settings, app)
    if settings.database_url is None:
        keys = IdempotencyStore(SqliteViews(settings.data_dir / "idempotency.sqlite3"))
    else:
        conninfo, schema = split_schema(settings.database_url)
        keys = IdempotencyStore(PostgresViews(conninfo, schema, "api"))
    return Runtime(
        app=app,
        views=views,
        idempotency=keys,
        secret=secret,
        clock=clock or _utc_now,
        subscribe=settings.database_url is not None,
    )
