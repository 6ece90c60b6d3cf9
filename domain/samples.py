"""Sample jurisdiction: Leshan (乐山市, 511100) and its eleven county-level units.

The city and county codes are the real national division codes. The townships and villages
under them are SAMPLE DATA for demos and tests: their names carry the mark "（示例）", their
codes are made up (county code + 3 digits, then + 3 digits), and each is flagged ``sample``.
"""

from __future__ import annotations

from domain.actors import Role
from domain.directory import StaffMember
from domain.jurisdiction import Unit
from domain.levels import Tier

SAMPLE_MARK = "（示例）"

CITY = Unit("511100", "乐山市", Tier.CITY, None)

COUNTIES = (
    ("511102", "市中区", ("牟子镇", "水口镇")),
    ("511111", "沙湾区", ("沙湾镇", "嘉农镇")),
    ("511112", "五通桥区", ("竹根镇", "牛华镇")),
    ("511113", "金口河区", ("永和镇", "金河镇")),
    ("511123", "犍为县", ("罗城镇", "清溪镇")),
    ("511124", "井研县", ("研城镇", "马踏镇")),
    ("511126", "夹江县", ("漹城镇", "黄土镇")),
    ("511129", "沐川县", ("沐溪镇", "利店镇")),
    ("511132", "峨边彝族自治县", ("沙坪镇", "大堡镇")),
    ("511133", "马边彝族自治县", ("民建镇", "荣丁镇")),
    ("511181", "峨眉山市", ("绥山镇", "罗目镇")),
)

VILLAGE_NAMES = (
    "石溪村", "青龙村", "金山村", "新民村", "红星村", "桂花村",
    "马鞍村", "白果村", "双河村", "黄桷村", "太平村", "长春村",
)  # fmt: skip

VILLAGES_PER_TOWNSHIP = 3


def sample_units() -> list[Unit]:
    """Every sample unit, parents before children."""
    units = [CITY]
    village_index = 0
    for county_code, county_name, townships in COUNTIES:
        units.append(Unit(county_code, county_name, Tier.COUNTY, CITY.code))
        for t, township_name in enumerate(townships, start=1):
            township_code = f"{county_code}{t:03d}"
            units.append(
                Unit(township_code, township_name + SAMPLE_MARK, Tier.TOWNSHIP, county_code, True)
            )
            for v in range(1, VILLAGES_PER_TOWNSHIP + 1):
                name = VILLAGE_NAMES[village_index % len(VILLAGE_NAMES)] + SAMPLE_MARK
                village_index += 1
                units.append(
                    Unit(f"{township_code}{v:03d}", name, Tier.VILLAGE, township_code, True)
                )
    return units


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN_NAMES = (
    "建华",
    "秀英",
    "志强",
    "丽华",
    "德明",
    "红梅",
    "国平",
    "淑芬",
    "文军",
    "晓燕",
    "永红",
)
# Who works at each tier of the sample tree, by role (a mediator's second post is "-2").
STAFF_BY_TIER = {
    Tier.CITY: ("admin", "supervisor", "inspector", "auditor"),
    Tier.COUNTY: ("supervisor", "mediator", "mediator", "inspector", "auditor"),
    Tier.TOWNSHIP: ("supervisor", "mediator", "mediator", "reporter"),
    Tier.VILLAGE: ("mediator", "reporter"),
}


def sample_staff(units: list[Unit]) -> list[StaffMember]:
    """Sample staff for every sample unit: ids like ``mediator-511123001001``
    (``mediator-511123001-2`` for a unit's second mediator), made-up names marked "（示例）",
    made-up mobile numbers (139 0000 xxxx) and addresses under the reserved ``.example``."""
    staff: list[StaffMember] = []
    for unit in units:
        seen: dict[str, int] = {}
        for role in STAFF_BY_TIER.get(unit.tier, ()):
            seen[role] = seen.get(role, 0) + 1
            user = f"{role}-{unit.code}" + ("" if seen[role] == 1 else f"-{seen[role]}")
            n = len(staff)
            name = SURNAMES[n % len(SURNAMES)] + GIVEN_NAMES[n % len(GIVEN_NAMES)] + SAMPLE_MARK
            phone, email = f"1390000{n:04d}", f"{user}@staff.example"
            staff.append(StaffMember(user, name, unit.code, (Role(role),), phone, email))
    return staff
