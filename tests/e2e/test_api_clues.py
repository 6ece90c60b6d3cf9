"""线索研判 over HTTP, on SQLite and PostgreSQL: a grid worker's clue promoted into a case by
the village's mediator (the case links back, takes the clue's text as its first note, and the
clue shows promoted with the case number); another dismissed with a reason; the triage clock
(one working day, over 国庆) firing at the exact instant, once; refusals that store nothing;
and the clues view rebuilt equal to the live one.

T0 is Monday 2026-09-28 10:00 in Shanghai: one working day on is the end of Tuesday.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from api.http.runtime import Runtime, watches
from domain.calendar import SHANGHAI
from scheduler.clues import TriageWatch
from tests.support.api import (
    API,
    COUNTY,
    ID_NUMBER,
    OTHER_TOWNSHIP_VILLAGE,
    PHONE,
    TOWNSHIP,
    VILLAGE,
    Client,
    assert_problem,
    auth,
    events_recorded,
    ok,
    party,
)
from tests.support.world import T0, Clock

MICROSECOND = timedelta(microseconds=1)
END_OF_TUESDAY = datetime(2026, 9, 30, 0, 0, tzinfo=SHANGHAI)
WEDNESDAY_BEFORE_HOLIDAY = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)  # 10:00 Sep 30
END_OF_FIRST_DAY_AFTER_HOLIDAY = datetime(2026, 10, 9, 0, 0, tzinfo=SHANGHAI)
SUMMARY = "石溪村三组两户因宅基地界桩反复争吵，已有推搡"


def clue(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "unit": VILLAGE,
        "category": "房屋宅基地",
        "summary": SUMMARY,
        "source": "grid",
        "parties": [party(), party(name="李四", role="respondent", address=None)],
    }
    body.update(overrides)
    return body


def record(
    http: Client, body: dict[str, Any] | None = None, role: str = "reporter", unit: str = VILLAGE
) -> Any:
    return http.post(f"{API}/clues", json=body or clue(), headers=auth(role, unit))


def queue(http: Client, unit: str = TOWNSHIP, **params: str) -> list[dict[str, Any]]:
    answer = ok(http.get(f"{API}/clues", params={"unit": unit, **params}, headers=auth(
        "supervisor", unit
    )))  # fmt: skip
    return list(answer["items"])


def triage(
    http: Client, clue_id: str, what: str, body: dict[str, Any], role: str = "mediator"
) -> Any:
    return http.post(f"{API}/clues/{clue_id}/{what}", json=body, headers=auth(role, VILLAGE))


def sweep_clues(runtime: Runtime, clock: Clock, when: datetime) -> list[str]:
    """The scheduler's triage watch at ``when``: the clues it flagged."""
    clock.now = when
    (watch,) = [w for w in watches(runtime.app, runtime.views, clock) if isinstance(w, TriageWatch)]
    report: Any = watch.sweep(when)
    assert report.refused == []
    assert runtime.views.wait(events_recorded(runtime), 5.0)
    return list(report.flagged)


