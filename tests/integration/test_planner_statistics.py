"""A long catch-up (a rebuild, a first start over an existing log) ends with fresh planner
statistics for the views' tables on PostgreSQL, so the first reads after it plan from what the
tables hold rather than from guesses: where autovacuum is off or has not come round yet, a
county's townships at 1,000,000 cases took 118 ms to count instead of 9. SQLite plans the same
without them (``SqliteViews.analyze`` does nothing), so only PostgreSQL has something to show.
"""

from __future__ import annotations

import psycopg
import pytest

from domain.application import FengqiaoApplication
from projections.viewset import ViewSet
from tests.support.backends import test_database_url as database_url
from tests.support.builders import register
from tests.support.world import T0

pytestmark = pytest.mark.usefixtures("postgres_only")


@pytest.fixture
def postgres_only(backend: str) -> None:
    if backend != "postgres":
        pytest.skip("only PostgreSQL keeps planner statistics that a bulk load leaves stale")


def _analyzed(views: ViewSet, name: str) -> dict[str, bool]:
    """Whether each of the view's tables has been analyzed since it was created."""
    db = views.views[name].db
    tables = [f"{name}_{table}" for table in views.views[name].table_names()]
    with psycopg.connect(database_url()) as conn:
        rows = conn.execute(
            "SELECT relname, last_analyze IS NOT NULL FROM pg_stat_user_tables "
            "WHERE schemaname = %s AND relname = ANY(%s)",
            (getattr(db, "schema", ""), tables),
        ).fetchall()
    return {str(relname): bool(done) for relname, done in rows}


def _three_cases(app: FengqiaoApplication) -> None:
    for hours in range(3):
        register(app, at=T0.replace(hour=hours + 1))


@pytest.mark.parametrize(("threshold", "analyzed"), [(5, True), (10_000, False)])
def test_a_rebuild_analyzes_the_view_s_tables_past_the_threshold_only(
    app: FengqiaoApplication,
    views: ViewSet,
    monkeypatch: pytest.MonkeyPatch,
    threshold: int,
    analyzed: bool,
) -> None:
    _three_cases(app)  # three registrations and their numbers: more than 5 records
    monkeypatch.setattr("projections.fanout.ANALYZE_AFTER", threshold)
    views.rebuild(["statistics"])
    tables = _analyzed(views, "statistics")
    assert len(tables) == len(views.statistics.table_names())
    assert set(tables.values()) == {analyzed}, tables


def test_a_single_view_catching_up_past_the_threshold_analyzes_too(
    app: FengqiaoApplication, views: ViewSet
) -> None:
    _three_cases(app)
    runner = views.runners["cases"]
    runner.drop()
    runner.setup()
    runner.analyze_after = 3
    assert runner.catch_up() >= 3
    assert all(_analyzed(views, "cases").values())
