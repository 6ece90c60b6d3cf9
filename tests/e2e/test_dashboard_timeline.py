"""The case page's file (一案一档) in real headless Chromium against a real ``fengqiao serve``.

A case worked through its whole life over HTTP reads on its page, in Chinese by default, as a
timeline of every event with who, in what role, for which unit and when in Beijing time, and
every text recorded on it (agreement, session notes, follow-up note, notes) — with no English
word in it but identifiers (user ids, file names), which the page marks as such. The
attachments are listed with their download, and a photo taken on the page is uploaded. A
banner says when the deployment is not in normal mode; an escalated case's card waits for its
signature; the page fits a phone. Screenshots go to test-output/screenshots/.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from domain.calendar import SHANGHAI
from tests.support.browser import SCREENSHOTS, Served, launch, mint, playwright_session, serve
from tests.unit.test_media_types import sample

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, ViewportSize

pytestmark = pytest.mark.slow

COUNTY = "511123"  # 犍为县
TOWNSHIP = "511123001"  # 罗城镇（示例）
VILLAGE = "511123001001"  # 石溪村（示例）
DESKTOP: ViewportSize = {"width": 1366, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
ID_NUMBER = "511123199001091234"
PHONE_NUMBER = "13987650321"
ASSIGNEE = "mediator-zhou"
AGREEMENT = "一、李四于三日内疏通排水沟；\n二、李四赔偿张三损失 1200 元，十日内付清。"
SESSION_NOTES = "双方到村委会，张三要求疏通排水沟并赔偿损失，李四同意。"
FOLLOW_UP_NOTE = "电话回访，排水沟已疏通，赔偿已付清。"
NOTE = "卷宗已整理归档。"
SUMMARY = "张三与李四因排水沟堵塞发生争执，雨水倒灌进屋"
ATTENDEES = ["张三", "李四", "调解员周某"]
PHOTO_NAME = "现场照片.jpg"


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
    # the jurisdiction only: this suite makes its own cases
    with serve(tmp_path_factory.mktemp("timeline"), demo_cases=0) as served:
        yield served


@pytest.fixture(scope="module")
def token(server: Served) -> str:
    return mint(server.data_dir, "supervisor", COUNTY)


def client(server: Served, bearer: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {bearer}"}
    return httpx.Client(base_url=f"{server.url}/api/v1", headers=headers, timeout=15)


@pytest.fixture(scope="module")
def http(server: Served, token: str) -> Iterator[httpx.Client]:
    with client(server, token) as supervisor:
        yield supervisor


@pytest.fixture(scope="module")
def village(server: Served) -> Iterator[httpx.Client]:
    """The village's supervisor: a village case is worked by its owner, the village."""
    with client(server, mint(server.data_dir, "supervisor", VILLAGE)) as owner:
        yield owner


@pytest.fixture(scope="module")
def reporter(server: Served) -> Iterator[httpx.Client]:
    with client(server, mint(server.data_dir, "reporter", VILLAGE)) as grid_worker:
        yield grid_worker


