"""A large export streams: 200,000 events out of a SQLite store with the exporting process's
memory within 100 MiB of where it started, and a file that verifies record for record.

The store is filled in one child process (cases built as aggregates and saved hundreds per
transaction, views brought up to date: benchmarks/export.py); `fengqiao export` runs in a
fresh one that reports its resident memory before the export and its high-water mark after.
Slow (about a minute), but it runs in CI like everything else.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.export import export_in_child, generate_in_child
from projections.audit_trail import verify

EVENTS = 200_000
MEMORY_BUDGET_MIB = 100


@pytest.mark.slow
def test_an_export_of_200000_events_stays_within_100_mib_and_verifies(tmp_path: Path) -> None:
    data = tmp_path / "data"
    stored = generate_in_child(data, EVENTS)
    assert stored >= EVENTS

    out = tmp_path / "export.jsonl"
    run = export_in_child(data, out, "jsonl")
    assert run.status == 0
    assert run.start_kib > 0
    assert run.growth_mib < MEMORY_BUDGET_MIB, (
        f"peak {run.peak_kib / 1024:.0f} MiB, start {run.start_kib / 1024:.0f} MiB"
    )

    verdict = verify(out)
    assert verdict.ok, verdict.message
    assert verdict.count == stored + 1  # every event, and the export's own access record
    assert verdict.count >= EVENTS
