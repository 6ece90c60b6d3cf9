"""Made-up but well-formed case details for ``fengqiao demo``.

Everything is drawn from the ``random.Random`` it is given, so one seed gives the same cases.
Names, ID numbers and phone numbers are invented: the ID numbers follow GB 11643 (area code,
birth date, sequence, check digit) so that validation and masking see realistic input, and
every address names a sample village, which carries the sample mark.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from random import Random
from typing import TypeVar

from domain.actors import Actor, Role
from domain.calendar import SHANGHAI
from domain.case import Caller, InboundReferral, Registration
from domain.jurisdiction import Unit
from domain.levels import Level
from domain.parties import Party
from domain.status import Agency, Channel, Grade, PartyRole

# (category, weight, summaries, largest sum involved in yuan; 0 when money is not the point);
# each category is a word of the default policy's vocabulary (domain/intake.py) for its kind
Category = tuple[str, int, tuple[str, ...], int]

DISPUTES: tuple[Category, ...] = (
    ("婚姻家庭", 16, ("子女抚养费支付争议", "赡养老人费用分摊纠纷", "离婚后财产分割争议"), 80_000),
    ("邻里", 22, ("排水沟堵塞引发邻里争执", "相邻通行权争议", "宅基地界址争议"), 0),
    ("土地承包", 12, ("土地流转租金拖欠", "承包地边界争议", "承包经营权流转合同纠纷"), 60_000),
    ("劳动争议", 12, ("工地农民工工资拖欠", "工伤赔偿争议", "劳务报酬结算纠纷"), 200_000),
    ("物业", 8, ("物业费收缴争议", "电梯维修资金使用纠纷", "小区停车位管理争议"), 20_000),
    ("征地拆迁", 6, ("征地补偿标准争议", "房屋拆迁安置纠纷"), 800_000),
    ("医疗", 5, ("术后并发症赔偿争议", "乡镇卫生院诊疗费用纠纷"), 300_000),
    ("损害赔偿", 8, ("农用车刮擦事故赔偿纠纷", "电动车与行人碰撞赔偿争议"), 150_000),
    ("消费", 6, ("农资产品质量纠纷", "装修工程质量争议"), 50_000),
    ("环境污染", 5, ("养殖场异味扰民", "企业排污影响农田灌溉"), 100_000),
)
INCIDENTS: tuple[Category, ...] = (
    ("房屋安全", 20, ("自建房墙体开裂存在垮塌风险", "老旧土坯房梁柱腐朽漏雨"), 0),
    ("安全生产", 10, ("废弃矿洞未封闭", "采石场爆破作业无警戒"), 0),
    ("道路交通", 25, ("村道急弯处缺少警示标志", "桥梁护栏缺损"), 0),
    ("消防", 25, ("出租房电动车楼道充电", "农贸市场消防通道堵塞"), 0),
    ("地质灾害", 10, ("雨后山体出现裂缝", "河岸垮塌威胁民房"), 0),
    ("食品安全", 10, ("学校周边无证摊贩", "农村宴席卫生条件差"), 0),
)
CHANNELS = {
    Channel.GRID_PATROL: 40,
    Channel.HOTLINE: 20,
    Channel.WALK_IN: 15,
    Channel.POLICE_110: 8,
    Channel.ONLINE: 7,
    Channel.COURT: 5,
    Channel.PETITION_OFFICE: 5,
}
LEVELS = {Level.YELLOW: 75, Level.ORANGE: 20, Level.RED: 5}
PEOPLE = {Level.YELLOW: (2, 9), Level.ORANGE: (10, 29), Level.RED: (30, 120)}
TRIGGERS = {
    Level.YELLOW: ("一般性矛盾，存在摩擦", "涉及3至9人"),
    Level.ORANGE: ("矛盾有激化苗头", "涉及10至29人", "村级调解未果"),
    Level.RED: ("存在民转刑风险", "涉及30人以上", "扬言越级上访"),
}
REFERRALS = {  # by the category a case is stored under: the policy's word
    "损害赔偿": Agency.POLICE,
    "医疗": Agency.COURT,
    "征地拆迁": Agency.PETITION_OFFICE,
    "环境污染": Agency.PROCURATORATE,
}

HOTLINE = Actor("hotline-511100", Role.REPORTER, "511100")  # also records the public's 好差评
GRADES = {
    Grade.VERY_SATISFIED: 40,
    Grade.SATISFIED: 33,
    Grade.BASICALLY_SATISFIED: 17,
    Grade.DISSATISFIED: 7,
    Grade.VERY_DISSATISFIED: 3,
}
TERMINATION = "双方分歧较大，调解终止，已告知当事人可通过诉讼途径解决"
PAUSE_REASONS = ("等待伤情鉴定结果", "当事人外出务工，待返乡后继续调解", "等待听证")
REJECT_REASONS = ("已进入诉讼程序，不予受理", "不属于受理范围，已引导当事人起诉", "重复登记")
ATTENDEES = ["申请人", "被申请人", "调解员"]  # roles, not names: names stay in the parties

SURNAMES = "王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯董程曹袁邓许曾彭苏蒋蔡"
GIVEN = "建国明华军平秀英芳丽强伟勇洪志德桂兰红玉文春林海成德琼琴兵刚云霞燕俊"
MOBILE_PREFIXES = ("133", "135", "138", "139", "150", "151", "158", "177", "180", "182", "199")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

T = TypeVar("T")


def pick(rng: Random, weights: dict[T, int]) -> T:
    """One key of ``weights``, drawn in proportion to its weight."""
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def id_number(rng: Random, area: str) -> str:
    """An 18-character resident ID number with a valid GB 11643 check digit."""
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(55 * 365))
    body = f"{area[:6]}{born:%Y%m%d}{rng.randrange(1000):03d}"
    total = sum(int(digit) * weight for digit, weight in zip(body, _ID_WEIGHTS, strict=True))
    return body + _ID_CHECK[total % 11]


def phone(rng: Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def person_name(rng: Random) -> str:
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(SURNAMES) + given


def party(rng: Random, role: PartyRole, village: Unit) -> Party:
    address = f"{village.name}{rng.randint(1, 12)}组{rng.randint(1, 80)}号"
    return Party(person_name(rng), role, id_number(rng, village.code), phone(rng), address)


def parties(rng: Random, kind: str, village: Unit) -> tuple[Party, ...]:
    """Disputes have an applicant and a respondent, sometimes a third party; an incident
    sometimes names whoever must make the hazard safe."""
    if kind == "incident":
        return (party(rng, PartyRole.RESPONDENT, village),) if rng.random() < 0.4 else ()
    found = [party(rng, PartyRole.APPLICANT, village), party(rng, PartyRole.RESPONDENT, village)]
    if rng.random() < 0.15:
        found.append(party(rng, PartyRole.THIRD_PARTY, village))
    return tuple(found)


def registration(rng: Random, kind: str, village: Unit, at: datetime) -> Registration:
    """What a reporter would tell us about a new case at ``village``."""
    table = INCIDENTS if kind == "incident" else DISPUTES
    category, _, summaries, largest = rng.choices(table, weights=[c[1] for c in table])[0]
    level = pick(rng, LEVELS)
    channel = pick(rng, CHANNELS)
    low, high = PEOPLE[level]
    amount = Decimal(rng.randrange(500, largest)) if largest and rng.random() < 0.8 else None
    found = parties(rng, kind, village)
    return Registration(
        category=category,
        summary=f"{village.name}：{rng.choice(summaries)}",
        unit=village.code,
        channel=channel,
        level=level,
        parties=found,
        people_involved=rng.randint(low, high),
        amount_involved=amount,
        occurred_at=at - timedelta(hours=rng.uniform(1, 72)),
        caller=_caller(rng, channel, found),
        referral_in=_referred_in(rng, channel, at),
    )


# Who refers a case in, by the channel it came through, and how they number theirs.
INBOUND = {
    Channel.COURT: (Agency.COURT, "（2026）川1123民诉前调"),
    Channel.POLICE_110: (Agency.POLICE, "犍公（罗）警情〔2026〕"),
    Channel.PETITION_OFFICE: (Agency.PETITION_OFFICE, "犍信转〔2026〕"),
}


def _caller(rng: Random, channel: Channel, found: tuple[Party, ...]) -> Caller | None:
    """A hotline call is recorded with the caller: a party who called, or someone anonymous."""
    if channel is not Channel.HOTLINE:
        return None
    if not found or rng.random() < 0.2:
        return Caller(anonymous=True)
    return Caller(found[0].name, found[0].phone)


def _referred_in(rng: Random, channel: Channel, at: datetime) -> InboundReferral | None:
    """A case the court, the police or the petition office sent, due back in 30 days."""
    inbound = INBOUND.get(channel)
    if inbound is None:
        return None
    agency, prefix = inbound
    return InboundReferral(agency, f"{prefix}{rng.randint(10, 999)}号", at + timedelta(days=30))


def agreement(rng: Random, kind: str) -> str:
    if kind == "incident":
        return rng.choice(("隐患已整改完毕，经复查验收合格", "已设置警示标志并完成加固，复查合格"))
    return rng.choice(
        (
            "双方自愿达成调解协议，被申请人分期支付款项",
            "双方达成一致，互谅互让，当场履行完毕",
            "经调解，双方确认界址并签订协议",
        )
    )


def reporter(channel: Channel, village: Unit) -> Actor:
    """Grid workers report in their village; the hotline and the web at the city; people who
    come in, and referrals from police, court or petition office, at the township."""
    if channel is Channel.GRID_PATROL:
        return Actor(f"grid-{village.code}", Role.REPORTER, village.code)
    if channel in (Channel.HOTLINE, Channel.ONLINE):
        return HOTLINE
    township = village.parent or village.code
    return Actor(f"intake-{township}", Role.REPORTER, township)


def office_hours(rng: Random, moment: datetime, now: datetime) -> datetime:
    """A time between 08:00 and 20:00 in Shanghai on the day of ``moment`` (the day before
    if that is still to come): cases are reported in office hours and on patrol."""
    local = moment.astimezone(SHANGHAI).date()
    for day in (local, local - timedelta(days=1)):
        clock = time(rng.randint(8, 19), rng.randint(0, 59))
        candidate = datetime.combine(day, clock, tzinfo=SHANGHAI).astimezone(UTC)
        if candidate <= now - timedelta(minutes=5):
            return candidate
    return now - timedelta(hours=1)
