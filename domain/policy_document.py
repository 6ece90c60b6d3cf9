"""A policy as a document: the TOML shape operators write, and back.

Keys left out keep their defaults; an unknown key or a bad duration is refused with the key
named, so a typo never silently leaves a default in force.

The ``[intake]`` table (categories per kind, a summary's least length) is written only when it
differs from the built-in one: every version adopted before intake rules existed was written
without it, and the policy book refuses to adopt a known version whose document changed. So
is ``workdays`` (make-up working days, 调休), only when the policy lists any.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from domain.clocks import DeadlineKind, Duration
from domain.errors import PolicyError
from domain.inspection import InspectionRules, inspection_from_table, inspection_to_table
from domain.intake import KINDS, MAX_CATEGORY, MAX_SUMMARY, Intake
from domain.levels import Level, Tier
from domain.notice_rules import NoticeRules, notice_rules_from_table, notice_rules_to_table
from domain.numbering import Numbering
from domain.policy import STATUTORY, Breach, ClockRule, Policy
from domain.risk import RiskRules, risk_from_table, risk_to_table
from domain.screening import ScreeningRules, screening_from_table, screening_to_table

MAX_NUMBER_FORMAT = 100
MAX_SHORT_NAME = 4

# section → (key → Policy field)
_SECTIONS: dict[str, dict[str, str]] = {
    "follow_up": {"due_after": "follow_up_due_after"},
    "mediation": {"limit": "mediation_limit"},
    "judicial_confirmation": {"window": "judicial_window", "reminder": "judicial_reminder"},
    "rework": {"due_after": "rework"},
    "status_report": {"every": "status_report_every"},
    "rating": {"window": "rating_window"},
    "emergency": {"red_sign": "emergency_red_sign"},
}
# Sections added later: written only when they differ from the defaults, so the documents of
# versions adopted before them read back unchanged (the policy book compares documents).
_LATER_SECTIONS: dict[str, dict[str, str]] = {
    "supervision": {"reflag": "supervision_reflag"},
    "pause": {"max": "pause_max"},
    "extension": {"total": "extension_total"},
    "referral": {"answer": "referral_answer"},
    "rating_review": {"within": "rating_review"},
    "clues": {"triage": "clue_triage"},
    "key_persons": {"visit": "key_person_visit"},
    "repeats": {"window": "repeat_window"},
}
_ALL_SECTIONS = {**_SECTIONS, **_LATER_SECTIONS}
_TOP_LEVEL = {
    "version", "holidays", "workdays", "clocks", "intake", "numbering", "statutory", "risk",
    "notifications", "inspection", "screening", *_ALL_SECTIONS,
}  # fmt: skip


def policy_from_document(document: dict[str, Any], base: Policy | None = None) -> Policy:
    """Reads a policy document over ``base`` (the defaults when omitted)."""
    policy = base or Policy()
    _refuse_unknown("", document, _TOP_LEVEL)
    version = document.get("version")
    if not isinstance(version, str) or not version.strip():
        raise PolicyError("version", "a policy needs a non-empty version string")
    changes: dict[str, Any] = {"version": version.strip()}
    changes["holidays"] = _days("holidays", document.get("holidays", []))
    changes["workdays"] = _days("workdays", document.get("workdays", []))
    both = sorted(changes["holidays"] & changes["workdays"])
    if both:
        listed = ", ".join(day.isoformat() for day in both)
        raise PolicyError("workdays", f"{listed} listed in holidays too: a day is one or the other")
    changes["clocks"] = _clocks(document.get("clocks", {}), policy)
    if "intake" in document:
        changes["intake"] = _intake(document["intake"], policy.intake)
    if "numbering" in document:
        changes["numbering"] = _numbering(document["numbering"], policy.numbering)
    if "statutory" in document:
        changes["statutory"] = _statutory(document["statutory"])
    if "risk" in document:
        changes["risk"] = risk_from_table(document["risk"], policy.risk)
    if "notifications" in document:
        changes["notices"] = notice_rules_from_table(document["notifications"], policy.notices)
    if "inspection" in document:
        changes["inspection"] = inspection_from_table(document["inspection"], policy.inspection)
    if "screening" in document:
        changes["screening"] = screening_from_table(document["screening"], policy.screening)
    for section, keys in _ALL_SECTIONS.items():
        values = _table(section, document.get(section, {}))
        _refuse_unknown(section, values, set(keys))
        for key, field in keys.items():
            if key in values:
                changes[field] = Duration.parse(values[key], f"{section}.{key}")
    return replace(policy, **changes)


def policy_to_document(policy: Policy) -> dict[str, Any]:
    """The policy in the document shape (``fengqiao policy show``, the policy book)."""
    document: dict[str, Any] = {
        "version": policy.version,
        "holidays": sorted(day.isoformat() for day in policy.holidays),
        "clocks": {},
    }
    if policy.workdays:  # written only when listed: older documents read back unchanged
        document["workdays"] = sorted(day.isoformat() for day in policy.workdays)
    for (level, tier), rule in policy.clocks.items():
        document["clocks"].setdefault(level.value, {})[tier.value] = {
            "sign": str(rule.sign),
            "resolve": str(rule.resolve),
            "on_breach": rule.on_breach.value,
        }
    for section, keys in _SECTIONS.items():
        document[section] = {key: str(getattr(policy, field)) for key, field in keys.items()}
    if policy.intake != Intake():
        document["intake"] = {
            "min_summary": policy.intake.min_summary,
            "categories": {kind: list(words) for kind, words in policy.intake.categories.items()},
        }
    if policy.numbering != Numbering():
        document["numbering"] = {
            **policy.numbering.formats,
            "short_names": dict(policy.numbering.short_names),
        }
    defaults = Policy()
    for section, keys in _LATER_SECTIONS.items():
        if any(getattr(policy, f) != getattr(defaults, f) for f in keys.values()):
            document[section] = {key: str(getattr(policy, f)) for key, f in keys.items()}
    if policy.statutory != STATUTORY:
        document["statutory"] = sorted(kind.value for kind in policy.statutory)
    if policy.risk != RiskRules():  # like [intake]: older documents read back unchanged
        document["risk"] = risk_to_table(policy.risk)
    if policy.notices != NoticeRules():  # like [risk]
        document["notifications"] = notice_rules_to_table(policy.notices)
    if policy.inspection != InspectionRules():  # like [risk]
        document["inspection"] = inspection_to_table(policy.inspection)
    if policy.screening != ScreeningRules():  # like [risk]
        document["screening"] = screening_to_table(policy.screening)
    return document


def _statutory(values: Any) -> frozenset[DeadlineKind]:
    """``statutory``: the clocks (by kind) that the law fixes and no mode changes. Written only
    when it differs from the built-in list (司法确认 and its reminder)."""
    known = {kind.value for kind in DeadlineKind}
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise PolicyError("statutory", "must be a list of clock kinds")
    unknown = sorted(set(values) - known)
    if unknown:
        raise PolicyError("statutory", f"unknown clock kinds {unknown} (known: {sorted(known)})")
    return frozenset(DeadlineKind(v) for v in values)


def _numbering(values: Any, base: Numbering) -> Numbering:
    """``[numbering]``: a format per kind and ``[numbering.short_names]`` by county code.
    Written only when it differs from the built-in one, like ``[intake]``."""
    table = _table("numbering", values)
    _refuse_unknown("numbering", table, {*KINDS, "short_names"})
    formats = dict(base.formats)
    for kind in KINDS:
        if kind in table:
            template = table[kind]
            if not isinstance(template, str) or not 1 <= len(template) <= MAX_NUMBER_FORMAT:
                raise PolicyError(
                    f"numbering.{kind}", "must be a number format of 1 to 100 characters"
                )
            formats[kind] = template
    names = dict(base.short_names)
    for code, name in _table("numbering.short_names", table.get("short_names", {})).items():
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= MAX_SHORT_NAME:
            raise PolicyError(f"numbering.short_names.{code}", "must be 1 to 4 characters")
        names[str(code)] = name.strip()
    return Numbering(formats=formats, short_names=names)


def _refuse_unknown(where: str, table: dict[str, Any], known: set[str]) -> None:
    for key in table:
        if key not in known:
            name = f"{where}.{key}" if where else key
            raise PolicyError(name, f"unknown key (known: {', '.join(sorted(known))})")


def _intake(values: Any, base: Intake) -> Intake:
    table = _table("intake", values)
    _refuse_unknown("intake", table, {"categories", "min_summary"})
    categories = dict(base.categories)
    given = _table("intake.categories", table.get("categories", {}))
    _refuse_unknown("intake.categories", given, set(KINDS))
    for kind, words in given.items():
        categories[kind] = _words(f"intake.categories.{kind}", words)
    least = table.get("min_summary", base.min_summary)
    if isinstance(least, bool) or not isinstance(least, int) or not 1 <= least <= MAX_SUMMARY:
        raise PolicyError("intake.min_summary", f"must be a whole number from 1 to {MAX_SUMMARY}")
    return Intake(categories=categories, min_summary=least)


def _words(key: str, values: Any) -> tuple[str, ...]:
    """A list of categories: distinct words of 1 to ``MAX_CATEGORY`` characters, as written."""
    if not isinstance(values, list) or not values:
        raise PolicyError(key, "must be a non-empty list of categories")
    for value in values:
        fine = isinstance(value, str) and value == value.strip() and "\x00" not in value
        if not fine or not 1 <= len(value) <= MAX_CATEGORY:
            raise PolicyError(
                key, f"{value!r} is not a category: 1 to {MAX_CATEGORY} characters, unpadded"
            )
    if len(set(values)) != len(values):
        raise PolicyError(key, "lists a category twice")
    return tuple(values)


def _table(key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PolicyError(key, "must be a table")
    return value


def _days(key: str, values: Any) -> frozenset[date]:
    """``holidays`` or ``workdays``: a list of dates (TOML dates or ISO strings)."""
    if not isinstance(values, list):
        raise PolicyError(key, "must be a list of dates")
    days = set()
    for value in values:
        try:
            days.add(value if isinstance(value, date) else date.fromisoformat(str(value)))
        except ValueError:
            raise PolicyError(key, f"{value!r} is not a date like 2027-02-18") from None
    return frozenset(days)


def _clocks(values: Any, base: Policy) -> dict[tuple[Level, Tier], ClockRule]:
    clocks = dict(base.clocks)
    for level_name, tiers in _table("clocks", values).items():
        level = _enum(Level, level_name, f"clocks.{level_name}")
        for tier_name, rule in _table(f"clocks.{level_name}", tiers).items():
            where = f"clocks.{level_name}.{tier_name}"
            tier = _enum(Tier, tier_name, where)
            entry = _table(where, rule)
            _refuse_unknown(where, entry, {"sign", "resolve", "on_breach"})
            clocks[(level, tier)] = _rule(entry, clocks.get((level, tier)), where)
    return clocks


def _rule(entry: dict[str, Any], default: ClockRule | None, where: str) -> ClockRule:
    if default is None:
        if not {"sign", "resolve"} <= entry.keys():
            raise PolicyError(where, "a new clock needs both sign and resolve")
        default = ClockRule(
            Duration.parse(entry["sign"], f"{where}.sign"),
            Duration.parse(entry["resolve"], f"{where}.resolve"),
            Breach.ESCALATE,
        )
    return ClockRule(
        sign=Duration.parse(entry["sign"], f"{where}.sign") if "sign" in entry else default.sign,
        resolve=(
            Duration.parse(entry["resolve"], f"{where}.resolve")
            if "resolve" in entry
            else default.resolve
        ),
        on_breach=(
            _enum(Breach, entry["on_breach"], f"{where}.on_breach")
            if "on_breach" in entry
            else default.on_breach
        ),
    )


E = TypeVar("E", bound=StrEnum)


def _enum(kind: type[E], value: Any, where: str) -> E:
    try:
        return kind(value)
    except ValueError:
        raise PolicyError(where, f"{value!r} is not a known {kind.__name__.lower()}") from None
