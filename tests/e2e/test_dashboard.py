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
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from domain.calendar import SHANGHAI
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
    from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, ViewportSize

pytestmark = pytest.mark.slow

CITY = "511100"  # 乐山市
COUNTY = "511123"  # 犍为县
TOWNSHIP = "511123001"  # 罗城镇（示例）
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
def acting(server: Served) -> Iterator[Callable[[str, str], httpx.Client]]:
    """A client of a role at a unit: the owning unit's people work a case (a village case's
    supervisor is at the village), a unit above orders 督办 or takes it over."""
    clients: dict[tuple[str, str], httpx.Client] = {}

    def client(role: str, unit: str) -> httpx.Client:
        if (role, unit) not in clients:
            headers = {"Authorization": f"Bearer {mint(server.data_dir, role, unit)}"}
            base = f"{server.url}/api/v1"
            clients[role, unit] = httpx.Client(base_url=base, headers=headers, timeout=15)
        return clients[role, unit]

    try:
        yield client
    finally:
        for opened in clients.values():
            opened.close()


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


def shanghai_input(moment: datetime) -> str:
    """A moment as an ``<input type=datetime-local>`` reads it: Beijing time, to the minute."""
    return f"{moment.astimezone(SHANGHAI):%Y-%m-%dT%H:%M}"


def offered(page: Page) -> set[str]:
    """The commands the case page offers, first or under 其他操作."""
    keys: list[str] = page.eval_on_selector_all(
        "#case-actions [data-action]", "es => es.map(e => e.dataset.action)"
    )
    return set(keys)


def deadline(http: httpx.Client, case: str, kind: str) -> datetime:
    clocks = {d["kind"]: d["due_at"] for d in http.get(f"/cases/{case}").json()["deadlines"]}
    return datetime.fromisoformat(clocks[kind])


def scroll_to(target: Locator) -> None:
    """Scroll a card into view; the board redraws live, so a card may be replaced meanwhile."""
    from playwright.sync_api import Error as PlaywrightError  # only where a browser runs

    for _ in range(5):
        try:
            target.scroll_into_view_if_needed(timeout=2000)
            return
        except PlaywrightError:
            time.sleep(0.2)
    target.scroll_into_view_if_needed()


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
    page: Page,
    token: str,
    http: httpx.Client,
    acting: Callable[[str, str], httpx.Client],
    seeded: dict[str, str],
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

    # escalated elsewhere (by its owner, the village): it moves to the township column
    moving = seeded["yellow3"]
    page.wait_for_selector(f".column[data-group=village] .card[data-id='{moving}']")
    village = acting("supervisor", "511123001002")  # 青龙村（示例）, where it was registered
    command(village, moving, "escalate", {"reason": "村级调解未果，上交乡镇"})
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
    page: Page,
    http: httpx.Client,
    acting: Callable[[str, str], httpx.Client],
    server: Served,
    seeded: dict[str, str],
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
    # an orange case is the township's to work: its supervisor signs in
    township = acting("supervisor", TOWNSHIP)
    assert township.get(f"/cases/{case}").json()["owner"] == TOWNSHIP
    sign_in(page, mint(server.data_dir, "supervisor", TOWNSHIP), f"#/cases/{case}")
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
    command(township, case, "assign", {"assignee": "mediator-511123001-2"})
    page.click("details[data-action=notes] > summary")
    page.fill("#f-notes-text", "第二条备注")
    page.click("details[data-action=notes] button[type=submit]")
    page.wait_for_selector("#action-message.msg-error:has-text('案件已被他人更新')")
    assert "当前版本 4" in page.inner_text("#action-message")
    page.wait_for_selector("#case-version:has-text('4')")
    assert "mediator-511123001-2" in page.inner_text("#case-details")
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


# --- who works a case: its owner; a unit above orders 督办 or takes it over -----------------

WORK = {"sign", "assign", "assess", "pause", "escalate", "resolve", "reject", "extend"}


