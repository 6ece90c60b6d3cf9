"""一案一码: every case gets a number a person can say on the phone, unique and without gaps per
county, kind and year — ``（2026）犍调字第0012号`` for the twelfth dispute registered in 犍为县 in
2026 (``事`` for incidents).

The county's counter is an aggregate (one per county, kind and year, its id derived from them).
It is saved in the same transaction as the case it numbers, so a registration that fails issues
no number (no gap), and two registrations that drew the same number meet at the store's
uniqueness: one is saved, the other is decided again with the next number (no duplicate).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.calendar import SHANGHAI
from domain.errors import PolicyError
from domain.jurisdiction import Jurisdiction, Unit
from domain.levels import Tier

# uuid5 namespace of the counters' ids; fixed forever, since stored counters are found by it
NUMBERS_NAMESPACE = UUID("0c8e7a52-4f3d-5b61-8a9e-2d7c6b1f0e34")
# The default format of each kind's numbers: 调 (调解) for a dispute, 事 (事件) for an incident.
DEFAULT_FORMATS: Mapping[str, str] = {
    "dispute": "（{year}）{county}调字第{sequence:04d}号",
    "incident": "（{year}）{county}事字第{sequence:04d}号",
}
# what a county's name ends with, left off its short name
_SUFFIXES = ("彝族自治县", "自治县", "县", "市", "区")


def counter_id(county: str, kind: str, year: int) -> UUID:
    return uuid5(NUMBERS_NAMESPACE, f"{county}/{kind}/{year}")


def number_year(registered_at: datetime) -> int:
    """The year a number belongs to: the year of registration in China."""
    return registered_at.astimezone(SHANGHAI).year


def county_of(units: Jurisdiction, code: str) -> Unit:
    """The county (or county-level city or district) a unit lies in."""
    return units.at_tier(code, Tier.COUNTY)


def short_name(units: Jurisdiction, county: Unit) -> str:
    """The county's name in a number: its first character (犍为县 → 犍), or its first two where
    another county of the same city starts with the same character (峨边 and 峨眉)."""
    stem = _stem(county.name)
    siblings = [
        _stem(unit.name)
        for unit in units.subtree(county.parent or county.code)
        if unit.tier is Tier.COUNTY and unit.code != county.code
    ]
    if any(other[:1] == stem[:1] for other in siblings):
        return stem[:2]
    return stem[:1]


def _stem(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


@dataclass(frozen=True)
class Numbering:
    """How a policy numbers cases: a format per kind (``{year}``, ``{county}`` — the county's
    short name — and ``{sequence}``, e.g. ``{sequence:04d}``), and short names that replace
    the derived ones for some counties (by code)."""

    formats: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_FORMATS))
    short_names: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for kind, template in self.formats.items():
            check_format(f"numbering.{kind}", template)

    def number(self, units: Jurisdiction, county: Unit, kind: str, year: int, sequence: int) -> str:
        short = self.short_names.get(county.code) or short_name(units, county)
        template = self.formats.get(kind, DEFAULT_FORMATS[kind])
        return template.format(year=year, county=short, sequence=sequence)


def check_format(key: str, template: str) -> None:
    """A number format must name the year and the sequence, and format."""
    if "{year" not in template or "{sequence" not in template:
        raise PolicyError(key, "a number format needs {year} and {sequence}")
    try:
        template.format(year=2026, county="犍", sequence=12)
    except (KeyError, IndexError, ValueError) as error:
        raise PolicyError(key, f"not a number format: {error}") from None


class CaseNumbers(Aggregate):
    """The numbers one county has issued to one kind of case in one year."""

    class Started(Aggregate.Created):
        county: str
        kind: str
        year: int

    class Issued(Aggregate.Event):
        sequence: int
        case_id: UUID

        def apply(self, aggregate: CaseNumbers) -> None:
            aggregate.last = self.sequence

    def __init__(self, county: str, kind: str, year: int) -> None:
        self.county = county
        self.kind = kind
        self.year = year
        self.last = 0

    @classmethod
    def start(cls, county: str, kind: str, year: int, at: datetime) -> CaseNumbers:
        return cls._create(
            cls.Started,
            id=counter_id(county, kind, year),
            timestamp=at,
            county=county,
            kind=kind,
            year=year,
        )

    def issue(self, case_id: UUID, at: datetime) -> int:
        """The next number, for ``case_id``."""
        self.trigger_event(self.Issued, timestamp=at, sequence=self.last + 1, case_id=case_id)
        return self.last
