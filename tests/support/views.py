"""Building the views for a test's store, and dumping them for comparison."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from domain.application import FengqiaoApplication
from projections.engine import View
from projections.viewset import ViewSet
from tests.support.backends import test_database_url


def build_views(
    app: FengqiaoApplication, env: dict[str, str], backend: str, tmp_path: Path
) -> ViewSet:
    if backend == "memory":
        pytest.skip("views live in SQLite or PostgreSQL")
    if backend == "sqlite":
        return ViewSet.sqlite(app, tmp_path / "views")
    return ViewSet.postgres(app, test_database_url(), env["POSTGRES_SCHEMA"])


def dump(view: View) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the view, sorted: equal dumps mean equal views."""
    tables = {}
    with view.db.transaction(write=False) as cursor:
        for table in view.table_names():
            cursor.execute(f"SELECT * FROM {view.t(table)}")
            tables[table] = sorted(cursor.fetchall(), key=repr)
    return tables


def failure_range(text: str) -> tuple[int, int, str]:
    """(first, last, error) of a stopped view's failure as ``/ready`` and ``failures()`` name
    it: ``position 7: …`` or ``positions 6-7: …`` (a registration's batch also holds the
    events of its number)."""
    found = re.fullmatch(r"positions? (\d+)(?:-(\d+))?: (.*)", text, re.DOTALL)
    assert found is not None, text
    first = int(found.group(1))
    return first, int(found.group(2) or first), found.group(3)


def stopped_at(text: str, position: int, error: str) -> bool:
    """Whether a failure names a batch holding ``position``, stopped by ``error``."""
    first, last, raised = failure_range(text)
    return first <= position <= last and raised == error