def test_a_county_supervisor_orders_supervision_and_the_village_answers(
    browser: Browser, server: Served, page: Page, http: httpx.Client, errors: list[str]
) -> None:
    case = register(http, "yellow", VILLAGE, "邻里纠纷", "督办测试：两户因共用水井清理费用争执")
    assert http.get(f"/cases/{case}").json()["owner"] == VILLAGE

    # the county, above the village: 督办 and 提级办理 first, none of the village's work
    sign_in(page, mint(server.data_dir, "supervisor", COUNTY), f"#/cases/{case}")
    page.wait_for_selector("#case-status[data-status=registered]")
    first = page.eval_on_selector_all(
        "#case-actions > .actions > [data-action]", "es => es.map(e => e.dataset.action)"
    )
    assert first == ["supervision-orders", "take-over", "notes"], first
    assert not offered(page) & (WORK | {"supervision-answers"}), offered(page)
    assert page.locator("#case-actions button[data-action=sign]").count() == 0
    note = page.inner_text("#owner-note")
    assert "本案由石溪村（示例）负责办理" in note
    assert "督办" in note
    assert "提级办理" in note
    assert page.inner_text("details[data-action=supervision-orders] > summary") == "督办"
    assert page.inner_text("details[data-action=take-over] > summary") == "提级办理"

    # 督办: the answer is due three days on by default, in Beijing time
    page.click("details[data-action=supervision-orders] > summary")
    shown = datetime.fromisoformat(page.input_value("#f-supervision-orders-due_at"))
    expected = datetime.now(SHANGHAI).replace(tzinfo=None) + timedelta(days=3)
    assert abs(shown - expected) < timedelta(minutes=2), shown
    page.click("details[data-action=supervision-orders] button[type=submit]")
    assert "“督办要求”填写有误" in page.inner_text("#action-message")  # caught on the page
    due = (datetime.now(SHANGHAI) + timedelta(days=2)).replace(
        hour=17, minute=0, second=0, microsecond=0
    )
    page.fill("#f-supervision-orders-text", "三日内组织双方协商清理费用分摊，并报告结果")
    page.fill("#f-supervision-orders-due_at", shanghai_input(due))
    screenshot(page, "case-supervision-order")
    page.click("details[data-action=supervision-orders] button[type=submit]")
    page.wait_for_selector("#case-timeline [data-event=SupervisionOrdered]")
    assert "已完成：督办" in page.inner_text("#action-message")
    ordered = page.inner_text("#case-timeline [data-event=SupervisionOrdered]")
    assert "犍为县 督办（第 1 号）：三日内组织双方协商清理费用分摊，并报告结果" in ordered
    assert f"答复期限 {due:%Y-%m-%d} 17:00 北京时间" in ordered
    assert page.inner_text("#case-head [data-flag=supervised]") == "督办"
    assert "督办答复期限" in page.inner_text("#case-deadlines")
    assert deadline(http, case, "supervision") == due
    # the open order in its own block: who, what, by when, how often it was flagged late
    order = page.inner_text("#case-supervision")
    assert order.startswith("督办 第 1 号"), order
    assert "犍为县" in order
    assert "三日内组织双方协商清理费用分摊，并报告结果" in order
    assert f"{due:%Y-%m-%d} 17:00 北京时间" in order
    assert page.inner_text("#supervision-reminders") == "0 次"
    # one open order at a time: the next is no longer offered first
    assert page.locator("#case-actions > .actions > [data-action=supervision-orders]").count() == 0
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "case-above")

    # the village's board: the card says 督办, in its own colour, not an overdue one's
    mediator = mint(server.data_dir, "mediator", VILLAGE)
    for village in open_page(browser, server, errors, DESKTOP):
        sign_in(village, mediator)
        badge = village.locator(f".card[data-id='{case}'] .flag[data-flag=supervised]")
        badge.wait_for()
        assert badge.inner_text() == "督办"
        colour = badge.evaluate("b => getComputedStyle(b).backgroundColor")
        overdue = village.evaluate(
            """() => {
                const probe = document.createElement('span');
                probe.className = 'flag flag-resolve_overdue';
                document.body.append(probe);
                const colour = getComputedStyle(probe).backgroundColor;
                probe.remove();
                return colour;
            }"""
        )
        assert colour != overdue
        scroll_to(village.locator(f".card[data-id='{case}']"))
        screenshot(village, "board-supervised")

        # the village mediator answers it from the case page: the flag and its clock go
        village.click(f".card[data-id='{case}'] .card-summary a")
        village.wait_for_selector("details[data-action=supervision-answers]")
        assert village.locator("#owner-note").count() == 0  # the caller's unit works it
        mine = offered(village)
        assert {"sign", "supervision-answers"} <= mine
        assert not {"supervision-orders", "take-over"} & mine
        village.click("details[data-action=supervision-answers] > summary")
        village.fill("#f-supervision-answers-answer", "已约双方周五到村委会协商，结果另报")
        village.click("details[data-action=supervision-answers] button[type=submit]")
        village.wait_for_selector("#case-timeline [data-event=SupervisionAnswered]")
        assert "已完成：答复督办" in village.inner_text("#action-message")
        assert village.locator("#case-head [data-flag=supervised]").count() == 0
        assert "答复第 1 号督办" in village.inner_text("#case-timeline")
        assert "supervised" not in http.get(f"/cases/{case}").json()["flags"]
        assert village.locator("details[data-action=supervision-answers]").count() == 0
        assert village.locator("#case-supervision").is_hidden()


