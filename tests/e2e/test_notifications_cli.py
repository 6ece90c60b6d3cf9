"""``fengqiao notifications dead-letters`` and ``retry``: an operator sees what was given up on
and puts a notice back in its queue (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from api.cli.main import main
from api.notify.wiring import build_dispatcher
from api.wiring.bootstrap import OPERATOR, build_application
from api.wiring.settings import Settings
from api.wiring.views import build_views
from domain.actors import Role
from domain.case.commands import AssignCase
from domain.samples import sample_units
from tests.support.notify import (
    STAFF,
    VILLAGE,
    WEBHOOK_SECRET,
    Receiver,
    Story,
    actor,
    fresh_store,
    with_staff,
)
from tests.support.world import Clock


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_an_operator_lists_the_dead_letters_and_retries_one(
    backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with (
        Receiver() as webhook,
        fresh_store(
            backend,
            tmp_path,
            FENGQIAO_WEBHOOK_URL=webhook.url,
            FENGQIAO_WEBHOOK_SECRET=WEBHOOK_SECRET,
            FENGQIAO_NOTIFY_TIMEOUT="2",
        ) as env,
    ):
        settings = Settings.from_env(env)
        clock = Clock(datetime.now(UTC))
        app = build_application(settings, clock)
        views = build_views(settings, app)
        try:
            app.add_units(OPERATOR, sample_units())
            with_staff(app, STAFF)
            sending = build_dispatcher(settings, app, views, clock)
            story = Story(app, clock, views.deadlines, views.catch_up)
            case = story.register("case", VILLAGE)
            story.run(case, AssignCase(f"mediator-{VILLAGE}"), actor(Role.SUPERVISOR, VILLAGE))
            views.catch_up()
            webhook.mode = "reject"
            sending.run_once()
            [letter] = sending.deliveries.dead_letters()

            assert main(["notifications", "dead-letters"], environ=env) == 0
            listed = capsys.readouterr().out
            assert letter.notice.id in listed
            assert "webhook answered HTTP 400" in listed
            assert f"mediator-{VILLAGE}" in listed
            assert "dead 1" in listed

            assert main(["notifications", "retry", letter.notice.id], environ=env) == 0
            assert "back in its queue" in capsys.readouterr().out
            assert main(["notifications", "retry", letter.notice.id], environ=env) == 1
            assert "no dead letter" in capsys.readouterr().out

            webhook.mode = "ok"
            clock.now = datetime.now(UTC)  # retried as of the wall clock
            sending.run_once()
            delivered = [r.headers["x-fengqiao-delivery"] for r in webhook.acknowledged()]
            assert delivered == [letter.notice.id]
            assert sending.deliveries.dead_letters() == []
        finally:
            views.close()
            app.close()
