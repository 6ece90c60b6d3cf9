"""``fengqiao inspections draw`` and ``show`` on the embedded store: a month's draw by hand (once:
a second run changes nothing), shown with its seed and derived again; refused arguments exit 2."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from api.cli.main import main
from api.wiring.settings import Settings
from domain.application import FengqiaoApplication
from domain.inspection import Month
from domain.samples import sample_units
from tests.support import builders
from tests.support.world import ADMIN, Clock

TOWNSHIP = "511123001"
VILLAGE = "511123001001"
OTHER_TOWNSHIP_VILLAGE = "511123002001"
AUGUST_DAY = datetime(2026, 8, 12, 2, 0, tzinfo=UTC)


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    """A store holding four cases closed in 罗城镇 in August 2026 and one elsewhere."""
    environ = {"FENGQIAO_DATA_DIR": str(tmp_path / "data")}
    settings = Settings.from_env(environ)
    settings.data_dir.mkdir(parents=True)
    app = FengqiaoApplication(env=settings.event_store_env(), clock=Clock(AUGUST_DAY))
    try:
        app.add_units(ADMIN, sample_units())
        for unit in (VILLAGE, VILLAGE, VILLAGE, VILLAGE, OTHER_TOWNSHIP_VILLAGE):
            builders.drive(app, "closed", unit=unit)
    finally:
        app.close()
    return environ


def read_draw(environ: dict[str, str]) -> tuple[str, list[str], list[str]]:
    app = FengqiaoApplication(env=Settings.from_env(environ).event_store_env())
    try:
        draw = app.inspection_draw(TOWNSHIP, Month(2026, 8))
        assert draw is not None
        return draw.seed, draw.population, draw.sample
    finally:
        app.close()


def test_a_month_is_drawn_once_and_shown_with_its_seed(
    environ: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    draw = ["inspections", "draw", "--month", "2026-08", "--township", TOWNSHIP]
    assert main(draw, environ) == 0
    out = capsys.readouterr().out
    assert "督查抽查 2026-08" in out
    assert re.search(r"511123001 罗城镇（示例） │ 4 +│ 3 +│ now", out), out
    seed, population, sample = read_draw(environ)

    assert main(draw, environ) == 0
    assert "before (unchanged)" in capsys.readouterr().out
    assert read_draw(environ) == (seed, population, sample)

    assert main(["inspections", "show", TOWNSHIP, "2026-08"], environ) == 0
    shown = capsys.readouterr().out
    assert f"seed        {seed}" in shown
    assert "population  4 cases closed in the month" in shown
    assert all(case_id in shown for case_id in sample)
    assert "verified" in shown
    by_hand = sorted(population, key=lambda c: hashlib.sha256(f"{seed}:{c}".encode()).hexdigest())
    assert sorted(by_hand[:3]) == sample


def test_refused_arguments_exit_2_and_a_missing_draw_exits_1(
    environ: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspections", "draw", "--month", "2026-13"], environ) == 2
    assert "--month: must be a month like 2026-10" in capsys.readouterr().err
    assert main(["inspections", "draw", "--township", "999"], environ) == 2
    assert "--township: no unit has code '999'" in capsys.readouterr().err
    far = f"{datetime.now(UTC).year + 1}-01"
    assert main(["inspections", "draw", "--month", far], environ) == 2
    assert "has not ended yet" in capsys.readouterr().err
    assert main(["inspections", "show", TOWNSHIP, "2026-07"], environ) == 1
    assert "511123001 has no draw for 2026-07" in capsys.readouterr().out
