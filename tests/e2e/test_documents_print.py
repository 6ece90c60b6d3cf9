"""The documents' print view in real headless Chromium (Debian's, driven by Playwright, as the
dashboard tests drive it): an A4 page with the case number in a header that repeats on every
printed page, nothing wider than the paper, signature lines, and a masked copy marked on every
page. Screenshots (screen and print) and PDFs go to test-output/screenshots/.

The pages are fetched through the API (SQLite is enough: rendering does not depend on the
store) and loaded into the browser as they are served.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from api.http.runtime import Runtime
from tests.e2e.test_documents import fetch, worked
from tests.support.api import API, Client, Store, auth, ok, send, serving
from tests.support.backends import store_env
from tests.support.browser import SCREENSHOTS, launch, playwright_session
from tests.support.world import Clock

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

A4_WIDTH_PX, A4_HEIGHT_PX = 794, 1123  # 210 × 297 mm at 96 px/inch
LONG_AGREEMENT = "\n".join(
    f"{i}、李四于2026年10月{i}日前向张三支付第{i}期款项人民币壹佰元，逾期按日加付万分之五。"
    for i in range(1, 41)
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with playwright_session() as playwright:
        chromium = launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def embedded(tmp_path: Path, clock: Clock) -> Iterator[tuple[Client, Runtime]]:
    with store_env("sqlite", tmp_path) as env, serving(Store("sqlite", env, tmp_path), clock) as up:
        yield up


def page_of(browser: Browser, html: str) -> Page:
    page = browser.new_page(viewport={"width": 1000, "height": 1200})
    page.set_content(html, wait_until="load")
    return page


def shoot(page: Page, name: str) -> tuple[Path, Path]:
    """A screenshot of the page on screen, one as printed (print media), and its PDF."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    screen = SCREENSHOTS / f"document-{name}.png"
    page.screenshot(path=str(screen), full_page=True)
    viewport = page.viewport_size
    page.set_viewport_size({"width": A4_WIDTH_PX, "height": A4_HEIGHT_PX})  # as on paper
    page.emulate_media(media="print")
    page.screenshot(path=str(SCREENSHOTS / f"document-{name}-print.png"), full_page=True)
    pdf = SCREENSHOTS / f"document-{name}.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True)
    page.emulate_media(media="screen")
    if viewport is not None:
        page.set_viewport_size(viewport)
    return screen, pdf


def pdf_pages(pdf: Path) -> list[str] | None:
    """Each page's text (poppler's ``pdftotext``), or None where it is not installed."""
    if shutil.which("pdftotext") is None:
        return None
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return [page for page in text.split("\f") if page.strip()]


def layout(page: Page) -> dict[str, Any]:
    """What the page's layout says about itself, as printed."""
    page.emulate_media(media="print")
    found: dict[str, Any] = page.evaluate(
        """() => {
            const paper = document.querySelector('.paper');
            const rules = [...document.styleSheets].flatMap(s => [...s.cssRules]);
            const pageRule = rules.find(r => r.constructor.name === 'CSSPageRule');
            const head = document.querySelector('.sheet > thead');
            return {
                pageSize: pageRule ? pageRule.style.getPropertyValue('size') : null,
                headerRepeats: head ? getComputedStyle(head).display : null,
                overflow: paper.scrollWidth - paper.clientWidth,
                widest: Math.max(...[...document.querySelectorAll('main *')]
                    .map(e => e.getBoundingClientRect().right)),
                paperRight: paper.getBoundingClientRect().right,
                signatures: document.querySelectorAll('.sign').length,
                font: getComputedStyle(document.body).fontFamily,
            };
        }"""
    )
    page.emulate_media(media="screen")
    return found


def test_the_agreement_prints_on_a4_with_the_number_on_every_page(
    browser: Browser, embedded: tuple[Client, Runtime]
) -> None:
    http, _ = embedded
    case = worked(http, until="in_mediation")
    resolution = {"agreement": LONG_AGREEMENT, "form": "written", "amount": "4000"}
    ok(send(http, case["id"], "resolve", resolution, user="mediator-wang"))
    number = case["number"]
    for copy, params in (("masked", {}), ("plain", {"unmask": "true", "reason": "签署"})):
        answer = fetch(http, case["id"], "mediation-agreement", form="html", **params)
        assert answer.status_code == 200, answer.text
        page = page_of(browser, answer.text)
        try:
            found = layout(page)
            assert found["pageSize"].lower() == "a4"
            assert found["headerRepeats"] == "table-header-group"  # repeated on each page
            assert found["overflow"] <= 0, found
            assert found["widest"] <= found["paperRight"] + 1, found
            assert found["signatures"] == 5  # three parties, the mediator, the recorder
            assert "SimSun" in found["font"]
            assert "Noto Serif CJK SC" in found["font"]
            assert page.locator(".running .number").inner_text() == number
            watermark = page.locator(".watermark")
            assert watermark.count() == (1 if copy == "masked" else 0)
            screen, pdf = shoot(page, f"mediation-agreement-{copy}")
        finally:
            page.close()
        assert screen.stat().st_size > 10_000
        printed = pdf.read_bytes()
        assert len(re.findall(rb"/Type\s*/Page\b", printed)) >= 2, "a long agreement: pages"
        pages = pdf_pages(pdf)
        if pages is not None:  # with poppler: the number and the copy's mark on every page
            assert len(pages) >= 2
            for text in pages:
                assert number in text
                assert ("脱敏副本" in text) == (copy == "masked")


@pytest.mark.parametrize("kind", ["registration", "mediation-record/1", "follow-up-record/1"])
def test_each_form_fits_the_paper(
    browser: Browser, embedded: tuple[Client, Runtime], kind: str
) -> None:
    http, _ = embedded
    case = worked(http)
    answer = http.get(
        f"{API}/cases/{case['id']}/documents/{kind}",
        headers=auth("supervisor", "511123"),
        params={"format": "html", "unmask": "true", "reason": "打印存档"},
    )
    assert answer.status_code == 200, answer.text
    page = page_of(browser, answer.text)
    try:
        paper = page.locator(".paper").bounding_box()
        assert paper is not None
        assert abs(paper["width"] - A4_WIDTH_PX) <= 1
        found = layout(page)
        assert found["overflow"] <= 0, found
        assert found["widest"] <= found["paperRight"] + 1, found
        assert page.locator(".running .number").inner_text() == case["number"]
        shoot(page, kind.replace("/", "-"))
    finally:
        page.close()
