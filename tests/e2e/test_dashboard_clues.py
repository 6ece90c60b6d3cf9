"""线索研判 in real headless Chromium, served by uvicorn in this process with the test's clock, on
SQLite and on PostgreSQL: a village's grid worker has recorded two clues; the village's mediator
opens 线索研判 and sees both as cards ("来源：网格员摸排 · 建议黄色预警"). 不予立案 opens a reason
field in the card: confirming with nothing typed is refused in Chinese and sends nothing; with a
reason the clue leaves the open queue. 转为纠纷案件 on the other opens the new case's page. The
API then shows the first dismissed with that reason and the second promoted into that dispute.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from api.http.app import create_app
from api.http.runtime import Runtime
from tests.support.api import API, API_BACKENDS, VILLAGE, Store, build_test_runtime, party, token
from tests.support.backends import store_env
from tests.support.browser import SCREENSHOTS, chromium, desktop_tab
from tests.support.live import LiveServer
from tests.support.world import Clock

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.slow

RECORDED_AT = datetime(2026, 10, 20, 2, 0, tzinfo=UTC)  # a Tuesday, 10:00 Beijing time
TRIAGED_AT = datetime(2026, 10, 20, 6, 0, tzinfo=UTC)
REASON = "经核实系邻里误会，双方已当面说开"
FAMILY = "一对夫妻长期分居，因抚养费问题矛盾激化"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as opened:
        yield opened


@pytest.fixture(params=API_BACKENDS)
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[LiveServer, Clock]]:
    with store_env(request.param, tmp_path) as env:
        clock = Clock()
        clock.now = RECORDED_AT
        runtime: Runtime = build_test_runtime(Store(request.param, env, tmp_path), clock)
        with LiveServer(create_app(runtime)) as server:
            yield server, clock


def api(server: LiveServer, role: str, unit: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token(role, unit)}"}
    return httpx.Client(base_url=f"{server.url}{API}", headers=headers, timeout=30)


def recorded(server: LiveServer, category: str, summary: str) -> str:
    body: dict[str, Any] = {
        "unit": VILLAGE,
        "category": category,
        "summary": summary,
        "source": "grid",
        "parties": [party(), party(name="李四", role="respondent", address=None)],
    }
    with api(server, "reporter", VILLAGE) as worker:
        answer = worker.post("/clues", json=body)
    assert answer.status_code == 201, answer.text
    clue_id: str = answer.json()["id"]
    return clue_id


def card(clue_id: str) -> str:
    return f".clue-card[data-clue='{clue_id}']"


def test_a_mediator_dismisses_one_clue_with_a_reason_and_promotes_another(
    browser: Browser, served: tuple[LiveServer, Clock]
) -> None:
    server, clock = served
    quarrel = recorded(server, "邻里", "村民反映邻居在公共通道上违规搭建棚子，双方多次争吵")
    family = recorded(server, "婚姻家庭", FAMILY)
    clock.now = TRIAGED_AT

    with desktop_tab(browser, server.url) as page:
        page.goto("/#/clues")
        page.fill("#token", token("mediator", VILLAGE))
        page.click("#signin-submit")
        page.wait_for_selector("#clues-list[aria-busy=false]")
        assert page.locator(".clue-card").count() == 2
        meta = page.inner_text(f"{card(quarrel)} .clue-meta")
        assert meta == "来源：网格员摸排 · 建议黄色预警"

        # 不予立案 opens the card's reason field; nothing typed is refused here, in Chinese
        quarrel_card = page.locator(card(quarrel))
        reason_form = quarrel_card.locator("form.clue-dismiss")
        assert reason_form.is_hidden()
        quarrel_card.locator("button[data-act=dismiss]").click()
        assert reason_form.is_visible()
        reason_form.locator("button[type=submit]").click()
        assert reason_form.locator(".form-error").inner_text() == "请填写不予立案的理由。"
        with api(server, "mediator", VILLAGE) as mediator:
            assert mediator.get(f"/clues/{quarrel}").json()["status"] == "open"

        reason_form.locator("textarea[name=reason]").fill(REASON)
        reason_form.locator("button[type=submit]").click()
        page.wait_for_selector(card(quarrel), state="detached")
        assert page.inner_text("#clues-message") == "已不予立案。"
        page.screenshot(path=str(screenshots() / "clues-dismissed.png"), full_page=True)

        # 转为纠纷案件 opens the new case
        page.locator(f"{card(family)} button[data-act=promote][data-kind=dispute]").click()
        page.wait_for_url(re.compile(r"#/cases/[0-9a-f-]{36}$"))
        case_id = page.url.rsplit("/", 1)[-1]
        page.wait_for_selector("#case-head")

    with api(server, "mediator", VILLAGE) as mediator:
        dismissed = mediator.get(f"/clues/{quarrel}").json()
        assert (dismissed["status"], dismissed["reason"]) == ("dismissed", REASON)
        promoted = mediator.get(f"/clues/{family}").json()
        assert (promoted["status"], promoted["case_id"]) == ("promoted", case_id)
        case = mediator.get(f"/cases/{case_id}").json()
        assert case["kind"] == "dispute"
        assert case["summary"] == FAMILY


def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
