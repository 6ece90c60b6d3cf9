"""The demo's front line in the featured township (511123001): clues, screening reports, a key
person and a family's repeat disputes, so the 线索研判, 排查, 重点人员 and 重复纠纷 pages have
something true to show.

Played after the case stories, in time order, through the application's own commands, with
the views brought up to date before each registration: the repeat index and the watch-list are
views, and a registration consults them. In each village, over the periods since the demo's
world began:

- 石溪村 finds clues every period (one promoted into a case, one dismissed) and reports them;
- 青龙村 files a 零报告 every period;
- 金山村 stays silent: the scheduler marks it missed at each due time, and it files late once.

A family of 青龙村 (李 and 赵) brings the same quarrel three times; the third registration
arrives linked to the first two and suggested one colour higher. A man of 金山村 is a key person
with a 包案 leader whose weekly visit is overdue, and a new dispute involving him is raised a
step. The whole story runs once: a second run finds the key person and leaves everything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from random import Random
from uuid import UUID

from api.demo.data import ATTENDEES, party
from domain.actors import SYSTEM, Actor, Role
from domain.application import FengqiaoApplication
from domain.case import Registration
from domain.case.commands import RecordMediationSession, ResolveCase, SignCase
from domain.clue import ClueReport, Source
from domain.errors import DomainError, KeyPersonNotFoundError
from domain.levels import Level
from domain.parties import Party
from domain.samples import sample_units
from domain.screening import Period
from domain.status import AgreementForm, Channel, PartyRole

TOWNSHIP = "511123001"
CLUE_PEOPLE = 24  # enough for every clue of the demo's periods
MINUTES = timedelta(minutes=3)  # how long after a due time the scheduler acts, in the demo
FINDS, ZERO, SILENT = "511123001001", "511123001002", "511123001003"
# Invented people (valid GB 11643 check digits, reserved 139 0000 numbers like the staff's).
FAMILY = (
    Party("李国华（示例）", PartyRole.APPLICANT, "511123197803150014", "13900001501"),
    Party("赵春梅（示例）", PartyRole.RESPONDENT, "511123198206220023", "13900001502"),
)
KEY_PERSON = Party("王建国（示例）", PartyRole.RESPONDENT, "511123196511030016", "13900001503")
# the key person's neighbour in 金山村, in no earlier case
WALL_NEIGHBOUR = Party("刘志强（示例）", PartyRole.APPLICANT, "511123197412190035", "13900001505")
FAMILY_QUARRELS = (
    (70, "李国华与赵春梅因宅前排水沟堵塞互相指责，发生口角"),
    (35, "李国华与赵春梅又因排水沟改道问题争吵，邻居劝开"),
    (2, "李国华与赵春梅第三次因排水沟问题发生冲突，双方均有推搡"),
)


@dataclass
class GrassrootsReport:
    clues: int = 0
    reports: int = 0
    missed: int = 0
    cases: int = 0
    skipped: bool = False
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the demo's output, and any refusal in full."""
        if self.skipped:
            return f"township {TOWNSHIP}: its clues, screening and key person are there already"
        said = (
            f"township {TOWNSHIP}: {self.clues} clues, {self.reports} screening reports, "
            f"{self.missed} missed, {self.cases} cases (a family's repeats, a key person)"
        )
        return "\n".join([said, *self.errors])


def run_grassroots(
    app: FengqiaoApplication, now: datetime, epoch: datetime, catch_up: Callable[[], None]
) -> GrassrootsReport:
    """Plays the story up to ``now``; ``catch_up`` brings the views to the log's head."""
    report = GrassrootsReport()
    if app.fingerprints is None:
        report.skipped = True  # no cipher key: no key persons, no repeats to show
        return report
    identity = app.key_person_typed(KEY_PERSON.name, KEY_PERSON.id_number, KEY_PERSON.phone)
    try:
        app.key_person(identity.id)
    except KeyPersonNotFoundError:
        pass
    else:
        report.skipped = True
        return report
    catch_up()
    for step in (_screening, _family, _key_person, _open_clues):
        try:
            step(app, now, epoch, catch_up, report)
        except DomainError as error:
            report.errors.append(f"{step.__name__}: {type(error).__name__}: {error}")
    catch_up()
    return report


