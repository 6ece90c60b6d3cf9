"""The words of a notice: one short Chinese template per trigger, filled when it is read or sent.

A notice is stored as a template name and its parameters (case number, category, level, unit
names, UTC times), never as text: wording can change without touching the outbox, and the
outbox holds nothing a template does not need. Times read in 北京时间 ("10月9日 18:00"). No
template has a place for a name, an ID number, a phone or an address: what a notice says about
a case is its number, its category, its level and units.

``render`` gives the full text (in-app, email, webhook); ``sms_values`` the variables an SMS
provider's pre-approved template is filled with (each a short string); ``subject`` an email's
subject line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from domain.calendar import SHANGHAI

ASSIGNED = "assigned"
SIGN_OVERDUE = "sign_overdue"
MOVED = "moved"
SUPERVISION_ORDERED = "supervision_ordered"
SUPERVISION_REMINDED = "supervision_reminded"
RED_ALERT = "red_alert"
BREACH_WARNING = "breach_warning"
RATING_INVITATION = "rating_invitation"

PREFIX = "【枫桥】"
LEVEL_WORDS = {"red": "红色", "orange": "橙色", "yellow": "黄色"}
KIND_WORDS = {"dispute": "纠纷", "incident": "事件"}
OCCASION_WORDS = {"resolved": "化解", "closed": "办结"}
CLOCK_WORDS = {"sign": "签收", "resolve": "化解"}
# How a case came to its new owner (an escalation's cause, or a return).
MOVE_WORDS = {
    "overdue": "逾期升级至",
    "level_raised": "因等级提升移交至",
    "manual": "上报至",
    "cross_area": "跨区域移交至",
    "returned": "退回至",
}
SUBJECTS = {
    ASSIGNED: "案件指派",
    SIGN_OVERDUE: "签收逾期",
    MOVED: "案件移交",
    SUPERVISION_ORDERED: "督办",
    SUPERVISION_REMINDED: "督办逾期",
    RED_ALERT: "红色预警",
    BREACH_WARNING: "化解期限将到",
    RATING_INVITATION: "邀请评价",
}
TEMPLATES = tuple(SUBJECTS)
UNNUMBERED = "（未编号）"

Params = Mapping[str, Any]


def when(value: str | None) -> str:
    """A stored UTC time as 北京时间, short: ``10月9日 18:00``."""
    if not value:
        return ""
    local = datetime.fromisoformat(value).astimezone(SHANGHAI)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def _case(p: Params) -> str:
    return f"{p.get('number') or UNNUMBERED} {p.get('category', '')}".rstrip()


def _assigned(p: Params) -> str:
    if not p.get("due"):
        return f"{_case(p)} 已指派给您，请及时办理。"
    verb = CLOCK_WORDS.get(str(p.get("clock")), "办理")
    return f"{_case(p)} 已指派给您，请于 {when(p['due'])} 前{verb}。"


def _sign_overdue(p: Params) -> str:
    return f"{_case(p)} 签收期限 {when(p.get('due'))} 已过，{p.get('unit', '')}尚未签收，请督促。"


def _moved(p: Params) -> str:
    level = LEVEL_WORDS.get(str(p.get("level")), "")
    head = f"{_case(p)}（{level}）" if level else _case(p)
    if p.get("how") == "take_over":
        moved = f"已由{p.get('unit', '')}提级办理"
    else:
        moved = f"已{MOVE_WORDS.get(str(p.get('how')), '移交至')}{p.get('unit', '')}"
    if not p.get("due"):
        return f"{head} {moved}，请及时签收。"
    return f"{head} {moved}，请于 {when(p['due'])} 前签收。"


def _supervision_ordered(p: Params) -> str:
    return f"{_case(p)} 收到{p.get('by_unit', '')}督办，请于 {when(p.get('due'))} 前答复。"


def _supervision_reminded(p: Params) -> str:
    return (
        f"{_case(p)} 督办答复已逾期（应于 {when(p.get('due'))} 前答复{p.get('by_unit', '')}），"
        "请尽快答复。"
    )


def _red_alert(p: Params) -> str:
    return f"红色预警：{p.get('unit', '')} {_case(p)}，请立即关注。"


def _breach_warning(p: Params) -> str:
    return f"{_case(p)} 化解期限 {when(p.get('due'))} 将到，请抓紧办理。"


def _rating_invitation(p: Params) -> str:
    kind = KIND_WORDS.get(str(p.get("kind")), "事项")
    occasion = OCCASION_WORDS.get(str(p.get("occasion")), "办结")
    link = p.get("link") or ""
    return (
        f"您反映的{kind}（{p.get('number') or UNNUMBERED}）已{occasion}，请为办理情况评价："
        f"{link} {when(p.get('expires'))}前有效。"
    )


_TEXT: Mapping[str, Callable[[Params], str]] = {
    ASSIGNED: _assigned,
    SIGN_OVERDUE: _sign_overdue,
    MOVED: _moved,
    SUPERVISION_ORDERED: _supervision_ordered,
    SUPERVISION_REMINDED: _supervision_reminded,
    RED_ALERT: _red_alert,
    BREACH_WARNING: _breach_warning,
    RATING_INVITATION: _rating_invitation,
}


def render(template: str, params: Params) -> str:
    """The notice's text, 【枫桥】 first; an unknown template (a newer release's) reads as its
    subject-less name rather than failing."""
    text = _TEXT.get(template)
    return PREFIX + (text(params) if text is not None else template)


def subject(template: str, params: Params) -> str:
    """An email's subject: the kind of notice and the case number."""
    number = params.get("number") or ""
    return f"{PREFIX}{SUBJECTS.get(template, template)} {number}".rstrip()


def sms_values(template: str, params: Params) -> dict[str, str]:
    """The variables of the provider's template for ``template``: the same facts as the
    text, each a short string (providers limit a variable to a few dozen characters)."""
    values = {
        "number": str(params.get("number") or UNNUMBERED),
        "category": str(params.get("category", "")),
    }
    if params.get("due"):
        values["due"] = when(params["due"])
    if params.get("unit"):
        values["unit"] = str(params["unit"])[:30]
    if params.get("by_unit"):
        values["by_unit"] = str(params["by_unit"])[:30]
    if template == MOVED:
        values["how"] = "提级办理" if params.get("how") == "take_over" else "移交"
    if template == RATING_INVITATION:
        values["kind"] = KIND_WORDS.get(str(params.get("kind")), "事项")
        values["occasion"] = OCCASION_WORDS.get(str(params.get("occasion")), "办结")
        values["link"] = str(params.get("link") or "")
        values["expires"] = when(params.get("expires"))
    return values
