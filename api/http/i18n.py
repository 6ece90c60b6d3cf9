"""The caller's language, for the words of problem answers: Chinese unless English is asked for.

The people who read these answers are grid workers, mediators and their supervisors, and the
clients built for them: Chinese is the default. ``Accept-Language`` is read minimally (RFC 9110
§12.5.4): each range's primary tag and its q-value; the highest-weighted range this service
speaks wins, the earlier on a tie; ``q=0`` refuses a language; ``*`` is the default. Any
Chinese range (``zh``, ``zh-CN``, ``zh-TW``) gets simplified Chinese, any English range English.

Most answers are built where the request is at hand. A few are built without it
(``api.http.errors.problem`` and ``refusal``, called from the command runner): for those the
request's language is remembered in a context variable when the request reaches the API
(``api.http.bodies.strict_json``, the API router's one hook), and the default holds elsewhere.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Literal

Language = Literal["zh-CN", "en"]
ZH: Language = "zh-CN"
EN: Language = "en"
DEFAULT: Language = ZH
# A message in both languages: (Chinese, English).
Pair = tuple[str, str]

_BY_PRIMARY_TAG: dict[str, Language] = {"zh": ZH, "en": EN}
_current: ContextVar[Language] = ContextVar("fengqiao_language", default=DEFAULT)


def negotiate(accept_language: str | None) -> Language:
    """The language to answer in, from an ``Accept-Language`` header (or its absence)."""
    best: tuple[float, Language] | None = None
    for item in (accept_language or "").split(","):
        tag, _, parameters = item.partition(";")
        tag = tag.strip().lower()
        weight = _weight(parameters)
        if not tag or weight is None or weight <= 0:
            continue
        language = DEFAULT if tag == "*" else _BY_PRIMARY_TAG.get(tag.split("-")[0])
        if language is not None and (best is None or weight > best[0]):
            best = (weight, language)
    return DEFAULT if best is None else best[1]


def _weight(parameters: str) -> float | None:
    """A range's q-value: 1 when absent, None when malformed (the range is then ignored)."""
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                weight = float(value.strip())
            except ValueError:
                return None
            return weight if 0 <= weight <= 1 else None
    return 1.0


def of(request: Any) -> Language:
    """The language a request asks for."""
    return negotiate(request.headers.get("accept-language"))


def remember(request: Any) -> Language:
    """Notes the request's language for answers built without the request at hand."""
    language = of(request)
    _current.set(language)
    return language


def current() -> Language:
    """The language of the request being answered (the default outside one)."""
    return _current.get()


def pick(pair: Pair, language: Language) -> str:
    return pair[0] if language == ZH else pair[1]
