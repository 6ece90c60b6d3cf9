"""`fengqiao ledger UNIT --from --to --format --out FILE` on SQLite and PostgreSQL: the same
ledger as the API's, written whole or not at all, and recorded with who and why."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from api.cli.main import main
from api.wiring.bootstrap import OPERATOR, build_application
from api.wiring.settings import Settings, new_cipher_key, new_signing_key
from domain.access import AccessRecord
from domain.application import FengqiaoApplication
from domain.samples import sample_units
from projections.ledger_files import HEADERS
from tests.support import backends
from tests.support.builders import registration
from tests.support.world import COUNTY, OTHER_COUNTY, REPORTER, TOWNSHIP

# Shanghai wall times of the cases' registrations, and where
PLAN = [
    ("2026-09-27 23:59", "511123001001"),  # the day before the period
    ("2026-09-28 00:00", "511123001001"),
    ("2026-09-29 12:00", "511123001002"),  # the same township's other village
    ("2026-09-29 13:00", "511123002001"),  # the county's other township
    ("2026-09-29 14:00", "511102001001"),  # another county
    ("2026-09-30 23:59", "511123001001"),
    ("2026-10-01 00:00", "511123001001"),  # the day after
]
PERIOD = ["--from", "2026-09-28", "--to", "2026-09-30"]


def shanghai(local: str) -> datetime:
    return datetime.fromisoformat(f"{local}+08:00").astimezone(UTC)


def _load(environ: dict[str, str]) -> list[str]:
    """The sample units and the planned cases; their numbers, in the order planned."""
    app = build_application(Settings.from_env(environ))
    try:
        app.add_units(OPERATOR, sample_units(), at=shanghai("2026-09-01 00:00"))
        numbers = []
        for local, unit in PLAN:
            details = replace(registration(), unit=unit)
            numbers.append(
                app.register(REPORTER, "dispute", details, at=shanghai(local)).case.number
            )
        return numbers
    finally:
        app.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The command line's environment for a fresh store of each backend."""
    if request.param == "sqlite":
        yield {"FENGQIAO_DATA_DIR": str(tmp_path / "data")}
        return
    with backends.postgres_schema() as schema:
        yield {
            "FENGQIAO_DATABASE_URL": f"{backends.test_database_url()}?schema={schema}",
            "FENGQIAO_CIPHER_KEY": new_cipher_key(),
            "FENGQIAO_SIGNING_KEY": new_signing_key(),
        }


@pytest.fixture
def numbers(store: dict[str, str]) -> list[str]:
    return _load(store)


def ledger(environ: dict[str, str], *args: str) -> int:
    return main(["ledger", *args], environ=environ)


def access_records(environ: dict[str, str]) -> list[Any]:
    app = FengqiaoApplication(env=Settings.from_env(environ).event_store_env())
    try:
        events = (
            app.mapper.to_domain_event(n)
            for n in app.recorder.select_notifications(start=1, limit=10_000)
        )
        return [e for e in events if isinstance(e, AccessRecord.Recorded)]
    finally:
        app.close()


def test_a_csv_ledger_holds_the_subtree_cases_of_the_period(
    store: dict[str, str], numbers: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "台账.csv"

    status = ledger(store, COUNTY, *PERIOD, "--out", str(out), "--user", "zz-7", "--reason", "月报")

    assert status == 0, capsys.readouterr().err
    assert f"wrote 4 cases to {out}" in capsys.readouterr().out
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # --format from the suffix: CSV
    with out.open(encoding="utf-8-sig", newline="") as text:
        header, *rows = list(csv.reader(text))
    assert tuple(header) == HEADERS
    assert [row[1] for row in rows] == [numbers[i] for i in (1, 2, 3, 5)]
    assert {row[7] for row in rows} == {"申请人：张*；被申请人：李*"}
    assert "张三" not in out.read_text(encoding="utf-8-sig")
    (record,) = access_records(store)
    assert (record.kind, record.actor, record.unit, record.reason) == (
        "ledger",
        "zz-7",
        COUNTY,
        "月报",
    )
    assert record.filter == {
        "unit": COUNTY,
        "from": "2026-09-27T16:00:00+00:00",
        "to": "2026-09-30T16:00:00+00:00",
        "format": "csv",
    }


def test_an_xlsx_ledger_opens_with_one_row_per_case(
    store: dict[str, str], numbers: list[str], tmp_path: Path
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "ledger.xlsx"

    assert ledger(store, TOWNSHIP, *PERIOD, "--format", "xlsx", "--out", str(out)) == 0

    workbook = openpyxl.load_workbook(out, read_only=True)
    try:
        values = list(workbook["台账"].iter_rows(values_only=True))
    finally:
        workbook.close()
    assert values[0] == HEADERS
    assert [row[1] for row in values[1:]] == [numbers[i] for i in (1, 2, 5)]
    assert list(folder.iterdir()) == [out]  # nothing left beside it


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["999999", *PERIOD], "UNIT: no unit has code '999999'"),
        ([COUNTY, "--from", "2026-10-01", "--to", "2026-09-30"], "the period is reversed"),
        ([OTHER_COUNTY, *PERIOD, "--out", "/nonexistent/ledger.xlsx"], "--out: no folder"),
    ],
)
def test_a_refused_argument_exits_2_and_records_nothing(
    store: dict[str, str],
    numbers: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    said: str,
) -> None:
    if "--out" not in args:
        args = [*args, "--out", str(tmp_path / "ledger.xlsx")]

    assert ledger(store, *args) == 2

    assert said in capsys.readouterr().err
    assert access_records(store) == []
    assert list(tmp_path.glob("*ledger*")) == []