def test_a_county_takes_a_village_case_over_and_the_city_cannot(
    browser: Browser, server: Served, page: Page, http: httpx.Client, errors: list[str]
) -> None:
    case = register(http, "yellow", VILLAGE, "邻里纠纷", "提级测试：村民与养殖场因异味多次冲突")

    # the city is above too, but the county is the top tier for cases: 督办 only
    for city in open_page(browser, server, errors, DESKTOP):
        sign_in(city, mint(server.data_dir, "supervisor", CITY), f"#/cases/{case}")
        city.wait_for_selector("#case-actions details[data-action=supervision-orders]")
        assert "take-over" not in offered(city)
        assert not offered(city) & WORK

    sign_in(page, mint(server.data_dir, "supervisor", COUNTY), f"#/cases/{case}")
    page.click("details[data-action=take-over] > summary")
    page.fill("#f-take-over-reason", "涉及多个村，由县级统一协调")
    page.click("details[data-action=take-over] button[type=submit]")
    page.wait_for_selector("#case-timeline [data-event=Escalated]")
    assert "已完成：提级办理" in page.inner_text("#action-message")
    moved = page.inner_text("#case-timeline [data-event=Escalated]")
    assert "上交（提级办理）：由 石溪村（示例）（村级，黄色预警）至 犍为县（县级" in moved, moved
    assert http.get(f"/cases/{case}").json()["owner"] == COUNTY
    # now the county's to work: it signs for it, and orders no 督办 of itself
    page.wait_for_selector("#case-actions > .actions > button[data-action=sign]")
    assert page.locator("#owner-note").count() == 0
    assert not {"supervision-orders", "take-over"} & offered(page)
    assert "犍为县" in page.inner_text("#case-details")


