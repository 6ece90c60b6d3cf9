"""督查回访 in the dashboard, in headless Chromium against ``fengqiao serve --demo``: the city's
admin draws last month's samples by hand; a county's inspector finds a sampled case in the
督查回访 list with its due time in 北京时间, opens it, sees the sample on the case page and
records the callback there (not reached, then the form asks nothing more; reached and
dissatisfied, sent back for rework); the case goes back to work and the timeline says why."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import httpx
import pytest

from domain.calendar import SHANGHAI
from domain.inspection import Month
from tests.support.browser import SCREENSHOTS, chromium, desktop_tab, mint, serve
from tests.support.server import Served

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CITY = "511100"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as opened:
        yield opened


@pytest.fixture(scope="module")
def server(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    # enough cases that last month closed some in most counties
    with serve(tmp_path_factory.mktemp("inspections"), demo_cases=300) as served:
        yield served


def client(server: Served, role: str, unit: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {mint(server.data_dir, role, unit)}"}
    return httpx.Client(base_url=f"{server.url}/api/v1", headers=headers, timeout=30)


@pytest.fixture(scope="module")
def sampled(server: Served) -> tuple[list[str], str]:
    """Last month's draws of every township, made by the city's admin: a county's sampled
    cases, and the county."""
    month = str(Month.of(datetime.now(SHANGHAI)).previous())
    with client(server, "admin", CITY) as admin:
        townships = [u["code"] for u in admin.get("/units").json() if u["tier"] == "township"]
        by_county: dict[str, list[str]] = {}
        for township in townships:
            drawn = admin.post("/inspections/draws", json={"township": township, "month": month})
            assert drawn.status_code in (200, 201), drawn.text  # 200: the nightly job drew it
            by_county.setdefault(township[:6], []).extend(drawn.json()["sample"])
    county, cases = max(by_county.items(), key=lambda item: len(item[1]))
    if len(cases) < 2:
        pytest.skip(f"the demo closed too few cases in {month}")
    return cases, county


@pytest.fixture
def page(browser: Browser, server: Served) -> Iterator[Page]:
    with desktop_tab(browser, server.url) as tab:
        yield tab


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def sign_in(page: Page, token: str, hash_route: str) -> None:
    page.goto(f"/{hash_route}")
    page.fill("#token", token)
    page.click("#signin-submit")
    page.wait_for_selector("#who-unit")


def test_an_inspector_lists_the_samples_and_records_callbacks_on_the_case_page(
    page: Page, server: Served, sampled: tuple[list[str], str]
) -> None:
    cases, county = sampled
    unreached, reworked = cases[:2]
    sign_in(page, mint(server.data_dir, "inspector", county), "#/inspections")
    page.wait_for_selector(f"#inspections-list tr[data-case='{reworked}']")
    assert page.get_attribute(f"tr[data-case='{reworked}']", "data-state") == "pending"
    row = page.inner_text(f"tr[data-case='{reworked}']")
    assert "北京时间" in row
    assert "待回访" in row
    assert page.get_attribute("[data-nav=inspections]", "aria-current") == "page"
    screenshot(page, "inspections-list")

    # not reached: the form asks nothing about satisfaction
    page.goto(f"/#/cases/{unreached}")
    page.wait_for_selector("#case-inspection #inspection-state[data-state=pending]")
    page.click("details[data-action=inspections] > summary")
    page.select_option("#f-inspections-reached", "false")
    assert page.locator("#f-inspections-satisfied").is_hidden()
    page.fill("#f-inspections-remarks", "三次拨打均无人接听")
    page.click("details[data-action=inspections] button[type=submit]")
    page.wait_for_selector("#case-timeline [data-event=InspectionRecorded]")
    assert "未能联系上当事人" in page.inner_text("#case-timeline [data-event=InspectionRecorded]")
    assert "三次拨打均无人接听" in page.inner_text("#case-timeline [data-event=InspectionRecorded]")
    assert page.locator("details[data-action=inspections]").count() == 0  # once

    # reached and dissatisfied: back to work
    page.goto(f"/#/cases/{reworked}")
    page.wait_for_selector("#case-inspection")
    assert "督查回访" in page.inner_text("#case-inspection")
    page.click("details[data-action=inspections] > summary")
    page.select_option("#f-inspections-reached", "true")
    page.select_option("#f-inspections-satisfied", "false")
    page.select_option("#f-inspections-agreement_honoured", "false")
    page.select_option("#f-inspections-rework", "true")
    page.fill("#f-inspections-remarks", "当事人反映协议未履行")
    page.click("details[data-action=inspections] button[type=submit]")
    page.wait_for_selector("#case-status[data-status=reopened]")
    timeline = page.inner_text("#case-timeline")
    assert "退回重新办理" in timeline
    assert "重新办理（督查回访退回）" in timeline
    assert "督查抽查" in timeline
    screenshot(page, "case-inspected")
    state = page.get_attribute("#inspection-state", "data-state")
    assert state in ("done", "done_late")

    with client(server, "inspector", county) as inspector:
        items = {i["case"]: i for i in inspector.get("/inspections").json()["items"]}
    assert items[reworked]["rework"] is True
    assert items[unreached]["reached"] is False
    assert datetime.fromisoformat(items[reworked]["due_at"]) - datetime.now(SHANGHAI) < timedelta(
        days=31
    )
