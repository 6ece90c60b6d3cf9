"""Real headless Chromium for the dashboard tests, and a real ``fengqiao serve`` for it to load.

Chromium is Debian's (``apt-get install chromium chromium-driver``), driven by Playwright for
Python through its ``executable_path``: nothing is downloaded (never ``playwright install``).
Where Chromium or Playwright is missing the browser tests skip with the reason, except in CI
(``CI`` or ``FENGQIAO_REQUIRE_BROWSER`` set), where that is a failure.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

from tests.support.server import Served, environment, fengqiao, serving
from tests.support.staff import enrol_in_store

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-output" / "screenshots"
CHROMIUM_CANDIDATES = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/lib/chromium/chromium",
)
LAUNCH_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def browser_required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("FENGQIAO_REQUIRE_BROWSER"))


def unavailable(reason: str) -> NoReturn:
    """Skip locally; fail where a browser is required."""
    if browser_required():
        pytest.fail(f"browser tests are required here (CI / FENGQIAO_REQUIRE_BROWSER): {reason}")
    pytest.skip(reason)


def chromium_path() -> str | None:
    """``FENGQIAO_CHROMIUM``, else the system's Chromium."""
    configured = os.environ.get("FENGQIAO_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else None
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def launch(playwright: Playwright) -> Browser:
    executable = chromium_path()
    if executable is None:
        unavailable(
            "Chromium is not installed (apt-get install -y chromium chromium-driver), "
            "or FENGQIAO_CHROMIUM names no file"
        )
    try:
        return playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
    except Exception as error:  # an unusable binary: say why
        unavailable(f"Chromium at {executable} did not start: {error}")


@contextlib.contextmanager
def playwright_session() -> Iterator[Playwright]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright for Python is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        yield playwright


# --- the server ------------------------------------------------------------------------------


@contextlib.contextmanager
def serve(workdir: Path, demo_cases: int = 60) -> Iterator[Served]:
    """``fengqiao serve --demo`` on a free loopback port, stopped (SIGTERM, then kill) after."""
    env = environment(workdir / "data")
    demo = ("--demo", "--demo-cases", str(demo_cases))
    with serving(env, workdir / "serve.log", *demo, graceful=True) as served:
        enrol_in_store(env)  # beside the sample staff, everyone the suites sign in as
        yield served


def mint(data_dir: Path, role: str, unit: str) -> str:
    """A bearer token from ``fengqiao token`` (same data directory, so the same secret)."""
    done = subprocess.run(
        [*fengqiao(), "token", "--role", role, "--unit", unit],
        env=environment(data_dir),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def verify_export(data_dir: Path, path: Path) -> subprocess.CompletedProcess[str]:
    """``fengqiao verify FILE`` on a downloaded audit export."""
    return subprocess.run(
        [*fengqiao(), "verify", str(path)],
        env=environment(data_dir),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# --- a module's browser and a test's tab -----------------------------------------------------


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Chromium for a module's tests (they skip, or fail in CI, without it)."""
    with playwright_session() as playwright:
        browser = launch(playwright)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def desktop_tab(browser: Browser, base_url: str) -> Iterator[Page]:
    """A desktop-sized tab reading Chinese on Shanghai time; a script error on the page fails
    the test when the tab closes."""
    context = browser.new_context(
        viewport={"width": 1366, "height": 900},
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        base_url=base_url,
    )
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield tab
        assert not errors, errors
    finally:
        context.close()
