"""The ledger (台账) over HTTP, on SQLite and PostgreSQL: `GET /api/v1/ledger` lists the cases
located in a unit's subtree and registered in the period, in the columns a 综治中心 reports
upward, Chinese throughout, parties' names masked; every export is recorded first.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import openpyxl
import pytest

from api.http.runtime import Runtime
from domain.access import AccessRecord
from domain.actors import Actor, Role
from domain.case.commands import (
    AssignCase,
    CloseCase,
    RateCase,
    RecordFollowUp,
    RecordMediationSession,
    ResolveCase,
    SignCase,
)
from domain.status import AgreementForm, Grade
from projections.ledger_files import HEADERS
from tests.support.api import (
    API,
    COUNTY,
    NEIGHBOUR_VILLAGE,
    OTHER_COUNTY_VILLAGE,
    OTHER_TOWNSHIP_VILLAGE,
    TOWNSHIP,
    VILLAGE,
    Client,
    auth,
    party,
    register,
)
from tests.support.world import Clock

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHANGHAI_DAY = "2026-09-28"  # T0's day: Monday, 10:00 in Shanghai
LAST_DAY = "2026-09-30"
PERIOD = {"from": SHANGHAI_DAY, "to": LAST_DAY}
MEDIATOR = Actor("mediator-7", Role.MEDIATOR, VILLAGE)
SUPERVISOR = Actor("supervisor-3", Role.SUPERVISOR, COUNTY)


def at(clock: Clock, local: str) -> None:
    """Sets the clock to a Shanghai wall time, ``2026-09-30 23:30``."""
    clock.now = datetime.fromisoformat(f"{local}+08:00").astimezone(UTC)


def ledger(http: Client, role: str, home: str, params: dict[str, str] | None = None) -> Any:
    """The ledger as a ``role`` at unit ``home`` asks for it."""
    return http.get(f"{API}/ledger", params=params or {}, headers=auth(role, home))


def csv_rows(answer: Any) -> list[list[str]]:
    assert answer.content.startswith(b"\xef\xbb\xbf"), "a CSV for Excel starts with a BOM"
    return list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))


@pytest.fixture
def cases(client: tuple[Client, Runtime], clock: Clock) -> dict[str, dict[str, Any]]:
    """Cases around the period 2026-09-28 to 09-30: in the township's villages, its county's
    other township and another county; on its first and last Shanghai minute and just outside."""
    http, _ = client
    found = {}
    plan = [
        ("before", VILLAGE, "2026-09-27 23:59"),
        ("village", VILLAGE, "2026-09-28 00:00"),
        ("neighbour", NEIGHBOUR_VILLAGE, "2026-09-29 10:00"),
        ("other township", OTHER_TOWNSHIP_VILLAGE, "2026-09-29 11:00"),
        ("other county", OTHER_COUNTY_VILLAGE, "2026-09-29 12:00"),
        ("last minute", VILLAGE, "2026-09-30 23:59"),
        ("after", VILLAGE, "2026-10-01 00:00"),
    ]
    for name, unit, local in plan:
        at(clock, local)
        parties = [party(name="欧阳娜娜"), party(name="李四", role="respondent")]
        found[name] = register(http, unit=unit, parties=parties)
    at(clock, "2026-10-02 09:00")
    return found


def test_a_csv_ledger_lists_the_subtree_cases_of_the_period_in_reporting_order(
    client: tuple[Client, Runtime], cases: dict[str, dict[str, Any]]
) -> None:
    http, _ = client
    answer = ledger(http, "supervisor", TOWNSHIP, {"unit": TOWNSHIP, **PERIOD, "format": "csv"})

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="ledger-{TOWNSHIP}-20260928-20260930.csv"'
    )
    header, *rows = csv_rows(answer)
    assert tuple(header) == HEADERS
    listed = [row[1] for row in rows]
    assert listed == [cases[name]["number"] for name in ("village", "neighbour", "last minute")]
    assert [row[0] for row in rows] == ["1", "2", "3"]
    first = dict(zip(HEADERS, rows[0], strict=True))
    assert first["登记时间"] == "2026-09-28 00:00"
    assert first["纠纷类别"] == "邻里"  # the vocabulary's word for 邻里纠纷
    assert (first["预警等级"], first["承办层级"], first["办理状态"]) == ("黄", "村", "待签收")
    assert first["当事人"] == "申请人：欧**；被申请人：李*"
    assert first["涉及金额"] == "1200.50"
    assert (first["化解结果"], first["回访情况"], first["评价"], first["办结时间"]) == ("",) * 4
    assert "欧阳娜娜" not in answer.text
    assert "李四" not in answer.text


def test_a_county_ledger_takes_in_every_township_and_no_other_county(
    client: tuple[Client, Runtime], cases: dict[str, dict[str, Any]]
) -> None:
    http, _ = client
    answer = ledger(http, "auditor", COUNTY, {**PERIOD, "format": "csv"})

    assert answer.status_code == 200, answer.text
    numbers = [row[1] for row in csv_rows(answer)[1:]]
    expected = ("village", "neighbour", "other township", "last minute")
    assert numbers == [cases[name]["number"] for name in expected]


def test_an_xlsx_ledger_opens_with_its_headers_and_one_row_per_case(
    client: tuple[Client, Runtime], cases: dict[str, dict[str, Any]], tmp_path: Any
) -> None:
    http, _ = client
    answer = ledger(http, "admin", COUNTY, {"unit": TOWNSHIP, **PERIOD})

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == XLSX
    assert int(answer.headers["content-length"]) == len(answer.content)
    assert answer.headers["cache-control"] == "no-store"
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(answer.content)
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        sheet = workbook["台账"]
        rows = list(sheet.iter_rows(values_only=True))
    finally:
        workbook.close()
    assert rows[0] == HEADERS
    assert [row[1] for row in rows[1:]] == [
        cases[name]["number"] for name in ("village", "neighbour", "last minute")
    ]
    first = dict(zip(HEADERS, rows[1], strict=True))
    assert first["序号"] == 1
    # a date cell, in Shanghai time (a spreadsheet has no zones)
    assert first["登记时间"] == datetime(2026, 9, 28, 0, 0)  # noqa: DTZ001
    assert first["涉及金额"] == pytest.approx(1200.50)
    assert first["当事人"] == "申请人：欧**；被申请人：李*"
    assert first["办结时间"] is None


def test_a_worked_case_shows_its_handler_outcome_follow_up_rating_and_closing(
    client: tuple[Client, Runtime], cases: dict[str, dict[str, Any]], clock: Clock
) -> None:
    http, runtime = client
    case_id = UUID(cases["village"]["id"])
    app = runtime.app
    app.execute(case_id, SignCase(), MEDIATOR)
    app.execute(case_id, AssignCase("mediator-7"), SUPERVISOR)
    app.execute(case_id, RecordMediationSession(clock.now, "双方到场", ["欧阳娜娜"]), MEDIATOR)
    app.execute(case_id, ResolveCase("赔偿500元", AgreementForm.WRITTEN), MEDIATOR)
    clock.advance(days=3)
    app.execute(case_id, RecordFollowUp(satisfied=True, agreement_honoured=True), MEDIATOR)
    app.execute(case_id, CloseCase(), MEDIATOR)
    app.execute(
        case_id, RateCase(Grade.BASICALLY_SATISFIED), Actor("hotline-1", Role.REPORTER, VILLAGE)
    )

    answer = ledger(http, "supervisor", COUNTY, {**PERIOD, "format": "csv"})

    row = dict(zip(HEADERS, csv_rows(answer)[1], strict=True))
    assert row["案件编号"] == cases["village"]["number"]
    assert row["办理状态"] == "已办结"
    assert row["承办人"] == "mediator-7"
    assert row["化解结果"] == "已化解"
    assert row["回访情况"] == "已回访1次：满意，协议已履行"
    assert row["评价"] == "基本满意"
    assert row["办结时间"] == "2026-10-05 09:00"


def test_each_export_is_recorded_with_its_filter_and_lists_only_what_came_before(
    client: tuple[Client, Runtime], cases: dict[str, dict[str, Any]]
) -> None:
    http, runtime = client
    answer = ledger(http, "auditor", COUNTY, {"unit": TOWNSHIP, "format": "csv", "to": LAST_DAY})
    assert answer.status_code == 200, answer.text

    records = access_records(runtime)
    assert len(records) == 1
    record = records[0]
    assert (record.kind, record.actor, record.role, record.unit) == (
        "ledger", f"auditor-{COUNTY}", "auditor", COUNTY,
    )  # fmt: skip
    assert record.case_id is None
    assert record.filter == {
        "unit": TOWNSHIP,
        "from": "2026-08-31T16:00:00+00:00",  # the 30 days up to ``to``, whole Shanghai days
        "to": "2026-09-30T16:00:00+00:00",
        "format": "csv",
    }


def access_records(runtime: Runtime) -> list[Any]:
    """Every access record in the log, oldest first."""
    app = runtime.app
    found = []
    for notification in app.recorder.select_notifications(start=1, limit=10_000):
        event = app.mapper.to_domain_event(notification)
        if isinstance(event, AccessRecord.Recorded):
            found.append(event)
    return found


@pytest.mark.parametrize(
    ("role", "unit", "asked", "status"),
    [
        ("mediator", TOWNSHIP, TOWNSHIP, 403),  # not one who may export
        ("reporter", VILLAGE, VILLAGE, 403),
        ("supervisor", VILLAGE, TOWNSHIP, 403),  # above their own unit
        ("auditor", TOWNSHIP, OTHER_COUNTY_VILLAGE, 403),  # outside their subtree
        ("auditor", COUNTY, "999999", 422),  # no such unit
    ],
)
def test_only_exporters_get_a_ledger_and_only_of_their_subtree(
    client: tuple[Client, Runtime], role: str, unit: str, asked: str, status: int
) -> None:
    http, runtime = client
    answer = ledger(http, role, unit, {"unit": asked})

    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert access_records(runtime) == []  # a refused export records nothing


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"format": "xls"}, "format"),  # named as sent, not by the handler's parameter
        ({"from": "2026-10-01", "to": "2026-09-30"}, "from"),  # reversed
        ({"to": "2101-01-01"}, "to"),  # years past anything the system holds
        ({"from": "yesterday"}, "from"),
    ],
)
def test_a_bad_format_or_period_is_refused_before_anything_is_recorded(
    client: tuple[Client, Runtime], params: dict[str, str], field: str
) -> None:
    http, runtime = client
    answer = ledger(http, "auditor", COUNTY, params)

    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["field"] == field
    assert access_records(runtime) == []


def test_an_empty_period_gives_the_headers_alone(client: tuple[Client, Runtime]) -> None:
    http, _ = client
    period = {"from": "2020-01-01", "to": "2020-01-31", "format": "csv"}
    answer = ledger(http, "auditor", COUNTY, period)

    assert answer.status_code == 200, answer.text
    assert csv_rows(answer) == [list(HEADERS)]


def test_the_period_bounds_are_whole_shanghai_days_with_to_included(
    client: tuple[Client, Runtime], cases: dict[str, dict[str, Any]]
) -> None:
    http, _ = client
    one_day = {"unit": VILLAGE, "from": LAST_DAY, "to": LAST_DAY, "format": "csv"}
    answer = ledger(http, "auditor", COUNTY, one_day)

    numbers = [row[1] for row in csv_rows(answer)[1:]]
    assert numbers == [cases["last minute"]["number"]]  # 09-30 00:00 to 24:00 in Shanghai
