"""The 排查 page in real headless Chromium, served by uvicorn in this process over a SQLite store
with the test's clock: in October 2026 one village of 罗城镇 files a clue, one files a 零报告 and
the third nothing; the sweep at the due time (the end of 25 October, Beijing time) flags the
silent one. The township's supervisor opens 排查 and the grid shows exactly those three states
in October for those villages (September began before the policy: not owed), the header the due
time in 北京时间 and 2 of 3 on time, and the missing queue the silent village alone. On a phone
the grid scrolls inside its wrapper, the village column staying put.

A village's grid worker then files the silent village's report late through the form: a report
with nothing ticked is refused with the server's Chinese reason, a 零报告 with the prefilled
declaration goes through, and the township's queue empties.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from api.http.app import create_app
from api.http.runtime import Runtime
from scheduler.screening import ScreeningWatch
from tests.support.api import (
    API,
    NEIGHBOUR_VILLAGE,
    TOWNSHIP,
    VILLAGE,
    Store,
    build_test_runtime,
    events_recorded,
    token,
)
from tests.support.backends import store_env
from tests.support.browser import SCREENSHOTS, chromium, desktop_tab
from tests.support.live import LiveServer
from tests.support.world import Clock

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.slow

THIRD_VILLAGE = "511123001003"
FILING_DAY = datetime(2026, 10, 20, 2, 0, tzinfo=UTC)
DUE = datetime(2026, 10, 25, 16, 0, tzinfo=UTC)  # the end of 25 October, Beijing time
READ_AT = datetime(2026, 10, 27, 1, 0, tzinfo=UTC)
PHONE_WIDTH = 390


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as opened:
        yield opened


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[LiveServer, Runtime, Clock]]:
    with store_env("sqlite", tmp_path) as env:
        clock = Clock()
        runtime = build_test_runtime(Store("sqlite", env, tmp_path), clock)
        with LiveServer(create_app(runtime)) as server:
            yield server, runtime, clock


def api(server: LiveServer, role: str, unit: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token(role, unit)}"}
    return httpx.Client(base_url=f"{server.url}{API}", headers=headers, timeout=30)


def october(server: LiveServer, runtime: Runtime, clock: Clock) -> None:
    """One village files a clue, the neighbour a 零报告, the third nothing; swept when due."""
    clock.now = FILING_DAY
    with api(server, "reporter", VILLAGE) as worker:
        clue = worker.post(
            "/clues",
            json={
                "unit": VILLAGE,
                "category": "其他",
                "summary": "两户宅基地边界争执",
                "source": "grid",
            },
        )
        assert clue.status_code == 201, clue.text
        filed = worker.post(
            "/screening/reports",
            json={"unit": VILLAGE, "period": "2026-10", "clue_ids": [clue.json()["id"]]},
        )
        assert filed.status_code == 201, filed.text
    with api(server, "reporter", NEIGHBOUR_VILLAGE) as worker:
        zero = {"unit": NEIGHBOUR_VILLAGE, "period": "2026-10", "zero": True}
        filed = worker.post("/screening/reports", json={**zero, "declaration": "未发现矛盾纠纷"})
        assert filed.status_code == 201, filed.text
    clock.now = DUE
    watch = ScreeningWatch(
        runtime.app,
        runtime.views.screening,
        lambda: runtime.views.wait(events_recorded(runtime), 5.0),
    )
    assert (THIRD_VILLAGE, "2026-10") in watch.sweep(DUE)
    assert runtime.views.wait(events_recorded(runtime), 5.0)
    clock.now = READ_AT


def open_screening(page: Page, role: str, unit: str) -> None:
    page.goto("/#/screening")
    page.fill("#token", token(role, unit))
    page.click("#signin-submit")
    page.wait_for_selector("#screening-grid[aria-busy=false]")


def states(page: Page, period: str) -> dict[str, str]:
    found: dict[str, str] = page.eval_on_selector_all(
        f"#screening-grid tr[data-village] td[data-period='{period}']",
        "cs => Object.fromEntries(cs.map(c => [c.closest('tr').dataset.village, c.dataset.state]))",
    )
    return found


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_the_township_sees_filed_zero_and_missed_villages_in_the_grid(
    browser: Browser, served: tuple[LiveServer, Runtime, Clock]
) -> None:
    server, runtime, clock = served
    october(server, runtime, clock)

    with desktop_tab(browser, server.url) as page:
        open_screening(page, "supervisor", TOWNSHIP)
        assert page.get_attribute("[data-nav=screening]", "aria-current") == "page"
        assert states(page, "2026-10") == {
            VILLAGE: "filed",
            NEIGHBOUR_VILLAGE: "zero",
            THIRD_VILLAGE: "missed",
        }
        assert set(states(page, "2026-09").values()) == {"not_owed"}
        row = f"tr[data-village='{VILLAGE}'] td[data-period='2026-10']"
        assert page.inner_text(row).split() == ["已报", "1", "条线索"]
        zero = f"tr[data-village='{NEIGHBOUR_VILLAGE}'] td[data-period='2026-10']"
        assert "零报告" in page.inner_text(zero)
        missed = f"tr[data-village='{THIRD_VILLAGE}'] td[data-period='2026-10']"
        assert page.inner_text(missed) == "未报"
        assert page.inner_text("#screening-due") == "2026-10-25 24:00 北京时间"
        assert "66.7%" in page.inner_text("#screening-share")
        queue = page.eval_on_selector_all(
            "#screening-missing .missing-item", "items => items.map(i => i.dataset.village)"
        )
        assert queue == [THIRD_VILLAGE]
        assert page.locator("#screening-form").count() == 0  # a township files no village's report
        screenshot(page, "screening-township")

        # a phone: the grid scrolls inside its wrapper, the village names stay in view
        page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
        page.reload()
        page.wait_for_selector("#screening-grid[aria-busy=false]")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
        wrap = page.locator(".screening-wrap")
        assert wrap.evaluate("w => w.scrollWidth > w.clientWidth")
        name = page.locator(f"tr[data-village='{VILLAGE}'] th.village")
        october_cell = page.locator(f"tr[data-village='{VILLAGE}'] td[data-period='2026-10']")
        wrap.evaluate("w => { w.scrollLeft = 0; }")
        before = (name.bounding_box(), october_cell.bounding_box())
        wrap.evaluate("w => { w.scrollLeft = w.scrollWidth; }")  # as the page opens
        after = (name.bounding_box(), october_cell.bounding_box())
        assert before[1] is not None
        assert after[1] is not None
        assert after[1]["x"] < before[1]["x"]  # the grid scrolled
        assert after[0] == before[0]  # the village column did not
        screenshot(page, "screening-township-phone")


def test_a_grid_worker_files_the_missed_report_late_through_the_form(
    browser: Browser, served: tuple[LiveServer, Runtime, Clock]
) -> None:
    server, runtime, clock = served
    october(server, runtime, clock)

    with desktop_tab(browser, server.url) as page:
        open_screening(page, "reporter", THIRD_VILLAGE)
        page.wait_for_selector("#screening-form")
        assert page.input_value("#screening-form-period") == "2026-10"
        page.click("#screening-submit")  # nothing ticked, no 零报告: refused, in Chinese
        error = page.locator("#screening-form-error")
        error.wait_for(state="visible")
        assert "零报告" in error.inner_text()
        page.check("input[name=kind][value=zero]")
        assert page.input_value("textarea[name=declaration]") == "本期经排查，未发现矛盾纠纷。"
        page.click("#screening-submit")
        page.wait_for_selector("#screening-done")
        cell = f"tr[data-village='{THIRD_VILLAGE}'] td[data-period='2026-10']"
        assert page.get_attribute(cell, "data-state") == "late"

    with api(server, "supervisor", TOWNSHIP) as township:
        assert township.get("/screening/missing").json()["items"] == []
