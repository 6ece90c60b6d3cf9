"""``fengqiao views status``: each view's position against the log head, and whether it has
stopped (where and why), exiting 1 when one has so that a script or a monitor can act on it.

The view is stopped the way production stops one: a process following the views meets a record
it cannot decode (written straight into the event store), and the command, a process of its own,
reads what that process recorded.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from eventsourcing.utils import TopicError

from api.cli.main import main
from api.wiring.settings import Settings, new_cipher_key, new_signing_key
from api.wiring.views import build_views
from domain.application import FengqiaoApplication
from projections.viewset import VIEW_CLASSES
from tests.support import backends
from tests.support.server import environment, fengqiao
from tests.support.undecodable import RETIRED_TOPIC, write_undecodable


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a deployment with the sample units loaded and the views caught up."""
    env = environment(tmp_path / "data")
    if request.param == "sqlite":
        yield _loaded(env)
        return
    with backends.postgres_schema() as schema:
        env["FENGQIAO_DATABASE_URL"] = f"{backends.test_database_url()}?schema={schema}"
        env["FENGQIAO_CIPHER_KEY"] = new_cipher_key()
        env["FENGQIAO_SIGNING_KEY"] = new_signing_key()
        yield _loaded(env)


def _loaded(env: dict[str, str]) -> dict[str, str]:
    assert main(["demo", "--cases", "0"], environ=env) == 0
    return env


def views_status(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The real command in a process of its own, as a monitoring script runs it."""
    return subprocess.run(
        [*fengqiao(), "views", "status"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def stop_the_cases_view(env: dict[str, str]) -> int:
    """Follows the log as the views' process does until the cases view stops at a record it
    cannot decode; that record's position."""
    settings = Settings.from_env(env)
    app = FengqiaoApplication(env=settings.event_store_env())
    try:
        bad = write_undecodable(app)
        views = build_views(settings, app)
        try:
            with pytest.raises(TopicError):
                views.runners["cases"].catch_up()
        finally:
            views.close()
    finally:
        app.close()
    return bad


def row(out: str, *cells: object) -> bool:
    """Whether the printed table has a row with these cells, in order."""
    pattern = r"[\s│|]+".join(re.escape(str(cell)) for cell in cells)
    return re.search(pattern, out) is not None


def test_views_status_shows_every_view_caught_up_and_exits_0(
    deployment: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["views", "status"], environ=deployment) == 0
    out = capsys.readouterr().out
    for name in VIEW_CLASSES:
        assert re.search(rf"{name}\b.*\b0[\s│|]+ok", out), out
    assert "stopped" not in out

    done = views_status(deployment)
    assert done.returncode == 0, done.stdout + done.stderr


def test_views_status_names_a_stopped_view_where_and_why_and_exits_1(
    deployment: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    bad = stop_the_cases_view(deployment)

    done = views_status(deployment)

    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert row(out, "cases", f"{bad - 1:,}", f"{bad:,}", 1, "stopped"), out
    assert f"cases stopped at position {bad}: TopicError: " in out
    assert RETIRED_TOPIC in out
    assert "fengqiao rebuild cases" in out
    for name in ("deadlines", "statistics", "history"):  # behind, not stopped: not followed here
        assert row(out, name, f"{bad - 1:,}", f"{bad:,}", 1, "ok"), out


def test_views_status_says_so_when_the_store_cannot_be_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 2, not 1: a script must not take an unreadable store for a stopped view."""
    data = tmp_path / "data"
    (data / "events.sqlite3").mkdir(parents=True)  # where the event store's file should be

    assert main(["views", "status"], environ={"FENGQIAO_DATA_DIR": str(data)}) == 2
    assert "cannot read the sqlite store" in capsys.readouterr().err
