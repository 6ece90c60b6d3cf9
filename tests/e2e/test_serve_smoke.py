"""``fengqiao serve`` for real: a subprocess on a free loopback port, spoken to over HTTP.

Demo data, a token minted by ``fengqiao token`` from the same data directory (so the same
secret file), a case registered and signed with Idempotency-Keys, the queue showing it, the
readiness probe, a queue stream left open, then SIGTERM: the server shuts down gracefully.
Every wait is bounded.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import STOP_TIMEOUT, Served, environment, fengqiao, serving

COUNTY = "511123"
VILLAGE = "511123001001"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    env = environment(tmp_path / "data")
    with serving(env, tmp_path / "serve.log", "--demo", "--demo-cases", "30") as server:
        yield server


def mint(data_dir: Path) -> str:
    done = subprocess.run(
        [*fengqiao(), "token", "--role", "supervisor", "--unit", COUNTY],
        env=environment(data_dir),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


@pytest.mark.slow
def test_serve_answers_over_http_and_stops_on_sigterm(served: Served, tmp_path: Path) -> None:
    bearer = mint(tmp_path / "data")
    headers = {"Authorization": f"Bearer {bearer}"}
    body = {
        "kind": "dispute",
        "unit": VILLAGE,
        "category": "邻里纠纷",
        "summary": "冒烟测试：两户因排水沟堵塞发生争执",
        "channel": "grid_patrol",
        "level": "red",  # owned by the county, whose supervisor works it here
    }
    with httpx.Client(base_url=served.url, headers=headers, timeout=15) as http:
        created = http.post("/api/v1/cases", json=body, headers={"Idempotency-Key": "smoke-1"})
        assert created.status_code == 201, created.text
        case = created.json()["id"]
        assert created.headers["location"] == f"/api/v1/cases/{case}"
        again = http.post("/api/v1/cases", json=body, headers={"Idempotency-Key": "smoke-1"})
        assert again.status_code == 201
        assert again.json()["id"] == case  # the retry records nothing new

        signed = http.post(
            f"/api/v1/cases/{case}/sign",
            headers={"Idempotency-Key": "smoke-2", "If-Match": created.headers["etag"]},
        )
        assert signed.status_code == 200, signed.text
        assert signed.json()["status"] == "signed"

        queue = http.get(f"/api/v1/queues/{COUNTY}", params={"limit": 1000})
        assert queue.status_code == 200, queue.text
        items = {item["id"]: item for item in queue.json()["items"]}
        assert items[case]["status"] == "signed"

        ready = http.get("/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["status"] == "ready"

        # a supervisor's board stays open while the server is told to stop
        with http.stream("GET", f"/api/v1/stream/queues/{COUNTY}") as board:
            assert board.status_code == 200
            assert board.headers["content-type"].startswith("text/event-stream")
            lines = board.iter_lines()
            assert next(lines) == "event: ready"

            served.process.send_signal(signal.SIGTERM)
            try:
                code = served.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pytest.fail(f"serve ignored SIGTERM for {STOP_TIMEOUT} s:\n{served.output()}")

    output = served.output()
    # uvicorn shuts down gracefully, then re-raises the signal it caught (exit -SIGTERM)
    assert code in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output, output
    assert "Traceback" not in output, output
