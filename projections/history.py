"""Case history: each case's timeline, one entry per event, as structured fields and a line.

An entry keeps the event's type, version, log position, time, actor and role, and ``fields``:
what the event says in a form any reader can render in their own language — codes (``red``,
``county``, ``overdue``), unit codes, times in UTC, counts, yes/no, and the reasons people gave.

The fields never carry personal data or the case's recorded texts. Parties (names, ID numbers,
phones, addresses), attendees' names, session notes, agreement texts, referral answers,
follow-up and ruling notes, notes and attachment file names are in the case file
(``GET /cases/{id}/file``), which is read under its own permissions and masking. A timeline is
shown to every role that may see the case and goes into the dashboard's lists; an agreement
names the parties and what each owes, so it is kept out with the rest.

``text`` is the entry in Chinese, built from the fields when read (so its wording can change
without a rebuild): codes in words (red → 红色), times in Shanghai with their label
(北京时间), yes/no as 是/否, a missing value as 未填. No English word reaches it, except a
reason someone typed in English.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from domain.calendar import SHANGHAI
from domain.case import Case
from domain.dispute import Dispute
from domain.status import EscalationCause, ReopenCause
from projections.db import Cursor, from_us, to_us
from projections.engine import Batch, View
from projections.events import is_case_event, kind_of, lookup

# A field's value as stored and answered: plain JSON.
Value = str | int | float | bool | list[str] | None
Fields = dict[str, Value]


@dataclass(frozen=True)
class HistoryEntry:
    version: int
    position: int
    event_type: str
    at: datetime
    actor: str
    role: str
    text: str  # the entry in Chinese (``line``)
    fields: Fields = field(default_factory=dict)


class HistoryView(View):
    name = "history"
    handles = (Case.Event,)  # every case event is a line of its timeline
    # 2: structured fields instead of a stored English line (the line is built when read);
    # 3: why a registration has its level, an assessment below the risk triggers' suggestion,
    # a referral answer's outcome and the agency's number
    # 4: the earlier cases a registration repeats (their numbers), its key persons (a count)
    schema_version = 4

    def create_statements(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {self.t('history')} (case_id TEXT NOT NULL, "
            "version INTEGER NOT NULL, position BIGINT NOT NULL, event_type TEXT NOT NULL, "
            "at_us BIGINT NOT NULL, actor TEXT NOT NULL, role TEXT NOT NULL, "
            "fields TEXT NOT NULL, PRIMARY KEY (case_id, version))"
        ]

    def table_names(self) -> list[str]:
        return ["history"]

    def process(self, cursor: Cursor, batch: Batch) -> None:
        rows = [
            (str(e.originator_id), e.originator_version, position, type(e).__name__,
             to_us(e.timestamp), e.actor, e.role, _json(readable_fields(e)))
            for position, e in batch
            if is_case_event(e)
        ]  # fmt: skip
        cursor.executemany(
            f"INSERT INTO {self.t('history')} (case_id, version, position, event_type, at_us, "
            "actor, role, fields) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def get_history(self, case_id: UUID) -> list[HistoryEntry]:
        with self.db.transaction(write=False) as cursor:
            cursor.execute(
                "SELECT version, position, event_type, at_us, actor, role, fields "
                f"FROM {self.t('history')} WHERE case_id = ? ORDER BY version",
                (str(case_id),),
            )
            rows = cursor.fetchall()
        entries = []
        for version, position, event_type, at_us, actor, role, stored in rows:
            fields: Fields = json.loads(stored)
            text = line(event_type, fields)
            entries.append(
                HistoryEntry(version, position, event_type, from_us(at_us), actor, role, text,
                             fields)
            )  # fmt: skip
        return entries

    def positions(self, case_id: UUID) -> dict[int, int]:
        """Each recorded version's log position (the versions the view has reached)."""
        with self.db.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT version, position FROM {self.t('history')} WHERE case_id = ?",
                (str(case_id),),
            )
            return {int(version): int(position) for version, position in cursor.fetchall()}


def _json(fields: Fields) -> str:
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


# --- what each event shows -----------------------------------------------------------------

Derive = Callable[[Any, Fields], None]
Line = str | Callable[[Fields], str]


@dataclass(frozen=True)
class Reading:
    """How the timeline reads one event type: the event's fields it shows as recorded, those
    it computes (``derive``: a count instead of a list of names), and its Chinese line, whose
    ``{name}`` is a field in words (``words`` names codes this event type uses its own way)."""

    shown: tuple[str, ...]
    line: Line
    derive: Derive | None = None
    words: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def line_for(self, fields: Fields) -> str:
        return self.line if isinstance(self.line, str) else self.line(fields)


