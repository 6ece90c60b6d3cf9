"""排查 over HTTP, on SQLite and PostgreSQL: in October 2026 one village of 罗城镇 reports a
clue, one files a 零报告 and one files nothing. A sweep a second before the due time (the end of
25 October, Beijing time) flags nothing; the sweep at the due instant puts exactly the silent
village in the township's missing queue; the grid and the statistics read the same (2 of 3 on
time, 1 零报告, 1 clue). A report filed after that is late and leaves the queue; a second
filing, a period not yet begun, a township for a village, a 零报告 without its declaration and
a worker of another village are refused in Chinese, and nothing is stored.

The test runtime adopted its policy at T0 (2026-09-28): September began before and is owed
nothing (``not_owed``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from api.http.runtime import Runtime
from domain.actors import Actor, Role
from domain.clue import ClueReport, Source
from scheduler.screening import ScreeningWatch
from tests.support.api import (
    API,
    COUNTY,
    NEIGHBOUR_VILLAGE,
    TOWNSHIP,
    VILLAGE,
    Client,
    assert_problem,
    auth,
    events_recorded,
    ok,
)
from tests.support.sweeps import SECOND
from tests.support.world import Clock

THIRD_VILLAGE = "511123001003"
FILING_DAY = datetime(2026, 10, 20, 2, 0, tzinfo=UTC)
DUE = datetime(2026, 10, 25, 16, 0, tzinfo=UTC)
DECLARATION = "本期经排查未发现矛盾纠纷"
ZH = {"Accept-Language": "zh-CN"}


def file(http: Client, village: str, body: dict[str, Any], worker: str | None = None) -> Any:
    payload = {"unit": village, "period": "2026-10", **body}
    return http.post(
        f"{API}/screening/reports", json=payload, headers=auth("reporter", worker or village)
    )


def sweep(runtime: Runtime, clock: Clock, when: datetime) -> list[tuple[str, str]]:
    clock.now = when
    watch = ScreeningWatch(
        runtime.app,
        runtime.views.screening,
        lambda: runtime.views.wait(events_recorded(runtime), 5.0),
    )
    marked = watch.sweep(when)
    assert runtime.views.wait(events_recorded(runtime), 5.0)
    return marked


def read(http: Client, what: str, reader: str = TOWNSHIP, **query: str) -> Any:
    answer = http.get(f"{API}/screening/{what}", params=query, headers=auth("supervisor", reader))
    return ok(answer)


def october(http: Client, runtime: Runtime, clock: Clock) -> str:
    """The village reports a clue; the neighbour files a 零报告; the third village nothing."""
    clock.now = FILING_DAY
    report = ClueReport(VILLAGE, "其他", "两户因宅基地边界争执，已多次口角", Source.GRID)
    clue, _ = runtime.app.record_clue(Actor(f"reporter-{VILLAGE}", Role.REPORTER, VILLAGE), report)
    filed = ok(file(http, VILLAGE, {"clue_ids": [str(clue.id)]}), 201)
    assert (filed["state"], filed["late"], filed["clue_ids"]) == ("filed", False, [str(clue.id)])
    zero = ok(file(http, NEIGHBOUR_VILLAGE, {"zero": True, "declaration": DECLARATION}), 201)
    assert (zero["state"], zero["zero"], zero["declaration"]) == ("zero", True, DECLARATION)
    return str(clue.id)


def test_the_township_sees_exactly_the_silent_village_missing_when_due(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, runtime = client
    october(http, runtime, clock)

    assert sweep(runtime, clock, DUE - SECOND) == []  # September began before the policy
    assert read(http, "missing", unit=TOWNSHIP)["items"] == []
    early = read(http, "statistics", unit=TOWNSHIP, period="2026-10")
    assert (early["on_time"], early["missing"], early["pending"]) == (2, 0, 1)

    marked = sweep(runtime, clock, DUE)
    assert (THIRD_VILLAGE, "2026-10") in marked
    assert not [m for m in marked if m[0] in (VILLAGE, NEIGHBOUR_VILLAGE)]
    missing = read(http, "missing", unit=TOWNSHIP)["items"]
    assert [(m["village"], m["period"]) for m in missing] == [(THIRD_VILLAGE, "2026-10")]
    assert datetime.fromisoformat(missing[0]["missed_at"]) == DUE
    numbers = read(http, "statistics", unit=TOWNSHIP, period="2026-10")
    assert {k: numbers[k] for k in ("villages", "on_time", "late", "missing", "zero", "clues")} == {
        "villages": 3, "on_time": 2, "late": 0, "missing": 1, "zero": 1, "clues": 1,
    }  # fmt: skip
    assert numbers["on_time_share"] == 0.6667
    grid = read(http, "completion", unit=TOWNSHIP, periods="2")
    assert grid["periods"] == ["2026-09", "2026-10"]
    states = {row["village"]: [c["state"] for c in row["cells"]] for row in grid["rows"]}
    assert states == {
        VILLAGE: ["not_owed", "filed"],
        NEIGHBOUR_VILLAGE: ["not_owed", "zero"],
        THIRD_VILLAGE: ["not_owed", "missed"],
    }
    county = read(http, "completion", COUNTY, unit=COUNTY, periods="1")
    assert len(county["rows"]) == 6  # both townships' villages
    refused = http.get(
        f"{API}/screening/completion", params={"unit": COUNTY}, headers=auth("supervisor", TOWNSHIP)
    )
    assert_problem(refused, 403)  # a township reads its own villages only

    head = events_recorded(runtime)
    assert sweep(runtime, clock, DUE + SECOND) == []  # marked once
    assert events_recorded(runtime) == head


def test_a_report_after_the_miss_is_late_and_leaves_the_queue(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, runtime = client
    october(http, runtime, clock)
    sweep(runtime, clock, DUE)

    clock.now = DUE.replace(day=27)
    late = ok(file(http, THIRD_VILLAGE, {"zero": True, "declaration": DECLARATION}), 201)

    assert (late["state"], late["late"]) == ("late", True)
    assert read(http, "missing", unit=TOWNSHIP)["items"] == []
    numbers = read(http, "statistics", unit=TOWNSHIP, period="2026-10")
    assert (numbers["on_time"], numbers["late"], numbers["missing"]) == (2, 1, 0)


def test_bad_filings_are_refused_in_chinese_and_store_nothing(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, runtime = client
    october(http, runtime, clock)
    head = events_recorded(runtime)
    zero = {"zero": True, "declaration": DECLARATION}

    twice = assert_problem(file(http, VILLAGE, zero), 422)
    assert twice["field"] == "period"
    assert "不能重复上报" in twice["detail"]
    future = assert_problem(file(http, THIRD_VILLAGE, {**zero, "period": "2026-11"}), 422)
    assert "尚未开始" in future["detail"]
    shape = assert_problem(file(http, THIRD_VILLAGE, {**zero, "period": "2026/10"}), 422)
    assert "2026-12" in shape["detail"]
    township = http.post(
        f"{API}/screening/reports",
        json={"unit": TOWNSHIP, "period": "2026-10", **zero},
        headers=auth("supervisor", TOWNSHIP),
    )
    assert "村（社区）" in assert_problem(township, 422)["detail"]
    silent = assert_problem(file(http, THIRD_VILLAGE, {"zero": True, "declaration": " "}), 422)
    assert silent["field"] == "declaration"
    empty = assert_problem(file(http, THIRD_VILLAGE, {}), 422)
    assert "零报告" in empty["detail"]
    other = assert_problem(file(http, THIRD_VILLAGE, zero, worker=VILLAGE), 403)
    assert "网格员" in other["detail"]
    assert events_recorded(runtime) == head
