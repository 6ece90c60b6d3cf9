"""``fengqiao serve --workers 2``, on the embedded SQLite store and on PostgreSQL.

Commands sent at once through both API workers are each answered once the views hold them
(read your writes across processes: the queue lists the case on the very next read), with
distinct numbers. The process that keeps the views and sweeps deadlines beside the workers is
restarted when it dies, and the queue catches up: killed with SIGKILL (as an out-of-memory
killer would), it comes back within seconds; a case registered while it was down reaches its
village's queue once it is back; and every worker's ``/ready`` answers 503 naming it while it
is gone, 200 again once it runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from api.wiring.settings import new_cipher_key, new_signing_key
from tests.support.backends import postgres_schema
from tests.support.backends import test_database_url as database_url
from tests.support.server import Served, environment, fengqiao, load_jurisdiction, serving

pytestmark = [pytest.mark.slow]

VILLAGE = "511123001001"
WAIT_SECONDS = 60.0


def wait_for(check: Callable[[], object], what: str, timeout: float = WAIT_SECONDS) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    pytest.fail(f"{what} within {timeout} s")


def followers(parent: int) -> list[int]:
    """The ``fengqiao scheduler`` children of ``parent`` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:  # gone meanwhile
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and "api.cli.main scheduler" in command:
            found.append(int(entry.name))
    return found


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    env = environment(tmp_path / "data")
    env.update(
        FENGQIAO_CIPHER_KEY=new_cipher_key(),
        FENGQIAO_SIGNING_KEY=new_signing_key(),
        FENGQIAO_SECRET="s" * 48,
        FENGQIAO_SWEEP_SECONDS="1",
    )
    if request.param == "sqlite":
        load_jurisdiction(env)
        yield env
        return
    with postgres_schema() as schema:
        env["FENGQIAO_DATABASE_URL"] = f"{database_url()}?schema={schema}"
        load_jurisdiction(env)
        yield env


def supervisor_token(env: dict[str, str]) -> str:
    return subprocess.run(
        [*fengqiao(), "token", "--role", "supervisor", "--unit", "511123"],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    ).stdout.strip()  # fmt: skip


def register(http: httpx.Client, summary: str) -> str:
    answer = http.post(
        "/cases",
        json={"kind": "dispute", "unit": VILLAGE, "category": "邻里纠纷", "summary": summary,
              "channel": "grid_patrol"},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def queued(http: httpx.Client, case_id: str) -> bool:
    items = http.get(f"/queues/{VILLAGE}").json()["items"]
    return any(item["id"] == case_id for item in items)


def test_commands_through_both_workers_are_read_back_at_once_with_distinct_numbers(
    deployment: dict[str, str], tmp_path: Path
) -> None:
    token = supervisor_token(deployment)
    with serving(deployment, tmp_path / "serve.log", "--workers", "2", graceful=True) as served:
        wait_for(lambda: ready(served).status_code == 200, "/ready 200")

        def register_and_read(n: int) -> tuple[str, str, bool]:
            with httpx.Client(  # a connection of its own: the workers share the port
                base_url=f"{served.url}/api/v1",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            ) as http:
                answer = http.post(
                    "/cases",
                    json={"kind": "dispute", "unit": VILLAGE, "category": "邻里纠纷",
                          "summary": f"并发登记 {n}", "channel": "grid_patrol"},
                )  # fmt: skip
                assert answer.status_code == 201, answer.text
                case = answer.json()
                return case["id"], case["number"], queued(http, case["id"])

        with ThreadPoolExecutor(max_workers=8) as pool:
            done = list(pool.map(register_and_read, range(24)))
        assert all(seen for _, _, seen in done), "a case missing from the queue read right after"
        assert len({number for _, number, _ in done}) == len(done), "two cases share a number"
        assert len(followers(served.process.pid)) == 1, "one process keeps the views"


def test_a_killed_views_and_sweeps_process_comes_back_and_the_queue_catches_up(
    deployment: dict[str, str], tmp_path: Path
) -> None:
    token = supervisor_token(deployment)
    log = tmp_path / "serve.log"
    with (
        serving(deployment, log, "--workers", "2", graceful=True) as served,
        httpx.Client(
            base_url=f"{served.url}/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ) as http,
    ):
        first = register(http, "排水沟堵塞")
        wait_for(lambda: queued(http, first), "the first case in the queue")
        [follower] = wait_for(lambda: followers(served.process.pid), "a follower")  # type: ignore[misc]
        wait_for(lambda: ready(served).status_code == 200, "/ready 200 before the kill")

        os.kill(follower, signal.SIGKILL)
        down = wait_for(lambda: process_down(served), "/ready 503 naming the process", 10)
        assert "since" in str(down)
        second = register(http, "围墙挡路影响通行")

        again = wait_for(
            lambda: [pid for pid in followers(served.process.pid) if pid != follower],
            f"a new follower (log:\n{_tail(served)})",
        )
        assert again
        wait_for(lambda: queued(http, second), "the case registered while it was down")
        wait_for(lambda: ready(served).status_code == 200, "/ready 200 once it is back")


def ready(served: Served) -> httpx.Response:
    return httpx.get(f"{served.url}/ready", timeout=5)


def process_down(served: Served) -> str | None:
    """The /ready body while it says the views and sweeps process is down."""
    answer = ready(served)
    if answer.status_code == 503 and answer.json().get("status") == "views process down":
        return answer.text
    return None


def _tail(served: Served) -> str:
    return "\n".join(served.output().splitlines()[-20:])


def test_the_demo_is_loaded_and_its_tokens_printed_before_the_workers_start(
    tmp_path: Path,
) -> None:
    env = environment(tmp_path / "data")
    env["FENGQIAO_SECRET"] = "s" * 48
    args = ("--demo", "--demo-cases", "5", "--workers", "2")
    with serving(env, tmp_path / "serve.log", *args, graceful=True) as served:
        tokens = [
            line.split()[-1] for line in served.output().splitlines() if " supervisor " in line
        ]
        assert tokens, f"no demo tokens printed:\n{_tail(served)}"
        answer = httpx.get(
            f"{served.url}/api/v1/cases",
            headers={"Authorization": f"Bearer {tokens[0]}"},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["items"], "the demo's cases are there"
