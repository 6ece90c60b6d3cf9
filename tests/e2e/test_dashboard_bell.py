"""The dashboard's bell in real headless Chromium: the unread count in the header, the latest
notices in a menu below it, a new notice arriving live over the notification stream, marking
read, and a notice opening its case. The app is served by uvicorn in this process, over a
SQLite store the test writes to through the application (the staff a notice reaches are
enrolled by the test). A screenshot of the open menu is kept in the test's directory."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from api.http.app import create_app
from api.http.runtime import Runtime
from domain.actors import Role
from domain.case.commands import AssignCase
from domain.levels import Level
from tests.support.api import Store, build_test_runtime, events_recorded, token
from tests.support.backends import store_env
from tests.support.browser import chromium, desktop_tab
from tests.support.live import LiveServer
from tests.support.notify import COUNTY, STAFF, VILLAGE, Story, actor, with_staff
from tests.support.world import Clock

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.slow

SUPERVISOR = f"supervisor-{COUNTY}"
LIVE_WITHIN_MS = 3000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as opened:
        yield opened


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[LiveServer, Runtime, Story]]:
    with store_env("sqlite", tmp_path) as env:
        clock = Clock()
        runtime = build_test_runtime(Store("sqlite", env, tmp_path), clock)
        with_staff(runtime.app, STAFF)
        story = Story(runtime.app, clock, runtime.views.deadlines, lambda: None)
        with LiveServer(create_app(runtime)) as server:
            yield server, runtime, story


@pytest.fixture
def page(browser: Browser, served: tuple[LiveServer, Runtime, Story]) -> Iterator[Page]:
    with desktop_tab(browser, served[0].url) as tab:
        yield tab


def written(runtime: Runtime) -> None:
    runtime.views.poke()
    assert runtime.views.wait(events_recorded(runtime), 10.0)


def test_the_bell_counts_lists_and_follows_a_supervisors_notices(
    page: Page, served: tuple[LiveServer, Runtime, Story], tmp_path: Path
) -> None:
    _, runtime, story = served
    story.register("red", VILLAGE, Level.RED)  # 红色预警 to the county's supervisors
    written(runtime)

    page.goto("/#/")
    page.fill("#token", token("supervisor", COUNTY, SUPERVISOR))
    page.click("#signin-submit")
    page.wait_for_selector("#who-unit")
    count = page.locator("#bell-count")
    count.wait_for(state="visible")
    assert count.inner_text() == "1"
    assert page.locator("#bell-button").get_attribute("aria-label") == "1 条未读"

    # a case taken over by the county: a second notice, live
    case = story.register("moved", VILLAGE)
    started = time.monotonic()
    story.run(case, _take_over(), actor(Role.SUPERVISOR, COUNTY))
    written(runtime)
    page.wait_for_function(
        "document.getElementById('bell-count').textContent === '2'", timeout=LIVE_WITHIN_MS
    )
    assert time.monotonic() - started < LIVE_WITHIN_MS / 1000 + 1

    page.click("#bell-button")
    menu = page.locator("#bell-menu")
    menu.wait_for(state="visible")
    items = menu.locator(".bell-item")
    assert items.count() == 2
    newest, oldest = items.nth(0).inner_text(), items.nth(1).inner_text()
    assert "已由犍为县提级办理，请于" in newest
    assert "红色预警：石溪村（示例）" in oldest
    assert "urgent" in (items.nth(1).get_attribute("class") or "")
    shot = tmp_path / "bell-menu.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000

    # a notice opens its case and is read
    items.nth(0).click()
    page.wait_for_function(f"location.hash === '#/cases/{case}'")
    page.wait_for_function("document.getElementById('bell-count').textContent === '1'")
    page.click("#bell-button")
    page.click("#bell-read-all")
    page.wait_for_function("document.getElementById('bell-count').hidden")
    assert page.locator(".bell-item.unread").count() == 0
    assert "全部已读" in menu.inner_text()


def _take_over() -> object:
    from domain.case.commands import TakeOverCase

    return TakeOverCase("涉及两镇群众，县级提级办理")


def test_an_assignee_sees_the_assignment_in_the_bell(
    page: Page, served: tuple[LiveServer, Runtime, Story]
) -> None:
    _, runtime, story = served
    mediator = f"mediator-{VILLAGE}"
    page.goto("/#/")
    page.fill("#token", token("mediator", VILLAGE, mediator))
    page.click("#signin-submit")
    page.wait_for_selector("#bell-button")
    assert page.locator("#bell-count").is_hidden()
    case = story.register("assigned", VILLAGE)
    story.run(case, AssignCase(mediator), actor(Role.SUPERVISOR, VILLAGE))
    written(runtime)
    page.wait_for_function(
        "document.getElementById('bell-count').textContent === '1'", timeout=LIVE_WITHIN_MS
    )
    page.click("#bell-button")
    text = page.locator(".bell-item").first.inner_text()
    assert "已指派给您，请于 9月29日 10:00 前签收。" in text
