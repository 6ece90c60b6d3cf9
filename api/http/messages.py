"""The words of problem answers: titles, statuses, commands, and each domain rule in Chinese.

The domain explains a refusal in English and names the rule it applied with its limits
(``InvalidInputError.rule`` and ``.limits``); English answers keep the domain's sentence, and
Chinese ones are built here from the rule and limits, never from the English text. A refusal
raised without a rule (some modules still raise them) is said in general terms, with the
domain's English sentence beside it so that nothing the caller could use is hidden.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from http import HTTPStatus

from api.http.i18n import EN, Language, Pair, pick
from domain.calendar import SHANGHAI
from domain.case.commands import CASE_COMMANDS
from domain.clue import ClueClosedError, ClueNotFoundError
from domain.errors import (
    InvitationExpiredError,
    InvitationUsedError,
    KeyPersonNotFoundError,
    KeyPersonRemovedError,
    UnknownInvitationError,
)
from projections.history import trigger_words

# by the English title the code gives a problem (each family's title is fixed)
TITLES: dict[str, str] = {
    "Invalid input": "输入有误",
    "Unknown unit": "单位不存在",
    "Not found": "未找到",
    "Version conflict": "版本冲突",
    "Command not allowed": "当前状态不允许此操作",
    "Forbidden": "无权操作",
    "Idempotency-Key reused": "幂等键已用于其他请求",
    "Invalid policy": "政策配置无效",
    "User exists": "用户已存在",
    "Invitation used": "已评价过",
    "Invitation expired": "评价链接已过期",
    "Too many requests": "请求过于频繁",
    "Bad request": "请求有误",
    "Unauthorized": "未通过身份验证",
    "Unsupported media type": "不支持的内容类型",
    "Request body too large": "请求内容过大",
    "Method not allowed": "不支持此请求方法",
    "Service unavailable": "服务暂不可用",
    "Not ready": "服务未就绪",
    "Internal error": "服务器内部错误",
}
# by status, for answers whose English words came from elsewhere
GENERAL: dict[int, Pair] = {
    400: ("请求有误", "the request is malformed"),
    401: ("需要有效的身份令牌", "a valid token is required"),
    403: ("你无权执行此操作", "you may not do this"),
    404: ("找不到请求的资源", "not found"),
    405: ("不支持此请求方法", "method not allowed"),
    409: ("与案件当前状态冲突", "conflicts with the case as it stands"),
    410: ("已失效", "no longer available"),
    413: ("请求内容过大", "the request body is too large"),
    415: ("请求内容须为 JSON", "the request body must be JSON"),
    422: ("输入有误", "invalid input"),
    429: ("请求过于频繁，请稍后再试", "too many requests; try again later"),
    500: ("服务器内部错误", "unexpected error"),
    503: ("服务暂不可用，请稍后再试", "the service is unavailable; try again shortly"),
}
_COMMANDS_BY_CLASS: dict[str, str] = {
    "RejectCase": "不予受理",
    "AddNote": "添加备注",
    "AddAttachment": "添加附件",
    "SignCase": "签收",
    "AssignCase": "指派承办人",
    "PauseCase": "中止",
    "ResumeCase": "恢复办理",
    "ExtendDeadline": "延长期限",
    "AssessCase": "研判",
    "RaiseLevel": "提高预警等级",
    "LowerLevel": "降低预警等级",
    "EscalateCase": "上报",
    "ReturnCase": "退回",
    "RecordMediationSession": "记录调解",
    "ResolveCase": "化解",
    "TerminateCase": "终止调解",
    "ReferCase": "转办",
    "AnswerReferral": "记录转办答复",
    "RequestJudicialConfirmation": "申请司法确认",
    "RecordJudicialConfirmation": "记录司法确认结果",
    "RecordFollowUp": "回访",
    "RateCase": "评价",
    "ReopenCase": "重新办理",
    "CloseCase": "办结",
    "ActOnDeadline": "处理到期时限",
    "OrderSupervision": "督办",
    "AnswerSupervision": "答复督办",
    "TakeOverCase": "提级办理",
    "ReportReferralResult": "登记转办处理结果",
    "ReportBack": "反馈转办来源单位",
    "RecordInspection": "记录督查回访",
    "RateByInvitation": "评价",
    "ReviewRating": "核实差评",
}
# a refusal names its command by its words ("record a follow-up for"): the words → 中文
COMMANDS: dict[str, str] = {
    command.words: _COMMANDS_BY_CLASS[command.__name__]
    for command in CASE_COMMANDS
    if command.__name__ in _COMMANDS_BY_CLASS
} | {"file a screening report": "上报排查报告"}
COMMANDS.update(
    {  # 重点人员 (domain.key_person)
        "flag a key person": "标记重点人员",
        "assign a key person's leader": "指定包案领导",
        "record a key person's visit": "登记走访",
        "review a key person": "复查重点人员",
        "remove a key person": "移出重点人员名单",
    }
)
# who a rule lets do it (``NotPermittedError.needs``) → 中文: "只有{…}可以{command}"
APPROVERS: dict[str, str] = {
    "a supervisor": "主管或管理员",
    "a supervisor of the unit": "本单位或上级单位的主管",
    "the village's grid worker, or a mediator or supervisor of the village or above": (
        "本村（社区）网格员，或本村及上级单位的调解员、主管"
    ),
    "someone who did not handle the case": (
        "非本案承办人员（办理过本案的人员不能评价自己办理的案件）"
    ),
}
# Why a case's state refuses a command, as the domain says it (``CommandNotAllowedError.detail``)
# → 中文; ``{0}``… are the parts the pattern captured (a unit code, a level, a tier, a clock).
_LEVELS = {"red": "红色", "orange": "橙色", "yellow": "黄色"}
_TIERS = {"village": "村级", "township": "乡镇级", "county": "县级"}
_CLOCKS = {
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
    "report_back": "反馈转办来源",
    "performance": "履行",
    "inspection": "督查回访",
    "rating_review": "差评核实",
}
NOT_ALLOWED: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(f"^{pattern}$"), words)
    for pattern, words in (
        (r"already signed for", "案件已签收"),
        (r"(\S+) must sign for it first", "须先由 {0} 签收"),
        (r"record a mediation session first", "请先记录调解"),
        (r"resume it first", "请先恢复办理"),
        (r"no pending (\S+) clock", "没有进行中的{0}期限"),
        (r"the referral has not been answered yet", "转办单位尚未答复"),
        (r"already answered", "转办已答复"),
        (
            r"销号 needs an outcome and at least one follow-up visit",
            "销号须有办理结果且至少回访一次",
        ),
        (
            r"the last follow-up found the parties dissatisfied or the agreement not honoured: "
            r"a supervisor reopens it for rework or closes it with a reason",
            "最近一次回访当事人不满意或协议未履行：须由主管重新办理，或注明理由后销号",
        ),
        (
            r"only disputes have agreements a court can confirm",
            "只有矛盾纠纷的调解协议可申请司法确认",
        ),
        (r"lowering a level needs a supervisor: use lower", "降低预警等级须由主管批准（降级）"),
        (r"(\S+) is the top tier for cases \(矛盾不上交\)", "{0} 已是最高层级（矛盾不上交）"),
        (r"only before signing, within the sign-for window", "只能在签收前、签收期限内退回"),
        (r"it was not handed over by hand", "此案件不是人工上报的，不能退回"),
        (r"a (\S+) case cannot go below (\S+)", "{0}预警案件不能退回到{1}以下"),
        (r"already requested", "已申请过司法确认"),
        (r"only within 30 days of a written agreement", "只能在书面协议达成后 30 日内申请"),
        (r"no pending request for judicial confirmation", "没有待裁定的司法确认申请"),
        (r"order (\S+) from (\S+) awaits its answer", "{1} 的第 {0} 号督办尚待答复"),
        (r"no supervision order awaits an answer", "没有待答复的督办"),
        (r"the referral has not been accepted", "转办单位尚未受理"),
        (r"the result is recorded already", "处理结果已登记"),
        (r"the case was not referred here by another body", "此案件不是其他单位转办来的"),
        (r"the result was reported back already", "已反馈过处理结果"),
        (r"the case was not sampled for inspection", "本案未被督查抽查选中"),
        (r"the inspection is recorded already", "督查回访已记录过"),
        (
            r"the case is being worked again already: record it without rework",
            "案件已在重新办理中：请不选“退回重新办理”后记录",
        ),
        (r"no bad rating is awaiting review", "没有待核实的差评"),
        (r"the case is being reworked", "案件正在重新办理，暂不能评价"),
        (
            r"report the result back to the body that referred it first",
            "请先向转办来源单位反馈处理结果",
        ),
        (r"only a unit above (\S+) may do this", "只有 {0} 的上级单位可以这样做"),
        (
            r"the county is the top tier for cases \(矛盾不上交\)",
            "县级已是办理案件的最高层级（矛盾不上交）",
        ),
    )
)


def _listed(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else [value]


def not_allowed(detail: str) -> str:
    """Why a command is refused in this state, in Chinese; the domain's words when there is
    no reading for them yet (nothing the caller could use is hidden)."""
    for pattern, words in NOT_ALLOWED:
        matched = pattern.match(detail)
        if matched:
            parts = [_LEVELS.get(g, _TIERS.get(g, _CLOCKS.get(g, g))) for g in matched.groups()]
            return words.format(*parts)
    return detail


# 401s, by what was wrong with the token
TOKEN: dict[str, Pair] = {
    "missing": ("需要 Bearer 令牌（Authorization: Bearer …）", "a Bearer token is required"),
    "expired": ("令牌已过期", "token expired"),
    "not_yet_valid": ("令牌的签发时间晚于当前时间", "token issued in the future"),
    "invalid": ("令牌无效", "invalid token"),
    # the staff directory (``api.http.auth``): only an active member, in a role they hold, at
    # their own unit
    "unknown_user": (
        "令牌所属用户不在人员名录中，请联系管理员",
        "the token's user is not in the staff directory",
    ),
    "disabled_user": ("该用户已停用，请联系管理员", "this user has been disabled"),
    "role_not_held": (
        "该用户在人员名录中没有令牌所称的角色",
        "the user does not hold the token's role",
    ),
    "wrong_unit": (
        "令牌所称单位与该用户在人员名录中的单位不符",
        "the token's unit is not the user's unit",
    ),
    # an identity provider's token (OIDC)
    "unknown_key": (
        "令牌的签名密钥不是身份认证服务公布的密钥",
        "the token's signing key is unknown",
    ),
    "wrong_issuer": (
        "令牌不是本系统信任的身份认证服务签发的",
        "the token's issuer is not trusted",
    ),
    "wrong_audience": ("令牌不是签发给本系统的", "the token is not meant for this service"),
}


def title(english: str, status: int, language: Language) -> str:
    """A problem's title in ``language``, from the English one the code gives it."""
    if language == EN:
        return english
    return TITLES.get(english) or pick(GENERAL.get(status, ("出错了", english)), language)