def test_a_pause_asks_for_its_review_date(
    browser: Browser, server: Served, page: Page, http: httpx.Client, errors: list[str]
) -> None:
    case = register(http, "yellow", VILLAGE, "邻里纠纷", "中止测试：一方当事人外出务工，暂无法联系")
    supervisor = mint(server.data_dir, "supervisor", VILLAGE)
    sign_in(page, supervisor, f"#/cases/{case}")
    page.wait_for_selector("#case-status[data-status=registered]")
    page.click("#case-actions > .actions > details[data-action=pause] > summary")
    assert "复查日期（北京时间" in page.inner_text("details[data-action=pause] form")
    shown = datetime.fromisoformat(page.input_value("#f-pause-review_at"))
    expected = datetime.now(SHANGHAI).replace(tzinfo=None) + timedelta(days=7)
    assert abs(shown - expected) < timedelta(minutes=2), shown  # a week on by default
    page.fill("#f-pause-reason", "当事人外出务工，春节后返乡再行调解")

    # past the policy's pause maximum: the server's reason, in Chinese
    too_late = datetime.now(SHANGHAI) + timedelta(days=40)
    page.fill("#f-pause-review_at", shanghai_input(too_late))
    page.click("details[data-action=pause] button[type=submit]")
    page.wait_for_selector("#action-message.msg-error")
    refused = page.inner_text("#action-message")
    assert "“复查日期”填写有误" in refused, refused
    assert "中止上限" in refused, refused
    assert page.get_attribute("#case-status", "data-status") == "registered"
    assert page.input_value("#f-pause-reason") == "当事人外出务工，春节后返乡再行调解"

    review = (datetime.now(SHANGHAI) + timedelta(days=10)).replace(
        hour=9, minute=30, second=0, microsecond=0
    )
    page.fill("#f-pause-review_at", shanghai_input(review))
    # whatever the browser's own date format, the form says the time in words
    assert page.inner_text("#f-pause-review_at-hint") == f"{review:%Y-%m-%d} 09:30 北京时间"
    page.click("details[data-action=pause] button[type=submit]")
    page.wait_for_selector("#case-status[data-status=paused]")
    assert deadline(http, case, "pause_review") == review
    paused = page.inner_text("#case-timeline [data-event=Paused]")
    assert f"复查日期：{review:%Y-%m-%d} 09:30 北京时间" in paused, paused
    assert "中止复查期限" in page.inner_text("#case-deadlines")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "case-paused")

    # the board: a paused case's clock is its review date
    for village in open_page(browser, server, errors, PHONE, scale=2):
        sign_in(village, supervisor)
        card = village.locator(f".card[data-id='{case}']")
        card.wait_for()
        assert card.locator(".status.st-paused").inner_text() == "已中止"
        assert card.locator(".clock-label").inner_text() == "中止复查期限"
        assert card.locator("time.countdown").get_attribute("datetime") is not None
        width = village.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page scrolls sideways: {width}px"
        scroll_to(card)
        screenshot(village, "board-paused-phone")


def test_the_supervision_forms_fit_a_phone(
    browser: Browser, server: Served, http: httpx.Client, errors: list[str]
) -> None:
    case = register(http, "yellow", VILLAGE, "邻里纠纷", "手机测试：两户因晾晒场地发生口角")
    for phone in open_page(browser, server, errors, PHONE, scale=2):
        sign_in(phone, mint(server.data_dir, "supervisor", COUNTY), f"#/cases/{case}")
        phone.click("details[data-action=supervision-orders] > summary")
        phone.locator("#owner-note").scroll_into_view_if_needed()
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page scrolls sideways: {width}px"
        screenshot(phone, "case-above-phone")


# --- referrals both ways, risk triggers, the caller --------------------------------------------

COURT_NUMBER = "（2026）川1123民诉前调12号"