def _screening(
    app: FengqiaoApplication,
    now: datetime,
    epoch: datetime,
    catch_up: Callable[[], None],
    report: GrassrootsReport,
) -> None:
    rules = app.policy.screening
    period = rules.period_of(now)
    owed: list[Period] = []
    while period.start >= epoch:
        owed.insert(0, period)
        period = period.previous()
    for index, period in enumerate(owed):
        due = rules.due_at(period)
        day = min(due, now) - timedelta(days=3)  # filed a few days before the due time
        if day <= max(period.start, epoch):
            continue  # the period has only just begun: nothing filed yet
        clue_ids = _clues_of(app, period, day, report)
        if clue_ids:
            app.file_screening_report(_grid(FINDS), FINDS, period, clue_ids, at=day)
            report.reports += 1
        app.file_screening_report(
            _grid(ZERO), ZERO, period, zero=True, declaration="本期经排查，未发现矛盾纠纷。", at=day
        )
        report.reports += 1
        if due <= now:
            report.missed += app.mark_screening_missed(SILENT, period, at=due)
            if index == 0:  # filed late once, after the township chased it up
                late = due + timedelta(days=2)
                app.file_screening_report(
                    _grid(SILENT), SILENT, period, zero=True,
                    declaration="补报：本期经排查，未发现矛盾纠纷。", at=late,
                )  # fmt: skip
                report.reports += 1


def _clues_of(
    app: FengqiaoApplication, period: Period, day: datetime, report: GrassrootsReport
) -> list[str]:
    """Two clues found in 石溪村 in the days before ``day``: one promoted into a case and
    settled, one dismissed; new people each period."""
    found = [
        ("土地承包", "村民反映三组与四组之间承包地界桩被移动，两户可能发生争执"),
        ("邻里", "网格员走访发现两户因共用院坝堆放杂物起争执，已初步劝解"),
    ]
    mediator = Actor(f"mediator-{FINDS}", Role.MEDIATOR, FINDS)
    ids = []
    for offset, (category, summary) in enumerate(found):
        at = day - timedelta(days=6 - 2 * offset)
        if at < period.start:
            continue
        people = _people(report)
        clue, _ = app.record_clue(
            _grid(FINDS), ClueReport(FINDS, category, summary, Source.GRID, people), at=at
        )
        report.clues += 1
        if offset == 0:
            case = app.promote_clue(mediator, clue.id, "dispute", at=at + timedelta(hours=5))[1]
            _settle(
                app, case.case.id, at + timedelta(hours=6), "双方同意由村组干部到场重新确认界桩位置"
            )
            report.cases += 1
        else:
            app.dismiss_clue(
                mediator, clue.id, "经核实已当场化解，无需立案", at=at + timedelta(hours=3)
            )
        ids.append(str(clue.id))
    return ids


def _open_clues(
    app: FengqiaoApplication,
    now: datetime,
    epoch: datetime,
    catch_up: Callable[[], None],
    report: GrassrootsReport,
) -> None:
    """This week's clues, not yet triaged: one past its triage deadline (the scheduler flagged
    it), one recorded this morning."""
    found = [
        (timedelta(days=3), "邻里", "村民反映邻居在公共通道上违规搭建棚子，双方多次争吵"),
        (timedelta(hours=3), "婚姻家庭", "网格员走访发现一对夫妻长期分居，因抚养费问题矛盾激化"),
    ]
    for ago, category, summary in found:
        people = _people(report)
        report_ = ClueReport(ZERO, category, summary, Source.GRID, people)
        clue, _ = app.record_clue(_grid(ZERO), report_, at=now - ago)
        report.clues += 1
        if clue.triage_due_at < now:
            app.flag_clue_overdue(SYSTEM, clue.id, clue.triage_due_at, clue.triage_due_at + MINUTES)


