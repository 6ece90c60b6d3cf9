"""What a registration must carry under a policy: a category from its kind's vocabulary and a
summary worth reading.

Why a vocabulary: statistics count cases by category, and free text made "邻里纠纷", "邻里矛盾"
and "邻居吵架" three categories of one thing. The default words are those of the people's
mediation statistics (人民调解统计) for disputes and of grid event reporting for incidents;
an operator's policy may replace either list. A category may be written with its kind's usual
ending ("邻里纠纷" for 邻里, "消防隐患" for 消防); the case records the vocabulary's word.

Why here, in the policy: which words a county files under is an operator's choice, like its
clocks. The rules apply when a case is registered; a stored case keeps the category it was
registered with, whatever the vocabulary says today.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from domain.errors import InvalidInputError

DISPUTE = "dispute"
INCIDENT = "incident"
KINDS = (DISPUTE, INCIDENT)

DISPUTE_CATEGORIES = (
    "婚姻家庭", "邻里", "房屋宅基地", "土地承包", "山林水利", "劳动争议", "合同债务",
    "损害赔偿", "医疗", "物业", "征地拆迁", "环境污染", "消费", "其他",
)  # fmt: skip
INCIDENT_CATEGORIES = (
    "治安", "安全生产", "消防", "道路交通", "房屋安全", "地质灾害", "自然灾害", "食品安全",
    "公共卫生", "环境污染", "群体性事件", "其他",
)  # fmt: skip
DEFAULT_CATEGORIES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {DISPUTE: DISPUTE_CATEGORIES, INCIDENT: INCIDENT_CATEGORIES}
)
# The endings people write after a category's word: "邻里纠纷", "消防隐患", "治安事件".
ENDINGS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {DISPUTE: ("纠纷",), INCIDENT: ("隐患", "事件", "事故")}
)
MAX_CATEGORY = 50  # characters of one word
MIN_SUMMARY = 5  # characters, not counting spaces: "河堤裂缝" says too little to act on
MAX_SUMMARY = 2000


def _default_categories() -> Mapping[str, tuple[str, ...]]:
    return DEFAULT_CATEGORIES


@dataclass(frozen=True)
class Intake:
    """The categories each kind of case may be filed under, and a summary's least length."""

    categories: Mapping[str, tuple[str, ...]] = field(default_factory=_default_categories)
    min_summary: int = MIN_SUMMARY

    def words(self, kind: str) -> tuple[str, ...]:
        """The categories a case of ``kind`` may be filed under."""
        return tuple(self.categories.get(kind, ()))

    def category(self, kind: str, value: str) -> str:
        """The vocabulary's word for what the reporter wrote, or a refusal naming the words."""
        words = self.words(kind)
        written = value.strip() if isinstance(value, str) else ""
        if written in words:
            return written
        for ending in ENDINGS.get(kind, ()):
            stem = written.removesuffix(ending)
            if stem != written and stem in words:
                return stem
        raise InvalidInputError(
            "category",
            f"must be one of the {kind} categories: {', '.join(words)}",
            "one_of",
            {"choices": words},
        )

    def summary(self, value: str) -> str:
        """A summary, trimmed: at least ``min_summary`` characters besides spaces, at most
        ``MAX_SUMMARY``, and no NUL (PostgreSQL text cannot hold one)."""
        cleaned = value.strip() if isinstance(value, str) else ""
        if not cleaned:
            raise InvalidInputError("summary", "must not be empty", "required")
        if "\x00" in cleaned:
            raise InvalidInputError("summary", "must not contain NUL characters", "no_nul")
        if len(cleaned) > MAX_SUMMARY:
            raise InvalidInputError(
                "summary",
                f"must be at most {MAX_SUMMARY} characters",
                "max_length",
                {"max": MAX_SUMMARY},
            )
        if len("".join(cleaned.split())) < self.min_summary:
            raise InvalidInputError(
                "summary",
                f"must say what happened in at least {self.min_summary} characters",
                "min_length",
                {"min": self.min_summary},
            )
        return cleaned