def _count(source: str, target: str) -> Derive:
    """A count of people in place of their names (attendees, parties: personal data)."""

    def derive(event: Any, fields: Fields) -> None:
        fields[target] = len(getattr(event, source))

    return derive


def _registered_line(fields: Fields) -> str:
    """A registration, and the risk triggers that raised its level, when they did."""
    line = (
        "登记{kind}（{category}），来源：{channel}，发生地：{unit}，{level}预警，"
        "责任单位：{owner}（{tier}），涉及 {people_involved} 人，当事人 {party_count} 人，"
        "涉及金额：{amount_involved}，发生时间：{occurred_at}，编号：{number}"
    )
    if fields.get("level_cause") == "triggers":
        line += "；因触发预警指标（{risk_triggers}）定为{level}预警"
    if fields.get("repeats"):
        line += "；重复纠纷：此前案件 {repeats}"
    if fields.get("key_person_count"):
        line += "；涉及重点人员 {key_person_count} 人"
    return line


def _assessed(fields: Fields) -> str:
    """An assessment, and why it is below what the risk triggers suggest, when it is."""
    line = "研判：{level}预警；预警情形：{triggers}；理由：{reason}"
    if fields.get("below_suggestion_reason"):
        return line + "；低于预警指标建议的{suggested_level}预警，理由：{below_suggestion_reason}"
    return line


def _registered(event: Any, fields: Fields) -> None:
    """A registration reads with its kind (from the aggregate's class) and how many parties."""
    fields["kind"] = kind_of(event)
    fields["party_count"] = len(event.parties)
    # 重复纠纷 and 重点人员 (``domain.repeats``): the earlier cases' numbers, a count of persons
    earlier = [str(entry.get("number") or entry["case_id"]) for entry in event.repeat_of or ()]
    if earlier:
        fields["repeats"] = earlier
    if event.key_persons:
        fields["key_person_count"] = len(event.key_persons)


# The reasons the domain writes itself (``domain.case._ownership`` and ``_outcomes``), in
# English or with a code in them: read back into fields, so the line can say them in words.
_MISSED = re.compile(r"^resolve deadline (\S+) missed$")
_RATED = re.compile(r"^差评 退回再办: (\w+)$")


def _missed_deadline(event: Any, fields: Fields) -> None:
    found = _MISSED.match(event.reason) if event.cause == EscalationCause.OVERDUE else None
    if found is not None:
        fields.pop("reason", None)
        fields["missed_due_at"] = _plain(datetime.fromisoformat(found.group(1)))


def _bad_rating(event: Any, fields: Fields) -> None:
    found = _RATED.match(event.reason) if event.cause == ReopenCause.RATING else None
    if found is not None:
        fields.pop("reason", None)
        fields["grade"] = found.group(1)


def _escalated(fields: Fields) -> str:
    moved = "上交（{cause}）：由 {from_unit}（{from_tier}，{from_level}预警）至 {to_unit}（{to_tier}，{to_level}预警）"  # noqa: E501
    if "missed_due_at" in fields:
        return moved + "；化解期限 {missed_due_at} 已过"
    return moved + "；理由：{reason}"


def _closed(fields: Fields) -> str:
    """A supervisor closing after a troubled follow-up visit said why."""
    return "办结销号；理由：{reason}" if fields.get("reason") else "办结销号"


def _referral_answered(fields: Fields) -> str:
    """Answers recorded before outcomes existed say only that the agency answered."""
    if fields.get("outcome"):
        return "转办单位答复：{outcome}；对方案号：{reference}"
    return "转办单位已答复"


def _rated(fields: Fields) -> str:
    """A rating, how it was taken, and what the party said."""
    line = "评价：{grade}（{channel}）"
    return line + "；意见：{comment}" if fields.get("comment") else line


def _reviewed(fields: Fields) -> str:
    return (
        "差评核实：{decision}；理由：{reason}" if fields.get("reason") else "差评核实：{decision}"
    )


RATING_CHANNELS = {
    "citizen_link": "当事人手机评价",
    "phone_callback": "电话回访",
    "visit": "上门回访",
    "hotline": "服务热线",
    "walk_in": "群众来访",
    "staff": "工作人员录入",
}