def register_with(http: httpx.Client, **fields: Any) -> str:
    """A dispute at the village registered with ``fields`` besides the usual ones."""
    body: dict[str, Any] = {
        "kind": "dispute",
        "unit": VILLAGE,
        "category": "邻里纠纷",
        "channel": "hotline",
        "level": "yellow",
        "people_involved": 4,
        **fields,
    }
    answer = http.post("/cases", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def submit(page: Page, action: str, values: dict[str, str]) -> None:
    """Open an action's form (first or under 其他操作), fill it and send it."""
    form = page.locator(f"details[data-action={action}]")
    if not form.is_visible():
        page.click(".more-actions > summary")
    if form.get_attribute("open") is None:
        page.click(f"details[data-action={action}] > summary")
    for field, value in values.items():
        control = f"#f-{action}-{field}"
        if page.locator(control).evaluate("e => e.tagName") == "SELECT":
            page.select_option(control, value)
        else:
            page.fill(control, value)
    page.click(f"details[data-action={action}] button[type=submit]")


def test_a_referral_declined_then_one_accepted_from_the_case_page(
    browser: Browser,
    server: Served,
    page: Page,
    http: httpx.Client,
    acting: Callable[[str, str], httpx.Client],
    errors: list[str],
) -> None:
    caller = {"name": "王芳", "phone": "13800002222"}
    summary = "转办测试：两户因宅基地确权争议，需法院诉调对接"
    case = register_with(http, summary=summary, caller=caller)
    village = acting("supervisor", VILLAGE)
    command(village, case, "sign")
    sign_in(page, mint(server.data_dir, "mediator", VILLAGE), f"#/cases/{case}")
    page.wait_for_selector("#case-status[data-status=signed]")
    details = page.inner_text("#case-details")
    assert "反映人" in details
    assert "王芳 · 138****2222" in details, details  # the phone masked as the API answers
    assert "13800002222" not in page.inner_text("#view")

    # referred: it waits as 转办待复 on the agency's answer clock
    submit(page, "referrals", {"agency": "court", "reason": "涉及宅基地确权，移送法院诉前调解"})
    page.wait_for_selector("#case-status[data-status=referred]")
    assert page.inner_text("#case-head [data-flag=referral_pending]") == "转办待复"
    assert "转办答复期限" in page.inner_text("#case-deadlines")
    first = page.eval_on_selector_all(
        "#case-actions > .actions > [data-action]", "es => es.map(e => e.dataset.action)"
    )
    assert first == ["referral-answers", "notes"], first  # no follow-up while it waits

    # the answer form: 已受理 asks for the agency's number, 不予受理 for its reason
    page.click("details[data-action=referral-answers] > summary")
    options = page.eval_on_selector_all(
        "#f-referral-answers-outcome option", "os => os.map(o => o.textContent)"
    )
    assert options == ["已受理", "不予受理", "已处理完毕"]
    assert page.is_visible("#f-referral-answers-reference")
    assert "对方案号" in page.inner_text("details[data-action=referral-answers] form")
    page.select_option("#f-referral-answers-outcome", "declined")
    assert not page.is_visible("#f-referral-answers-reference")
    assert page.inner_text("label[for=f-referral-answers-answer]") == "不予受理的理由"
    screenshot(page, "case-referral-answer")
    page.fill("#f-referral-answers-answer", "不属于本院诉前调解范围")
    page.click("details[data-action=referral-answers] button[type=submit]")
    page.wait_for_selector("#case-status[data-status=reopened]")
    declined = page.inner_text("#case-timeline [data-event=ReferralDeclined]")
    assert "转办单位不予受理，退回重新办理；理由：不属于本院诉前调解范围" in declined
    assert page.locator("#case-head [data-flag=referral_pending]").count() == 0

    # referred again and accepted: the number is asked for on the page before anything is sent
    submit(page, "referrals", {"agency": "court", "reason": "补充材料后再次移送法院"})
    page.wait_for_selector("#case-status[data-status=referred]")
    version = page.inner_text("#case-version")
    submit(page, "referral-answers", {"outcome": "accepted", "answer": "已立案受理"})
    assert "“对方案号”填写有误" in page.inner_text("#action-message")
    assert page.inner_text("#case-version") == version
    page.fill("#f-referral-answers-reference", COURT_NUMBER)
    page.click("details[data-action=referral-answers] button[type=submit]")
    page.wait_for_selector("#case-timeline [data-event=ReferralAnswered]")
    accepted = page.inner_text("#case-timeline [data-event=ReferralAnswered]")
    assert f"转办单位答复：已受理；对方案号：{COURT_NUMBER}" in accepted, accepted
    assert page.locator("#case-head [data-flag=referral_pending]").count() == 0

    # after acceptance: the agency's result, once
    page.wait_for_selector("#case-actions details[data-action=referral-results]")
    submit(page, "referral-results", {"result": "法院主持达成调解协议，已履行"})
    page.wait_for_selector("#case-timeline [data-event=ReferralResultReported]")
    assert "已完成：登记处理结果" in page.inner_text("#action-message")
    assert "referral-results" not in offered(page)
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "case-referral-accepted")


