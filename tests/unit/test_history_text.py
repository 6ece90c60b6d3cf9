"""Every case event reads in the timeline as plain fields and a Chinese line: no English word,
no Python ``True``/``False``/``None``, times in Shanghai with their label, and no personal data
or recorded text in either.

Each event class is built here with realistic values (a dispute's and an incident's copies
alike), so an event added to the aggregate is checked the day it appears.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from domain.calendar import SHANGHAI
from domain.case import Case
from domain.incident import Incident
from domain.parties import Party
from domain.status import PartyRole
from projections.history import describe, line, readable_fields
from tests.support.world import COUNTY, T0, TOWNSHIP, VILLAGE
from tests.unit.test_event_dispatch import case_event_classes

HELD = T0 - timedelta(hours=3)
OCCURRED = T0 - timedelta(days=2, hours=5)
UNTIL = T0 + timedelta(days=10, minutes=30)
DUE = T0 + timedelta(hours=20, minutes=15)
ASSIGNEE = "mediator-7"  # a user id: an identifier, not a word
ID_NUMBER = "511123199001091234"
PHONE = "13987650321"
ADDRESS = "四川省乐山市犍为县罗城镇石溪村三组12号"

# What personal data and recorded texts the samples hold: none may reach a timeline.
PRIVATE = (
    "张三",
    "李四",
    ID_NUMBER,
    PHONE,
    ADDRESS,
    "调解笔录内容",
    "李四赔偿张三",
    "法院已立案受理",
    "回访记录内容",
    "处理结果正文",
    "备注正文",
    "裁定书说明",
    "身份证照片",
    "督查回访记录正文",
)

SAMPLES: dict[str, Any] = {
    "category": "邻里纠纷",
    "summary": "两户因排水沟堵塞发生争执",
    "unit": VILLAGE,
    "channel": "hotline",
    "reporter": "grid-worker-1",
    "recorded_by": "operator-1",
    "parties": [
        Party("张三", PartyRole.APPLICANT, ID_NUMBER, PHONE, ADDRESS),
        Party("李四", PartyRole.RESPONDENT),
    ],
    "people_involved": 4,
    "amount_involved": Decimal("1200.50"),
    "occurred_at": OCCURRED,
    "level": "orange",
    "owner": TOWNSHIP,
    "tier": "township",
    "policy_version": "default-1",
    "deadlines": {},
    "number": "（2026）犍调字第0012号",
    "triggers": ["10-29人", "多方当事人"],
    "reason": "双方矛盾升级",
    "assignee": ASSIGNEE,
    "cause": "manual",
    "from_unit": TOWNSHIP,
    "from_tier": "township",
    "to_unit": COUNTY,
    "to_tier": "county",
    "from_level": "orange",
    "to_level": "red",
    "held_at": HELD,
    "notes": "调解笔录内容：张三称电话 13987650321",
    "attendees": ["张三", "李四", "村调解员"],
    "agreement": "李四赔偿张三 1200 元",
    "form": "written",
    "amount": Decimal("1200"),
    "performance_due": "2026-10-31",
    "agency": "court",
    "answer": "法院已立案受理",
    "court": "犍为县人民法院",
    "confirmed": True,
    "satisfied": False,
    "agreement_honoured": None,
    "note": "回访记录内容",
    "grade": "very_dissatisfied",
    "invitations": [{"id": "0b9e5a52-8f7e-5b1a-9c57-3d7f2a0c1e11", "party": 0}],
    "expires_at": UNTIL,
    "occasion": "resolved",
    "decision": "confirm",
    "until": UNTIL,
    "due_at": DUE,
    "text": "备注正文",
    "order": 1,
    "by_unit": COUNTY,
    "instruction": "请于三日内约谈双方",
    "result": "处理结果正文",
    "review_at": UNTIL,
    "days": ["2027-02-08"],
    "name": "张三身份证照片.jpg",
    "media_type": "image/jpeg",
    "size": 123456,
    "sha256": "ab" * 32,
    "latitude": 29.21,
    "longitude": 103.95,
    "draw": "2f1c6a7e-0d4b-5c8e-9a31-6b2d7e4f0a19",
    "township": TOWNSHIP,
    "month": "2026-08",
    "reached": True,
    "remarks": "督查回访记录正文：张三表示满意",
    "rework": True,
}
KINDS = {"DeadlineExtended": "resolve", "ClockFired": "follow_up", "AttachmentAdded": "photo"}
BASE = {"originator_id", "originator_version", "timestamp", "actor", "role", "originator_topic"}


def build(event_class: type, **overrides: Any) -> Any:
    """An event of ``event_class`` with the samples for its fields."""
    names = {n for cls in event_class.__mro__ for n in getattr(cls, "__annotations__", {})}
    values = {n: SAMPLES[n] for n in names - BASE - {"kind"} if n in SAMPLES}
    if "kind" in names:
        values["kind"] = KINDS[event_class.__name__]
    extra = {"originator_topic": "domain.dispute:Dispute"} if "originator_topic" in names else {}
    return event_class(
        originator_id=uuid4(),
        originator_version=1,
        timestamp=T0,
        actor="mediator-1",
        role="mediator",
        **extra,
        **{**values, **overrides},
    )


def english_words(text: str) -> list[str]:
    """Words of three or more Latin letters, the identifiers (user ids) aside."""
    return re.findall(r"[A-Za-z]{3,}", text.replace(ASSIGNEE, ""))


EVENTS = case_event_classes()
# Events whose fields take the values people leave out, or the domain writes for itself.
VARIANTS = [
    ("Escalated", {"cause": "overdue", "reason": f"resolve deadline {DUE.isoformat()} missed"}),
    ("Escalated", {"cause": "level_raised"}),
    ("Escalated", {"cause": "cross_area"}),
    ("Reopened", {"cause": "rating", "reason": "差评 退回再办: very_dissatisfied"}),
    ("Reopened", {"cause": "manual"}),
    ("FollowUpRecorded", {"satisfied": True, "agreement_honoured": False}),
    ("JudicialConfirmationRecorded", {"confirmed": False}),
    ("Resolved", {"amount": None, "performance_due": None, "form": "oral"}),
    ("Registered", {"amount_involved": None, "occurred_at": None, "number": "", "parties": []}),
    ("Assessed", {"triggers": []}),
    ("Rated", {"channel": "citizen_link", "comment": "调解员很负责"}),
    ("RatingReviewed", {"decision": "dispute", "reason": ""}),
]


def cases() -> list[tuple[type, dict[str, Any]]]:
    by_name = {cls.__name__: cls for cls in EVENTS}
    return [(cls, {}) for cls in EVENTS] + [(by_name[n], o) for n, o in VARIANTS]


@pytest.mark.parametrize(
    ("event_class", "overrides"),
    cases(),
    ids=[
        f"{c.__qualname__}{'-' + '-'.join(map(str, o.values())) if o else ''}" for c, o in cases()
    ],
)
def test_every_event_reads_in_chinese_without_personal_data(
    event_class: type, overrides: dict[str, Any]
) -> None:
    event = build(event_class, **overrides)
    fields = readable_fields(event)
    text = describe(event)

    assert text == line(event_class.__name__, fields)  # what the view rebuilds when read
    assert text != event_class.__name__  # it has a reading
    assert english_words(text) == [], text
    assert not re.search(r"\b(True|False|None)\b", text), text
    assert not re.search(r"[{}]", text), text  # every placeholder filled
    for private in PRIVATE:
        assert private not in text, (private, text)
        assert private not in json.dumps(fields, ensure_ascii=False), (private, fields)
    # plain JSON, as the view stores it and the API answers it
    assert json.loads(json.dumps(fields)) == fields
    assert all(
        value is None or isinstance(value, str | int | float | bool | list)
        for value in fields.values()
    )


@pytest.mark.parametrize("event_class", EVENTS, ids=lambda c: c.__qualname__)
def test_times_are_said_in_shanghai_with_their_label(event_class: type) -> None:
    event = build(event_class)
    text = describe(event)
    for name in ("occurred_at", "held_at", "until", "due_at"):
        moment = getattr(event, name, None)
        if moment is not None and name in readable_fields(event):
            local = f"{moment.astimezone(SHANGHAI):%Y-%m-%d %H:%M} 北京时间"
            assert local in text, (name, text)
            assert readable_fields(event)[name].endswith("Z")  # stored in UTC


def test_what_the_domain_writes_for_itself_reads_as_fields() -> None:
    overdue = build(
        Case.Escalated, cause="overdue", reason=f"resolve deadline {DUE.isoformat()} missed"
    )
    assert readable_fields(overdue)["missed_due_at"] == "2026-09-28T22:15:00Z"
    assert "reason" not in readable_fields(overdue)
    assert describe(overdue).endswith("化解期限 2026-09-29 06:15 北京时间 已过")

    rated = build(Case.Reopened, cause="rating", reason="差评 退回再办: very_dissatisfied")
    assert readable_fields(rated) == {"cause": "rating", "grade": "very_dissatisfied"}
    assert describe(rated) == "重新办理（差评退回再办）：评价为非常不满意"


def test_counts_stand_for_people_and_values_left_out_read_as_not_given() -> None:
    session = build(Case.MediationSessionRecorded)
    assert readable_fields(session) == {"held_at": "2026-09-27T23:00:00Z", "attendee_count": 3}
    assert describe(session) == "调解，时间：2026-09-28 07:00 北京时间，参加 3 人"

    follow_up = build(Case.FollowUpRecorded)
    assert describe(follow_up) == "回访：当事人是否满意：否，协议是否履行：未填"

    registered = build(Incident.Registered)
    assert readable_fields(registered)["party_count"] == 2
    assert readable_fields(registered)["kind"] == "incident"
    assert describe(registered).startswith("登记事件隐患（邻里纠纷），来源：服务热线，")
