"""Bringing one view up to the log's head before a watch reads it (``scheduler.service.Watch``).

A watch acts on what its view says is due, so the view must hold everything recorded before
the sweep: a clue recorded a moment ago is due too. Where followers keep the views (the API
process) the sweep waits for the view's follower; where none runs (``fengqiao sweep --once``,
a test's sweep) it applies what is missing itself — waiting there would only wait out the
timeout, since nobody else moves the view.
"""

from __future__ import annotations

from collections.abc import Callable

from domain.application import FengqiaoApplication
from projections.viewset import ViewSet

CATCH_UP_SECONDS = 2.0  # a follower that takes longer is read as it stands


def refresher(app: FengqiaoApplication, views: ViewSet, name: str) -> Callable[[], None]:
    """Brings the view ``name`` up to the log's head: waits for its follower where one runs,
    else applies what is missing itself."""

    def refresh() -> None:
        head = app.recorder.max_notification_id() or 0
        if views.followers:
            views.wait(head, CATCH_UP_SECONDS, (name,))
        else:
            views.runners[name].catch_up()

    return refresh
