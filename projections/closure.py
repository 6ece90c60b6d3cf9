"""The jurisdiction tree as a closure table (ancestor, descendant, depth).

"A unit's subtree" then becomes one indexed join, however deep the tree, for queues, lists
and statistics alike. Each view that filters by subtree keeps its own copy.
"""

from __future__ import annotations

from typing import Any

from projections.db import Cursor


def closure_ddl(table: str) -> list[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS {table} (ancestor TEXT NOT NULL, descendant TEXT NOT NULL, "
        "depth INTEGER NOT NULL, PRIMARY KEY (ancestor, descendant))",
    ]


def add_unit(cursor: Cursor, table: str, event: Any) -> None:
    """Links a new unit to itself and to every ancestor of its parent."""
    cursor.execute(
        f"INSERT INTO {table} (ancestor, descendant, depth) VALUES (?, ?, 0) "
        "ON CONFLICT (ancestor, descendant) DO NOTHING",
        (event.code, event.code),
    )
    if event.parent is None:
        return
    cursor.execute(
        f"INSERT INTO {table} (ancestor, descendant, depth) "
        f"SELECT ancestor, ?, depth + 1 FROM {table} WHERE descendant = ? "
        "ON CONFLICT (ancestor, descendant) DO NOTHING",
        (event.code, event.parent),
    )
