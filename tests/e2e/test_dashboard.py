"""The supervisor dashboard in real headless Chromium against a real ``fengqiao serve --demo``.

Sign-in with a token from ``fengqiao token``; the board shows the queue in the API's order and
follows it live (a case registered, escalated or resolved through the API appears, moves or
leaves within two seconds; with the stream refused, polling does the same); a case page signs a
case and shows why a refused command was refused; the statistics page draws its charts and
downloads the audit export. Screenshots go to test-output/screenshots/.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.support.browser import (
    SCREENSHOTS,
    Served,
    launch,
    mint,
    playwright_session,
    serve,
    verify_export,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, ViewportSize

pytestmark = pytest.mark.slow

COUNTY = "511123"  # 犍为县
VILLAGE = "511123001001"  # 石溪村（示例）, under 罗城镇（示例） 511123001
OTHER_VILLAGE = "511123002002"  # 红星村（示例）, under 清溪镇（示例） 511123002
LIVE_WITHIN_MS = 2000  # a change must show within two seconds
DESKTOP: ViewportSize = {"width": 1366, "height": 768}
PHONE: ViewportSize = {"width": 390, "height": 844}
ID_NUMBER = "511123198001081234"  # a valid resident ID (check digit, born 1980-01-08)
PHONE_NUMBER = "13800001111"


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with playwright_session() as playwright:
        chromium = launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def server(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    # after ``browser``: without Chromium the server is not worth starting
    with serve(tmp_path_factory.mktemp("dashboard"), demo_cases=60) as served:
        yield served


@pytest.fixture(scope="module")
def token(server: Served) -> str:
    return mint(server.data_dir, "supervisor", COUNTY)


@pytest.fixture(scope="module")
def http(server: Served, token: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"{server.url}/api/v1", headers=headers, timeout=15) as client:
        yield client


@pytest.fixture(scope="module")
def seeded(http: httpx.Client) -> dict[str, str]:
    """A few open cases of each colour in the county, so the board has something to show."""
    cases = {
        "red": ("red", VILLAGE, "邻里纠纷", "石溪村两户因宅基地边界争执，一方扬言持械，已三次报警"),
        "orange": (
            "orange",
            OTHER_VILLAGE,
            "劳动争议",
            "红星村砖厂拖欠十二名工人工资，工人计划集体上访",
        ),
        "yellow": (
            "yellow",
            "511123001003",
            "物业纠纷",
            "金山村安置小区电梯停运，业主与物业费用分摊争议",
        ),
        "yellow2": ("yellow", "511123002001", "婚姻家庭纠纷", "新民村夫妻因赡养老人问题多次争吵"),
        "yellow3": (
            "yellow",
            "511123001002",
            "土地承包纠纷",
            "青龙村两组村民因承包地流转租金发生争议",
        ),
    }
    return {key: register(http, *case) for key, case in cases.items()}


def register(
    http: httpx.Client,
    level: str,
    unit: str,
    category: str,
    summary: str,
    parties: list[dict[str, str]] | None = None,
) -> str:
    body: dict[str, Any] = {
        "kind": "dispute",
        "unit": unit,
        "category": category,
        "summary": summary,
        "channel": "grid_patrol",
        "level": level,
        "people_involved": 4,
        "parties": parties or [],
    }
    answer = http.post("/cases", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def command(http: httpx.Client, case: str, name: str, body: dict[str, Any] | None = None) -> Any:
    answer = http.post(
        f"/cases/{case}/{name}",
        json=body,
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture
def errors() -> list[str]:
    return []


@pytest.fixture
def page(browser: Browser, server: Served, errors: list[str]) -> Iterator[Page]:
    """A desktop-sized tab (Chinese, Shanghai time); script errors fail the test."""
    yield from open_page(browser, server, errors, DESKTOP)


def open_page(
    browser: Browser, server: Served, errors: list[str], viewport: ViewportSize, scale: float = 1
) -> Iterator[Page]:
    context = browser.new_context(
        viewport=viewport,
        device_scale_factor=scale,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        accept_downloads=True,
        base_url=server.url,
    )
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    tab.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    tab.on("console", lambda message: errors.extend(script_errors(message)))
    try:
        yield tab
        assert not errors, errors
    finally:
        context.close()


def script_errors(message: ConsoleMessage) -> list[str]:
    """A console error, unless it is the browser noting an HTTP error answer (the tests ask
    for some: refused commands, a missing stream)."""
    if message.type != "error" or message.text.startswith("Failed to load resource"):
        return []
    return [f"console: {message.text}"]


def sign_in(page: Page, token: str, hash_route: str = "#/") -> None:
    page.goto(f"/{hash_route}")
    page.fill("#token", token)
    page.click("#signin-submit")
    page.wait_for_selector("#who-unit")


def screenshot(page: Page, name: str, full_page: bool = False) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def queue_ids(http: httpx.Client) -> list[dict[str, Any]]:
    answer = http.get(f"/queues/{COUNTY}", params={"limit": 500})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def eventually(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {seconds} s: {what}")
        time.sleep(0.1)


def card_ids(page: Page, scope: str = "") -> list[str]:
    ids: list[str] = page.eval_on_selector_all(
        f"{scope} .card".strip(), "cards => cards.map(c => c.dataset.id)"
    )
    return ids


# --- tests -----------------------------------------------------------------------------------


def test_sign_in_shows_the_callers_unit(page: Page, token: str, seeded: dict[str, str]) -> None:
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.fill("#token", "not-a-token")
    page.click("#signin-submit")
    assert "令牌格式不正确" in page.inner_text("#signin-error")

    page.fill("#token", token)
    page.click("#signin-submit")
    page.wait_for_selector("#who-unit")
    assert page.inner_text("#who-unit") == "犍为县"
    assert "督办人员" in page.inner_text("#who")
    assert page.evaluate("sessionStorage.getItem('fengqiao.token')") == token

    page.reload()  # the token stays for the tab
    page.wait_for_selector(".card")
    assert page.inner_text("#who-unit") == "犍为县"

    page.click("#sign-out")
    page.wait_for_selector("#token")
    assert page.evaluate("sessionStorage.getItem('fengqiao.token')") is None


def test_the_board_lists_the_queue_in_the_apis_order(
    page: Page, token: str, http: httpx.Client, seeded: dict[str, str]
) -> None:
    sign_in(page, token)
    page.click("[data-grouping=level]")
    page.wait_for_selector(".column[data-group=red] .card")

    def same_order() -> bool:
        return card_ids(page) == [item["id"] for item in queue_ids(http)]

    eventually(same_order, 5, "the board shows the queue in the API's order")
    items = queue_ids(http)
    assert {seeded["red"], seeded["orange"], seeded["yellow"]} <= {i["id"] for i in items}

    # a card: colour, summary, location, owner, status and a ticking countdown
    red = page.locator(f".card[data-id='{seeded['red']}']")
    assert "lvl-red" in (red.get_attribute("class") or "")
    text = red.inner_text()
    assert "石溪村两户因宅基地边界争执" in text
    assert "罗城镇（示例） · 石溪村（示例）" in text
    assert "犍为县 · 县级" in text
    assert "待签收" in text
    assert "签收期限" in text
    countdown = red.locator("time.countdown")
    first = countdown.inner_text()
    assert re.fullmatch(r"剩余 \d\d:\d\d:\d\d", first), first
    page.wait_for_function(
        "([el, before]) => el.textContent !== before",
        arg=[countdown.element_handle(), first],
        timeout=3000,
    )

    # grouped by owning tier: each column keeps the queue's order
    page.click("[data-grouping=tier]")
    page.wait_for_selector(".column[data-group=county]")
    items = queue_ids(http)
    for tier in ("county", "township", "village"):
        expected = [item["id"] for item in items if item["tier"] == tier]
        assert card_ids(page, f".column[data-group={tier}]") == expected, tier
    headings = page.eval_on_selector_all(
        ".column-head span:first-child", "h => h.map(e => e.textContent)"
    )
    assert headings == ["县（市、区）", "乡镇（街道）", "村（社区）"]
    screenshot(page, "board")


def test_the_board_follows_registrations_escalations_and_resolutions_live(
    page: Page, token: str, http: httpx.Client, seeded: dict[str, str]
) -> None:
    sign_in(page, token)
    page.click("[data-grouping=tier]")
    page.wait_for_selector(".card")
    page.wait_for_selector("#live[data-mode=stream]", timeout=5000)

    # registered elsewhere: a red card appears in the county column
    case = register(http, "red", VILLAGE, "邻里纠纷", "直播测试：两村民因灌溉用水发生肢体冲突")
    page.wait_for_selector(
        f".column[data-group=county] .card[data-id='{case}']", timeout=LIVE_WITHIN_MS
    )

    # escalated elsewhere: a village case moves to the township column
    moving = seeded["yellow3"]
    page.wait_for_selector(f".column[data-group=village] .card[data-id='{moving}']")
    command(http, moving, "escalate", {"reason": "村级调解未果，上交乡镇"})
    page.wait_for_selector(
        f".column[data-group=township] .card[data-id='{moving}']", timeout=LIVE_WITHIN_MS
    )
    assert page.locator(f".column[data-group=village] .card[data-id='{moving}']").count() == 0

    # worked and resolved elsewhere: the card changes, then leaves
    command(http, case, "sign")
    page.wait_for_selector(f".card[data-id='{case}'][data-status=signed]", timeout=LIVE_WITHIN_MS)
    held = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 600))
    command(http, case, "mediation-sessions", {"held_at": held, "notes": "双方到场，初步沟通"})
    command(http, case, "resolve", {"agreement": "按用水时段轮灌，互不阻拦", "form": "written"})
    page.wait_for_selector(f".card[data-id='{case}']", state="detached", timeout=LIVE_WITHIN_MS)
    assert page.inner_text("#live-text").startswith("实时推送")


def test_the_board_polls_when_the_stream_is_missing(
    page: Page, token: str, http: httpx.Client, seeded: dict[str, str]
) -> None:
    problem = '{"title":"Service unavailable","status":503,"detail":"no streams here"}'
    page.route(
        "**/api/v1/stream/**",
        lambda route: route.fulfill(
            status=503, body=problem, content_type="application/problem+json"
        ),
    )
    sign_in(page, token)
    page.wait_for_selector("#live[data-mode=polling]", timeout=5000)
    case = register(http, "orange", OTHER_VILLAGE, "山林水利纠纷", "轮询测试：两组村民争议山林边界")
    page.wait_for_selector(f".card[data-id='{case}']", timeout=LIVE_WITHIN_MS)
    assert "每秒刷新" in page.inner_text("#live-text")


def test_a_case_page_signs_and_explains_a_refusal(
    page: Page, token: str, http: httpx.Client, seeded: dict[str, str]
) -> None:
    parties = [
        {
            "name": "张建国",
            "role": "applicant",
            "id_number": ID_NUMBER,
            "phone": PHONE_NUMBER,
            "address": "犍为县罗城镇石溪村三组12号",
        },
        {"name": "李明", "role": "respondent", "phone": "13900002222"},
    ]
    case = register(http, "orange", VILLAGE, "邻里纠纷", "两户因新建围墙挡住通道发生争执", parties)
    sign_in(page, token, f"#/cases/{case}")
    page.wait_for_selector("#case-status[data-status=registered]")
    body = page.inner_text("#view")
    assert "两户因新建围墙挡住通道发生争执" in body
    assert "张建国" in body
    assert ID_NUMBER not in body  # masked as the API answers
    assert PHONE_NUMBER not in body
    assert "511***********1234" in body
    assert "登记" in page.inner_text("#case-timeline")

    page.click("#case-actions .actions > button[data-action=sign]")
    page.wait_for_selector("#case-status[data-status=signed]")
    page.wait_for_selector("#action-message.msg-ok")
    assert "已完成：签收" in page.inner_text("#action-message")
    assert page.inner_text("#case-version") == "2"
    assert page.locator("#case-timeline [data-event=Signed]").count() == 1

    # a form: a note, sent with the version shown
    page.click("details[data-action=notes] > summary")
    page.fill("#f-notes-text", "已电话联系双方，约定周五到村委会调解")
    page.click("details[data-action=notes] button[type=submit]")
    page.wait_for_selector("#case-timeline [data-event=NoteAdded]")
    assert page.inner_text("#case-version") == "3"
    assert "备注" in page.inner_text("#case-timeline")

    # a required field left empty is caught before anything is sent
    page.click("details[data-action=escalate] > summary")
    page.click("details[data-action=escalate] button[type=submit]")
    assert "“理由”填写有误" in page.inner_text("#action-message")
    page.click("details[data-action=escalate] > summary")  # folded again

    # changed behind the page's back: If-Match catches it, the page shows the new version
    command(http, case, "assign", {"assignee": "mediator-511123001-1"})
    page.click("details[data-action=notes] > summary")
    page.fill("#f-notes-text", "第二条备注")
    page.click("details[data-action=notes] button[type=submit]")
    page.wait_for_selector("#action-message.msg-error:has-text('案件已被他人更新')")
    assert "当前版本 4" in page.inner_text("#action-message")
    page.wait_for_selector("#case-version:has-text('4')")
    assert "mediator-511123001-1" in page.inner_text("#case-details")
    assert page.locator("#case-timeline [data-event=NoteAdded]").count() == 1  # nothing sent
    assert page.input_value("#f-notes-text") == "第二条备注"  # what was typed is kept
    page.click("details[data-action=notes] > summary")

    # signing again is refused: the reason in words
    page.click(".more-actions > summary")
    page.click(".more-actions button[data-action=sign]")
    page.wait_for_selector("#action-message.msg-error:has-text('不能签收')")
    message = page.inner_text("#action-message")
    assert "案件当前状态为“已签收”，不能签收" in message, message
    assert "案件已签收" in message, message
    assert page.inner_text("#case-status") == "已签收"

    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "case")
    screenshot(page, "case-full", full_page=True)


def test_the_statistics_page_draws_its_charts_and_exports(
    page: Page, token: str, http: httpx.Client, server: Served, seeded: dict[str, str]
) -> None:
    sign_in(page, token, "#/stats")
    page.wait_for_selector("#series-chart svg rect.bar")
    period = {
        "from": page.input_value("input[name=from]"),
        "to": page.input_value("input[name=to]"),
        "bucket": "week",
    }
    stats = http.get(f"/stats/{COUNTY}", params=period).json()

    # registrations over time, stacked by level: every number in a <title>
    bars = page.locator("#series-chart rect.bar")
    shown = sum(int(v) for v in bars.evaluate_all("rs => rs.map(r => r.dataset.value)"))
    assert shown == sum(p["registered"] for p in stats["series"]) > 0
    titles = bars.evaluate_all("rs => rs.map(r => r.querySelector('title').textContent)")
    assert all(re.search(r": \d+$", title) for title in titles), titles
    totals = page.eval_on_selector_all(
        "#series-chart .bar-total", "ts => ts.map(t => t.textContent)"
    )
    assert [int(n) for n in totals] == [p["registered"] for p in stats["series"] if p["registered"]]

    # rates as gauges, with their numbers
    gauges = page.locator("#gauges figure.gauge")
    assert gauges.count() == 5
    local = page.inner_text("figure[data-rate=local_resolution_rate]")
    assert "就地化解率" in local
    rate = stats["local_resolution_rate"]
    expected = "—" if rate is None else f"{rate * 100:.1f}".removesuffix(".0") + "%"
    assert expected in local
    assert page.locator("#gauges svg title").count() >= 5

    # by category: one bar per category with its number
    categories = page.eval_on_selector_all(
        "#category-chart .hbar", "bs => bs.map(b => [b.dataset.key, Number(b.dataset.value)])"
    )
    assert dict(categories) == {k: v for k, v in stats["by_category"].items() if v}
    assert page.locator("#category-chart svg rect title").count() == len(categories)

    # the units below
    rows = page.locator("#children-table tbody tr")
    assert rows.count() == len(stats["children"])
    assert "罗城镇（示例）" in page.inner_text("#children-table")
    screenshot(page, "stats")
    screenshot(page, "stats-full", full_page=True)

    # the audit export, fetched with the bearer token and saved from a Blob URL
    with page.expect_download() as download_info:
        page.click("#export-csv")
    download = download_info.value
    assert download.suggested_filename == f"audit-{COUNTY}.csv"
    saved = Path(str(download.path()))
    assert saved.read_text(encoding="utf-8").startswith("seq,position,case_id")
    verified = verify_export(server.data_dir, saved)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_english_switch(page: Page, token: str, seeded: dict[str, str]) -> None:
    sign_in(page, token)
    page.wait_for_selector(".card")
    page.click("#lang-switch")
    page.wait_for_selector("text=Escalation board")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Statistics" in page.inner_text("#topbar")
    assert re.search(r"\d\d:\d\d:\d\d left|Overdue", page.inner_text(".card time.countdown"))
    page.click("#lang-switch")
    page.wait_for_selector("text=三色预警看板")


def test_the_board_fits_a_phone(
    browser: Browser, server: Served, token: str, seeded: dict[str, str], errors: list[str]
) -> None:
    for phone in open_page(browser, server, errors, PHONE, scale=2):
        sign_in(phone, token)
        phone.click("[data-grouping=tier]")
        phone.wait_for_selector(".card time.countdown")
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page scrolls sideways: {width}px"
        columns = phone.eval_on_selector_all(
            ".column", "cs => cs.map(c => Math.round(c.getBoundingClientRect().left))"
        )
        assert len(set(columns)) == 1  # stacked, not side by side
        screenshot(phone, "board-phone")
