"""Escalation by deadline, end to end: ``fengqiao serve`` in a subprocess, over real HTTP.

The server runs the API, the views and the deadline sweeps in one process, on a policy file
whose clocks are seconds long and a one-second sweep interval. A yellow case registered at a
village climbs to the township (orange) and then the county (red) on its own. In the second
test the server is killed (SIGKILL) right after the registration and started again once the
village's deadlines have passed: the escalations still happen, each exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.server import Served, fengqiao, serving

COUNTY = "511123"
TOWNSHIP = "511123001"
VILLAGE = "511123001001"
SIGN_SECONDS = 2
RESOLVE_SECONDS = 3
POLICY = "\n".join(
    f'[clocks.{level}.{tier}]\nsign = "{SIGN_SECONDS}s"\nresolve = "{RESOLVE_SECONDS}s"\n'
    for level, tier in (("yellow", "village"), ("orange", "township"), ("red", "county"))
)
COMMAND_TIMEOUT = 60.0
START_TIMEOUT = 60.0
# A deadline plus one sweep interval, with room for a loaded machine.
STEP_TIMEOUT = RESOLVE_SECONDS + 1 + 10.0

pytestmark = pytest.mark.slow


class Deployment:
    """One data directory, its policy file and the commands run against it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        policy = root / "policy.toml"
        policy.write_text(f'version = "e2e-seconds-1"\n\n{POLICY}', encoding="utf-8")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FENGQIAO_")}
        self.env.update(
            FENGQIAO_DATA_DIR=str(root / "data"),
            FENGQIAO_POLICY=str(policy),
            FENGQIAO_SWEEP_SECONDS="1",
            PYTHONUNBUFFERED="1",
        )
        self.serves = 0

    def run(self, *args: str) -> str:
        done = subprocess.run(
            [*fengqiao(), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        assert done.returncode == 0, f"fengqiao {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def token(self, role: str, unit: str) -> str:
        return self.run("token", "--role", role, "--unit", unit).strip()

    @contextmanager
    def serve(self) -> Iterator[Server]:
        """``fengqiao serve`` until the block ends; killed (never left running) either way."""
        self.serves += 1
        log = self.root / f"serve-{self.serves}.log"
        with serving(self.env, log, kind=Server, start_timeout=START_TIMEOUT) as server:
            yield server


class Server(Served):
    def client(self, token: str) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.url}/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(COMMAND_TIMEOUT)


@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    deployment = Deployment(tmp_path)
    deployment.run("demo", "--cases", "0")  # the jurisdiction tree, the policy adopted
    return deployment


def register(server: Server, token: str) -> str:
    body = {
        "kind": "dispute",
        "unit": VILLAGE,
        "category": "邻里纠纷",
        "summary": "两户因排水沟堵塞发生争执，无人处理",
        "channel": "grid_patrol",
        "level": "yellow",
    }
    with server.client(token) as http:
        created = http.post("/cases", json=body, headers={"Idempotency-Key": "e2e-register"})
    assert created.status_code == 201, created.text
    case = created.json()
    assert (case["owner"], case["level"], case["tier"]) == (VILLAGE, "yellow", "village")
    return str(case["id"])


def poll(server: Server, read: Callable[[], Any], until: Callable[[Any], bool], what: str) -> Any:
    deadline = time.monotonic() + STEP_TIMEOUT
    seen = None
    while time.monotonic() < deadline:
        seen = read()
        if until(seen):
            return seen
        time.sleep(0.2)
    pytest.fail(f"{what}: not within {STEP_TIMEOUT} s; last seen {seen}\n{server.output()}")


def owned_by(unit: str, level: str) -> Callable[[dict[str, Any]], bool]:
    return lambda case: (case["owner"], case["level"]) == (unit, level)


def check_climb(
    server: Server, supervisor: str, case_id: str, until_flagged: bool
) -> list[dict[str, Any]]:
    """Waits for the township, then the county (and its flag); returns the case's history."""
    with server.client(supervisor) as http:

        def read() -> dict[str, Any]:
            answer = http.get(f"/cases/{case_id}")
            assert answer.status_code == 200, answer.text
            return dict(answer.json())

        def queue(unit: str) -> list[str]:
            answer = http.get(f"/queues/{unit}")
            assert answer.status_code == 200, answer.text
            return [item["id"] for item in answer.json()["items"] if item["owner"] == unit]

        township = poll(server, read, owned_by(TOWNSHIP, "orange"), "escalated to the township")
        assert township["tier"] == "township"
        poll(server, lambda: queue(TOWNSHIP), lambda ids: case_id in ids, "the township's queue")

        county = poll(server, read, owned_by(COUNTY, "red"), "escalated to the county")
        assert county["tier"] == "county"
        assert "resolve_overdue" not in county["flags"]
        poll(server, lambda: queue(COUNTY), lambda ids: case_id in ids, "the county's queue")
        assert case_id not in queue(TOWNSHIP)

        if until_flagged:
            # The county is the top: the missed resolve deadline is flagged, not escalated.
            flagged = poll(
                server, read, lambda c: "resolve_overdue" in c["flags"], "flagged at the county"
            )
            assert (flagged["owner"], flagged["level"]) == (COUNTY, "red")

        def history() -> list[dict[str, Any]]:
            answer = http.get(f"/cases/{case_id}/history")
            assert answer.status_code == 200, answer.text
            return list(answer.json())

        awaited = "ResolveOverdueFlagged" if until_flagged else "Escalated"
        count = 1 if until_flagged else 2
        return list(
            poll(
                server,
                history,
                lambda h: [e["event_type"] for e in h].count(awaited) >= count,
                "the history",
            )
        )


def check_history(history: list[dict[str, Any]], flagged: bool) -> None:
    escalations = [e for e in history if e["event_type"] == "Escalated"]
    assert len(escalations) == 2, history
    climbs = [(VILLAGE, "village", "yellow", TOWNSHIP, "township", "orange"),
              (TOWNSHIP, "township", "orange", COUNTY, "county", "red")]  # fmt: skip
    for escalation, (from_unit, from_tier, from_level, to_unit, to_tier, to_level) in zip(
        escalations, climbs, strict=True
    ):
        fields = escalation["fields"]
        assert fields["cause"] == "overdue", escalation
        assert (fields["from_unit"], fields["from_tier"], fields["from_level"]) == (
            from_unit, from_tier, from_level,
        )  # fmt: skip
        assert (fields["to_unit"], fields["to_tier"], fields["to_level"]) == (
            to_unit, to_tier, to_level,
        )  # fmt: skip
    assert escalations[0]["text"].startswith("上交（化解逾期）："), escalations[0]["text"]
    assert (
        f"由 {VILLAGE}（村级，黄色预警）至 {TOWNSHIP}（乡镇级，橙色预警）" in escalations[0]["text"]
    )
    assert (
        f"由 {TOWNSHIP}（乡镇级，橙色预警）至 {COUNTY}（县级，红色预警）" in escalations[1]["text"]
    )
    assert [e["event_type"] for e in history].count("ResolveOverdueFlagged") == int(flagged)
    assert all((e["actor"], e["role"]) == ("fengqiao-scheduler", "system") for e in escalations)


def test_a_case_left_alone_climbs_to_the_county_over_http(deployment: Deployment) -> None:
    reporter = deployment.token("reporter", VILLAGE)
    supervisor = deployment.token("supervisor", COUNTY)
    with deployment.serve() as server:
        case_id = register(server, reporter)
        history = check_climb(server, supervisor, case_id, until_flagged=False)
        output = server.output()
    check_history(history, flagged=False)
    assert "Traceback" not in output, output


def test_escalations_survive_a_killed_server_each_happening_once(
    deployment: Deployment,
) -> None:
    reporter = deployment.token("reporter", VILLAGE)
    supervisor = deployment.token("supervisor", COUNTY)
    with deployment.serve() as server:
        case_id = register(server, reporter)
        server.kill()  # before any deadline: nothing is kept in the scheduler's memory
    time.sleep(RESOLVE_SECONDS + 1)  # the village's deadlines pass while nothing runs
    with deployment.serve() as server:
        history = check_climb(server, supervisor, case_id, until_flagged=True)
        output = server.output()
    check_history(history, flagged=True)
    assert [e["event_type"] for e in history][:3] == [
        "Registered",
        "SignOverdueFlagged",
        "Escalated",
    ]
    assert "Traceback" not in output, output
