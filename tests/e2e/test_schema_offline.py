"""The API documents itself offline: ``/schema`` is drawn by Swagger UI files fengqiao serves
itself (``api/http/web/schema_assets``, vendored and pinned), never by a CDN; the document is
still at ``/schema/openapi.json``; and every JSON request body carries an example its Struct
accepts. In real headless Chromium with every request outside the server refused, the page
shows every operation of the document.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import msgspec
import pytest

from api.http import clue_schemas, key_person_schemas, schemas, screening_schemas
from api.http.web.schema_viewer import ASSETS
from tests.support.api import API, Client, Store, auth, serving
from tests.support.backends import store_env
from tests.support.browser import SCREENSHOTS, launch, playwright_session
from tests.support.server import Served, environment
from tests.support.server import serving as serve_process
from tests.support.world import Clock

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Route

REPO = Path(__file__).resolve().parents[2]
PAGES = ("/schema", "/schema/swagger")
REGISTRATION = "RegisterCase"
CHECKSUM = re.compile(r"^([0-9a-f]{64})  (\S+)$", re.MULTILINE)

# where request bodies are declared: the case commands' and each front-line feature's
SCHEMA_MODULES = (schemas, clue_schemas, key_person_schemas, screening_schemas)


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """One API on SQLite for the module (the pages and the document do not depend on the store),
    on today's clock: the examples' times are in the recent past, as a caller's would be."""
    path = tmp_path_factory.mktemp("schema")
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    with store_env("sqlite", path) as env, serving(Store("sqlite", env, path), clock) as running:
        yield running[0]


@pytest.fixture(scope="module")
def document(http: Client) -> dict[str, Any]:
    answer = http.get("/schema/openapi.json")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "responses" in operation
    ]


# --- the pages and their files ---------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_the_schema_page_loads_only_files_fengqiao_serves(http: Client, page: str) -> None:
    answer = http.get(page)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    addresses = re.findall(r'(?:src|href)=["\']([^"\']+)["\']', answer.text)
    files = [address for address in addresses if not address.startswith("data:")]
    assert len(files) == 3, addresses  # the stylesheet, the bundle, the standalone preset
    for address in files:
        assert address.startswith("/schema/assets/"), address
        served = http.get(address)
        assert served.status_code == 200, address
        assert served.content == (ASSETS / address.rsplit("/", 1)[-1]).read_bytes(), address


def test_the_document_is_still_served_as_json_and_yaml(http: Client) -> None:
    for path in ("/schema/openapi.json", "/schema/openapi.yaml"):
        answer = http.get(path)
        assert answer.status_code == 200, path
        assert b"/api/v1/cases" in answer.content, path


def test_the_vendored_files_are_the_published_ones_and_ship_in_the_wheel() -> None:
    """VENDORED.md lists every file with its checksum (as ``sha256sum`` prints it), and
    pyproject.toml's package data takes each one into the wheel."""
    vendored = (ASSETS / "VENDORED.md").read_text("utf-8")
    listed = {name: digest for digest, name in CHECKSUM.findall(vendored)}
    present = {path.name for path in ASSETS.iterdir() if path.name != "VENDORED.md"}
    assert set(listed) == present
    for name, digest in listed.items():
        assert hashlib.sha256((ASSETS / name).read_bytes()).hexdigest() == digest, name
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))
    patterns = project["tool"]["setuptools"]["package-data"]["api.http.web"]
    web = ASSETS.parent
    for path in ASSETS.iterdir():
        relative = path.relative_to(web).as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), relative


# --- examples --------------------------------------------------------------------------------


def test_every_json_request_body_has_an_example_its_struct_accepts(
    document: dict[str, Any],
) -> None:
    components = document["components"]["schemas"]
    bodies = {
        operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/")[-1]
        for _, _, operation in operations(document)
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    }
    assert len(bodies) >= 18
    for name in sorted(bodies):
        examples = components[name].get("examples")
        assert examples, f"{name}: no example (api.http.openapi.REQUEST_EXAMPLES)"
        struct = next(getattr(m, name) for m in SCHEMA_MODULES if hasattr(m, name))
        for example in examples:
            body = msgspec.convert(example, type=struct)  # strict: the Struct's own limits
            if isinstance(body, schemas.CasePayload):
                body.to_command()


def test_the_registration_example_registers_a_case(http: Client, document: dict[str, Any]) -> None:
    example = document["components"]["schemas"][REGISTRATION]["examples"][0]
    answer = http.post(f"{API}/cases", json=example, headers=auth("reporter", example["unit"]))
    assert answer.status_code == 201, answer.text
    assert answer.json()["summary"] == example["summary"]


# --- in Chromium, offline --------------------------------------------------------------------


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
    """A real ``fengqiao serve`` (after ``browser``: without Chromium it is not worth starting)."""
    workdir = tmp_path_factory.mktemp("schema-served")
    with serve_process(environment(workdir / "data"), workdir / "serve.log") as served:
        yield served


@pytest.mark.slow
def test_the_schema_page_shows_every_operation_with_the_network_cut_off(
    browser: Browser, server: Served
) -> None:
    document = httpx.get(f"{server.url}/schema/openapi.json", timeout=15).json()
    origin = urlsplit(server.url).netloc
    served: list[str] = []
    refused: list[str] = []
    errors: list[str] = []

    def only_fengqiao(route: Route) -> None:
        address = route.request.url
        if urlsplit(address).netloc == origin:
            served.append(address)
            route.continue_()
        else:
            refused.append(address)
            route.abort()

    context = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        context.route("**/*", only_fengqiao)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{server.url}/schema")
        page.wait_for_selector(".opblock", timeout=20_000)
        assert page.locator(".opblock").count() == len(operations(document))
        register = document["paths"]["/api/v1/cases"]["post"]
        block = page.locator(f"#operations-default-{register['operationId']}")
        assert block.locator(".opblock-summary-description").inner_text() == register["summary"]
        block.locator(".opblock-summary").click()
        example = document["components"]["schemas"][REGISTRATION]["examples"][0]
        block.get_by_text(example["summary"]).first.wait_for(timeout=10_000)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "schema.png"))
    finally:
        context.close()
    assert refused == [], "the page asked for files outside fengqiao"
    assert errors == []
    assert {urlsplit(address).path for address in served} >= {
        "/schema",
        "/schema/assets/swagger-ui-bundle.js",
        "/schema/assets/swagger-ui.css",
    }