def test_a_case_referred_in_reports_back(
    page: Page, server: Served, http: httpx.Client, acting: Callable[[str, str], httpx.Client]
) -> None:
    due = (datetime.now(SHANGHAI) + timedelta(days=20)).replace(
        hour=17, minute=0, second=0, microsecond=0
    )
    referral_in = {"agency": "court", "reference": COURT_NUMBER, "due_at": due.isoformat()}
    case = register_with(
        http,
        summary="诉前委派：两户因借款纠纷诉至法院，委派村调委会调解",
        channel="court",
        referral_in=referral_in,
        caller={"anonymous": True},
    )
    village = acting("supervisor", VILLAGE)
    command(village, case, "sign")
    command(village, case, "terminate", {"reason": "一方拒绝调解"})
    sign_in(page, mint(server.data_dir, "supervisor", VILLAGE), f"#/cases/{case}")
    page.wait_for_selector("#case-referral-in")
    block = page.inner_text("#case-referral-in")
    assert "转办来源" in block
    assert "法院（诉调对接）" in block
    assert COURT_NUMBER in block
    assert f"{due:%Y-%m-%d} 17:00 北京时间" in block
    assert page.inner_text("#reported-back") == "未反馈"
    assert "匿名" in page.inner_text("#case-details")
    first = page.eval_on_selector_all(
        "#case-actions > .actions > [data-action]", "es => es.map(e => e.dataset.action)"
    )
    assert "report-back" in first, first
    assert page.inner_text("details[data-action=report-back] > summary") == "反馈"
    submit(page, "report-back", {"result": "一方拒绝调解，调解终止，请法院依法审理"})
    page.wait_for_selector("#reported-back[data-state=reported]")
    assert page.inner_text("#reported-back") == "已反馈"
    reported = page.inner_text("#case-timeline [data-event=ReportedBack]")
    assert "已向转办来源单位反馈处理结果" in reported
    assert "反馈内容" in reported
    assert "report-back" not in offered(page)
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "case-referred-in")


def test_forty_people_make_a_case_red_by_its_trigger(
    browser: Browser, server: Served, page: Page, token: str, http: httpx.Client, errors: list[str]
) -> None:
    summary = "预警测试：四十余名村民因灌溉渠改道聚集村委会"
    case = register_with(http, summary=summary, people_involved=40, police_callouts=1)
    answer = http.get(f"/cases/{case}").json()
    assert (answer["level"], answer["level_cause"]) == ("red", "triggers")

    # the card: red, and marked as red by its trigger, not as registered
    sign_in(page, token)
    card = page.locator(f".card[data-id='{case}']")
    card.wait_for()
    assert card.get_attribute("data-level") == "red"
    mark = card.locator(".cause-mark")
    assert mark.inner_text() == "触发指标"
    assert mark.get_attribute("title") == "预警等级来自：触发预警指标"
    scroll_to(card)
    screenshot(page, "board-triggered")

    # the page: the level, its cause and the trigger in words, on the head and in the timeline
    page.click(f".card[data-id='{case}'] .card-summary a")
    page.wait_for_selector("#level-cause")
    assert page.inner_text("#level-cause") == "红色预警 · 触发预警指标：涉及30人以上"
    assert "110出警" in page.inner_text("#case-details")
    registered = page.inner_text("#case-timeline [data-event=Registered] .tl-text")
    assert registered.endswith("；因触发预警指标（涉及30人以上）定为红色预警"), registered
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "case-triggered")

    for phone in open_page(browser, server, errors, PHONE, scale=2):
        sign_in(phone, token, f"#/cases/{case}")
        phone.wait_for_selector("#level-cause")
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page scrolls sideways: {width}px"
        screenshot(phone, "case-triggered-phone")
        phone.click("a.back")
        scroll_to(phone.locator(f".card[data-id='{case}']"))
        screenshot(phone, "board-triggered-phone")


