"""The scheduler's batch runs each case's new clocks in the mode in force where the case is
located, and reads the modes once for the whole batch (not once per case)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.application import FengqiaoApplication
from domain.clocks import DeadlineKind
from domain.policy import Mode
from domain.recorded import Recorded
from tests.support.builders import register
from tests.support.world import ADMIN, COUNTY, SUPERVISOR, T0, TOWNSHIP

OTHER_COUNTY_VILLAGE = "511102001001"


def test_a_batch_resolves_the_mode_per_case_from_one_read(
    app: FengqiaoApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = register(app, at=T0)
    there = register(app, at=T0, unit=OTHER_COUNTY_VILLAGE)
    app.switch_mode(SUPERVISOR, Mode.EMERGENCY, "汛期", at=T0, unit=COUNTY)
    due = [
        (case.id, DeadlineKind.RESOLVE, case.deadlines["resolve"].due_at) for case in (here, there)
    ]
    at = max(when for _, _, when in due)

    reads = 0
    load = app._operations

    def counted() -> object:
        nonlocal reads
        reads += 1
        return load()

    monkeypatch.setattr(app, "_operations", counted)
    outcomes = app.act_on_deadlines(ADMIN, due, at)
    assert reads == 1
    assert all(isinstance(o, Recorded) and "Escalated" in o.events for o in outcomes)

    escalated_here, escalated_there = app.get_case(here.id), app.get_case(there.id)
    assert escalated_here.owner == TOWNSHIP
    sign_here, sign_there = escalated_here.deadlines["sign"], escalated_there.deadlines["sign"]
    # orange at a township signs within 4 h: halved in the county in emergency, not next door
    assert (sign_here.due_at - at, sign_here.mode) == (timedelta(hours=2), "emergency")
    assert (sign_there.due_at - at, sign_there.mode) == (timedelta(hours=4), "normal")