def _inspection_recorded(fields: Fields) -> str:
    """督查回访: what the inspector found (the remarks are in the case file), and rework."""
    if fields.get("reached"):
        line = (
            "督查回访（期限 {due_at}）：已联系当事人，当事人是否满意：{satisfied}，"
            "协议是否履行：{agreement_honoured}"
        )
    else:
        line = "督查回访（期限 {due_at}）：未能联系上当事人"
    return line + "；退回重新办理" if fields.get("rework") else line


def _reopened(fields: Fields) -> str:
    if "grade" in fields:
        return "重新办理（{cause}）：评价为{grade}"
    return "重新办理（{cause}）；理由：{reason}"


CASE_KINDS = {"dispute": "矛盾纠纷", "incident": "事件隐患"}
CLOCKS = {
    "sign": "签收",
    "resolve": "化解",
    "mediation": "调解",
    "follow_up": "回访",
    "judicial_reminder": "司法确认提醒",
    "judicial_confirmation": "司法确认",
    "status_report": "每日报告",
    "supervision": "督办答复",
    "pause_review": "中止复查",
    "referral_answer": "转办答复",
    "report_back": "反馈转办单位",
    "performance": "履行",
    "inspection": "督查回访",
}
ATTACHMENT_KINDS = {
    "photo": "照片",
    "agreement": "协议",
    "evidence": "证据",
    "audio": "录音",
    "other": "其他",
}

# One reading per event type, keyed by ``Case``'s classes (``lookup`` finds a dispute's and an
# incident's copies); ``event_type`` keeps the class name, the same for both kinds.
TEXT: Mapping[type, Reading] = {
    Case.Registered: Reading(
        (
            "category",
            "channel",
            "unit",
            "level",
            "owner",
            "tier",
            "people_involved",
            "amount_involved",
            "occurred_at",
            "number",
            "level_cause",
            "risk_triggers",
        ),
        _registered_line,
        _registered,
        {"kind": CASE_KINDS},
    ),
    Case.Numbered: Reading(("number",), "编号：{number}"),
    Case.Assessed: Reading(
        ("level", "triggers", "reason", "suggested_level", "below_suggestion_reason"),
        _assessed,
    ),
    Case.LevelRaised: Reading(("level", "reason"), "预警等级提高为{level}；理由：{reason}"),
    Case.LevelLowered: Reading(
        ("level", "owner", "tier", "reason"),
        "预警等级降为{level}，责任单位：{owner}（{tier}）；理由：{reason}",
    ),
    Case.Signed: Reading(("owner",), "{owner} 签收"),
    Case.Assigned: Reading(("assignee",), "指派承办人：{assignee}"),
    Case.Returned: Reading(
        ("from_unit", "to_unit", "to_tier", "reason"),
        "由 {from_unit} 退回 {to_unit}（{to_tier}）；理由：{reason}",
    ),
    Case.Escalated: Reading(
        (
            "cause",
            "reason",
            "from_unit",
            "from_tier",
            "from_level",
            "to_unit",
            "to_tier",
            "to_level",
        ),
        _escalated,
        _missed_deadline,
    ),
    Case.MediationSessionRecorded: Reading(
        ("held_at",),
        "调解，时间：{held_at}，参加 {attendee_count} 人",
        _count("attendees", "attendee_count"),
    ),
    Case.Resolved: Reading(
        ("form", "amount", "performance_due"),
        "化解：{form}协议，协议金额：{amount}，履行期限：{performance_due}",
    ),
    Case.Terminated: Reading(("reason",), "调解终止；理由：{reason}"),
    Case.Referred: Reading(("agency", "reason"), "转办至{agency}；理由：{reason}"),
    Case.ReferralAnswered: Reading(("outcome", "reference"), _referral_answered),
    Case.ReferralDeclined: Reading(("reason",), "转办单位不予受理，退回重新办理；理由：{reason}"),
    Case.ReferralResultReported: Reading((), "登记转办单位的处理结果"),
    Case.ReportedBack: Reading((), "已向转办来源单位反馈处理结果"),
    Dispute.JudicialConfirmationRequested: Reading(("court",), "向{court}申请司法确认"),
    Dispute.JudicialConfirmationRecorded: Reading(
        ("confirmed",), "登记司法确认结果，是否确认：{confirmed}"
    ),
    Case.FollowUpRecorded: Reading(
        ("satisfied", "agreement_honoured"),
        "回访：当事人是否满意：{satisfied}，协议是否履行：{agreement_honoured}",
    ),
    Case.Rated: Reading(
        ("grade", "channel", "comment"), _rated, None, {"channel": RATING_CHANNELS}
    ),
    Case.RatingInvited: Reading(
        ("occasion", "expires_at"),
        "邀请 {invited} 位当事人评价（{occasion}），链接有效期至 {expires_at}",
        _count("invitations", "invited"),
        {"occasion": {"resolved": "化解后", "closed": "办结后"}},
    ),
    Case.RatingReviewOpened: Reading(("grade",), "差评核实：评价为{grade}，待主管核实"),
    Case.RatingReviewed: Reading(
        ("decision", "reason"),
        _reviewed,
        None,
        {"decision": {"confirm": "属实，退回再办", "dispute": "不属实"}},
    ),
    Case.Paused: Reading(
        ("reason", "review_at"), "中止办理；理由：{reason}；复查日期：{review_at}"
    ),
    Case.SupervisionOrdered: Reading(
        ("order", "by_unit", "instruction", "due_at"),
        "{by_unit} 督办（第 {order} 号）：{instruction}；答复期限 {due_at}",
    ),
    Case.SupervisionReminded: Reading(
        ("order", "due_at"), "第 {order} 号督办的答复期限 {due_at} 已过，再次督促"
    ),
    Case.SupervisionAnswered: Reading(("order",), "答复第 {order} 号督办"),
    Case.Resumed: Reading((), "恢复办理"),
    Case.DeadlineExtended: Reading(
        ("kind", "until", "reason"),
        "{kind}期限延长至 {until}；理由：{reason}",
        None,
        {"kind": CLOCKS},
    ),
    Case.ClocksRecomputed: Reading(
        ("cause", "policy_version", "days"), "因节假日调整（{days}），期限重新计算"
    ),
    Case.Reopened: Reading(("cause", "reason"), _reopened, _bad_rating),
    Case.InspectionSampled: Reading(
        ("township", "month", "due_at"),
        "督查抽查：{township} {month} 办结案件随机抽查选中本案，督查回访期限 {due_at}",
    ),
    Case.InspectionRecorded: Reading(
        ("reached", "satisfied", "agreement_honoured", "rework", "due_at"), _inspection_recorded
    ),
    Case.Closed: Reading(("reason",), _closed),
    Case.Rejected: Reading(("reason",), "不予受理；理由：{reason}"),
    Case.NoteAdded: Reading((), "添加备注"),
    Case.AttachmentAdded: Reading(
        ("kind", "media_type", "size"),
        "添加附件：{kind}，{size}",
        None,
        {"kind": ATTACHMENT_KINDS},
    ),
    Case.ClockFired: Reading(
        ("kind", "due_at"), "{kind}期限 {due_at} 到期", None, {"kind": CLOCKS}
    ),
    Case.SignOverdueFlagged: Reading(("due_at",), "签收期限 {due_at} 已过，尚未签收"),
    Case.ResolveOverdueFlagged: Reading(("due_at",), "化解期限 {due_at} 已过，尚未化解"),
}
_BY_NAME: Mapping[str, Reading] = {cls.__name__: reading for cls, reading in TEXT.items()}


