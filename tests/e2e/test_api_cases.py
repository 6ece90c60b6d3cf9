"""The HTTP API end to end: every endpoint and every command, on SQLite and PostgreSQL.

A case is driven through its whole life over HTTP; each command's answer must show what it
did, and the queue read right after it must already show it (read your writes).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from api.http.runtime import Runtime
from tests.support.api import (
    ADDRESS,
    API,
    COUNTY,
    ID_NUMBER,
    NEIGHBOUR_VILLAGE,
    OTHER_COUNTY,
    OTHER_TOWNSHIP,
    PHONE,
    TOWNSHIP,
    VILLAGE,
    Client,
    auth,
    ok,
    party,
    register,
    send,
)
from tests.support.world import T0, Clock

# the village's supervisor (调委会主任): the cases under test are the village's own
SUPERVISOR = {"role": "supervisor", "unit": VILLAGE}
COUNTY_SUPERVISOR = {"role": "supervisor", "unit": COUNTY}


def get(http: Client, path: str, role: str = "auditor", unit: str = COUNTY) -> Any:
    answer = http.get(f"{API}{path}", headers=auth(role, unit))
    assert answer.status_code == 200, answer.text
    return answer.json()


def queue_item(http: Client, case_id: str, unit: str = COUNTY) -> dict[str, Any] | None:
    """The case's item in ``unit``'s queue, or None when it is not there."""
    items = get(http, f"/queues/{unit}")["items"]
    found = [item for item in items if item["id"] == case_id]
    assert len(found) <= 1
    return found[0] if found else None


def step(
    http: Client,
    clock: Clock,
    case: dict[str, Any],
    command: str,
    body: dict[str, Any] | None = None,
    role: str = "mediator",
    unit: str = VILLAGE,
) -> dict[str, Any]:
    """Sends one command a minute after the last; checks the answer is the case one version
    on, with its ETag, and that the queue already shows it as answered."""
    clock.advance(minutes=1)
    answer = send(http, case["id"], command, body, role=role, unit=unit)
    after = ok(answer)
    assert after["id"] == case["id"]
    assert after["version"] > case["version"]
    assert answer.headers["etag"] == f'"{after["version"]}"'
    assert after["updated_at"] == clock.now.isoformat().replace("+00:00", "Z")
    item = queue_item(http, case["id"])
    open_statuses = ("registered", "signed", "in_mediation", "paused", "reopened")
    # a referral the agency has not answered waits in the queue (转办待复), and so does a bad
    # rating awaiting 差评核实
    waiting = {"referral_pending", "rating_review"} & set(after["flags"])
    if after["status"] in open_statuses or waiting:
        assert item is not None, f"{command}: not in the queue"
        assert (item["version"], item["status"], item["level"], item["owner"]) == (
            after["version"],
            after["status"],
            after["level"],
            after["owner"],
        )
    else:
        assert item is None, f"{command}: a {after['status']} case is still queued"
    return after


def deadline(case: dict[str, Any], kind: str) -> str | None:
    found = [d["due_at"] for d in case["deadlines"] if d["kind"] == kind]
    return found[0] if found else None


def test_a_dispute_lives_its_whole_life_over_http(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, _ = client
    answer = http.post(
        f"{API}/cases",
        json={
            "kind": "dispute",
            "unit": VILLAGE,
            "category": "邻里纠纷",
            "summary": "两户因排水沟堵塞发生争执",
            "channel": "grid_patrol",
            "people_involved": 4,
            "amount_involved": "1200.50",
            "parties": [party(), party(name="李四", role="respondent")],
            "occurred_at": "2026-09-27T20:00:00+08:00",
        },
        headers=auth("reporter", VILLAGE, user="grid-worker-1"),
    )
    case = ok(answer, 201)
    assert answer.headers["location"] == f"/api/v1/cases/{case['id']}"
    assert answer.headers["etag"] == '"1"'
    assert {
        key: case[key]
        for key in ("kind", "category", "status", "level", "unit", "owner", "tier", "version")
    } == {
        "kind": "dispute",
        "category": "邻里",  # the policy's word for what the reporter wrote (邻里纠纷)
        "status": "registered",
        "level": "yellow",  # the default
        "unit": VILLAGE,
        "owner": VILLAGE,
        "tier": "village",
        "version": 1,
    }
    assert case["assignee"] is None
    assert case["policy_version"]
    assert case["registered_at"] == case["updated_at"] == "2026-09-28T02:00:00Z"
    assert case["amount_involved"] == "1200.50"
    assert case["people_involved"] == 4
    assert [d["kind"] for d in case["deadlines"]] == ["sign", "resolve"]
    assert not any(d["overdue"] for d in case["deadlines"])
    assert queue_item(http, case["id"], VILLAGE) is not None

    case = step(
        http,
        clock,
        case,
        "assess",
        {"level": "yellow", "reason": "争执未升级", "triggers": ["3-9人"]},
    )
    assert case["level"] == "yellow"
    case = step(http, clock, case, "sign")
    assert (case["status"], case["awaiting_signature"]) == ("signed", False)
    assert deadline(case, "sign") is None
    case = step(http, clock, case, "assign", {"assignee": "mediator-9"}, **SUPERVISOR)
    assert case["assignee"] == "mediator-9"
    held = (clock.now - timedelta(minutes=30)).isoformat()
    case = step(
        http,
        clock,
        case,
        "mediation-sessions",
        {"held_at": held, "notes": "双方到场", "attendees": ["张三", "李四"]},
    )
    assert case["status"] == "in_mediation"
    assert deadline(case, "mediation") is not None
    case = step(
        http,
        clock,
        case,
        "resolve",
        {"agreement": "疏通水沟，费用均摊", "form": "written", "amount": "600.00"},
    )
    assert case["status"] == "resolved"
    assert deadline(case, "resolve") is None
    assert deadline(case, "follow_up") is not None
    assert deadline(case, "judicial_confirmation") is not None
    case = step(http, clock, case, "judicial-confirmation", {"court": "犍为县人民法院"})
    assert deadline(case, "judicial_confirmation") is None
    case = step(http, clock, case, "judicial-confirmation", {"confirmed": True, "note": "已确认"})
    case = step(
        http,
        clock,
        case,
        "follow-ups",
        {"satisfied": True, "agreement_honoured": True, "note": "已履行"},
    )
    assert case["status"] == "followed_up"
    assert deadline(case, "follow_up") is None
    case = step(http, clock, case, "ratings", {"grade": "very_satisfied"}, role="reporter")
    case = step(http, clock, case, "close")
    assert case["status"] == "closed"
    case = step(http, clock, case, "notes", {"text": "归档备注"})
    case = step(http, clock, case, "reopen", {"reason": "当事人反映未履行"}, **SUPERVISOR)
    assert case["status"] == "reopened"
    assert deadline(case, "resolve") is not None
    assert case["version"] == 14  # the resolution also invited the parties to rate

    read = get(http, f"/cases/{case['id']}")
    assert read == case

    history = get(http, f"/cases/{case['id']}/history")
    assert [entry["event_type"] for entry in history] == [
        "Registered", "Assessed", "Signed", "Assigned", "MediationSessionRecorded", "Resolved",
        "RatingInvited", "JudicialConfirmationRequested", "JudicialConfirmationRecorded",
        "FollowUpRecorded", "Rated", "Closed", "NoteAdded", "Reopened",
    ]  # fmt: skip
    assert [entry["version"] for entry in history] == list(range(1, 15))
    assert history[0]["actor"] == "grid-worker-1"
    assert history[0]["role"] == "reporter"
    assert history[3]["role"] == "supervisor"
    assert all(entry["text"] for entry in history)
    assert history[-1]["at"] == clock.now.isoformat().replace("+00:00", "Z")


def test_terminate_then_follow_up_and_close(client: tuple[Client, Runtime], clock: Clock) -> None:
    http, _ = client
    case = register(http)
    case = step(http, clock, case, "sign")
    case = step(http, clock, case, "terminate", {"reason": "一方拒绝调解，已告知诉讼途径"})
    assert case["status"] == "terminated"
    assert deadline(case, "follow_up") is not None
    case = step(http, clock, case, "follow-ups", {"satisfied": False})
    # a troubled follow-up: not the mediator's to close, and a supervisor says why
    assert send(http, case["id"], "close").status_code == 409
    reason = {"reason": "已告知诉讼途径，当事人表示将起诉"}
    case = step(http, clock, case, "close", reason, role="supervisor", unit=VILLAGE)
    assert case["status"] == "closed"


def test_referral_and_its_answer(client: tuple[Client, Runtime], clock: Clock) -> None:
    http, _ = client
    case = register(http)
    case = step(http, clock, case, "sign")
    case = step(
        http, clock, case, "referrals", {"agency": "court", "reason": "涉及合同纠纷，诉调对接"}
    )
    assert case["status"] == "referred"
    assert deadline(case, "follow_up") is None
    refused = send(http, case["id"], "follow-ups", {"satisfied": True})
    assert refused.status_code == 409
    case = step(
        http,
        clock,
        case,
        "referral-answers",
        {"answer": "法院已立案调解", "reference": "（2026）川1123民诉前调12号"},
    )
    assert deadline(case, "follow_up") is not None
    case = step(http, clock, case, "follow-ups", {"satisfied": True})
    assert case["status"] == "followed_up"


def test_pause_resume_and_extend_move_the_clocks(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, _ = client
    case = register(http)
    case = step(http, clock, case, "sign")
    resolve_due = deadline(case, "resolve")
    assert resolve_due is not None

    review = {"reason": "等待伤情鉴定", "review_at": "2026-10-20T09:00:00+08:00"}
    case = step(http, clock, case, "pause", review, **SUPERVISOR)
    assert case["status"] == "paused"
    assert [d["kind"] for d in case["deadlines"]] == ["pause_review"]
    clock.advance(days=2)
    case = step(http, clock, case, "resume")
    assert case["status"] == "signed"
    resumed_due = deadline(case, "resolve")
    assert resumed_due is not None
    assert resumed_due > resolve_due

    until = "2026-11-05T18:00:00+08:00"
    case = step(
        http,
        clock,
        case,
        "extend",
        {"until": until, "reason": "鉴定周期长", "kind": "resolve"},
        **SUPERVISOR,
    )
    assert deadline(case, "resolve") == "2026-11-05T10:00:00Z"
    assert queue_item(http, case["id"], VILLAGE) is not None


def test_escalate_lower_and_assess_move_the_owner(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, _ = client
    case = register(http)
    case = step(http, clock, case, "escalate", {"reason": "村级调解困难"}, **SUPERVISOR)
    assert (case["owner"], case["tier"], case["awaiting_signature"]) == (
        TOWNSHIP,
        "township",
        True,
    )
    assert queue_item(http, case["id"], TOWNSHIP) is not None
    assert queue_item(http, case["id"], VILLAGE) is None  # left the village queue at once
    case = step(http, clock, case, "sign", unit=TOWNSHIP)

    case = step(
        http,
        clock,
        case,
        "assess",
        {"level": "red", "reason": "有民转刑风险", "triggers": ["扬言报复"]},
        unit=TOWNSHIP,
    )
    assert (case["level"], case["owner"], case["tier"]) == ("red", COUNTY, "county")
    assert deadline(case, "status_report") is not None

    case = step(
        http, clock, case, "lower", {"level": "orange", "reason": "风险已消除"}, **COUNTY_SUPERVISOR
    )
    assert (case["level"], case["owner"]) == ("orange", TOWNSHIP)
    assert queue_item(http, case["id"], TOWNSHIP)["level"] == "orange"  # type: ignore[index]


def test_cross_area_escalation_goes_to_the_unit_over_both(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, _ = client
    case = register(http)
    case = step(
        http,
        clock,
        case,
        "escalate",
        {"reason": "涉及两个乡镇", "other_unit": "511123002001"},
        **SUPERVISOR,
    )
    assert (case["owner"], case["tier"]) == (COUNTY, "county")


def test_reject_and_notes(client: tuple[Client, Runtime], clock: Clock) -> None:
    http, _ = client
    case = register(http)
    case = step(http, clock, case, "notes", {"text": "已电话联系当事人"}, role="reporter")
    case = step(http, clock, case, "reject", {"reason": "不属于调解范围"})
    assert case["status"] == "rejected"
    assert case["deadlines"] == []
    case = step(http, clock, case, "notes", {"text": "已告知当事人向法院起诉"})
    history = get(http, f"/cases/{case['id']}/history")
    assert [e["event_type"] for e in history] == [
        "Registered",
        "NoteAdded",
        "Rejected",
        "NoteAdded",
    ]


def test_a_bad_rating_sends_the_case_back_for_rework(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, _ = client
    case = register(http, kind="incident", category="地质灾害", summary="村道边坡有落石风险")
    assert case["kind"] == "incident"
    case = step(http, clock, case, "sign")
    case = step(
        http,
        clock,
        case,
        "mediation-sessions",
        {"held_at": clock.now.isoformat(), "notes": "现场排查"},
    )
    case = step(http, clock, case, "resolve", {"agreement": "已清理落石并设置警示", "form": "oral"})
    assert deadline(case, "judicial_confirmation") is None  # incidents have no court agreement
    # taken by the hotline: the mediator who resolved it may not rate it
    case = step(http, clock, case, "ratings", {"grade": "very_dissatisfied"}, role="reporter")
    assert (case["status"], case["flags"]) == ("resolved", ["rating_review"])  # 差评核实
    case = step(http, clock, case, "rating-reviews", {"decision": "confirm"}, **SUPERVISOR)
    assert case["status"] == "reopened"
    refused = send(http, case["id"], "judicial-confirmation", {"court": "法院"})
    assert refused.status_code == 409


def test_answers_mask_personal_data(client: tuple[Client, Runtime]) -> None:
    http, _ = client
    case = register(http)
    applicant, respondent = case["parties"]
    assert applicant["name"] == "张三"
    assert applicant["role"] == "applicant"
    assert applicant["id_number"] == "511" + "*" * 11 + "1234"
    assert applicant["phone"] == "139****0321"
    assert applicant["address"].endswith("***")
    assert ADDRESS.startswith(applicant["address"].removesuffix("***"))
    assert len(applicant["address"]) < len(ADDRESS)
    assert respondent["address"] is None

    reads = [
        http.get(f"{API}/cases/{case['id']}", headers=auth(role, unit))
        for role, unit in [("auditor", COUNTY), ("admin", "511100"), ("mediator", VILLAGE)]
    ]
    reads.append(http.get(f"{API}/cases/{case['id']}/history", headers=auth("auditor", COUNTY)))
    reads.append(http.get(f"{API}/cases?q=排水沟", headers=auth("auditor", COUNTY)))
    reads.append(http.get(f"{API}/queues/{COUNTY}", headers=auth("auditor", COUNTY)))
    for answer in reads:
        assert answer.status_code == 200
        for secret in (ID_NUMBER, PHONE, ADDRESS, ID_NUMBER[3:-4], PHONE[3:-4]):
            assert secret not in answer.text
    assert reads[0].json()["parties"] == case["parties"]


def test_the_case_list_filters_and_pages(client: tuple[Client, Runtime], clock: Clock) -> None:
    http, _ = client
    first = register(http, summary="宅基地边界纠纷", category="房屋宅基地")
    clock.advance(minutes=1)
    red = register(
        http, level="red", summary="工地欠薪群体讨薪", category="劳动争议", people_involved=40
    )
    clock.advance(minutes=1)
    incident = register(
        http, unit=NEIGHBOUR_VILLAGE, kind="incident", category="房屋安全", summary="危房屋顶漏雨"
    )
    clock.advance(minutes=1)
    other = register(http, unit="511123002001", summary="另一个乡镇的纠纷")
    step(http, clock, first, "assign", {"assignee": "mediator-9"}, **SUPERVISOR)
    step(http, clock, incident, "sign", unit=NEIGHBOUR_VILLAGE)

    def ids(query: str, unit: str = COUNTY) -> list[str]:
        body = get(http, f"/cases{query}", unit=unit)
        return [item["id"] for item in body["items"]]

    assert ids("") == [other["id"], incident["id"], red["id"], first["id"]]  # newest first
    assert ids(f"?unit={TOWNSHIP}") == [incident["id"], red["id"], first["id"]]
    assert ids(f"?unit={VILLAGE}") == [red["id"], first["id"]]
    assert ids("", unit=VILLAGE) == [red["id"], first["id"]]
    assert ids("?status=signed") == [incident["id"]]
    assert ids("?level=red") == [red["id"]]
    assert ids("?kind=incident") == [incident["id"]]
    assert ids("?category=劳动争议") == [red["id"]]
    assert ids("?assignee=mediator-9") == [first["id"]]
    assert ids("?q=边界") == [first["id"]]
    assert ids("?q=纠纷&unit=" + TOWNSHIP) == [first["id"]]
    assert ids("?level=red&kind=incident") == []
    assert ids("?limit=2") == [other["id"], incident["id"]]
    assert ids("?limit=2&offset=2") == [red["id"], first["id"]]
    assert ids("?limit=2&offset=4") == []
    page = get(http, "/cases?limit=3&offset=1")
    assert (page["limit"], page["offset"], len(page["items"])) == (3, 1, 3)
    item = get(http, "/cases?level=red")["items"][0]
    assert {key: item[key] for key in ("level", "tier", "owner", "unit", "status", "kind")} == {
        "level": "red",
        "tier": "county",
        "owner": COUNTY,
        "unit": VILLAGE,
        "status": "registered",
        "kind": "dispute",
    }


def test_the_queue_orders_by_level_then_deadline_and_counts_down(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, _ = client
    yellow = register(http, summary="黄色预警案件")
    orange = register(http, level="orange", summary="橙色预警案件")
    red = register(http, level="red", summary="红色预警案件")
    clock.advance(minutes=75)  # red: sign within 1 h; orange: 4 h; yellow: 24 h
    queue = get(http, f"/queues/{COUNTY}")
    assert queue["unit"] == COUNTY
    assert queue["now"] == clock.now.isoformat().replace("+00:00", "Z")
    items = queue["items"]
    assert [item["id"] for item in items] == [red["id"], orange["id"], yellow["id"]]
    assert [item["owner"] for item in items] == [COUNTY, TOWNSHIP, VILLAGE]
    assert [item["tier"] for item in items] == ["county", "township", "village"]
    assert [item["overdue"] for item in items] == [True, False, False]
    breach = [-15 * 60, 165 * 60, 22 * 3600 + 45 * 60]
    assert [item["seconds_to_breach"] for item in items] == breach
    assert items[0]["due_at"] == "2026-09-28T03:00:00Z"
    assert items[0]["summary"] == "红色预警案件"
    assert items[0]["status"] == "registered"
    assert [item["id"] for item in get(http, f"/queues/{TOWNSHIP}")["items"]] == [
        orange["id"],
        yellow["id"],
    ]
    assert [item["id"] for item in get(http, f"/queues/{VILLAGE}")["items"]] == [yellow["id"]]
    assert get(http, f"/queues/{OTHER_TOWNSHIP}")["items"] == []
    assert [i["id"] for i in get(http, f"/queues/{COUNTY}?limit=1&offset=1")["items"]] == [
        orange["id"]
    ]
    red_case = get(http, f"/cases/{red['id']}")
    assert (red_case["deadlines"][0]["kind"], red_case["deadlines"][0]["overdue"]) == ("sign", True)


def test_statistics_of_a_unit_with_children_and_series(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, _ = client
    resolved = register(http)
    register(http, unit="511123002001", level="red", channel="hotline")
    register(http, unit=NEIGHBOUR_VILLAGE, kind="incident", category="房屋安全隐患")
    case = step(http, clock, resolved, "sign")
    case = step(
        http, clock, case, "mediation-sessions", {"held_at": clock.now.isoformat(), "notes": "调解"}
    )
    step(http, clock, case, "resolve", {"agreement": "达成协议", "form": "oral"})
    day = T0.date().isoformat()  # 2026-09-28, a whole day in Shanghai

    stats = get(http, f"/stats/{COUNTY}?from={day}&to={day}")
    assert stats["unit"] == COUNTY
    assert stats["from"] == "2026-09-27T16:00:00Z"
    assert stats["to"] == "2026-09-28T16:00:00Z"
    assert stats["registered"] == 3
    assert stats["registered_by_level"] == {"yellow": 2, "orange": 0, "red": 1}
    assert stats["by_kind"] == {"dispute": 2, "incident": 1}
    assert stats["by_channel"]["hotline"] == 1
    assert stats["by_category"]["房屋安全"] == 1  # written 房屋安全隐患
    assert (stats["resolved"], stats["terminated"], stats["referred"]) == (1, 0, 0)
    assert stats["resolution_rate"] == 1.0
    assert stats["local_resolution_rate"] == 1.0
    assert stats["county_share"] == 1 / 3
    rates = ("escalation_rate", "on_time_rate", "median_hours_to_resolve", "satisfaction_rate")
    for name in (*rates, "overdue_open", "reopen_rate"):
        assert name in stats
    children = {child["unit"]: child for child in stats["children"]}
    assert set(children) == {TOWNSHIP, OTHER_TOWNSHIP}
    assert (children[TOWNSHIP]["registered"], children[OTHER_TOWNSHIP]["registered"]) == (2, 1)
    assert sum(point["registered"] for point in stats["series"]) == 3
    assert {"label", "start", "end", "registered", "resolved", "escalated"} <= set(
        stats["series"][0]
    )

    township = get(http, f"/stats/{TOWNSHIP}?from={day}&to={day}&bucket=month", unit=TOWNSHIP)
    assert township["registered"] == 2
    assert [child["unit"] for child in township["children"]] == [
        "511123001001",
        "511123001002",
        "511123001003",
    ]
    moment = get(
        http, f"/stats/{COUNTY}?from=2026-09-28T10:00:00%2B08:00&to=2026-09-28T10:00:01%2B08:00"
    )
    assert moment["from"] == "2026-09-28T02:00:00Z"
    assert moment["registered"] == 3
    before = get(http, f"/stats/{COUNTY}?from=2026-09-01&to=2026-09-27")
    assert before["registered"] == 0
    assert before["resolution_rate"] is None


def test_units_are_the_callers_subtree(client: tuple[Client, Runtime]) -> None:
    http, _ = client
    units = get(http, "/units", role="reporter", unit=TOWNSHIP)
    assert [unit["code"] for unit in units] == [
        TOWNSHIP,
        "511123001001",
        "511123001002",
        "511123001003",
    ]
    assert units[0]["children"] == ["511123001001", "511123001002", "511123001003"]
    assert units[0]["parent"] == COUNTY
    assert (units[0]["tier"], units[0]["sample"]) == ("township", True)
    county = get(http, f"/units/{COUNTY}")
    assert county == {
        "code": COUNTY,
        "name": "犍为县",
        "tier": "county",
        "parent": "511100",
        "sample": False,
        "children": [TOWNSHIP, OTHER_TOWNSHIP],
    }
    everything = get(http, "/units", role="admin", unit="511100")
    codes = {unit["code"] for unit in everything}
    assert {"511100", COUNTY, OTHER_COUNTY, VILLAGE} <= codes
    assert len(everything) == len(codes)


def test_health_ready_and_schema_need_no_token(client: tuple[Client, Runtime]) -> None:
    http, _ = client
    health = http.get("/health")
    assert (health.status_code, health.json()) == (200, {"status": "alive"})
    ready = http.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert set(ready.json()["lag"]) >= {"cases", "deadlines", "statistics", "history"}
    schema = http.get("/schema/openapi.json")
    assert schema.status_code == 200
    document = schema.json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    commands = [
        "assess", "sign", "assign", "mediation-sessions", "resolve", "terminate", "referrals",
        "referral-answers", "judicial-confirmation", "follow-ups", "ratings", "pause", "resume",
        "extend", "escalate", "lower", "reopen", "close", "reject", "notes",
    ]  # fmt: skip
    for command in commands:
        assert f"/api/v1/cases/{{case_id}}/{command}" in paths, command
    reads = ["/cases", "/cases/{case_id}", "/cases/{case_id}/history", "/queues/{unit}",
             "/stats/{unit}", "/units", "/units/{code}"]  # fmt: skip
    for path in [*(f"/api/v1{read}" for read in reads), "/health", "/ready"]:
        assert path in paths, path
    assert http.get("/schema").status_code == 200


def test_a_command_refused_in_this_status_names_the_command_and_status(
    client: tuple[Client, Runtime],
) -> None:
    http, runtime = client
    case = register(http)
    before = runtime.app.recorder.max_notification_id()
    refused = send(http, case["id"], "close", accept_language="en")  # details are Chinese else
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert (problem["command"], problem["case_status"]) == ("close", "registered")
    assert "close" in problem["detail"]
    assert "registered" in problem["detail"]
    assert runtime.app.recorder.max_notification_id() == before
    assert get(http, f"/cases/{case['id']}")["version"] == 1
