"""``fengqiao screening completion`` and ``missing`` on the embedded store: last period one village
of 罗城镇 filed a clue, one a 零报告, and the third nothing and was marked missed at the due time;
the grid prints those three states in last period's column (the period before the policy: not
owed) and the current period's line, the missing list the silent village alone; a county sees both
townships' villages, and refused arguments exit 2.

The store's times are set from today (the CLI reads the real clock): the policy adopted a day into
the period before last, the filings a day into last period, the miss at its due time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api.cli.main import main
from api.wiring.bootstrap import OPERATOR
from api.wiring.settings import Settings
from domain.actors import Actor, Role
from domain.application import FengqiaoApplication
from domain.clue import ClueReport, Source
from domain.policy import Policy
from domain.samples import sample_units
from domain.screening import Period
from tests.support.world import ADMIN, Clock

COUNTY = "511123"
TOWNSHIP = "511123001"
VILLAGE, NEIGHBOUR, THIRD = "511123001001", "511123001002", "511123001003"
NAMES = {VILLAGE: "石溪村（示例）", NEIGHBOUR: "青龙村（示例）", THIRD: "金山村（示例）"}


def last_period() -> tuple[Period, Period]:
    """Last period and the one before it, as of now."""
    current = Policy().screening.period_of(datetime.now(UTC))
    return current.previous(), current.previous().previous()


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    environ = {"FENGQIAO_DATA_DIR": str(tmp_path / "data")}
    settings = Settings.from_env(environ)
    settings.data_dir.mkdir(parents=True)
    last, before = last_period()
    clock = Clock(before.start + timedelta(days=1))  # that period is not owed
    app = FengqiaoApplication(env=settings.event_store_env(), clock=clock)
    try:
        app.adopt_policy(OPERATOR, Policy())  # screening began two periods ago
        app.add_units(ADMIN, sample_units())
        clock.now = last.start + timedelta(days=1)
        worker = Actor(f"reporter-{VILLAGE}", Role.REPORTER, VILLAGE)
        report = ClueReport(VILLAGE, "其他", "两户因宅基地边界争执", Source.GRID)
        clue, _ = app.record_clue(worker, report)
        app.file_screening_report(worker, VILLAGE, last, [str(clue.id)], at=clock.now)
        neighbour = Actor(f"reporter-{NEIGHBOUR}", Role.REPORTER, NEIGHBOUR)
        app.file_screening_report(neighbour, NEIGHBOUR, last, zero=True, declaration="未发现")
        assert app.mark_screening_missed(THIRD, last, Policy().screening.due_at(last))
    finally:
        app.close()
    return environ


def line_of(out: str, name: str) -> list[str]:
    """The grid row of the village ``name``: its cells, split on runs of spaces."""
    found = [line for line in out.splitlines() if name in line]
    assert len(found) == 1, out
    return re.split(r"\s{2,}", found[0].strip())


def test_the_grid_and_the_missing_list_print_what_the_villages_did(
    environ: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    last, before = last_period()

    assert main(["screening", "completion", "--unit", TOWNSHIP, "--periods", "3"], environ) == 0
    out = capsys.readouterr().out
    assert "排查 511123001 罗城镇（示例）" in out
    header = next(line for line in out.splitlines() if "village" in line).split()
    assert header[1:3] == [before.id, last.id]
    assert line_of(out, NAMES[VILLAGE])[1:3] == ["不适用", "已报 1"]
    assert line_of(out, NAMES[NEIGHBOUR])[1:3] == ["不适用", "零报告"]
    assert line_of(out, NAMES[THIRD])[1:3] == ["不适用", "未报"]
    assert line_of(out, NAMES[THIRD])[3] in ("待报", "未报")  # this period: due on the 25th
    current = Policy().screening.period_of(datetime.now(UTC))
    assert f"本期 {current.id}: due {current.id[5:]}-25 24:00 (北京时间)" in out

    assert main(["screening", "missing", "--unit", TOWNSHIP], environ) == 0
    out = capsys.readouterr().out
    assert THIRD in out
    assert VILLAGE not in out
    assert NEIGHBOUR not in out
    assert last.id in out

    assert main(["screening", "completion", "--unit", COUNTY, "--periods", "1"], environ) == 0
    out = capsys.readouterr().out
    assert (
        len([line for line in out.splitlines() if "（示例）" in line and "排查" not in line]) == 6
    )


def test_refused_arguments_exit_2(
    environ: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["screening", "completion", "--unit", "999"], environ) == 2
    assert "--unit: no unit has code '999'" in capsys.readouterr().err
    assert main(["screening", "missing", "--unit", "999"], environ) == 2
    assert main(["screening", "completion", "--unit", TOWNSHIP, "--periods", "25"], environ) == 2
    assert "--periods: must be from 1 to 24" in capsys.readouterr().err
