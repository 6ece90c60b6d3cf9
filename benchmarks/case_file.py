"""Case file benchmark: ``GET /cases/{id}/file`` latency on a case with 50 events, over HTTP.

    .venv/bin/python -m benchmarks.case_file [--backend sqlite|postgres|both] [--requests 200]

For each backend, on a fresh store holding the sample jurisdiction, ``fengqiao serve`` starts as
a subprocess and one case is worked through HTTP to 50 events the way a long dispute goes:
registered with two parties, assessed, signed, assigned, then mediation sessions (attendees and
notes), notes, an attachment and a follow-up… until the case holds 50 events. Then one client
reads, ``--requests`` times each and one at a time:

- the file masked, as the village mediator reads it;
- the file unmasked (``?unmask=true&reason=…``), as the assigned mediator reads it: each read
  first records an access record, so it is a write and a read;
- the case history and the case itself, for comparison.

Prints p50/p99 latency and the size of each answer.
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from rich.table import Table

from api.http.auth import mint_token
from api.wiring.settings import new_cipher_key
from benchmarks.http import (
    VILLAGE,
    Server,
    Store,
    _bearer,
    _bench_user,
    console,
    fresh_store,
    seed,
)
from benchmarks.views import SECRET, percentiles

EVENTS = 50
ASSIGNEE = _bench_user("mediator", VILLAGE)  # enrolled by ``seed``: assignment needs a member
ID_NUMBER = "511123199001091234"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de")


def _party(name: str, role: str) -> dict[str, Any]:
    return {
        "name": name,
        "role": role,
        "id_number": ID_NUMBER,
        "phone": "13987650321",
        "address": "四川省乐山市犍为县罗城镇石溪村三组12号",
    }


class Worker:
    """Sends commands to one case over HTTP, each with an Idempotency-Key and If-Match."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url + "/api/v1", timeout=30)
        self.mediator = _bearer("mediator", VILLAGE)
        self.case_id = ""
        self.version = 0

    def send(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> None:
        headers = {**headers, "Idempotency-Key": uuid.uuid4().hex}
        if self.case_id:
            headers["If-Match"] = f'"{self.version}"'
        answer = self.http.post(path, json=body, headers=headers)
        if answer.status_code >= 300:
            raise RuntimeError(f"{path}: {answer.status_code} {answer.text}")
        self.case_id = answer.json()["id"]
        self.version = answer.json()["version"]

    def command(
        self, name: str, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        self.send(f"/cases/{self.case_id}/{name}", body, headers or self.mediator)

    def attach(self) -> None:
        answer = self.http.post(
            f"/cases/{self.case_id}/attachments",
            files={"file": ("现场.png", PNG, "image/png")},
            data={"kind": "photo"},
            headers={**self.mediator, "Idempotency-Key": uuid.uuid4().hex},
        )
        if answer.status_code >= 300:
            raise RuntimeError(f"attachment: {answer.status_code} {answer.text}")
        self.version = answer.json()["version"]


def work_case(url: str) -> tuple[str, int]:
    """One dispute worked to 50 events; its id and version."""
    w = Worker(url)
    w.send(
        "/cases",
        {
            "kind": "dispute",
            "unit": VILLAGE,
            "category": "邻里",
            "summary": "两户因排水沟堵塞发生争执，多次协商未果",
            "channel": "grid_patrol",
            "people_involved": 4,
            "amount_involved": "1200.50",
            "parties": [_party("张三", "applicant"), _party("李四", "respondent")],
        },
        _bearer("reporter", VILLAGE),
    )
    w.command("assess", {"level": "yellow", "reason": "争执未升级", "triggers": ["3-9人"]})
    w.command("sign", {})
    # the owner's supervisor assigns (a county supervisor may only order or take over)
    w.command("assign", {"assignee": ASSIGNEE}, _bearer("supervisor", VILLAGE))
    w.attach()
    held = datetime.now(UTC) - timedelta(days=1)
    n = 0
    while w.version < EVENTS:
        n += 1
        if n % 2:
            body = {
                "held_at": (held + timedelta(minutes=n)).isoformat(),
                "notes": f"第{n}次调解：双方陈述意见，约定继续协商。" * 4,
                "attendees": ["张三", "李四", "调解员周某"],
            }
            w.command("mediation-sessions", body)
        else:
            w.command("notes", {"text": f"第{n}次电话回访当事人，情绪平稳。"})
    return w.case_id, w.version


def timed(http: httpx.Client, path: str, requests: int) -> tuple[float, float, int]:
    """p50, p99 (ms) of GET path, and the answer's size in bytes."""
    times = []
    size = 0
    for _ in range(requests):
        started = time.perf_counter()
        answer = http.get(path)
        times.append((time.perf_counter() - started) * 1000)
        answer.raise_for_status()
        size = len(answer.content)
    p50, p99 = percentiles(times)
    return p50, p99, size


def run_backend(backend: str, requests: int) -> list[tuple[str, str, float, float, int]]:
    store: Store = fresh_store(backend, new_cipher_key())
    try:
        seed(store, None)
        server = Server(store, None)
        try:
            server.wait_ready()
            case_id, version = work_case(server.url)
            console.log(f"{backend}: case {case_id} holds {version} events")
            base = server.url + "/api/v1"
            reader = httpx.Client(base_url=base, headers=_bearer("mediator", VILLAGE), timeout=30)
            assigned = httpx.Client(base_url=base, headers=_assigned(), timeout=30)
            unmask = "?unmask=true&reason=" + "承办调解需核对当事人身份"
            rows = [
                ("file, masked", reader, f"/cases/{case_id}/file"),
                ("file, unmasked (recorded)", assigned, f"/cases/{case_id}/file{unmask}"),
                ("history", reader, f"/cases/{case_id}/history"),
                ("case", reader, f"/cases/{case_id}"),
            ]
            return [(backend, name, *timed(c, path, requests)) for name, c, path in rows]
        finally:
            server.stop()
    finally:
        store.drop()


def _assigned() -> dict[str, str]:
    """The assigned mediator's bearer: who may unmask the file."""
    token = mint_token(SECRET, ASSIGNEE, "mediator", VILLAGE, timedelta(hours=2))
    return {"Authorization": f"Bearer {token}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    table = Table(
        title=f"GET over HTTP on a case of {EVENTS} events, {args.requests} requests each"
    )
    for column in ("backend", "read", "p50 ms", "p99 ms", "bytes"):
        table.add_column(column, justify="right")
    for backend in backends:
        for backend_name, name, p50, p99, size in run_backend(backend, args.requests):
            table.add_row(backend_name, name, f"{p50:.1f}", f"{p99:.1f}", f"{size:,}")
    console.print(table)


if __name__ == "__main__":
    main()
