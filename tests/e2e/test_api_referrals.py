"""Referrals both ways, over HTTP, with their clocks firing at the exact instants.

Out: a referred case waits for the agency's answer in its unit's queue (转办待复) on a clock;
accepted under the agency's case number it leaves the queue, declined it goes back to work.
In: a case the court delegated (诉前委派) carries the court's reference and due date; the
result is reported back before the case can be closed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from api.http.runtime import Runtime
from tests.support.api import (
    API,
    COUNTY,
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

COURT_NUMBER = "（2026）川1123民诉前调12号"


def referred(http: Client, clock: Clock) -> dict[str, Any]:
    case_id = str(register(http)["id"])
    ok(send(http, case_id, "sign"))
    clock.advance(minutes=5)
    return ok(send(http, case_id, "referrals", {"agency": "court", "reason": "涉及土地确权"}))


def in_queue(http: Client, case_id: str) -> bool:
    queue = ok(http.get(f"{API}/queues/{VILLAGE}", headers=auth("supervisor", VILLAGE)))
    return any(item["id"] == case_id for item in queue["items"])


def test_a_referral_waits_in_the_queue_until_the_agency_declines_it_and_work_resumes(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, runtime = client
    case = referred(http, clock)
    case_id = str(case["id"])
    answer_due = due(case, "referral_answer")

    assert case["status"] == "referred"
    assert "referral_pending" in case["flags"]
    card = queue_card(http, case_id, VILLAGE)  # 转办待复: still in the village's queue
    assert (card["due_kind"], datetime.fromisoformat(card["due_at"])) == (
        "referral_answer",
        answer_due,
    )
    assert sweep_at(runtime, clock, answer_due - SECOND) == []
    assert sweep_at(runtime, clock, answer_due) == [("referral_answer", "ClockFired")]
    assert "referral_overdue" in queue_card(http, case_id, VILLAGE)["flags"]

    declined = ok(
        send(
            http,
            case_id,
            "referral-answers",
            {"answer": "不属于本院诉前调解范围", "outcome": "declined"},
        )
    )

    assert declined["status"] == "reopened"
    assert {d["kind"] for d in declined["deadlines"]} == {"resolve"}
    assert not {"referral_pending", "referral_overdue"} & set(declined["flags"])
    assert in_queue(http, case_id)
    lines = [e["text"] for e in timeline(http, case_id) if e["event_type"] == "ReferralDeclined"]
    assert lines == ["转办单位不予受理，退回重新办理；理由：不属于本院诉前调解范围"]


def test_an_accepted_referral_leaves_the_queue_under_the_agencys_number(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, runtime = client
    case_id = str(referred(http, clock)["id"])
    before = events_recorded(runtime)

    no_number = send(http, case_id, "referral-answers", {"answer": "已立案"})
    assert assert_problem(no_number, 422)["field"] == "reference"
    assert events_recorded(runtime) == before

    body = {"answer": "已立案受理", "outcome": "accepted", "reference": COURT_NUMBER}
    accepted = ok(send(http, case_id, "referral-answers", body))

    assert accepted["status"] == "referred"
    assert {d["kind"] for d in accepted["deadlines"]} == {"follow_up"}
    assert not in_queue(http, case_id)
    answered = [e for e in timeline(http, case_id) if e["event_type"] == "ReferralAnswered"]
    assert answered[0]["fields"] == {"outcome": "accepted", "reference": COURT_NUMBER}
    assert answered[0]["text"] == f"转办单位答复：已受理；对方案号：{COURT_NUMBER}"
    ok(send(http, case_id, "referral-results", {"result": "法院主持达成调解协议"}))
    again = send(http, case_id, "referral-results", {"result": "再次登记"})
    assert "已登记" in assert_problem(again, 409)["detail"]


def test_a_court_delegated_case_reports_back_before_it_is_closed(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, runtime = client
    report_due = clock.now + timedelta(days=20)
    referral_in = {"agency": "court", "reference": COURT_NUMBER, "due_at": report_due.isoformat()}
    case = register(http, channel="court", referral_in=referral_in)
    case_id = str(case["id"])
    assert due(case, "report_back") == report_due

    ok(send(http, case_id, "sign"))
    held = (clock.now - timedelta(minutes=30)).isoformat()
    ok(send(http, case_id, "mediation-sessions", {"held_at": held, "notes": "双方到场"}))
    ok(send(http, case_id, "resolve", {"agreement": "李四赔偿张三600元", "form": "written"}))
    early = sweep_at(runtime, clock, report_due - SECOND)  # the follow-up clock came due
    assert "report_back" not in {kind for kind, _ in early}
    assert ("report_back", "ClockFired") in sweep_at(runtime, clock, report_due)
    late = ok(http.get(f"{API}/cases/{case_id}", headers=auth("supervisor", COUNTY)))
    assert "report_back_overdue" in late["flags"]
    ok(send(http, case_id, "follow-ups", {"satisfied": True, "agreement_honoured": True}))

    too_soon = send(http, case_id, "close")
    assert "反馈" in assert_problem(too_soon, 409)["detail"]
    reported = ok(send(http, case_id, "report-back", {"result": "经调解达成书面协议，已履行"}))
    assert "report_back_overdue" not in reported["flags"]
    closed = ok(send(http, case_id, "close"))
    assert closed["status"] == "closed"
    file = ok(http.get(f"{API}/cases/{case_id}/file", headers=auth("auditor", COUNTY)))
    registered = next(e for e in file["entries"] if e["type"] == "Registered")
    assert registered["fields"]["referral_in"]["reference"] == COURT_NUMBER
    reported_back = next(e for e in file["entries"] if e["type"] == "ReportedBack")
    assert reported_back["fields"]["result"] == "经调解达成书面协议，已履行"