def test_an_assessment_below_the_suggestion_waits_for_its_reason(
    browser: Browser, server: Served, page: Page, http: httpx.Client, errors: list[str]
) -> None:
    case = register_with(http, summary="研判测试：村民与养猪场因粪污排放多次争吵")
    sign_in(page, mint(server.data_dir, "supervisor", VILLAGE), f"#/cases/{case}")
    page.wait_for_selector("#case-status[data-status=registered]")
    assert page.inner_text("#level-cause") == "黄色预警 · 登记时确定"
    page.click("details[data-action=assess] > summary")
    assert page.input_value("#f-assess-people_involved") == "4"
    assert not page.is_visible("#f-assess-below_suggestion_reason")  # nothing suggests more

    # the facts corrected to 35 people, the level kept yellow: refused, and the reason asked for
    page.fill("#f-assess-reason", "经核实多为围观群众，矛盾限于两户之间")
    page.fill("#f-assess-people_involved", "35")
    page.click("details[data-action=assess] button[type=submit]")
    page.wait_for_selector("#action-message.msg-error")
    refused = page.inner_text("#action-message")
    assert "“低于建议等级的理由”填写有误" in refused, refused
    assert "预警指标建议红色预警（涉及30人以上）" in refused, refused
    assert "Assessed" not in {e["event_type"] for e in http.get(f"/cases/{case}/history").json()}
    page.wait_for_selector("#f-assess-below_suggestion_reason", state="visible")
    screenshot(page, "case-assess-refused")
    page.click("details[data-action=assess] button[type=submit]")  # still empty: caught here
    assert "“低于建议等级的理由”填写有误：请填写此项" in page.inner_text("#action-message")

    page.fill("#f-assess-below_suggestion_reason", "三十余人为同一家族，诉求单一，无过激言行")
    page.click("details[data-action=assess] button[type=submit]")
    page.wait_for_selector("#case-timeline [data-event=Assessed]")
    line = page.inner_text("#case-timeline [data-event=Assessed] .tl-text")
    assert line.endswith(
        "；低于预警指标建议的红色预警，理由：三十余人为同一家族，诉求单一，无过激言行"
    ), line
    cause = page.inner_text("#level-cause")
    assert cause.startswith("黄色预警 · 研判"), cause
    assert "预警指标建议红色预警（涉及30人以上）" in cause, cause

    # assessed again: the case's own suggestion asks for the reason at once
    page.click("details[data-action=assess] > summary")
    page.wait_for_selector("#f-assess-below_suggestion_reason", state="visible")
    assert "预警指标建议红色预警" in page.inner_text("#f-assess-below_suggestion_reason-hint")
    page.select_option("#f-assess-level", "red")
    assert not page.is_visible("#f-assess-below_suggestion_reason")
    for phone in open_page(browser, server, errors, PHONE, scale=2):
        sign_in(phone, mint(server.data_dir, "supervisor", VILLAGE), f"#/cases/{case}")
        phone.click("details[data-action=assess] > summary")
        phone.locator("details[data-action=assess]").scroll_into_view_if_needed()
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page scrolls sideways: {width}px"
        screenshot(phone, "case-assess-phone")


def test_assign_offers_the_owning_units_mediators_by_name_and_the_board_shows_who_left_cases(
    page: Page,
    server: Served,
    http: httpx.Client,
    acting: Callable[[str, str], httpx.Client],
) -> None:
    # an orange case is the township's: its supervisor picks one of the township's mediators
    case = register(http, "orange", VILLAGE, "邻里纠纷", "两户因晾晒场地归属多次发生口角")
    sign_in(page, mint(server.data_dir, "supervisor", TOWNSHIP), f"#/cases/{case}")
    page.wait_for_selector("#case-status[data-status=registered]")
    page.click("details[data-action=assign] > summary")
    options = page.locator("#f-assign-assignee option")
    offered = [options.nth(i).get_attribute("value") for i in range(options.count())]
    assert offered == [f"mediator-{TOWNSHIP}", f"mediator-{TOWNSHIP}-2"]
    assert all("（示例）" in text for text in options.all_inner_texts())  # by name
    page.select_option("#f-assign-assignee", f"mediator-{TOWNSHIP}-2")
    page.click("details[data-action=assign] button[type=submit]")
    page.wait_for_selector("#action-message.msg-ok")
    details = page.inner_text("#case-details")
    assert f"mediator-{TOWNSHIP}-2" in details
    assert "（示例）" in details

    # the mediator leaves: nothing moves, and the township's board lists what they left
    admin = acting("admin", CITY)
    gone = admin.post(f"/users/mediator-{TOWNSHIP}-2/disable", json={"reason": "调离"})
    assert gone.status_code == 200, gone.text
    try:
        page.goto("/#/")
        left = page.wait_for_selector(f"#left-behind li[data-user='mediator-{TOWNSHIP}-2']")
        assert "停用人员名下在办案件" in page.inner_text("#left-behind")
        assert left is not None
        assert "在办" in left.inner_text()
        assert page.locator(f"#left-behind a[href='#/cases/{case}']").count() == 1
    finally:
        admin.post(f"/users/mediator-{TOWNSHIP}-2/reactivate")
