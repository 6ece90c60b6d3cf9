"""How a printed case file says things: Chinese labels for the codes the case stores, dates in
Beijing time, and amounts in figures and in capitals (大写).

A document is read, signed and filed by people, often years later and away from the system: it
says 网格员巡查发现, not ``grid_patrol``, and a sum of money the way a contract writes it, in
figures and in capitals, so that neither can be altered alone.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from domain.calendar import SHANGHAI

KINDS = {"dispute": "矛盾纠纷", "incident": "事件、隐患"}
CHANNELS = {
    "grid_patrol": "网格员巡查发现",
    "hotline": "心连心服务热线",
    "walk_in": "当事人来访",
    "police_110": "110 联动移交",
    "court": "人民法院诉前委派",
    "petition_office": "信访部门转来",
    "online": "网上申请",
}
ROLES = {"applicant": "申请人", "respondent": "被申请人", "third_party": "第三人"}
LEVELS = {"red": "红色预警", "orange": "橙色预警", "yellow": "黄色预警"}
FORMS = {"written": "书面协议", "oral": "口头协议"}
OUTCOMES = {"resolved": "已化解", "terminated": "调解终止", "referred": "已转办"}
BLANK = "—"  # a field the case does not hold, printed so that nobody fills it in later

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ((1000, "仟"), (100, "佰"), (10, "拾"), (1, ""))
_GROUPS = ("", "万", "亿", "万亿")
_LARGEST_CENTS = 10**18  # 万亿 groups end below 10^16 元


def label(table: dict[str, str], code: str | None) -> str:
    """A code as its label; an unknown code as itself (a later release's value), none as —."""
    if not code:
        return BLANK
    return table.get(code, code)


def day(moment: datetime | None) -> str:
    """2026年9月28日, in Beijing time."""
    if moment is None:
        return BLANK
    local = moment.astimezone(SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日"


def minute(moment: datetime | None) -> str:
    """2026年9月28日 10时05分, in Beijing time."""
    if moment is None:
        return BLANK
    local = moment.astimezone(SHANGHAI)
    return f"{day(moment)} {local.hour:02d}时{local.minute:02d}分"


def yes_no(value: bool | None) -> str:
    return BLANK if value is None else ("是" if value else "否")


def amount(value: Decimal | None) -> str:
    """¥1,200.50（人民币壹仟贰佰元伍角整）: figures and capitals together."""
    if value is None:
        return BLANK
    figures = f"{value.quantize(Decimal('0.01'), ROUND_HALF_UP):,}"
    capitals = rmb_capitals(value)
    return f"{figures} 元（人民币{capitals}）" if capitals else f"{figures} 元"


def rmb_capitals(value: Decimal) -> str | None:
    """An amount in yuan as capitals (大写), to the fen: 壹仟零伍元零柒分, 壹亿元整.

    Written by the rules banks apply to 大写金额 (《支付结算办法》): a run of zeros inside the
    number is one 零, a whole amount (or one ending in 角) ends in 整. None for a negative
    amount or one of 10^16 元 or more, which no capitals here can spell."""
    if not value.is_finite():
        return None
    cents = int((value * 100).quantize(Decimal(1), ROUND_HALF_UP))
    if not 0 <= cents < _LARGEST_CENTS:
        return None
    yuan, rest = divmod(cents, 100)
    jiao, fen = divmod(rest, 10)
    words = f"{_integer(yuan)}元" if yuan else ""
    if jiao:
        words += f"{_DIGITS[jiao]}角"
    if fen:
        words += ("零" if yuan and not jiao else "") + f"{_DIGITS[fen]}分"
    else:
        words = (words or "零元") + "整"
    return words


def _integer(number: int) -> str:
    """A positive whole number in capitals, four digits to a group (万, 亿)."""
    groups: list[int] = []
    while number:
        number, group = divmod(number, 10000)
        groups.append(group)
    words = ""
    zeros_between = False
    for index in reversed(range(len(groups))):
        group = groups[index]
        if group == 0:
            zeros_between = bool(words)
            continue
        if words and (zeros_between or group < 1000):
            words += "零"
        words += _group(group) + _GROUPS[index]
        zeros_between = False
    return words


def _group(group: int) -> str:
    """1 to 9999 in capitals, a run of zeros inside it said once (壹仟零伍)."""
    words = ""
    zero = False
    for place, unit in _PLACES:
        digit = group // place % 10
        if digit == 0:
            zero = bool(words)
            continue
        if zero:
            words += "零"
            zero = False
        words += _DIGITS[digit] + unit
    return words


def clean(text: str | None) -> str:
    """Free text as a document can hold it: line ends as ``\\n``, and no control character
    (XML 1.0, which a .docx is, cannot hold most of them, and a form feed or bell would
    turn into a page or paragraph break in Word)."""
    if not text:
        return ""
    unified = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return "".join(ch for ch in unified if ch == "\n" or _holdable(ch))


def _holdable(ch: str) -> bool:
    return unicodedata.category(ch) not in ("Cc", "Cs") and ch not in "\ufffe\uffff"
