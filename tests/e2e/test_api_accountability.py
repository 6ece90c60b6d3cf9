"""Who works a case, over HTTP: the owning unit's people do the work; a unit above orders
supervision (督办, a clock flagged again each interval while unanswered) or takes the case
over (提级办理); a pause names its review date (a clock) and extensions of one clock are
bounded in total. Clocks fire at their exact instants under the injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.http.runtime import Runtime
from tests.support.api import (
    API,
    CITY,
    COUNTY,
    OTHER_TOWNSHIP,
    TOWNSHIP,
    VILLAGE,
    Client,
    assert_problem,
    auth,
    events_recorded,
    ok,
    register,
    send,
)
from tests.support.sweeps import SECOND, due, queue_card, sweep_at, timeline
from tests.support.world import Clock


def case_of(http: Client, case_id: str, role: str = "supervisor", unit: str = COUNTY) -> Any:
    return ok(http.get(f"{API}/cases/{case_id}", headers=auth(role, unit)))


# --- the owning unit works ----------------------------------------------------------------


def test_only_the_owning_unit_works_a_case_and_a_refusal_stores_nothing(
    client: tuple[Client, Runtime],
) -> None:
    http, runtime = client
    village_case = str(register(http)["id"])  # yellow: owned by the village
    township_case = str(register(http, level="orange")["id"])  # owned by the township
    before = events_recorded(runtime)

    refusals = [
        send(http, village_case, "sign", role="mediator", unit=TOWNSHIP),  # an ancestor
        send(http, village_case, "sign", role="mediator", unit=COUNTY),
        send(http, village_case, "assign", {"assignee": "m-1"}, role="supervisor", unit=COUNTY),
        send(http, village_case, "escalate", {"reason": "请镇里"}, role="supervisor", unit=CITY),
        send(http, township_case, "sign", role="mediator", unit=VILLAGE),  # a descendant
        send(http, township_case, "take-over", {"reason": "x"}, role="supervisor", unit=VILLAGE),
    ]

    for refused in refusals:
        assert_problem(refused, 403)
    assert events_recorded(runtime) == before
    ok(send(http, village_case, "sign", role="mediator", unit=VILLAGE))
    ok(send(http, township_case, "sign", role="mediator", unit=TOWNSHIP))
    # a note is part of the record: the grid worker where it happened adds to a township case
    note = send(http, township_case, "notes", {"text": "双方又起争执"}, role="reporter")
    assert note.status_code == 200, note.text


# --- 提级办理 -------------------------------------------------------------------------------


def test_a_county_takes_a_village_case_over_and_a_lower_level_keeps_it_there(
    client: tuple[Client, Runtime],
) -> None:
    http, _ = client
    case_id = str(register(http)["id"])
    ok(send(http, case_id, "sign", role="mediator", unit=VILLAGE))
    assign = {"assignee": f"mediator-{VILLAGE}"}
    ok(send(http, case_id, "assign", assign, role="supervisor", unit=VILLAGE))

    by_mediator = send(http, case_id, "take-over", {"reason": "x"}, role="mediator", unit=COUNTY)
    by_owner = send(http, case_id, "take-over", {"reason": "x"}, role="supervisor", unit=VILLAGE)
    assert_problem(by_mediator, 403)
    assert_problem(by_owner, 403)

    taken = ok(
        send(
            http,
            case_id,
            "take-over",
            {"reason": "涉及两镇群众，县级提级办理"},
            role="supervisor",
            unit=COUNTY,
        )
    )

    assert (taken["owner"], taken["tier"], taken["assignee"]) == (COUNTY, "county", None)
    assert taken["awaiting_signature"] is True
    moved = [e for e in timeline(http, case_id) if e["event_type"] == "Escalated"]
    assert moved[-1]["fields"]["cause"] == "take_over"
    assert "提级办理" in moved[-1]["text"]
    assert_problem(send(http, case_id, "sign", role="mediator", unit=VILLAGE), 403)
    ok(send(http, case_id, "sign", role="mediator", unit=COUNTY))
    ok(
        send(
            http,
            case_id,
            "assess",
            {"level": "orange", "triggers": ["矛盾升温"], "reason": "升温"},
            role="mediator",
            unit=COUNTY,
        )
    )
    lowered = ok(
        send(
            http,
            case_id,
            "lower",
            {"level": "yellow", "reason": "缓和"},
            role="supervisor",
            unit=COUNTY,
        )
    )
    assert lowered["owner"] == COUNTY  # taken over: a lower level does not send it back


# --- 督办 ---------------------------------------------------------------------------------


def test_a_supervision_order_is_flagged_again_each_interval_until_the_owner_answers(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, runtime = client
    case_id = str(register(http)["id"])
    ok(send(http, case_id, "sign"))  # its resolve clock runs past the 国庆 holidays
    answer_due = clock.now + timedelta(hours=5)
    order = {"text": "请于今日约谈双方并报告", "due_at": answer_due.isoformat()}

    assert_problem(
        send(http, case_id, "supervision-orders", order, role="supervisor", unit=VILLAGE), 403
    )  # the owner does not supervise itself
    assert_problem(
        send(http, case_id, "supervision-orders", order, role="mediator", unit=COUNTY), 403
    )
    ordered = ok(send(http, case_id, "supervision-orders", order, role="supervisor", unit=COUNTY))

    assert "supervised" in ordered["flags"]
    assert due(ordered, "supervision") == answer_due
    assert "supervised" in queue_card(http, case_id, VILLAGE)["flags"]
    again = send(http, case_id, "supervision-orders", order, role="supervisor", unit=TOWNSHIP)
    assert "待答复" in assert_problem(again, 409)["detail"]

    assert sweep_at(runtime, clock, answer_due - SECOND) == []
    assert sweep_at(runtime, clock, answer_due) == [("supervision", "SupervisionReminded")]
    late = case_of(http, case_id)
    assert "supervision_overdue" in late["flags"]
    # the default interval is 1 working day, counted from the missed due time to the end of
    # the next working day: Monday 2026-09-28 15:00 → the end of Tuesday (Shanghai)
    next_due = due(late, "supervision")
    assert next_due == datetime(2026, 9, 29, 16, 0, tzinfo=UTC)
    assert sweep_at(runtime, clock, next_due) == [("supervision", "SupervisionReminded")]
    reminders = [e for e in timeline(http, case_id) if e["event_type"] == "SupervisionReminded"]
    assert [e["fields"]["order"] for e in reminders] == [1, 1]

    assert_problem(
        send(
            http, case_id, "supervision-answers", {"answer": "已约谈"}, role="mediator", unit=COUNTY
        ),
        403,
    )
    answered = ok(send(http, case_id, "supervision-answers", {"answer": "已约谈双方，拟周五再调"}))

    assert not {"supervised", "supervision_overdue"} & set(answered["flags"])
    assert "supervision" not in {d["kind"] for d in answered["deadlines"]}
    assert "supervised" not in queue_card(http, case_id, VILLAGE)["flags"]
    # a second order gets the next number
    ok(
        send(
            http,
            case_id,
            "supervision-orders",
            order | {"due_at": (clock.now + timedelta(days=1)).isoformat()},
            role="supervisor",
            unit=TOWNSHIP,
        )
    )
    ordered = [e for e in timeline(http, case_id) if e["event_type"] == "SupervisionOrdered"]
    assert [(e["fields"]["order"], e["fields"]["by_unit"]) for e in ordered] == [
        (1, COUNTY),
        (2, TOWNSHIP),
    ]


def test_a_unit_outside_the_owners_line_cannot_supervise(client: tuple[Client, Runtime]) -> None:
    http, runtime = client
    case_id = str(register(http)["id"])
    before = events_recorded(runtime)
    order = {"text": "督办", "due_at": "2026-10-01T10:00:00+08:00"}

    refused = send(
        http, case_id, "supervision-orders", order, role="supervisor", unit=OTHER_TOWNSHIP
    )

    assert_problem(refused, 403)
    assert events_recorded(runtime) == before


# --- no parking ---------------------------------------------------------------------------


def test_a_pause_names_its_review_date_and_the_review_fires_at_that_instant(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, runtime = client
    case_id = str(register(http)["id"])
    ok(send(http, case_id, "sign"))
    before = events_recorded(runtime)

    no_date = send(http, case_id, "pause", {"reason": "等待鉴定"}, role="supervisor")
    too_far = send(
        http,
        case_id,
        "pause",
        {
            "reason": "等待鉴定",
            "review_at": (clock.now + timedelta(days=30, seconds=1)).isoformat(),
        },
        role="supervisor",
    )
    assert assert_problem(no_date, 422)["field"] == "review_at"
    assert assert_problem(too_far, 422)["field"] == "review_at"
    assert events_recorded(runtime) == before

    review = clock.now + timedelta(days=10)
    paused = ok(
        send(
            http,
            case_id,
            "pause",
            {"reason": "等待伤情鉴定", "review_at": review.isoformat()},
            role="supervisor",
        )
    )
    assert [d["kind"] for d in paused["deadlines"]] == ["pause_review"]
    card = queue_card(http, case_id, VILLAGE)
    assert (card["due_kind"], datetime.fromisoformat(card["due_at"])) == ("pause_review", review)

    assert sweep_at(runtime, clock, review - SECOND) == []
    assert sweep_at(runtime, clock, review) == [("pause_review", "ClockFired")]
    assert "pause_review_due" in queue_card(http, case_id, VILLAGE)["flags"]

    resumed = ok(send(http, case_id, "resume"))
    assert "pause_review_due" not in resumed["flags"]
    assert {d["kind"] for d in resumed["deadlines"]} == {"resolve"}


@pytest.mark.parametrize("kind", ["resolve"])
def test_extensions_of_one_clock_are_bounded_in_total(
    client: tuple[Client, Runtime], clock: Clock, kind: str
) -> None:
    http, runtime = client
    case = register(http)
    case_id = str(case["id"])
    first = due(case, kind)

    ok(
        send(
            http,
            case_id,
            "extend",
            {"until": (first + timedelta(days=20)).isoformat(), "reason": "需勘验", "kind": kind},
            role="supervisor",
        )
    )
    ok(
        send(
            http,
            case_id,
            "extend",
            {"until": (first + timedelta(days=30)).isoformat(), "reason": "再需勘验", "kind": kind},
            role="supervisor",
        )
    )
    before = events_recorded(runtime)
    beyond = send(
        http,
        case_id,
        "extend",
        {
            "until": (first + timedelta(days=30, seconds=1)).isoformat(),
            "reason": "还需",
            "kind": kind,
        },
        role="supervisor",
    )

    problem = assert_problem(beyond, 422)
    assert problem["field"] == "until"
    assert "累计延期" in problem["detail"]
    assert events_recorded(runtime) == before