def test_a_clue_promoted_into_a_case_and_another_dismissed(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, runtime = client
    recorded = ok(record(http), 201)
    assert recorded["status"] == "open"
    assert recorded["category"] == "房屋宅基地"
    assert datetime.fromisoformat(recorded["triage_due_at"]) == END_OF_TUESDAY
    assert recorded["parties"][0]["id_number"] == "511***********1234"  # masked, like a case's
    assert recorded["parties"][0]["phone"] != PHONE
    clock.advance(minutes=5)
    other = ok(
        record(http, clue(summary="网格员摸排：村口小卖部与邻居因噪音争执", parties=[])), 201
    )

    listed = queue(http)
    assert [item["id"] for item in listed] == [recorded["id"], other["id"]]  # oldest first
    assert listed[0]["people"] == 2
    assert "张三" not in str(listed)

    promoted = ok(triage(http, recorded["id"], "promotions", {"kind": "dispute"}), 201)
    case = promoted["case"]
    assert case["number"]
    assert case["unit"] == VILLAGE
    assert case["channel"] == "grid_patrol"
    assert promoted["clue"]["status"] == "promoted"
    assert promoted["clue"]["case_number"] == case["number"]
    assert case["clue_id"] == recorded["id"]  # the case's own answer names its clue

    stored = runtime.app.get_case(UUID(case["id"]))
    assert stored.clue_id == recorded["id"]  # the case links back
    events = list(runtime.app.repository.event_store.get(stored.id))
    assert [type(e).__name__ for e in events] == ["Registered", "NoteAdded"]
    assert events[1].text == SUMMARY  # type: ignore[attr-defined]  # the clue's text
    history = ok(http.get(f"{API}/cases/{case['id']}/history", headers=auth("auditor", COUNTY)))
    assert [entry["event_type"] for entry in history] == ["Registered", "NoteAdded"]
    assert (
        ok(http.get(f"{API}/cases/{case['id']}", headers=auth("mediator", VILLAGE)))["summary"]
        == SUMMARY
    )

    dismissed = ok(triage(http, other["id"], "dismissals", {"reason": "经核实已自行和解"}))
    assert (dismissed["status"], dismissed["reason"]) == ("dismissed", "经核实已自行和解")

    by_id = {item["id"]: item for item in queue(http)}
    assert by_id[recorded["id"]]["status"] == "promoted"
    assert by_id[recorded["id"]]["case_number"] == case["number"]
    assert by_id[other["id"]]["status"] == "dismissed"
    assert queue(http, status="open") == []

    stats = ok(http.get(
        f"{API}/clues/statistics", params={"unit": TOWNSHIP, "period": "2026-09"},
        headers=auth("supervisor", TOWNSHIP),
    ))  # fmt: skip
    total = stats["total"]
    assert (total["recorded"], total["promoted"], total["dismissed"]) == (2, 1, 1)
    assert total["share_promoted"] == 0.5
    assert [u["unit"] for u in stats["units"]] == [VILLAGE]


def test_the_triage_clock_fires_at_the_exact_instant_once(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, runtime = client
    early = ok(record(http), 201)
    clock.now = WEDNESDAY_BEFORE_HOLIDAY
    late = ok(
        record(http, clue(summary="热线反映：石溪村两户因排水沟堵塞争执", source="hotline")), 201
    )
    due = datetime.fromisoformat(early["triage_due_at"])
    assert due == END_OF_TUESDAY
    assert datetime.fromisoformat(late["triage_due_at"]) == END_OF_FIRST_DAY_AFTER_HOLIDAY

    clock.now = T0
    assert sweep_clues(runtime, clock, due - MICROSECOND) == []
    assert not any(item["overdue"] for item in queue(http))

    assert sweep_clues(runtime, clock, due) == [early["id"]]
    items = queue(http)
    assert [(i["id"], i["overdue"]) for i in items] == [(early["id"], True), (late["id"], False)]
    assert queue(http, status="overdue")[0]["id"] == early["id"]

    head = events_recorded(runtime)
    assert sweep_clues(runtime, clock, due + timedelta(hours=1)) == []
    assert events_recorded(runtime) == head  # sweeping again changes nothing
    assert runtime.views.clues.next_due(due) == END_OF_FIRST_DAY_AFTER_HOLIDAY

    # triaged before its clock runs out, a clue is never flagged
    clock.now = END_OF_FIRST_DAY_AFTER_HOLIDAY - timedelta(hours=1)
    ok(triage(http, late["id"], "dismissals", {"reason": "重复反映，已并入前一线索"}))
    assert sweep_clues(runtime, clock, END_OF_FIRST_DAY_AFTER_HOLIDAY) == []


def test_refusals_store_nothing(client: tuple[Client, Runtime]) -> None:
    http, runtime = client
    head = events_recorded(runtime)
    bad = [
        clue(unit=TOWNSHIP),  # a clue is found at a village or grid
        clue(category="吵架"),
        clue(source="rumour"),
        clue(summary="吵"),
        clue(parties=[party(id_number="511123199001091235")]),  # check digit wrong
        clue(attachments=[{"sha256": "xyz", "name": "a.jpg", "media_type": "image/jpeg"}]),
    ]
    for body in bad:
        problem = assert_problem(record(http, body, "supervisor", TOWNSHIP), 422)
        assert problem["detail"]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in problem["detail"]), problem
    assert_problem(http.post(f"{API}/clues", json=clue(unit=OTHER_TOWNSHIP_VILLAGE),
                             headers=auth("reporter", VILLAGE)), 403)  # fmt: skip
    assert_problem(record(http, role="auditor"), 403)
    assert events_recorded(runtime) == head

    recorded = ok(record(http), 201)
    head = events_recorded(runtime)
    # 房屋宅基地 is a dispute's category: as an incident, the case refuses it and nothing moves
    assert_problem(triage(http, recorded["id"], "promotions", {"kind": "incident"}), 422)
    assert events_recorded(runtime) == head
    assert_problem(triage(http, recorded["id"], "dismissals", {"reason": "无"}, "reporter"), 403)
    ok(triage(http, recorded["id"], "dismissals", {"reason": "不属于矛盾纠纷"}))
    head = events_recorded(runtime)
    refused = assert_problem(triage(http, recorded["id"], "promotions", {"kind": "dispute"}), 409)
    assert "线索" in refused["detail"]
    assert_problem(triage(http, recorded["id"], "dismissals", {"reason": "再次"}), 409)
    assert_problem(triage(http, recorded["id"], "promotions", {"kind": "lawsuit"}), 422)
    assert events_recorded(runtime) == head
    assert ok(http.get(f"{API}/cases", headers=auth("supervisor", COUNTY)))["items"] == []
    missing = http.get(f"{API}/clues/{'0' * 8}-0000-4000-8000-{'0' * 12}", headers=auth(
        "mediator", VILLAGE
    ))  # fmt: skip
    assert "线索" in assert_problem(missing, 404)["detail"]


def test_no_plain_id_number_or_phone_in_the_clues_view(client: tuple[Client, Runtime]) -> None:
    http, runtime = client
    ok(record(http, clue(summary=f"张三（电话{PHONE}）反映与邻居争执")), 201)
    rows = runtime.views.clues.all_rows()
    assert rows
    assert all(ID_NUMBER not in str(r) and PHONE not in str(r) for r in rows)
    assert all("张三" not in r.recorded_by for r in rows)


def test_the_clues_view_rebuilt_equals_the_live_one(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, runtime = client
    first = ok(record(http, clue(category="环境污染")), 201)
    second = ok(record(http, clue(source="anonymous", parties=[])), 201)
    third = ok(record(http, clue(source="walk_in")), 201)
    ok(triage(http, first["id"], "promotions", {"kind": "incident", "level": "orange"}), 201)
    ok(triage(http, second["id"], "dismissals", {"reason": "匿名举报内容不实"}))
    sweep_clues(runtime, clock, datetime.fromisoformat(third["triage_due_at"]))
    live = runtime.views.clues.all_rows()
    assert len(live) == 3

    runtime.views.rebuild(["clues"])

    assert runtime.views.clues.all_rows() == live
