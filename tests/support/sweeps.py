"""What the clock-driven HTTP suites share: a sweep of the scheduler at a chosen instant, and
the reads that show what it did (a case's clocks, its queue card, its timeline)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from api.http.runtime import Runtime
from scheduler.sweep import Sweeper
from tests.support.api import API, COUNTY, Client, auth, events_recorded, ok
from tests.support.world import Clock

SECOND = timedelta(seconds=1)


def sweep_at(runtime: Runtime, clock: Clock, when: datetime) -> list[tuple[str, str]]:
    """Moves the clock to ``when`` and sweeps once, the deadlines view caught up first:
    what was acted on, as (clock kind, events recorded)."""
    clock.now = when
    assert runtime.views.wait(events_recorded(runtime), 5.0)
    report = Sweeper(runtime.app, runtime.views.deadlines, clock).sweep()
    assert report.refused == []
    assert runtime.views.wait(events_recorded(runtime), 5.0)
    return [(d.kind, events) for d, events in report.acted]


def queue_card(http: Client, case_id: str, unit: str) -> dict[str, Any]:
    queue = ok(http.get(f"{API}/queues/{unit}", headers=auth("supervisor", unit)))
    return next(item for item in queue["items"] if item["id"] == case_id)


def due(case: dict[str, Any], kind: str) -> datetime:
    return next(datetime.fromisoformat(d["due_at"]) for d in case["deadlines"] if d["kind"] == kind)


def timeline(http: Client, case_id: str) -> list[dict[str, Any]]:
    return list(ok(http.get(f"{API}/cases/{case_id}/history", headers=auth("auditor", COUNTY))))
