"""A view whose tables were built by a release with another shape is dropped and rebuilt from
the log when this release starts, on SQLite and PostgreSQL: never read with columns missing."""

from __future__ import annotations

import pytest

from domain.application import FengqiaoApplication
from projections.viewset import ViewSet
from tests.support.builders import register
from tests.support.views import dump


def older_release(views: ViewSet, name: str, version: int | None) -> None:
    """As an earlier release left the view: built at ``version`` (None: before versions were
    recorded at all)."""
    view = views.views[name]
    with view.db.transaction() as cursor:
        if version is None:
            cursor.execute(f"DELETE FROM {view.t('schema_version')} WHERE view = ?", (name,))
        else:
            cursor.execute(
                f"UPDATE {view.t('schema_version')} SET version = ? WHERE view = ?",
                (version, name),
            )


@pytest.mark.parametrize("stored", [1, None])
def test_a_view_of_an_older_shape_is_rebuilt_at_start(
    app: FengqiaoApplication, views: ViewSet, stored: int | None
) -> None:
    for _ in range(3):
        register(app)
    views.catch_up()
    runner = views.runners["cases"]
    built = dump(views.cases)
    head = runner.read_position()
    assert views.cases.schema_version == 8

    older_release(views, "cases", stored)
    runner.setup()  # what starting this release does
    assert runner.read_position() == 0
    assert dump(views.cases) == {table: [] for table in built}
    runner.catch_up()
    assert runner.read_position() == head
    assert dump(views.cases) == built


def test_a_view_of_the_current_shape_is_left_alone(
    app: FengqiaoApplication, views: ViewSet
) -> None:
    register(app)
    views.catch_up()
    runner = views.runners["cases"]
    position = runner.read_position()
    runner.setup()
    assert runner.read_position() == position