def post(http: httpx.Client, path: str, body: dict[str, Any] | None = None) -> Any:
    answer = http.post(path, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def upload(http: httpx.Client, case: str, name: str, content: bytes) -> Any:
    answer = http.post(
        f"/cases/{case}/attachments",
        files={"file": (name, content, "image/jpeg")},
        data={"kind": "photo"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture(scope="module")
def lived(village: httpx.Client, reporter: httpx.Client) -> str:
    """A dispute registered by a grid worker and worked by its village to a rated, noted,
    photographed end."""
    now = datetime.now(UTC)
    parties = [
        {
            "name": "张三",
            "role": "applicant",
            "id_number": ID_NUMBER,
            "phone": PHONE_NUMBER,
            "address": "四川省乐山市犍为县罗城镇石溪村三组12号",
        },
        {"name": "李四", "role": "respondent", "phone": "0833-4561234"},
    ]
    case = post(
        reporter,
        "/cases",
        {
            "kind": "dispute",
            "unit": VILLAGE,
            "category": "邻里",
            "summary": SUMMARY,
            "channel": "grid_patrol",
            "people_involved": 4,
            "amount_involved": "1200.50",
            "occurred_at": (now - timedelta(days=1)).isoformat(),
            "parties": parties,
        },
    )
    cid = case["id"]
    post(
        village,
        f"/cases/{cid}/assess",
        {"level": "yellow", "reason": "争执未升级", "triggers": ["3-9人"]},
    )
    post(village, f"/cases/{cid}/sign")
    post(village, f"/cases/{cid}/assign", {"assignee": ASSIGNEE})
    held = (now - timedelta(minutes=20)).isoformat()
    session = {"held_at": held, "notes": SESSION_NOTES, "attendees": ATTENDEES}
    post(village, f"/cases/{cid}/mediation-sessions", session)
    agreement = {"agreement": AGREEMENT, "form": "written", "amount": "1200"}
    performance_due = f"{(now + timedelta(days=10)).astimezone(SHANGHAI):%Y-%m-%d}"  # a date
    post(village, f"/cases/{cid}/resolve", {**agreement, "performance_due": performance_due})
    follow_up = {"satisfied": True, "agreement_honoured": True, "note": FOLLOW_UP_NOTE}
    post(village, f"/cases/{cid}/follow-ups", follow_up)
    post(reporter, f"/cases/{cid}/ratings", {"grade": "very_satisfied"})
    post(reporter, f"/cases/{cid}/notes", {"text": NOTE})
    upload(reporter, cid, PHOTO_NAME, sample("jpeg"))
    return str(cid)


@pytest.fixture
def errors() -> list[str]:
    return []


def open_page(
    browser: Browser, server: Served, errors: list[str], viewport: ViewportSize
) -> Iterator[Page]:
    """A tab in Chinese and Shanghai time; script errors fail the test."""
    context = browser.new_context(
        viewport=viewport,
        device_scale_factor=2 if viewport["width"] < 500 else 1,
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
    if message.type != "error" or message.text.startswith("Failed to load resource"):
        return []
    return [f"console: {message.text}"]


@pytest.fixture
def page(browser: Browser, server: Served, errors: list[str]) -> Iterator[Page]:
    yield from open_page(browser, server, errors, DESKTOP)


def open_case(page: Page, token: str, case: str) -> None:
    page.goto(f"/#/cases/{case}")
    page.fill("#token", token)
    page.click("#signin-submit")
    page.wait_for_selector("#case-timeline [data-event=AttachmentAdded]")


def screenshot(page: Page, name: str, full_page: bool = False) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def shanghai(iso: str) -> str:
    moment = datetime.fromisoformat(iso).astimezone(SHANGHAI)
    return f"{moment:%Y-%m-%d %H:%M} 北京时间"


# What the timeline reads once identifiers are taken out: user ids and file names are data
# (the page marks them ``.ident``), everything else is words for the reader.
WORDS_OF_THE_TIMELINE = """el => {
  const copy = el.cloneNode(true);
  for (const ident of copy.querySelectorAll('.ident')) ident.remove();
  return copy.innerText;
}"""


# --- tests -----------------------------------------------------------------------------------


def test_the_case_file_reads_in_chinese_with_beijing_times(
    page: Page, token: str, http: httpx.Client, lived: str
) -> None:
    file = http.get(f"/cases/{lived}/file").json()
    open_case(page, token, lived)
    assert "1,200.50 元" in page.inner_text("#case-details")  # money with its two decimals
    timeline = page.locator("#case-timeline")

    # every event, newest first, at its time in Shanghai
    shown = timeline.locator("li.tl").evaluate_all(
        "ls => ls.map(l => [l.dataset.event, Number(l.dataset.version)])"
    )
    assert shown == [[e["type"], e["version"]] for e in reversed(file["entries"])]
    for entry in file["entries"]:
        item = timeline.locator(f"li[data-version='{entry['version']}']")
        assert item.locator(".tl-head time").inner_text() == shanghai(entry["at"])
        assert entry["actor"] in item.locator(".tl-who").inner_text()

    # no English word, no Python or JavaScript value, once identifiers are set aside
    words = timeline.evaluate(WORDS_OF_THE_TIMELINE)
    assert re.findall(r"[A-Za-z]{3,}", words) == [], words
    assert not re.search(r"\b(True|False|None|null|undefined|NaN)\b", words)
    identifiers = set(timeline.locator(".ident").all_inner_texts())
    actors = {e["actor"] for e in file["entries"]}
    assert identifiers <= actors | {ASSIGNEE, PHOTO_NAME}, identifiers

    # every text recorded, as written (personal data masked as for everyone)
    text = timeline.inner_text()
    for recorded in (SUMMARY, SESSION_NOTES, FOLLOW_UP_NOTE, NOTE, *AGREEMENT.split("\n")):
        assert recorded in text, recorded
    assert "张三、李四、调解员周某" in text
    assert ID_NUMBER not in text
    assert PHONE_NUMBER not in text
    assert "511***********1234" in text

    # a signature names who signed and the unit
    signed = timeline.locator("li[data-event=Signed]").inner_text()
    assert "石溪村（示例） 签收" in signed
    assert "supervisor-511123001001" in signed  # the village's supervisor
    session = timeline.locator("li[data-event=MediationSessionRecorded]").inner_text()
    held = next(e for e in file["entries"] if e["type"] == "MediationSessionRecorded")
    assert f"调解，时间：{shanghai(held['fields']['held_at'])}，参加 3 人" in session
    follow_up = timeline.locator("li[data-event=FollowUpRecorded]").inner_text()
    assert "回访：当事人是否满意：是，协议是否履行：是" in follow_up
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "case-file", full_page=True)

    # in English on request, Beijing time still
    page.click("#lang-switch")
    page.wait_for_selector("#case-timeline li[data-event=MediationSessionRecorded]")
    english = page.inner_text("#case-timeline")
    assert "Mediation session held" in english
    assert "Beijing time" in english
    assert "Signed for by 石溪村（示例）" in english
    page.click("#lang-switch")
    page.wait_for_selector("text=办理记录")


def test_attachments_download_and_a_photo_is_uploaded(
    page: Page, token: str, http: httpx.Client, lived: str
) -> None:
    open_case(page, token, lived)
    rows = page.locator("#attachments-table tbody tr")
    assert PHOTO_NAME in rows.first.inner_text()
    with page.expect_download() as download_info:
        rows.first.locator("button[data-download]").click()
    saved = Path(str(download_info.value.path()))
    assert saved.read_bytes() == sample("jpeg")

    picker = page.locator("#upload-file")
    assert picker.get_attribute("accept") == "image/*"
    assert picker.get_attribute("capture") == "environment"
    photo = sample("jpeg", b"second photo taken on the page")
    picker.set_input_files({"name": "门口照片.jpg", "mimeType": "image/jpeg", "buffer": photo})
    assert page.inner_text("#upload-chosen") == "门口照片.jpg"
    page.click("#upload-submit")
    page.wait_for_selector("#action-message.msg-ok:has-text('已上传')")
    page.wait_for_function("document.querySelectorAll('#attachments-table tbody tr').length === 2")
    assert page.locator("#case-timeline [data-event=AttachmentAdded]").count() == 2
    listed = http.get(f"/cases/{lived}/attachments").json()
    assert [a["name"] for a in listed] == [PHOTO_NAME, "门口照片.jpg"]
    assert listed[1]["size"] == len(photo)


def test_the_documents_print_and_download_from_the_case_page(
    page: Page, token: str, http: httpx.Client, lived: str
) -> None:
    number = http.get(f"/cases/{lived}").json()["number"]
    open_case(page, token, lived)
    titles = page.locator("#documents-list .document-title").all_inner_texts()
    assert titles == [
        "受理登记表",
        "调解笔录（第1次）",
        "人民调解协议书",
        "司法确认申请书",
        "回访记录（第1次）",
    ]
    agreement = page.locator("#documents-list li[data-kind=mediation-agreement]")
    with page.context.expect_page() as opened:
        agreement.locator("button[data-print]").click()
    printed = opened.value
    printed.wait_for_load_state()
    printed.wait_for_selector("h1:has-text('人民调解协议书')")
    text = printed.inner_text("body")
    assert number in text
    # no reason given: a masked copy, which says so, with the parties' names masked in the text
    assert "脱敏副本" in text
    assert "李*于三日内疏通排水沟" in text
    assert "李四" not in text
    assert ID_NUMBER not in text
    screenshot(printed, "case-document-agreement", full_page=True)
    printed.close()

    with page.expect_download() as download_info:
        agreement.locator("button[data-download]").click()
    download = download_info.value
    assert download.suggested_filename == f"{number}-人民调解协议书（脱敏副本）.docx"
    assert Path(str(download.path())).read_bytes()[:2] == b"PK"  # a Word file is a ZIP
    page.locator("#case-documents").scroll_into_view_if_needed()
    screenshot(page, "case-documents")


def test_a_banner_says_the_mode_when_it_is_not_normal(
    page: Page, token: str, http: httpx.Client, lived: str
) -> None:
    """The mode in force at the caller's unit (a county supervisor's: their county's)."""
    open_case(page, token, lived)
    assert page.locator("#mode-banner").is_hidden()
    page.wait_for_selector("#mode-badge[data-mode=normal]:visible")
    assert page.inner_text("#mode-badge") == "常规模式"
    post(http, f"/units/{COUNTY}/mode", {"mode": "holiday", "reason": "国庆假期"})
    try:
        page.reload()
        page.wait_for_selector("#mode-banner[data-mode=holiday]:visible")
        assert "假日模式" in page.inner_text("#mode-banner")
        assert page.inner_text("#mode-badge") == "假日模式"
        assert page.get_attribute("#mode-badge", "title") == "本单位设定的模式"
        screenshot(page, "case-file-holiday")
    finally:
        post(http, f"/units/{COUNTY}/mode", {"mode": "inherit", "reason": "假期结束"})
    page.reload()
    page.wait_for_selector("#mode-banner[data-mode=normal]", state="hidden")
    page.wait_for_selector("#mode-badge[data-mode=normal]:visible")


def test_an_escalated_card_waits_for_its_signature(
    page: Page, token: str, village: httpx.Client, reporter: httpx.Client
) -> None:
    body = {
        "kind": "dispute",
        "unit": VILLAGE,
        "category": "邻里",
        "summary": "两户因宅基地边界发生争执，村级调解未果",
        "channel": "grid_patrol",
    }
    case = post(reporter, "/cases", body)["id"]
    post(village, f"/cases/{case}/sign")  # by its owner, the village, which hands it up
    post(village, f"/cases/{case}/escalate", {"reason": "村级调解未果，上交乡镇"})
    page.goto("/#/")
    page.fill("#token", token)
    page.click("#signin-submit")
    page.click("[data-grouping=tier]")
    card = page.locator(f".column[data-group=township] .card[data-id='{case}']")
    card.wait_for()
    assert card.get_attribute("data-status") == "signed"  # the status is as it was
    pill = card.locator(".status")
    assert pill.inner_text() == "待签收"
    assert pill.get_attribute("data-awaiting") == "true"
    assert card.locator(".clock-label").inner_text() == "签收期限"
    assert re.fullmatch(r"剩余 \d\d:\d\d:\d\d", card.locator("time.countdown").inner_text())


def test_the_case_page_fits_a_phone(
    browser: Browser, server: Served, token: str, lived: str, errors: list[str]
) -> None:
    for phone in open_page(browser, server, errors, PHONE):
        open_case(phone, token, lived)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page scrolls sideways: {width}px"
        # the attachments table is wider than the phone: it scrolls inside its wrapper
        wrapper = phone.locator("#case-attachments .table-wrap")
        assert wrapper.evaluate("w => getComputedStyle(w).overflowX") == "auto"
        assert wrapper.evaluate("w => w.scrollWidth > w.clientWidth")
        phone.locator("#case-timeline").scroll_into_view_if_needed()
        screenshot(phone, "case-file-phone")
        phone.evaluate("window.scrollTo(0, 0)")
        screenshot(phone, "case-file-phone-full", full_page=True)