def clue_people() -> list[Party]:
    """The people the demo's clues involve, two per clue in turn (invented, like every demo
    party)."""
    rng = Random("fengqiao demo clues")
    villages = [u for u in sample_units() if u.code in (FINDS, ZERO)]
    roles = (PartyRole.APPLICANT, PartyRole.RESPONDENT)
    return [party(rng, roles[i % 2], villages[i // 2 % 2]) for i in range(CLUE_PEOPLE)]


def _people(report: GrassrootsReport) -> tuple[Party, Party]:
    """The next clue's two people: new ones for each clue (``report.clues`` counts them)."""
    everyone = clue_people()
    first = 2 * report.clues % len(everyone)
    return everyone[first], everyone[first + 1]


def _settle(app: FengqiaoApplication, case_id: UUID, at: datetime, agreement: str) -> None:
    """Signed, mediated once and resolved by the owning unit's mediator within a day."""
    owner = app.get_case(case_id).owner
    mediator = Actor(f"mediator-{owner}", Role.MEDIATOR, owner)
    app.execute(case_id, SignCase(), mediator, at=at + timedelta(hours=2))
    held = at + timedelta(hours=20)
    notes = "第1次调解：双方到场，查看现场，释法明理"
    session = RecordMediationSession(held, notes, ATTENDEES)
    app.execute(case_id, session, mediator, at=held + timedelta(hours=1))
    resolve = ResolveCase(agreement, AgreementForm.ORAL)
    app.execute(case_id, resolve, mediator, at=at + timedelta(days=1, hours=2))


def _family(
    app: FengqiaoApplication,
    now: datetime,
    epoch: datetime,
    catch_up: Callable[[], None],
    report: GrassrootsReport,
) -> None:
    for days_ago, summary in FAMILY_QUARRELS:
        at = now - timedelta(days=days_ago)
        catch_up()  # the repeat index holds the quarrels before this one
        details = Registration("邻里", summary, ZERO, Channel.GRID_PATROL, parties=FAMILY)
        case = app.register(_grid(ZERO), "dispute", details, at=at).case
        report.cases += 1
        if days_ago > 7:  # the earlier quarrels were settled, by whoever owned them
            _settle(app, case.id, at, "双方同意共同出资疏通排水沟，今后不再堆放杂物")


def _key_person(
    app: FengqiaoApplication,
    now: datetime,
    epoch: datetime,
    catch_up: Callable[[], None],
    report: GrassrootsReport,
) -> None:
    supervisor = Actor(f"supervisor-{TOWNSHIP}", Role.SUPERVISOR, TOWNSHIP)
    flagged_at = now - timedelta(days=20)
    identity = app.key_person_typed(KEY_PERSON.name, KEY_PERSON.id_number, KEY_PERSON.phone)
    reason = "多次因宅基地界址问题到镇政府反映，情绪激动，曾扬言采取过激行为"
    review_on = (now + timedelta(days=60)).date()
    person = app.flag_key_person(supervisor, identity, reason, review_on, at=flagged_at).person
    leader = supervisor.user
    app.assign_key_person_leader(supervisor, person.id, leader, at=flagged_at + timedelta(hours=1))
    visited = flagged_at + timedelta(days=3)
    app.record_key_person_visit(supervisor, person.id, "入户走访，情绪平稳", at=visited)
    # the visit due a week later was missed: the scheduler flagged it minutes after
    app.flag_key_person_clocks(
        person.id, visited + app.policy.key_person_visit.as_timedelta() + timedelta(minutes=3)
    )
    catch_up()
    summary = "王建国与刘志强因宅基地边界围墙修建发生争执，王建国情绪激动"
    details = Registration(
        "房屋宅基地", summary, SILENT, Channel.WALK_IN, Level.YELLOW, (KEY_PERSON, WALL_NEIGHBOUR)
    )
    intake = Actor(f"intake-{TOWNSHIP}", Role.REPORTER, TOWNSHIP)
    app.register(intake, "dispute", details, at=now - timedelta(days=1))
    report.cases += 1


def _grid(village: str) -> Actor:
    return Actor(f"grid-{village}", Role.REPORTER, village)