def readable_fields(event: Any) -> Fields:
    """The event's readable fields, as plain JSON values; none for an event type without a
    reading (a newer one)."""
    reading = lookup(TEXT, type(event))
    if reading is None:
        return {}
    fields: Fields = {name: _plain(getattr(event, name)) for name in reading.shown}
    if reading.derive is not None:
        reading.derive(event, fields)
    return fields


def describe(event: Any) -> str:
    """The event's line in Chinese; an event type without a reading (a newer one) reads as
    its name."""
    if lookup(TEXT, type(event)) is None:
        return type(event).__name__
    return line(type(event).__name__, readable_fields(event))


def line(event_type: str, fields: Fields) -> str:
    """The Chinese line of an entry of ``event_type`` with ``fields``."""
    reading = _BY_NAME.get(event_type)
    if reading is None:
        return event_type
    return reading.line_for(fields).format_map(_InWords(fields, reading.words))


def _plain(value: Any) -> Value:
    """A value as JSON holds it: times in UTC (ISO 8601, ``Z``), amounts as text."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"no plain form for {type(value).__name__}")  # never a Python repr


# --- the fields in words ---------------------------------------------------------------------

LEVELS = {"red": "红色", "orange": "橙色", "yellow": "黄色"}
TIERS = {"city": "市级", "county": "县级", "township": "乡镇级", "village": "村级", "grid": "网格"}
WORDS: Mapping[str, Mapping[str, str]] = {
    "level": LEVELS,
    "suggested_level": LEVELS,
    "from_level": LEVELS,
    "to_level": LEVELS,
    "tier": TIERS,
    "from_tier": TIERS,
    "to_tier": TIERS,
    "channel": {
        "grid_patrol": "网格员巡查",
        "hotline": "服务热线",
        "walk_in": "群众来访",
        "police_110": "110联动",
        "court": "法院委派",
        "petition_office": "信访转交",
        "online": "网上受理",
    },
    # escalation and reopening: manual ones are a supervisor's decision in both
    "cause": {
        "overdue": "化解逾期",
        "level_raised": "预警等级提高",
        "manual": "主管决定",
        "cross_area": "跨区域",
        "take_over": "提级办理",
        "rating": "差评退回再办",
        "inspection": "督查回访退回",
    },
    "form": {"written": "书面", "oral": "口头"},
    "outcome": {"accepted": "已受理", "declined": "不予受理", "concluded": "已处理完毕"},
    "agency": {
        "court": "法院（诉调对接）",
        "police": "公安（公调对接）",
        "procuratorate": "检察院（检调对接）",
        "petition_office": "信访部门（访调对接）",
    },
    "grade": {
        "very_satisfied": "非常满意",
        "satisfied": "满意",
        "basically_satisfied": "基本满意",
        "dissatisfied": "不满意",
        "very_dissatisfied": "非常不满意",
    },
}
TIMES = frozenset(
    {"occurred_at", "held_at", "until", "due_at", "missed_due_at", "review_at", "expires_at"}
)
AMOUNTS = frozenset({"amount", "amount_involved"})
MISSING = "未填"


class _InWords(dict[str, str]):
    """A line's fields in words, for ``str.format_map``; a field not there reads 未填."""

    def __init__(self, fields: Fields, words: Mapping[str, Mapping[str, str]]) -> None:
        super().__init__()
        self.fields = fields
        self.words = words

    def __missing__(self, name: str) -> str:
        return in_words(name, self.fields.get(name), self.words)


