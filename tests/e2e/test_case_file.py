"""The case file (一案一档) over HTTP, on SQLite and PostgreSQL: a case worked through its whole
life answers ``GET /cases/{id}/file`` with every event and every text recorded on it, in order,
with who, in what role, for which unit and when (UTC and Shanghai time); personal data masked
for an auditor, in free texts too, and plain for the assigned mediator who gives a reason —
which is on the record. Its timeline (``/history``) says the same in fields and Chinese, with no
personal data.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from api.http.runtime import Runtime
from domain.calendar import SHANGHAI
from domain.parties import mask_address, mask_digits
from tests.support.api import (
    ADDRESS,
    API,
    COUNTY,
    ID_NUMBER,
    OTHER_COUNTY,
    PHONE,
    VILLAGE,
    Client,
    assert_problem,
    auth,
    ok,
    party,
    register,
    send,
)
from tests.support.world import Clock
from tests.unit.test_media_types import sample

ASSIGNED = "mediator-zhou"  # the mediator the supervisor assigns
OTHER_ID = "511123198512120012"
OTHER_PHONE = "0833-4561234"
OTHER_ADDRESS = "四川省乐山市犍为县罗城镇新街88号"
SUMMARY = f"张三（电话 {PHONE}）与李四因排水沟堵塞发生争执"
SESSION_NOTES = f"第一次调解：在张三家中（{ADDRESS}）进行，双方同意协商"
AGREEMENT = f"李四于十日内赔偿张三 1200 元；张三身份证 {ID_NUMBER}，收款电话 {OTHER_PHONE}"
RULING_NOTE = "裁定确认调解协议有效"
FOLLOW_UP_NOTE = "回访：双方满意，赔偿已付清"
NOTE = "卷宗已整理归档"
ATTENDEES = ["张三", "李四", "调解员周某"]
PHOTO = sample("jpeg")
LIFE = [
    "Registered",
    "Assessed",
    "Signed",
    "Assigned",
    "MediationSessionRecorded",
    "Resolved",
    "RatingInvited",  # the parties with a phone are invited to rate (好差评)
    "JudicialConfirmationRequested",
    "JudicialConfirmationRecorded",
    "FollowUpRecorded",
    "Rated",
    "NoteAdded",
    "AttachmentAdded",
]


def lived(http: Client, clock: Clock) -> str:
    """A dispute registered with two parties and worked to a rated, noted, photographed end."""
    case = register(
        http,
        summary=SUMMARY,
        occurred_at="2026-09-27T20:30:00+08:00",
        parties=[
            party(),
            party(
                name="李四",
                role="respondent",
                id_number=OTHER_ID,
                phone=OTHER_PHONE,
                address=OTHER_ADDRESS,
            ),
        ],
    )
    case_id = str(case["id"])

    def step(command: str, body: dict[str, Any] | None = None, **actor: str) -> None:
        clock.advance(minutes=7)
        ok(send(http, case_id, command, body, **actor))

    step("assess", {"level": "yellow", "reason": "争执未升级", "triggers": ["3-9人", "邻里"]})
    step("sign")
    step("assign", {"assignee": ASSIGNED}, role="supervisor", unit=VILLAGE)
    held = (clock.now - timedelta(minutes=30)).isoformat()
    body = {"held_at": held, "notes": SESSION_NOTES, "attendees": ATTENDEES}
    step("mediation-sessions", body, user=ASSIGNED)
    resolution = {
        "agreement": AGREEMENT,
        "form": "written",
        "amount": "1200",
        "performance_due": "2026-10-10",
    }
    step("resolve", resolution, user=ASSIGNED)
    step("judicial-confirmation", {"court": "犍为县人民法院"})
    step("judicial-confirmation", {"confirmed": True, "note": RULING_NOTE})
    step("follow-ups", {"satisfied": True, "agreement_honoured": True, "note": FOLLOW_UP_NOTE})
    step("ratings", {"grade": "satisfied"}, role="reporter")
    step("notes", {"text": NOTE}, role="reporter")
    clock.advance(minutes=7)
    ok(
        http.post(
            f"{API}/cases/{case_id}/attachments",
            files={"file": ("现场照片.jpg", PHOTO, "image/jpeg")},
            data={"kind": "photo"},
            headers=auth("reporter", VILLAGE),
        )
    )
    return case_id


def read_file(http: Client, case_id: str, role: str, unit: str, **params: str) -> Any:
    user = params.pop("user", None)
    return http.get(f"{API}/cases/{case_id}/file", params=params, headers=auth(role, unit, user))


def by_type(file: dict[str, Any], event_type: str) -> dict[str, Any]:
    found = [e for e in file["entries"] if e["type"] == event_type]
    assert len(found) == 1, event_type
    entry: dict[str, Any] = found[0]
    return entry


def test_the_file_holds_every_event_and_text_masked_for_an_auditor(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, _ = client
    case_id = lived(http, clock)

    answer = read_file(http, case_id, "auditor", COUNTY)
    file = ok(answer)
    assert [e["type"] for e in file["entries"]] == LIFE
    assert [e["version"] for e in file["entries"]] == list(range(1, len(LIFE) + 1))
    assert (file["id"], file["kind"], file["version"]) == (case_id, "dispute", len(LIFE))
    assert file["number"].startswith("（2026）犍调字第")
    assert file["unmasked"] is False
    assert file["units"][VILLAGE] == "石溪村（示例）"

    # who, in what role, for which unit, when: UTC and the same moment in Shanghai
    for entry in file["entries"]:
        at = datetime.fromisoformat(entry["at"])
        assert entry["at"].endswith("Z")
        assert entry["at_local"] == at.astimezone(SHANGHAI).isoformat(timespec="seconds")
        assert entry["at_local"].endswith("+08:00")
        assert entry["owner"] == VILLAGE
        assert entry["position"] is None or entry["position"] > 0
    who = [(e["actor"], e["role"]) for e in file["entries"]]
    assert who[0] == (f"reporter-{VILLAGE}", "reporter")
    assert who[3] == (f"supervisor-{VILLAGE}", "supervisor")
    assert who[4] == (ASSIGNED, "mediator")
    signed = by_type(file, "Signed")
    assert (signed["actor"], signed["owner"], signed["fields"]["owner"]) == (
        f"mediator-{VILLAGE}",
        VILLAGE,
        VILLAGE,
    )
    assert [e["status"] for e in file["entries"]][-3:] == ["followed_up"] * 3

    # every text recorded, the personal data in it masked
    registered = by_type(file, "Registered")["fields"]
    assert registered["summary"] == SUMMARY.replace(PHONE, mask_digits(PHONE) or "")
    assert registered["channel"] == "grid_patrol"
    assert registered["reporter"] == registered["recorded_by"] == f"reporter-{VILLAGE}"
    assert registered["occurred_at"] == "2026-09-27T12:30:00Z"
    assert registered["people_involved"] == 4
    assert registered["amount_involved"] == "1200.50"
    assert registered["number"] == file["number"]
    assert set(registered["deadlines"]) == {"sign", "resolve"}
    assert registered["parties"] == [
        {
            "name": "张三",
            "role": "applicant",
            "id_number": mask_digits(ID_NUMBER),
            "phone": mask_digits(PHONE),
            "address": mask_address(ADDRESS),
        },
        {
            "name": "李四",
            "role": "respondent",
            "id_number": mask_digits(OTHER_ID),
            "phone": mask_digits(OTHER_PHONE),
            "address": mask_address(OTHER_ADDRESS),
        },
    ]
    assessed = by_type(file, "Assessed")["fields"]
    assert assessed == {
        "level": "yellow",
        "reason": "争执未升级",
        "triggers": ["3-9人", "邻里"],
        # no risk fact corrected, no trigger fired: nothing to say about being below one
        "people_involved": None,
        "amount_involved": None,
        "police_callouts": None,
        "suggested_level": "yellow",
        "risk_triggers": [],
        "below_suggestion_reason": "",
    }
    assert by_type(file, "Assigned")["fields"] == {"assignee": ASSIGNED}
    session = by_type(file, "MediationSessionRecorded")["fields"]
    assert session["attendees"] == ATTENDEES
    assert session["notes"] == SESSION_NOTES.replace(ADDRESS, mask_address(ADDRESS) or "")
    assert "mediation" in session["deadlines"]
    resolved = by_type(file, "Resolved")["fields"]
    assert resolved["agreement"] == (
        AGREEMENT.replace(ID_NUMBER, mask_digits(ID_NUMBER) or "").replace(
            OTHER_PHONE, mask_digits(OTHER_PHONE) or ""
        )
    )
    assert (resolved["form"], resolved["amount"], resolved["performance_due"]) == (
        "written",
        "1200",
        "2026-10-10",
    )
    assert by_type(file, "JudicialConfirmationRequested")["fields"]["court"] == "犍为县人民法院"
    assert by_type(file, "JudicialConfirmationRecorded")["fields"] == {
        "confirmed": True,
        "note": RULING_NOTE,
    }
    follow_up = by_type(file, "FollowUpRecorded")["fields"]
    assert (follow_up["satisfied"], follow_up["agreement_honoured"], follow_up["note"]) == (
        True,
        True,
        FOLLOW_UP_NOTE,
    )
    # taken by a grid worker on a phone callback (the default channel), not through a link
    assert by_type(file, "Rated")["fields"] == {
        "grade": "satisfied",
        "channel": "phone_callback",
        "comment": "",
        "invitation": None,
        "party": None,
    }
    assert by_type(file, "NoteAdded")["fields"] == {"text": NOTE}
    attachment = by_type(file, "AttachmentAdded")["fields"]
    assert attachment["name"] == "现场照片.jpg"
    assert (attachment["kind"], attachment["media_type"], attachment["size"]) == (
        "photo",
        "image/jpeg",
        len(PHOTO),
    )
    assert attachment["url"] == f"/api/v1/cases/{case_id}/attachments/{attachment['sha256']}"
    download = http.get(attachment["url"], headers=auth("auditor", COUNTY))
    assert download.status_code == 200
    assert download.content == PHOTO

    # nothing plain anywhere in the answer, and no Python repr
    for plain in (ID_NUMBER, PHONE, ADDRESS, OTHER_ID, OTHER_PHONE, OTHER_ADDRESS):
        assert plain not in answer.text, plain
    assert not re.search(r"Decimal\(|datetime\(|Party\(|Deadline\(", answer.text)

    # the timeline in each entry is what /history says
    history = ok(http.get(f"{API}/cases/{case_id}/history", headers=auth("auditor", COUNTY)))
    assert [h["fields"] for h in history] == [e["timeline"] for e in file["entries"]]
    assert [h["text"] for h in history] == [e["text"] for e in file["entries"]]


def test_the_timeline_says_it_in_chinese_without_personal_data(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, _ = client
    case_id = lived(http, clock)
    answer = http.get(f"{API}/cases/{case_id}/history", headers=auth("reporter", VILLAGE))
    history = ok(answer)
    assert [h["event_type"] for h in history] == LIFE
    for private in (
        ID_NUMBER,
        PHONE,
        ADDRESS,
        "张三",
        "李四",
        SESSION_NOTES,
        "赔偿",
        RULING_NOTE,
        FOLLOW_UP_NOTE,
        NOTE,
        "现场照片",
    ):
        assert private not in answer.text, private
    texts = {h["event_type"]: h["text"] for h in history}
    for text in texts.values():
        assert not re.search(r"\b(True|False|None)\b", text), text
        identifiers = text.replace(ASSIGNED, "")
        assert re.findall(r"[A-Za-z]{3,}", identifiers) == [], text
    session = next(h for h in history if h["event_type"] == "MediationSessionRecorded")
    held = datetime.fromisoformat(session["fields"]["held_at"]).astimezone(SHANGHAI)
    assert (
        texts["MediationSessionRecorded"]
        == f"调解，时间：{held:%Y-%m-%d %H:%M} 北京时间，参加 3 人"
    )
    assert texts["Assigned"] == f"指派承办人：{ASSIGNED}"
    assert texts["FollowUpRecorded"] == "回访：当事人是否满意：是，协议是否履行：是"
    assert texts["JudicialConfirmationRecorded"] == "登记司法确认结果，是否确认：是"
    assert texts["Resolved"] == "化解：书面协议，协议金额：1200 元，履行期限：2026-10-10"
    assert texts["AttachmentAdded"].startswith("添加附件：照片，")
    assert session["fields"] == {"attendee_count": 3, "held_at": session["fields"]["held_at"]}


def test_the_assigned_mediator_unmasks_with_a_reason_on_the_record(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, _ = client
    case_id = lived(http, clock)

    # who may not, or not without a reason
    no_reason = read_file(http, case_id, "mediator", VILLAGE, user=ASSIGNED, unmask="true")
    assert assert_problem(no_reason, 422)["field"] == "reason"
    for role, unit, user in (
        ("auditor", COUNTY, None),
        ("mediator", VILLAGE, "mediator-9"),  # a mediator of the village, not assigned
        ("admin", "511100", None),
    ):
        refused = read_file(http, case_id, role, unit, unmask="true", reason="查看", user=user)
        assert_problem(refused, 403)

    reason = "联系当事人履行协议"
    answer = read_file(
        http, case_id, "mediator", VILLAGE, user=ASSIGNED, unmask="true", reason=reason
    )
    file = ok(answer)
    assert file["unmasked"] is True
    for plain in (ID_NUMBER, PHONE, ADDRESS, OTHER_ID, OTHER_PHONE, OTHER_ADDRESS):
        assert plain in answer.text, plain
    assert by_type(file, "Resolved")["fields"]["agreement"] == AGREEMENT
    assert by_type(file, "Registered")["fields"]["summary"] == SUMMARY
    session = by_type(file, "MediationSessionRecorded")["fields"]
    assert session["notes"] == SESSION_NOTES

    # on the record: the case's audit export holds the unmasking, who, why and what
    export = http.get(f"{API}/cases/{case_id}/audit", headers=auth("auditor", COUNTY))
    assert export.status_code == 200, export.text
    records = [json.loads(line) for line in export.text.splitlines()[:-1]]
    unmasked = [
        r
        for r in records
        if r["event_type"] == "AccessRecord.Recorded" and r["payload"]["kind"] == "unmask"
    ]
    assert len(unmasked) == 1
    payload = unmasked[0]["payload"]
    assert (unmasked[0]["actor"], unmasked[0]["role"]) == (ASSIGNED, "mediator")
    assert (payload["reason"], payload["case_id"]) == (reason, case_id)
    assert payload["filter"] == {"fields": ["id_number", "phone", "address"], "read": "file"}
    # the parties' own fields are masked in the export (free texts that repeat them are
    # exported as written: the export masks only the parties)
    for plain in (OTHER_ID, OTHER_ADDRESS):
        assert plain not in export.text


def test_the_file_is_read_where_the_case_is_visible(client: tuple[Client, Runtime]) -> None:
    http, _ = client
    case_id = str(register(http)["id"])
    assert_problem(read_file(http, case_id, "supervisor", OTHER_COUNTY), 403)
    unknown = "00000000-0000-4000-8000-000000000000"
    assert_problem(read_file(http, unknown, "auditor", COUNTY), 404)
    assert ok(read_file(http, case_id, "reporter", VILLAGE))["version"] == 1


def test_an_escalated_case_waits_for_its_signature_in_the_queue(
    client: tuple[Client, Runtime], clock: Clock
) -> None:
    http, _ = client
    case_id = str(register(http)["id"])
    ok(send(http, case_id, "sign"))
    clock.advance(minutes=5)
    ok(send(http, case_id, "escalate", {"reason": "村级调解未果"}, role="supervisor", unit=VILLAGE))
    items = ok(http.get(f"{API}/queues/{COUNTY}", headers=auth("supervisor", COUNTY)))["items"]
    item = next(i for i in items if i["id"] == case_id)
    assert (item["status"], item["awaiting_signature"], item["due_kind"]) == (
        "signed",
        True,
        "sign",
    )


def test_the_openapi_document_describes_the_file(client: tuple[Client, Runtime]) -> None:
    http, _ = client
    document = http.get("/schema/openapi.json").json()
    operation = document["paths"]["/api/v1/cases/{case_id}/file"]["get"]
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer["$ref"].endswith("/FileOut")
    assert {"401", "403", "404", "422", "503"} <= set(operation["responses"])
    assert {p["name"] for p in operation["parameters"]} >= {"case_id", "unmask", "reason"}
    entry = document["components"]["schemas"]["FileEntryOut"]["properties"]
    assert {"at", "at_local", "actor", "role", "owner", "fields", "timeline"} <= set(entry)
