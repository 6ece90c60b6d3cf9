"""Statistics per unit subtree and period (DESIGN §5). Placeholder: being written."""

from __future__ import annotations

from projections.db import Cursor
from projections.engine import Batch, View


class StatisticsView(View):
    name = "statistics"

    def create_statements(self) -> list[str]:
        return []

    def table_names(self) -> list[str]:
        return []

    def process(self, cursor: Cursor, batch: Batch) -> None:
        return None
