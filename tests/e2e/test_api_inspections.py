"""督查回访 over HTTP: a township's monthly draw by hand, reproducible from its recorded seed and
drawn once; the sampled cases' callback clocks firing at the exact instant; the inspector's
callback (once, by an inspector of the county or city above, never a mediator or another
county's inspector) sending a closed case back for rework; the timeline, the case and the
statistics saying so.

The cases are closed in August 2026; the draw is made at T0, Monday 2026-09-28 10:00 in
Shanghai, the week before 国庆 (Oct 1-7; Sat Oct 10 worked): ten working days on, the callbacks
are due at the end of Fri Oct 16 (16:00 UTC).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from api.http.runtime import Runtime
from tests.support import builders
from tests.support.api import (
    API,
    CITY,
    COUNTY,
    NEIGHBOUR_VILLAGE,
    OTHER_COUNTY,
    OTHER_TOWNSHIP,
    OTHER_TOWNSHIP_VILLAGE,
    TOWNSHIP,
    VILLAGE,
    Client,
    assert_problem,
    auth,
    events_recorded,
    ok,
    send,
)
from tests.support.sweeps import SECOND, sweep_at, timeline
from tests.support.world import T0, Clock

AUGUST_DAY = datetime(2026, 8, 12, 2, 0, tzinfo=UTC)  # Wed Aug 12, 10:00 in Shanghai
SEPTEMBER_DAY = datetime(2026, 9, 2, 2, 0, tzinfo=UTC)
CALLBACK_DUE = datetime(2026, 10, 16, 16, 0, tzinfo=UTC)
INSPECTOR = {"role": "inspector", "unit": COUNTY}
DRAW = {"township": TOWNSHIP, "month": "2026-08"}


def closed_cases(runtime: Runtime, clock: Clock, at: datetime, *villages: str) -> list[str]:
    """A case closed ``at`` in each of ``villages`` (registered, worked and closed by their
    mediators through the application)."""
    clock.now = at
    return [str(builders.drive(runtime.app, "closed", unit=v).id) for v in villages]


def draw(http: Client, body: dict[str, str], role: str = "inspector", unit: str = COUNTY) -> Any:
    return http.post(f"{API}/inspections/draws", json=body, headers=auth(role, unit))


def rederive(population: list[str], seed: str, size: int) -> list[str]:
    """The sample, derived by hand from the recorded draw as design.md says."""
    ranked = sorted(population, key=lambda c: hashlib.sha256(f"{seed}:{c}".encode()).hexdigest())
    return sorted(ranked[:size])


def callbacks_swept(runtime: Runtime, clock: Clock, when: datetime) -> list[tuple[str, str]]:
    """A sweep at ``when``: what it did to callback clocks (the closed cases' 司法确认 clocks
    come due too)."""
    return [acted for acted in sweep_at(runtime, clock, when) if acted[0] == "inspection"]


def inspect(http: Client, case_id: str, body: dict[str, Any], unit: str = COUNTY) -> Any:
    return send(http, case_id, "inspections", body, role="inspector", unit=unit)


def test_a_monthly_draw_is_reproducible_made_once_and_its_callbacks_come_due_on_time(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, runtime = client
    population = closed_cases(
        runtime, clock, AUGUST_DAY, VILLAGE, VILLAGE, NEIGHBOUR_VILLAGE, VILLAGE
    )
    elsewhere = closed_cases(runtime, clock, AUGUST_DAY, OTHER_TOWNSHIP_VILLAGE)
    later = closed_cases(runtime, clock, SEPTEMBER_DAY, VILLAGE)
    clock.now = T0

    made = ok(draw(http, DRAW), 201)

    assert made["new"] is True
    assert made["population"] == sorted(population)
    assert made["population_size"] == 4
    assert (made["percentage"], made["minimum"]) == (10, 3)
    assert len(made["sample"]) == 3  # 10 % of 4 is less than the minimum
    assert made["sample"] == rederive(made["population"], made["seed"], 3)
    assert made["verified"] is True
    assert made["rederived"] == made["sample"]
    assert not set(made["population"]) & {*elsewhere, *later}
    # a second draw of the same township-month changes nothing, whoever asks
    before = events_recorded(runtime)
    again = ok(draw(http, DRAW, "admin", CITY), 200)
    assert again["new"] is False
    assert (again["seed"], again["sample"], again["id"]) == (
        made["seed"],
        made["sample"],
        made["id"],
    )
    assert events_recorded(runtime) == before
    shown = ok(
        http.get(f"{API}/inspections/draws/{TOWNSHIP}/2026-08", headers=auth("auditor", COUNTY))
    )
    assert shown["verified"] is True
    assert shown["sample"] == made["sample"]

    listed = ok(http.get(f"{API}/inspections", headers=auth(**INSPECTOR)))
    assert [item["case"] for item in listed["items"]] == sorted(made["sample"])
    for item in listed["items"]:
        assert item["state"] == "pending"
        assert datetime.fromisoformat(item["due_at"]) == CALLBACK_DUE
        assert (item["township"], item["month"]) == (TOWNSHIP, "2026-08")
    sampled = ok(http.get(f"{API}/cases/{made['sample'][0]}", headers=auth("auditor", COUNTY)))
    assert sampled["status"] == "closed"
    assert datetime.fromisoformat(sampled["inspection"]["due_at"]) == CALLBACK_DUE
    assert sampled["inspection"]["recorded_at"] is None

    assert callbacks_swept(runtime, clock, CALLBACK_DUE - SECOND) == []
    fired = callbacks_swept(runtime, clock, CALLBACK_DUE)
    assert fired == [("inspection", "ClockFired")] * 3
    overdue = ok(http.get(f"{API}/inspections?state=overdue", headers=auth(**INSPECTOR)))
    assert len(overdue["items"]) == 3
    late = ok(http.get(f"{API}/cases/{made['sample'][0]}", headers=auth("auditor", COUNTY)))
    assert "inspection_overdue" in late["flags"]
    assert late["inspection"]["overdue"] is True


def test_the_inspectors_callback_sends_a_closed_case_back_and_the_statistics_count_it(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, runtime = client
    closed_cases(runtime, clock, AUGUST_DAY, VILLAGE, VILLAGE, NEIGHBOUR_VILLAGE)
    clock.now = T0
    on_time, reworked, missed = ok(draw(http, DRAW), 201)["sample"]

    clock.now = datetime(2026, 10, 9, 2, 0, tzinfo=UTC)
    satisfied = {"reached": True, "satisfied": True, "agreement_honoured": True, "remarks": "满意"}
    assert ok(inspect(http, on_time, satisfied))["status"] == "closed"
    assert len(callbacks_swept(runtime, clock, CALLBACK_DUE)) == 2
    clock.now = datetime(2026, 10, 19, 2, 0, tzinfo=UTC)  # Mon Oct 19, after the due time
    unhappy = {
        "reached": True,
        "satisfied": False,
        "agreement_honoured": False,
        "remarks": "被申请人未按协议赔偿",
        "rework": True,
    }
    case = ok(inspect(http, reworked, unhappy, unit=CITY))  # the city's inspectors too

    assert case["status"] == "reopened"
    assert "inspection_overdue" not in case["flags"]
    assert case["inspection"]["rework"] is True
    resolve = next(d for d in case["deadlines"] if d["kind"] == "resolve")
    # fifteen working days of rework from Mon Oct 19: the end of Mon Nov 9
    assert datetime.fromisoformat(resolve["due_at"]) == datetime(2026, 11, 9, 16, 0, tzinfo=UTC)
    again = assert_problem(inspect(http, reworked, satisfied), 409)
    assert again["detail"] == "案件当前为「重新办理中」，不能记录督查回访（督查回访已记录过）。"
    lines = [entry["text"] for entry in timeline(http, reworked)]
    assert any(
        text.startswith("督查抽查：511123001 2026-08 办结案件随机抽查选中本案") for text in lines
    )
    assert (
        "督查回访（期限 2026-10-17 00:00 北京时间）：已联系当事人，当事人是否满意：否，"
        "协议是否履行：否；退回重新办理"
    ) in lines
    assert "重新办理（督查回访退回）；理由：督查回访发现问题，退回重新办理" in lines
    file = ok(http.get(f"{API}/cases/{reworked}/file", headers=auth("auditor", COUNTY)))
    recorded = next(e for e in file["entries"] if e["type"] == "InspectionRecorded")
    assert recorded["fields"]["remarks"] == "被申请人未按协议赔偿"
    assert recorded["role"] == "inspector"

    states = {
        item["case"]: item["state"]
        for item in ok(http.get(f"{API}/inspections", headers=auth(**INSPECTOR)))["items"]
    }
    assert states == {on_time: "done", reworked: "done_late", missed: "overdue"}
    assert runtime.views.wait(events_recorded(runtime), 5.0)
    october = ok(
        http.get(
            f"{API}/stats/{TOWNSHIP}?from=2026-10-01&to=2026-10-31",
            headers=auth("supervisor", COUNTY),
        )
    )
    assert (october["inspections_due"], october["inspections_on_time"]) == (3, 1)
    assert october["inspections_overdue"] == 2
    assert (october["inspections_recorded"], october["inspections_reached"]) == (2, 2)
    assert october["inspection_satisfaction_rate"] == 0.5
    assert october["reopened_by_inspection"] == 1
    assert october["follow_up_satisfaction_rate"] is None  # no follow-up in October
    august = ok(
        http.get(
            f"{API}/stats/{TOWNSHIP}?from=2026-08-01&to=2026-08-31",
            headers=auth("supervisor", COUNTY),
        )
    )
    assert august["follow_up_satisfaction_rate"] == 1.0
    assert august["inspections_due"] == 0


def test_who_may_inspect_and_draw(client: tuple[Client, Runtime], clock: Clock) -> None:
    http, runtime = client
    (case_id,) = closed_cases(runtime, clock, AUGUST_DAY, VILLAGE)
    (not_sampled,) = closed_cases(runtime, clock, SEPTEMBER_DAY, VILLAGE)
    clock.now = T0
    assert ok(draw(http, DRAW), 201)["sample"] == [case_id]
    body = {"reached": True, "satisfied": True}

    assert_problem(send(http, case_id, "inspections", body, role="mediator", unit=VILLAGE), 403)
    assert_problem(send(http, case_id, "inspections", body, role="supervisor", unit=COUNTY), 403)
    assert_problem(inspect(http, case_id, body, unit=OTHER_COUNTY), 403)  # another county's
    assert_problem(inspect(http, case_id, body, unit=TOWNSHIP), 403)  # not an inspector's seat
    refused = assert_problem(inspect(http, not_sampled, body), 409)
    assert refused["detail"] == "案件当前为「已办结」，不能记录督查回访（本案未被督查抽查选中）。"
    invalid = assert_problem(inspect(http, case_id, {"reached": True}), 422)
    assert invalid["field"] == "satisfied"

    assert_problem(draw(http, DRAW, "mediator", COUNTY), 403)
    assert_problem(draw(http, DRAW, "inspector", OTHER_COUNTY), 403)
    assert_problem(draw(http, {"township": OTHER_TOWNSHIP, "month": "2026-09"}), 422)  # not over
    unfinished = assert_problem(draw(http, {"township": TOWNSHIP, "month": "2026-09"}), 422)
    assert unfinished["field"] == "month"
    assert_problem(draw(http, {"township": VILLAGE, "month": "2026-08"}), 422)
    assert_problem(http.get(f"{API}/inspections", headers=auth("mediator", COUNTY)), 403)
    assert_problem(
        http.get(
            f"{API}/inspections?unit={COUNTY}", headers=auth(**{**INSPECTOR, "unit": OTHER_COUNTY})
        ),
        403,
    )
    missing = http.get(f"{API}/inspections/draws/{TOWNSHIP}/2026-07", headers=auth(**INSPECTOR))
    assert_problem(missing, 404)

    assert ok(inspect(http, case_id, body))["inspection"]["reached"] is True
    assert clock.now - T0 < timedelta(days=1)
