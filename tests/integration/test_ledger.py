"""The ledger view (``projections.ledger``) on SQLite and PostgreSQL: each row agrees with its
case in every status a case can reach, a rebuild from the log gives the same rows, pages
never skip or repeat a case, an export lists only the cases registered before it, and 300
cases make a workbook that opens with one row per case.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest

from domain.application import FengqiaoApplication
from domain.case.commands import EscalateCase, RateCase, RecordFollowUp, ReviewRating
from domain.parties import Party
from domain.status import Grade, PartyRole, ReviewDecision
from projections.ledger import LedgerRow, ledger_rows, ledger_view, mask_name, masked_parties
from projections.ledger_files import HEADERS, write_xlsx
from projections.viewset import ViewSet
from tests.support.builders import REACHABLE, drive, register
from tests.support.views import dump
from tests.support.world import (
    COUNTY,
    MEDIATOR,
    REPORTER,
    SUPERVISOR,
    T0,
    TOWNSHIP,
    VILLAGE,
)

DAY = timedelta(days=1)


def rows(
    views: ViewSet, unit: str = COUNTY, page: int = 1000, until: int | None = None
) -> list[LedgerRow]:
    views.catch_up()
    return list(ledger_rows(ledger_view(views), unit, T0 - DAY, T0 + DAY, until, page))


@pytest.mark.parametrize("status", REACHABLE)
def test_a_row_agrees_with_its_case_in_every_status(
    app: FengqiaoApplication, views: ViewSet, status: str
) -> None:
    case = drive(app, status)

    (row,) = rows(views)

    assert row.id == str(case.id)
    assert row.number == case.number
    assert (row.status, row.level, row.tier) == (case.status, case.level, case.tier)
    assert row.outcome == (case.outcome.value if case.outcome else None)
    assert row.answered == (status == "answered")
    assert row.follow_ups == case.follow_ups
    assert (row.closed_at is not None) == (status == "closed")
    assert row.registered_at == T0
    assert row.parties == "申请人：张*；被申请人：李*"
    assert row.handler == (None if status in ("registered", "rejected") else MEDIATOR.user)


def test_escalation_moves_the_tier_and_a_reopening_forgets_the_outcome(
    app: FengqiaoApplication, views: ViewSet
) -> None:
    case = drive(app, "followed_up")
    app.execute(case.id, RateCase(Grade.DISSATISFIED), REPORTER)
    app.execute(case.id, ReviewRating(ReviewDecision.CONFIRM), SUPERVISOR)  # 退回再办
    escalated = drive(app, "signed")
    app.execute(escalated.id, EscalateCase("涉及多户，需镇级协调"), SUPERVISOR)

    by_id = {row.id: row for row in rows(views)}

    reopened = by_id[str(case.id)]
    assert (reopened.status, reopened.outcome, reopened.follow_ups) == ("reopened", None, 0)
    assert reopened.satisfied is None
    assert reopened.grade == "dissatisfied"  # the last rating stays
    moved = by_id[str(escalated.id)]
    assert moved.tier == "township"
    assert moved.level == app.get_case(escalated.id).level


def test_the_last_follow_up_is_what_the_row_shows(app: FengqiaoApplication, views: ViewSet) -> None:
    case = drive(app, "followed_up")
    app.execute(case.id, RecordFollowUp(satisfied=False, agreement_honoured=None), MEDIATOR)

    (row,) = rows(views)

    assert (row.follow_ups, row.satisfied, row.honoured) == (2, False, None)


def test_a_subtree_and_a_period_select_the_rows(app: FengqiaoApplication, views: ViewSet) -> None:
    inside = register(app)
    register(app, unit="511123002001")  # the county's other township
    register(app, at=T0 + DAY)  # the first moment after the period

    assert [row.id for row in rows(views, TOWNSHIP)] == [str(inside.id)]
    assert len(rows(views, COUNTY)) == 2
    assert rows(views, VILLAGE)[0].id == str(inside.id)


def test_pages_neither_skip_nor_repeat_cases_registered_at_the_same_moment(
    app: FengqiaoApplication, views: ViewSet
) -> None:
    registered = [register(app).id for _ in range(11)]  # one time: the id breaks the tie

    paged = [row.id for row in rows(views, page=3)]

    assert paged == [row.id for row in rows(views)]
    assert sorted(paged) == sorted(str(case_id) for case_id in registered)
    assert paged == sorted(paged)


def test_an_export_lists_only_the_cases_registered_up_to_its_record(
    app: FengqiaoApplication, views: ViewSet
) -> None:
    first = register(app)
    position = app.recorder.max_notification_id()
    register(app)

    assert [row.id for row in rows(views, until=position)] == [str(first.id)]


def test_a_rebuild_from_the_log_gives_the_same_rows(
    app: FengqiaoApplication, views: ViewSet
) -> None:
    for status in ("closed", "reopened", "answered", "paused", "rejected"):
        drive(app, status)
    views.catch_up()
    before = dump(views.views["ledger"])

    views.rebuild(["ledger"])

    assert dump(views.views["ledger"]) == before
    assert len(before["ledger"]) == 5


def test_the_view_holds_no_party_field_in_plain(app: FengqiaoApplication, views: ViewSet) -> None:
    register(app)
    views.catch_up()

    held = repr(dump(views.views["ledger"]))

    for plain in ("张三", "李四", "51112319800109123X", "13800000001"):
        assert plain not in held


@pytest.mark.slow
def test_300_cases_make_a_workbook_that_opens_with_one_row_each(
    app: FengqiaoApplication, views: ViewSet, tmp_path: Path
) -> None:
    for _ in range(300):
        register(app)
    path = tmp_path / "ledger.xlsx"

    written = write_xlsx(rows(views), path)

    assert written == 300
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        sheet = workbook["台账"]
        values = list(sheet.iter_rows(values_only=True))
    finally:
        workbook.close()
    assert values[0] == HEADERS
    assert len(values) == 1 + 300
    assert [row[0] for row in values[1:]] == list(range(1, 301))


# --- masking --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "shown"),
    [("张三", "张*"), ("王小明", "王**"), ("欧阳娜娜", "欧**"), ("李", "*"), (" 赵六 ", "赵*")],
)
def test_a_name_shows_its_first_character_and_never_its_length(name: str, shown: str) -> None:
    assert mask_name(name) == shown


def test_parties_are_listed_by_role_in_the_order_registered() -> None:
    parties = [
        Party("张三", PartyRole.APPLICANT),
        Party("李四", PartyRole.RESPONDENT),
        Party("王五", PartyRole.APPLICANT),
        Party("某某建材有限公司", PartyRole.THIRD_PARTY),
    ]

    assert masked_parties(parties) == "申请人：张*、王*；被申请人：李*；第三人：某**"
    assert masked_parties([]) == ""
