"""``fengqiao serve --workers 2`` on PostgreSQL: a view stopped in the process that follows the
views is reported by ``/ready`` on the API workers, which follow nothing themselves.

The views stop the way they would in production: a record no view can decode (an event class
renamed away) is written straight into the event store with the library's recorder.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.wiring.settings import Settings, new_cipher_key, new_signing_key
from domain.application import FengqiaoApplication
from projections.viewset import VIEW_CLASSES
from tests.support.backends import postgres_schema
from tests.support.backends import test_database_url as database_url
from tests.support.server import Served, environment, load_jurisdiction, serving
from tests.support.undecodable import write_undecodable

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

WAIT_SECONDS = 30.0


def wait_for(served: Served, check: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    tail = "\n".join(served.output().splitlines()[-30:])
    pytest.fail(f"{what} within {WAIT_SECONDS} s; serve's log ends:\n{tail}")


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[dict[str, str]]:
    with postgres_schema() as schema:
        env = environment(tmp_path / "data")
        env.update(
            FENGQIAO_DATABASE_URL=f"{database_url()}?schema={schema}",
            FENGQIAO_CIPHER_KEY=new_cipher_key(),
            FENGQIAO_SIGNING_KEY=new_signing_key(),
            FENGQIAO_SECRET="s" * 48,
        )
        load_jurisdiction(env)
        yield env


def ready(served: Served) -> httpx.Response:
    return httpx.get(f"{served.url}/ready", timeout=5)


def stopped(served: Served, views: set[str]) -> dict[str, Any] | None:
    """``/ready``'s body once it answers 503 naming each of ``views`` (the views process's one
    follower stops them one after the other, a moment apart)."""
    answer = ready(served)
    if answer.status_code != 503:
        return None
    body: dict[str, Any] = answer.json()
    return body if views <= set(body.get("failed", {})) else None


def test_ready_on_the_api_workers_names_the_views_stopped_in_the_views_process(
    deployment: dict[str, str], tmp_path: Path
) -> None:
    with serving(deployment, tmp_path / "serve.log", "--workers", "2", graceful=True) as served:
        wait_for(served, lambda: ready(served).status_code == 200, "200 from /ready")
        app = FengqiaoApplication(env=Settings.from_env(deployment).event_store_env())
        try:
            bad = write_undecodable(app)
        finally:
            app.close()

        # every view that decodes records; the Merkle tree takes records as stored, and so
        # goes on: it commits to the stored bytes, decodable or not
        decoding = {name for name, view in VIEW_CLASSES.items() if not view.raw}
        body = wait_for(served, lambda: stopped(served, decoding), "503 from /ready")

        assert body["status"] == "view failed", body
        assert set(body["failed"]) == decoding
        for text in body["failed"].values():
            assert text.startswith(f"position {bad}: TopicError: "), body
        # each worker answers so, not only the one that happened to answer first
        answers = [ready(served) for _ in range(20)]
        assert {answer.status_code for answer in answers} == {503}
