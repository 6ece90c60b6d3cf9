"""A ledger (台账) of 100,000 cases: the workbook opens with openpyxl with one row per case, and
the exporting process's memory stays within 100 MiB of where it started.

The store is filled in one child process (cases built as aggregates and saved hundreds per
transaction, the ledger view brought up to date: benchmarks/ledger.py); ``fengqiao ledger``
runs in a fresh one that reports its resident memory before the export and its high-water
mark after. Slow (about a minute), but it runs in CI like everything else.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.ledger import count_rows, generate_in_child, ledger_in_child

CASES = 100_000
MEMORY_BUDGET_MIB = 100


@pytest.mark.slow
def test_a_ledger_of_100000_cases_opens_with_every_row_within_100_mib(tmp_path: Path) -> None:
    data = tmp_path / "data"
    events, _ = generate_in_child(data, CASES)
    assert events >= CASES

    out = tmp_path / "ledger.xlsx"
    run = ledger_in_child(data, out, "xlsx")
    assert run.status == 0
    assert run.start_kib > 0
    assert run.growth_mib < MEMORY_BUDGET_MIB, (
        f"peak {run.peak_kib / 1024:.0f} MiB, start {run.start_kib / 1024:.0f} MiB"
    )
    assert count_rows(out, "xlsx") == CASES
