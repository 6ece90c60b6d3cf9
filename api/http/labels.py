"""Fields as the people filling them in know them: 摘要 for ``summary``, "party 1's phone
number" for ``parties[0].phone``.

A problem answer keeps the JSON path in ``field`` (clients key on it) and names the field in
words in ``detail``. A field without a label here is named by its path, so a new field is
never nameless, only less friendly until it is added.
"""

from __future__ import annotations

import re

from api.http.i18n import ZH, Language, Pair, pick

LABELS: dict[str, Pair] = {
    # registration
    "kind": ("案件类型", "kind"),
    "unit": ("所在单位", "unit"),
    "category": ("案件类别", "category"),
    "summary": ("摘要", "summary"),
    "channel": ("来源渠道", "channel"),
    "level": ("预警等级", "warning level"),
    "people_involved": ("涉及人数", "people involved"),
    "amount_involved": ("涉及金额", "amount involved"),
    "parties": ("当事人", "parties"),
    "occurred_at": ("发生时间", "time it happened"),
    # a party
    "name": ("姓名", "name"),
    "role": ("当事人身份", "role"),
    "id_number": ("身份证号码", "ID number"),
    "phone": ("联系电话", "phone number"),
    "address": ("住址", "address"),
    # commands on a case
    "reason": ("理由", "reason"),
    "triggers": ("预警情形", "triggers"),
    "assignee": ("承办人", "assignee"),
    "held_at": ("调解时间", "time of the session"),
    "notes": ("调解记录", "notes"),
    "attendees": ("参加人员", "attendees"),
    "agreement": ("协议内容", "agreement"),
    "form": ("协议形式", "form of agreement"),
    "amount": ("协议金额", "amount"),
    "performance_due": ("履行期限", "performance due"),
    "agency": ("转办机关", "agency"),
    "answer": ("转办答复", "answer"),
    "court": ("受理法院", "court"),
    "confirmed": ("司法确认结果", "confirmed"),
    "note": ("备注", "note"),
    "satisfied": ("是否满意", "satisfied"),
    "agreement_honoured": ("协议是否履行", "agreement honoured"),
    "grade": ("评价等级", "grade"),
    "until": ("延长至", "new due time"),
    "other_unit": ("另一方单位", "other unit"),
    "text": ("内容", "text"),
    "mode": ("运行模式", "mode"),
    # 督查回访
    "reached": ("是否联系上当事人", "parties reached"),
    "remarks": ("督查意见", "remarks"),
    "rework": ("是否退回重新办理", "send back for rework"),
    "township": ("乡镇（街道）", "township"),
    # 线索
    "source": ("线索来源", "source"),
    "month": ("抽查月份", "month"),
    # 排查
    "period": ("排查期次", "screening period"),
    "clue_ids": ("排查发现的线索", "clues found"),
    "zero": ("零报告", "zero report"),
    "declaration": ("零报告声明", "declaration"),
    # 重点人员
    "review_on": ("复查日期", "review date"),
    "leader": ("包案领导", "leader"),
    "case_id": ("来源案件", "case"),
    "party": ("当事人序号", "party"),
    "state": ("回访状态", "state"),
    "at": ("操作时间", "time of the command"),
    # the staff directory
    "user": ("用户标识", "user id"),
    "roles": ("角色", "roles"),
    "email": ("电子邮箱", "email"),
    "channels": ("通知渠道", "notice channels"),
    "people": ("人员", "people"),
    "within": ("单位范围", "within"),
    "active": ("是否在岗", "active"),
    # lists and statistics
    "limit": ("每页条数", "limit"),
    "offset": ("起始位置", "offset"),
    "q": ("搜索词", "search text"),
    "status": ("案件状态", "status"),
    "from": ("起始日期", "from"),
    "to": ("截止日期", "to"),
    "bucket": ("统计周期", "bucket"),
    "format": ("导出格式", "format"),
    "unmask": ("显示完整个人信息", "unmask"),
    # the request itself
    "body": ("请求内容", "request body"),
    "Content-Type": ("请求头 Content-Type", "the Content-Type header"),
    "If-Match": ("请求头 If-Match", "the If-Match header"),
    "Idempotency-Key": ("请求头 Idempotency-Key", "the Idempotency-Key header"),
}
# Where one name means another thing in one request body (by its type's name).
SCOPED: dict[str, dict[str, Pair]] = {
    "ExtendDeadline": {"kind": ("期限类型", "deadline kind")},
    "AssessCase": {"reason": ("研判理由", "reason")},
    # the tamper-evident log's consistency proof: two sizes of the tree
    "tree": {
        "from": ("起始树大小", "from size"),
        "to": ("终止树大小", "to size"),
        "position": ("日志位置", "log position"),
        "size": ("树大小（记录数）", "tree size"),
    },
}
# list → (Chinese measure word, what one item is)
ITEMS: dict[str, tuple[str, Pair]] = {
    "parties": ("位", ("当事人", "party")),
    "attendees": ("位", ("参加人员", "attendee")),
    "triggers": ("项", ("预警情形", "trigger")),
    "clue_ids": ("条", ("线索", "clue")),
}
# What the values a client sends mean, for Chinese answers that list them: "red（红色）".
GLOSSES: dict[str, str] = {
    "dispute": "矛盾纠纷",
    "incident": "事件、隐患",
    "red": "红色",
    "orange": "橙色",
    "yellow": "黄色",
    "grid_patrol": "网格员巡查",
    "hotline": "热线",
    "walk_in": "来访",
    "police_110": "110 联动",
    "court": "法院",
    "petition_office": "信访部门",
    "online": "网上",
    "applicant": "申请人",
    "respondent": "被申请人",
    "third_party": "第三人",
    "written": "书面",
    "oral": "口头",
    "police": "公安",
    "procuratorate": "检察院",
    "very_satisfied": "非常满意",
    "satisfied": "满意",
    "basically_satisfied": "基本满意",
    "dissatisfied": "不满意",
    "very_dissatisfied": "非常不满意",
    "normal": "常规模式",
    "holiday": "假日模式",
    "emergency": "应急处置",
    "sign": "签收",
    "resolve": "化解",
    "week": "按周",
    "month": "按月",
    "registered": "已登记",
    "signed": "已签收",
    "in_mediation": "调解中",
    "paused": "已中止",
    "reopened": "重新办理中",
    "resolved": "已化解",
    "terminated": "调解终止",
    "referred": "已转办",
    "followed_up": "已回访",
    "closed": "已办结",
    "rejected": "不予受理",
    "pending": "待回访",
    "overdue": "逾期未回访",
    "done": "已按期回访",
    "done_late": "逾期后回访",
}
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def label(path: str, language: Language, scope: str = "") -> str:
    """The field at ``path`` (``parties[0].phone``) in words of ``language``."""
    steps = [(name, int(index) if index else None) for name, index in _STEP.findall(path)]
    if len(steps) == 3 and steps[0][0] in ITEMS and steps[1][1] is not None:
        return _item(steps[0][0], steps[1][1], language, _word(steps[2][0], language, scope))
    if len(steps) == 2 and steps[0][0] in ITEMS and steps[1][1] is not None:
        return _item(steps[0][0], steps[1][1], language, None)
    if len(steps) == 1:
        return _word(path, language, scope)
    return path


def value(sent: str, language: Language) -> str:
    """A value a client sends, with what it means in Chinese answers: "red（红色）"."""
    gloss = GLOSSES.get(sent) if language == ZH else None
    return f"{sent}（{gloss}）" if gloss else sent


def _word(name: str, language: Language, scope: str) -> str:
    words = SCOPED.get(scope, {}).get(name) or LABELS.get(name)
    return pick(words, language) if words else name


def _item(items: str, index: int, language: Language, part: str | None) -> str:
    measure, noun = ITEMS[items]
    number = index + 1
    if language == ZH:
        whole = f"第{number}{measure}{noun[0]}"
        return f"{whole}的{part}" if part else whole
    return f"{noun[1]} {number}'s {part}" if part else f"{noun[1]} {number}"
