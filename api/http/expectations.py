"""What a field expects, said in words, from the type a request is decoded into.

msgspec refuses a value with a message for programmers (``Expected `str` matching regex
'^[0-9]{1,12}(\\.[0-9]{1,2})?$'``). The answer a person reads instead says what the field
takes, from the field's declared type and constraints (``api.http.schemas`` for bodies, a
handler's parameters for the query string): "an amount written as text, like "1200.50"".
msgspec's message is only read to tell a missing or unknown member, and a pattern broken,
from any other mismatch; no regular expression or type name is ever repeated to the caller.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import msgspec
from litestar.handlers import HTTPRouteHandler

from api.http.i18n import Language, Pair, pick
from api.http.labels import value
from api.http.schemas import NO_NUL, Amount

# The patterns the schemas and routes declare, in words; "one of" patterns are read below.
AMOUNT: Pair = (
    '金额，写成带引号的文字，如 "1200.50"：只用半角数字，至多 12 位整数、2 位小数',
    'an amount written as text, like "1200.50": ASCII digits, at most 12 before the point and '
    "2 after",
)
AMOUNT_PATTERN = getattr(msgspec.inspect.type_info(Amount), "pattern", None)
NO_NUL_WORDS: Pair = ("不能含有 NUL 字符", "must not contain NUL characters")
_CHOICES = re.compile(r"^\^\(([\w|-]+)\)\$$")
_INFO = msgspec.inspect


def body_type(handler: Any) -> Any:
    """The type a handler decodes its body into, or None when it takes no body."""
    if not isinstance(handler, HTTPRouteHandler):
        return None
    data = handler.parsed_fn_signature.parameters.get("data")
    return None if data is None else data.annotation


def parameter_type(handler: Any, key: str) -> Any:
    """The declared type of a handler's query, path or header parameter ``key``, with the
    constraints Litestar keeps beside it (``Parameter(ge=1, pattern=...)``), or None."""
    if not isinstance(handler, HTTPRouteHandler):
        return None
    for name, definition in handler.parsed_fn_signature.parameters.items():
        kwargs = definition.kwarg_definition
        alias = getattr(kwargs, "query", None) or getattr(kwargs, "header", None)
        if key not in (name, alias):
            continue
        constraints = {
            limit: getattr(kwargs, limit, None)
            for limit in ("ge", "gt", "le", "lt", "min_length", "max_length", "pattern")
        }
        constraints = {limit: value for limit, value in constraints.items() if value is not None}
        return _constrained(definition.annotation, constraints)
    return None


def _constrained(annotation: Any, constraints: dict[str, Any]) -> Any:
    """``annotation`` with msgspec's constraints on it (on its one member besides None, where
    it is optional: msgspec takes no constraints on a union)."""
    if not constraints:
        return annotation
    members = [member for member in get_args(annotation) if member is not type(None)]
    if get_origin(annotation) in (Union, UnionType) and len(members) == 1:
        return Annotated[members[0], msgspec.Meta(**constraints)] | None
    try:
        return Annotated[annotation, msgspec.Meta(**constraints)]
    except TypeError:
        return annotation


def type_at(root: Any, path: str) -> _INFO.Type | None:
    """The type of the member at ``path`` (``parties[0].phone``; "" for the whole) of
    ``root``, or None when it cannot be told."""
    if root is None:
        return None
    try:
        current: _INFO.Type | None = _INFO.type_info(root)
    except (TypeError, ValueError):
        return None
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        current = _step(current, name, index)
        if current is None:
            return None
    return current


def _step(kind: _INFO.Type | None, name: str, index: str) -> _INFO.Type | None:
    kind = _plain(kind)
    if isinstance(kind, _INFO.UnionType):
        for member in kind.types:
            found = _step(member, name, index)
            if found is not None:
                return found
        return None
    if index and isinstance(kind, _INFO.ListType | _INFO.SetType | _INFO.FrozenSetType):
        return kind.item_type
    if name and isinstance(kind, _INFO.StructType | _INFO.DataclassType | _INFO.TypedDictType):
        for field in kind.fields:
            if name in (field.encode_name, field.name):
                return field.type
    return None


def _plain(kind: _INFO.Type | None) -> _INFO.Type | None:
    while isinstance(kind, _INFO.Metadata):
        kind = kind.type
    return kind


def reason(message: str, kind: _INFO.Type | None, language: Language) -> str:
    """Why a value was refused, in ``language``: what msgspec found wrong, said as what the
    field expects."""
    if message == "is required" or message.startswith("Object missing required field"):
        return pick(("必须填写", "is required"), language)
    if message.startswith("Object contains unknown field"):
        return pick(("不是这个请求可以填写的项，请删掉", "is not a field of this request"),
                    language)  # fmt: skip
    if "matching regex" in message:
        plain = _plain(kind)
        if isinstance(plain, _INFO.UnionType):
            plain = next((t for t in plain.types if isinstance(t, _INFO.StrType)), None)
        if isinstance(plain, _INFO.StrType) and plain.pattern == NO_NUL:
            return pick(NO_NUL_WORDS, language)
    words = describe(kind, language)
    return pick((f"应为{' ' if words[:1].isascii() else ''}{words}", f"must be {words}"), language)


def describe(kind: _INFO.Type | None, language: Language) -> str:
    """A value of ``kind`` in words: "text of 1 to 200 characters", "one of: a, b"."""
    kind = _plain(kind)
    for types, words in _DESCRIPTIONS:
        if isinstance(kind, types):
            return words(kind, language)
    return pick(("符合要求的值", "a valid value"), language)


def _union(kind: Any, language: Language) -> str:
    members = [t for t in kind.types if not isinstance(t, _INFO.NoneType)]
    words = [describe(member, language) for member in members] or ["null"]
    return ("，或" if language != "en" else ", or ").join(words)


def _one_of(choices: list[str], language: Language) -> str:
    joined = ("、" if language != "en" else ", ").join(value(c, language) for c in choices)
    return pick(("以下之一：", "one of: "), language) + joined


def _text(kind: Any, language: Language) -> str:
    pattern = kind.pattern
    if pattern is not None and pattern != NO_NUL:
        choices = _CHOICES.match(pattern)
        if pattern == AMOUNT_PATTERN:
            return pick(AMOUNT, language)
        if choices:
            return _one_of(choices.group(1).split("|"), language)
        return pick(("格式正确的文字", "text in the expected format"), language)
    low, high = kind.min_length or 0, kind.max_length
    if high is None:
        return pick((f"至少 {low} 个字符的文字", f"text of at least {low} characters"), language)
    return pick((f"{low} 到 {high:,} 个字符的文字", f"text of {low} to {high:,} characters"),
                language)  # fmt: skip


def _number(kind: Any, language: Language) -> str:
    whole = isinstance(kind, _INFO.IntType)
    noun = pick(("整数" if whole else "数字", "a whole number" if whole else "a number"), language)
    unquoted = pick(("（不加引号）", " (not in quotes)"), language)
    low, high = kind.ge, kind.le
    if low is not None and high is not None:
        span = (f"{low:,} 到 {high:,} 之间的{noun}", f"{noun} from {low:,} to {high:,}")
    elif low is not None:
        span = (f"不小于 {low:,} 的{noun}", f"{noun} of at least {low:,}")
    elif high is not None:
        span = (f"不大于 {high:,} 的{noun}", f"{noun} of at most {high:,}")
    else:
        span = (noun, noun)
    return pick(span, language) + unquoted


def _choices_of(kind: Any, language: Language) -> str:
    if isinstance(kind, _INFO.EnumType):
        return _one_of([str(member.value) for member in kind.cls], language)
    return _one_of([str(value) for value in kind.values], language)


def _fixed(words: Pair) -> Callable[[Any, Language], str]:
    return lambda _, language: pick(words, language)


def _list(kind: Any, language: Language) -> str:
    high = getattr(kind, "max_length", None)
    if high is not None:
        return pick((f"至多 {high:,} 项的列表", f"a list of at most {high:,} items"), language)
    return pick(("列表（[…]）", "a list ([…])"), language)


_DESCRIPTIONS: list[tuple[type | tuple[type, ...], Callable[[Any, Language], str]]] = [
    (_INFO.UnionType, _union),
    (_INFO.StrType, _text),
    ((_INFO.IntType, _INFO.FloatType), _number),
    (_INFO.BoolType, _fixed(("true 或 false（不加引号）", "true or false (not in quotes)"))),
    ((_INFO.LiteralType, _INFO.EnumType), _choices_of),
    (
        _INFO.DateTimeType,
        _fixed(
            (
                "带时区的日期时间，如 2026-09-28T10:00:00+08:00",
                "a date and time with its offset, like 2026-09-28T10:00:00+08:00",
            )
        ),
    ),
    (_INFO.DateType, _fixed(("日期，如 2026-09-28", "a date, like 2026-09-28"))),
    ((_INFO.ListType, _INFO.SetType, _INFO.FrozenSetType, _INFO.TupleType), _list),
    (
        (_INFO.StructType, _INFO.DataclassType, _INFO.TypedDictType, _INFO.DictType),
        _fixed(("JSON 对象（{…}）", "a JSON object ({…})")),
    ),
]
