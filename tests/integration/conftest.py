"""The integration layer's shared fixture: the read models over the test's store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.application import FengqiaoApplication
from projections.viewset import ViewSet
from tests.support.views import build_views


@pytest.fixture
def views(
    app: FengqiaoApplication, env: dict[str, str], backend: str, tmp_path: Path
) -> Iterator[ViewSet]:
    """The views (SQLite files or PostgreSQL tables) of ``app``'s store; in-memory skips."""
    viewset = build_views(app, env, backend, tmp_path)
    try:
        yield viewset
    finally:
        viewset.close()