def general(status: int, language: Language) -> str:
    """What an answer of ``status`` means, when nothing more can be said in ``language``."""
    fallback = (f"请求未能完成（{status}）", phrase(status).lower())
    return pick(GENERAL.get(status, fallback), language)


def phrase(status: int) -> str:
    """HTTP's own words for ``status`` ("Request Entity Too Large")."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"


def when(moment: object) -> str:
    """A time or day as people in China read it: Beijing time."""
    if isinstance(moment, datetime):
        local = moment.astimezone(SHANGHAI)
        return f"北京时间 {local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    if isinstance(moment, date):
        return f"{moment.year}年{moment.month}月{moment.day}日"
    return str(moment)


def _choices(values: object) -> str:
    if isinstance(values, Sequence) and not isinstance(values, str):
        return "、".join(str(value) for value in values)
    return str(values)


def rule(name: str, limits: Mapping[str, object]) -> str | None:
    """A domain rule (``InvalidInputError.rule``) with its limits, in Chinese; None when the
    rule is not one this catalogue knows."""
    said: Callable[[], str] | None = {
        "required": lambda: "不能为空",
        "no_nul": lambda: "不能含有 NUL 字符",
        "max_length": lambda: f"至多 {limits['max']} 个字符",
        "min_length": lambda: f"至少写 {limits['min']} 个字（不计空格），说清发生了什么",
        "length": lambda: f"应为 {limits['min']} 到 {limits['max']} 个字符",
        "max_items": lambda: f"至多 {limits['limit']} 项，现有 {limits['count']} 项",
        "one_of": lambda: f"应为以下之一：{_choices(limits['choices'])}",
        "aware_time": lambda: "应为带时区的日期时间，如 2026-09-28T10:00:00+08:00",
        "not_before": lambda: f"不能早于{when(limits['earliest'])}",
        "before": lambda: f"应早于{when(limits['latest'])}",
        "not_future": lambda: (
            f"不能晚于现在（{when(limits['now'])}）"
            + (f"，允许 {limits['skew_minutes']} 分钟误差" if limits["skew_minutes"] else "")
        ),
        "years_ahead": lambda: (
            f"至多设在 {limits['years']} 年以内，不能晚于{when(limits['latest'])}"
        ),
        "later_than": lambda: f"应晚于现在的期限（{when(limits['current'])}）",
        "after_now": lambda: f"应晚于现在（{when(limits['now'])}）",
        "date": lambda: f"应为日期，如 {limits['example']}",
        "below_suggestion": lambda: (
            f"预警指标建议{_LEVELS.get(str(limits['suggested']), limits['suggested'])}预警"
            f"（{'、'.join(trigger_words(str(t)) for t in _listed(limits['triggers']))}），"
            "定级低于建议须说明理由"
        ),
        "date_range": lambda: f"应在 {limits['earliest']} 至 {limits['latest']} 之间",
        "extension": lambda: (
            f"一次至多延长 {limits['days']} 天，即不晚于{when(limits['latest'])}；"
            "需要等待更久请中止案件"
        ),
        "extension_total": lambda: (
            f"同一时限累计延期不能超过政策上限，即不晚于{when(limits['latest'])}；"
            "需要等待更久请中止案件"
        ),
        "pause_max": lambda: (
            f"复查日期不能超过政策规定的中止上限，即不晚于{when(limits['latest'])}"
        ),
        "id_number_format": lambda: (
            f"应为 {limits['length']} 位居民身份证号码：17 位数字加 1 位校验码（0–9 或 X）"
        ),
        "id_number_checksum": lambda: (
            "不是有效的居民身份证号码：最后一位校验码与前 17 位不符，请检查是否有数字输错"
        ),
        "id_number_birth_date": lambda: (
            f"不是有效的居民身份证号码：第 7 至 14 位应为 {when(limits['earliest'])}以来"
            "真实的出生日期（年月日）"
        ),
        "unknown_field": lambda: "不是这个请求可以填写的项，请删掉",
        "clue_unit": lambda: "线索应记录在村（社区）或网格",
        "rating_body": lambda: "应为 JSON 对象 {grade, comment}",
        "assignee": lambda: f"应为承办单位 {limits['unit']} 名单内在岗的调解员",
        "user_id": lambda: "应为 1 到 64 个字母、数字或 . _ @ -，以字母或数字开头",
        "choice": lambda: f"应为以下一项或几项：{_choices(limits['choices'])}",
        "email": lambda: "应为电子邮箱地址，如 name@example.com",
        "self": lambda: "不能停用自己的账号",
        "reserved": lambda: "这个标识是保留字（如 me），请换一个",
        "count": lambda: f"一次至多 {limits['max']} 人",
        "phone": lambda: (
            "应为中国大陆手机号码（11 位，如 13812345678）或带区号的固定电话"
            "（如 0833-1234567），可加 +86"
        ),
        # 督查回访
        "month": lambda: f"应为年月，如 {limits['example']}",
        "month_ended": lambda: f"{limits['month']} 尚未结束：只能抽查已结束月份办结的案件",
        "township": lambda: "应为乡镇（街道）的单位代码",
        # 排查
        "period": lambda: f"应为排查期次，如 {limits['example']}",
        "period_future": lambda: f"{limits['period']} 期尚未开始，不能上报",
        "village": lambda: "应为村（社区）的单位代码：排查报告由村（社区）上报",
        "screening_filed": lambda: (
            f"本村 {limits['period']} 期的排查报告已于{when(limits['filed_at'])}上报，不能重复上报"
        ),
        "screening_empty": lambda: "请列出本期排查发现的线索；未发现矛盾纠纷的，请上报零报告",
        "zero_with_clues": lambda: "零报告不能列出线索：发现了线索请按线索上报",
        "clue_in_village": lambda: f"{limits['clue']} 不是本村（社区）记录的线索",
        "clue_id": lambda: "应为线索编号（UUID）",
        # 重点人员
        "key_person_identity": lambda: "需要身份证号码或联系电话（至少一项），才能识别这个人",
        "key_person_leader": lambda: f"应为 {limits['unit']} 或其上级单位在岗的主管",
        "key_person_party": lambda: f"应为案件当事人的序号（从 0 起，共 {limits['count']} 位）",
        "fingerprints": lambda: "本系统未配置加密密钥，无法识别重点人员",
        "case_id": lambda: "应为案件编号（UUID）",
        # 防篡改日志
        "tree_size": lambda: (
            f"应为 {limits['least']} 到 {limits['size']} 之间的整数："
            f"日志树现有 {limits['size']} 条记录"
        ),
        "tree_position": lambda: "日志中没有这个位置的记录",
        "tree_holds": lambda: (
            f"位置 {limits['position']} 的记录是第 {limits['least']} 条，"
            f"树大小至少应为 {limits['least']}"
        ),
        "tree_order": lambda: f"不能大于终止树大小（{limits['to']}）",
    }.get(name)
    try:
        return None if said is None else said()
    except KeyError:  # a rule raised without the limits it names
        return None


def invitation(error: UnknownInvitationError | InvitationUsedError | InvitationExpiredError) -> str:
    """Why a rating invitation cannot be used, in Chinese."""
    if isinstance(error, InvitationUsedError):
        return "这个评价邀请已经用过：每个邀请只能评价一次。"
    if isinstance(error, InvitationExpiredError):
        return f"评价邀请的有效期至{when(error.expired_at)}，现已过期。"
    return "找不到这个评价邀请：链接无效，或不是本案件发出的。"


# --- 线索 (domain.clue) ----------------------------------------------------------------------

_CLUE_STATUS = {"open": "待研判", "dismissed": "已不予立案", "promoted": "已转为案件"}
_CLUE_COMMANDS = {"dismiss": "不予立案", "promote": "转为案件"}


def clue_refusal(error: Exception) -> str | None:
    """A clue not found, or triaged already, in Chinese (None: not a clue's refusal)."""
    if isinstance(error, ClueNotFoundError):
        return f"找不到线索 {error.clue_id}。"
    if not isinstance(error, ClueClosedError):
        return None
    status = _CLUE_STATUS.get(error.status, error.status)
    command = _CLUE_COMMANDS.get(error.command, error.command)
    case = f"（案件编号 {error.case_number}）" if error.case_number else ""
    return f"线索当前{status}{case}，不能再{command}。"


# --- 重点人员 (domain.key_person) ----------------------------------------------------------------

_KEY_PERSON_COMMANDS = {
    "assign a leader to": "指定包案领导",
    "visit": "登记走访",
    "review": "复查",
    "remove": "移出名单",
}


def key_person_refusal(error: Exception) -> str | None:
    """Why a key person cannot be acted on, in Chinese (None: not a key person's refusal)."""
    if isinstance(error, KeyPersonNotFoundError):
        return f"找不到重点人员 {error.person_id}。"
    if not isinstance(error, KeyPersonRemovedError):
        return None
    command = _KEY_PERSON_COMMANDS.get(error.command, error.command)
    return f"该人员已移出重点人员名单，不能{command}；需要时请重新标记。"
