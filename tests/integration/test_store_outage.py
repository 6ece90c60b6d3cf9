"""After PostgreSQL drops every connection (a restart, a failover), the next command and the
next read just work: pooled connections are checked before use instead of being handed out
dead, one error each."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from api.wiring.settings import postgres_env
from domain.application import FengqiaoApplication
from domain.case.commands import AddNote
from domain.samples import sample_units
from projections.queue import get_queue
from projections.viewset import ViewSet
from tests.support.backends import postgres_schema
from tests.support.backends import test_database_url as database_url
from tests.support.builders import register
from tests.support.world import ADMIN, MEDIATOR, T0, VILLAGE, Clock

pytestmark = pytest.mark.postgres


@pytest.fixture
def deployment() -> Iterator[tuple[FengqiaoApplication, ViewSet]]:
    with postgres_schema() as schema:
        env = postgres_env(f"{database_url()}?schema={schema}")
        app = FengqiaoApplication(env=env, clock=Clock())
        app.add_units(ADMIN, sample_units(), at=T0)
        views = ViewSet.postgres(app, database_url(), schema)
        try:
            yield app, views
        finally:
            views.close()
            app.close()


def drop_every_other_connection() -> int:
    """What a server restart does to the clients' pooled connections."""
    with psycopg.connect(database_url(), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'"
        ).fetchall()
    return len(rows)


def test_commands_and_reads_go_on_after_the_server_drops_every_connection(
    deployment: tuple[FengqiaoApplication, ViewSet],
) -> None:
    app, views = deployment
    case = register(app, at=T0)
    views.catch_up()
    assert [item.id for item in get_queue(views.cases, VILLAGE, T0)] == [case.id]

    assert drop_every_other_connection() > 0

    noted = app.execute(case.id, AddNote("服务器重启后补记"), MEDIATOR, at=T0)
    views.catch_up()
    [item] = get_queue(views.cases, VILLAGE, T0)
    assert item.version == noted.case.version