def in_words(name: str, value: Value, words: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """A field's value as the Chinese line says it."""
    if value is None or value == "":
        return MISSING
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        if name == "risk_triggers":
            value = [trigger_words(code) for code in value]
        return "、".join(value) if value else "无"
    if name in TIMES and isinstance(value, str):
        return shanghai(value)
    return _measured(name, value) or _coded(name, str(value), words or {})


_TRIGGER = re.compile(r"^(people_involved|amount_involved|police_callouts)>=(\S+)$")
_TRIGGER_WORDS = {
    "people_involved": "涉及{0}人以上",
    "amount_involved": "涉及金额{0}元以上",
    "police_callouts": "110出警{0}次以上",
}
# triggers that are words of their own (``domain.repeats``): each raised the level one step
_FLAT_TRIGGERS = {"repeat": "重复纠纷（升一级）", "key_person": "涉重点人员（升一级）"}


def trigger_words(code: str) -> str:
    """A risk trigger's code (``domain.risk``) in Chinese: people_involved>=30 → 涉及30人以上,
    category=征地拆迁 → 征地拆迁类; an unknown code as it is."""
    if code in _FLAT_TRIGGERS:
        return _FLAT_TRIGGERS[code]
    if code.startswith("category="):
        return f"{code.removeprefix('category=')}类"
    found = _TRIGGER.match(code)
    return _TRIGGER_WORDS[found.group(1)].format(found.group(2)) if found else code


def _measured(name: str, value: str | int | float) -> str | None:
    """An amount in 元, a size in bytes; None for any other field."""
    if name in AMOUNTS:
        return f"{value} 元"
    if name == "size" and isinstance(value, int):
        return size(value)
    return None


def _coded(name: str, value: str, words: Mapping[str, Mapping[str, str]]) -> str:
    """A code in words (the event type's own names first); anything else as it is."""
    table = words.get(name) or WORDS.get(name) or {}
    return table.get(value, value)


def shanghai(iso: str) -> str:
    """A time as people in China read it: 2026-12-01 18:30 北京时间."""
    moment = datetime.fromisoformat(iso).astimezone(SHANGHAI)
    return f"{moment:%Y-%m-%d %H:%M} 北京时间"


def size(count: int) -> str:
    if count < 1024:
        return f"{count} 字节"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KB"
    return f"{count / (1024 * 1024):.1f} MB"
