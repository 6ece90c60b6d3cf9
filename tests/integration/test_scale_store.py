"""The province-scale benchmark's store (benchmarks/scale.py) is a store the product could have
written: every case replays, numbers are unique per county, kind and year and match the year
of registration, the earlier copies ask nothing of anyone, times go back by whole copies, and a
registration after it takes its county's next number (its counter snapshotted, as live ones are).

A small template (40 stories) laid down to 100 cases, on SQLite with production's cipher.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from api.wiring.settings import encryption_env, new_cipher_key
from benchmarks.scale import Template, write
from benchmarks.views import generate
from domain.actors import Actor, Role
from domain.application import FengqiaoApplication
from domain.calendar import SHANGHAI
from domain.case import Registration
from domain.case._state import CaseState
from domain.numbering import counter_id
from domain.status import OPEN, Channel

NOW = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
NUMBER = re.compile(r"^（(\d{4})）(.+)第(\d{4})号$")
VILLAGE = "511123001001"


def _cases(app: FengqiaoApplication) -> dict[UUID, CaseState.Registered]:
    registered: dict[UUID, CaseState.Registered] = {}
    start = 1
    while batch := app.recorder.select_notifications(start=start, limit=1000):
        for stored in batch:
            event: Any = app.mapper.to_domain_event(stored)
            if isinstance(event, CaseState.Registered):
                registered[event.originator_id] = event
            assert event.timestamp <= NOW
        start = batch[-1].id + 1
    return registered


def test_a_scale_store_replays_numbers_uniquely_and_numbers_on(tmp_path: Path) -> None:
    template = Template.told(generate(40, NOW))
    copies = template.copies_for(100)
    assert copies > 2
    app = FengqiaoApplication(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(tmp_path / "events.sqlite3"),
            **encryption_env(new_cipher_key()),
        }
    )
    try:
        events, _ = write(template, copies, 100, [app])
        registered = _cases(app)
        assert len(registered) == 100
        assert events == app.recorder.max_notification_id()

        numbers = Counter(event.number for event in registered.values())
        assert max(numbers.values()) == 1, numbers.most_common(3)
        for event in registered.values():
            match = NUMBER.match(event.number)
            assert match, event.number
            assert int(match[1]) == event.timestamp.astimezone(SHANGHAI).year

        for event in registered.values():  # snapshotted, as a live store's counters are
            kind = "dispute" if "调字" in event.number else "incident"
            year = event.timestamp.astimezone(SHANGHAI).year
            assert app.snapshots is not None
            assert list(app.snapshots.get(counter_id(event.unit[:6], kind, year)))

        copied = [case_id for case_id in registered if case_id not in template.cases]
        assert copied
        for case_id in copied:
            case = app.get_case(case_id)  # replays from the stored (encrypted) events
            assert case.status not in OPEN
            assert not case.deadlines
        first = min(event.timestamp for event in registered.values())
        assert NOW - first >= template.spacing() * (copies - 1)

        reporter = Actor("bench", Role.REPORTER, VILLAGE)
        details = Registration("邻里纠纷", "after the bulk load", VILLAGE, Channel.HOTLINE)
        recorded = app.register(reporter, "dispute", details, at=NOW)
        match = NUMBER.match(recorded.case.number)
        assert match
        same_counter = [
            int(m[3])
            for event in registered.values()
            if event.unit[:6] == VILLAGE[:6]
            and (m := NUMBER.match(event.number))
            and m[1] == match[1]
            and "调字" in event.number
        ]
        assert int(match[3]) == max(same_counter, default=0) + 1
    finally:
        app.close()
