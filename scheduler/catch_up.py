"""Bringing one view up to the log's head before a watch reads it (``scheduler.service.Watch``).

A watch acts on what its view says is due, so the view must hold everything recorded before
the sweep: a clue recorded a moment ago is due too. Where followers keep the views (the API
process) the sweep waits for the view's follower; where none runs (``fengqiao sweep --once``,
a test's sweep) it applies what is missing itself — waiting there would only wait out the
timeout, since nobody else moves the view.
"""

from __future__ import annotations

from collections.abc import Callable

from projections.viewset import ViewSet

CATCH_UP_SECONDS = 2.0  # a follower that takes longer is read as it stands


def refresher(views: ViewSet, name: str) -> Callable[[], None]:
    """Brings the view ``name`` up to the log's head (``ViewSet.bring_up``): waits for its
    follower where one runs, else applies what is missing itself."""

    def refresh() -> None:
        views.bring_up(name, CATCH_UP_SECONDS)

    return refresh
