"""PostgreSQL stopped for 10 s under load: only 503s (no 500s) while it is down, ``/ready``
answering within a second throughout, and full recovery without restarting fengqiao.

The real ``fengqiao serve`` (one process, and ``--workers 2``) runs on a private PostgreSQL
cluster (``tests.support.private_postgres``: the shared server is never stopped). Three clients
register cases, add notes to them (each request with its own Idempotency-Key) and read cases
and lists; a probe asks ``/ready`` every 200 ms. The cluster is stopped (``pg_ctl stop -m
fast``, or ``immediate``: no shutdown checkpoint, crash recovery at the next start), kept down
for 10 s and started again. Then:

* no answer was a 500, and every answer that was not a success was a 503 with Retry-After;
  every request was answered (within ``ANSWER_WITHIN``: a client giving up is a failure too);
* ``/ready`` answered every probe within 1 s: 503 while the database was down, 200 again (and
  steadily) within ``RECOVERY_WITHIN`` of its start;
* every registration acknowledged is readable; every request answered 503 (or not answered),
  sent again with its key, ends in exactly one stored case or note.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.http.auth import mint_token
from api.wiring.settings import new_cipher_key, new_signing_key
from domain.actors import Role
from tests.support.private_postgres import PrivatePostgres, private_postgres
from tests.support.server import Served, environment, fengqiao, serving
from tests.support.staff import enrol_in_store, member

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

VILLAGE = "511123001001"
COUNTY = "511123"
SECRET = "postgres-stopped-signing-secret-0123456789abcdefg"

CLIENTS = 3
WARM_UP = 1.5  # seconds of load before the database is stopped
OUTAGE = 10.0  # seconds the database stays down
# A request is answered within this, whatever the store does: no client or proxy should have
# to wait longer to learn that it may retry. (The event store's own connect timeout is 10 s.)
ANSWER_WITHIN = 10.0
READY_WITHIN = 1.0  # every /ready probe is answered within this
PROBE_EVERY = 0.2
PROBE_TIMEOUT = 5.0  # how long a probe waits at most, to measure how late it is
RECOVERY_WITHIN = 20.0  # after the database is back, /ready is 200 (and stays so) within this
STEADY = 3.0  # seconds of 200s from /ready that count as recovered
RESEND_WITHIN = 15.0  # after recovery, a 503'd request sent again is a success within this
OK = {200, 201}


def bearer(user: str, role: str, unit: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SECRET, user, role, unit, timedelta(hours=2))}"}


@dataclass
class Call:
    """One HTTP request and its answer (or why there was none)."""

    kind: str  # "register" | "note" | "read" | "list"
    path: str
    method: str = "GET"
    body: dict[str, Any] | None = None
    key: str | None = None
    user: str = ""
    case_id: str | None = None  # a note's case
    sent: float = 0.0
    took: float = 0.0
    status: int | None = None
    retry_after: str | None = None
    answer: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    def describe(self) -> str:
        what = f"{self.method} {self.path} ({self.kind}"
        what += f", key {self.key})" if self.key else ")"
        outcome = f"{self.status}" if self.status is not None else f"no answer: {self.error}"
        return f"{what} after {self.took:.2f} s: {outcome} {json.dumps(self.answer)[:200]}"


@dataclass
class Probe:
    sent: float
    took: float = 0.0
    status: int | None = None
    detail: str = ""


def call(http: httpx.Client, item: Call) -> Call:
    headers = {"Idempotency-Key": item.key} if item.key else {}
    item.sent = time.monotonic()
    try:
        answer = http.request(item.method, item.path, json=item.body, headers=headers)
    except httpx.TransportError as error:
        item.took = time.monotonic() - item.sent
        item.error = f"{type(error).__name__}: {error}"
        return item
    item.took = time.monotonic() - item.sent
    item.status = answer.status_code
    item.retry_after = answer.headers.get("retry-after")
    try:
        item.answer = answer.json() if answer.content else {}
    except ValueError:
        item.answer = {"text": answer.text[:300]}
    if isinstance(item.answer, list):
        item.answer = {"items": len(item.answer)}
    return item


class Load:
    """Clients and a readiness probe running until stopped; everything they saw, timed."""

    def __init__(self, url: str, marker: str) -> None:
        self.url = url
        self.marker = marker
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.calls: list[Call] = []
        self.probes: list[Probe] = []
        self.threads = [
            threading.Thread(target=self._client, args=(n,), name=f"client-{n}", daemon=True)
            for n in range(CLIENTS)
        ]
        self.threads.append(threading.Thread(target=self._probe, name="probe", daemon=True))

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(ANSWER_WITHIN + PROBE_TIMEOUT + 5)

    def _client(self, number: int) -> None:
        user = f"load-client-{number}"
        cases: list[str] = []
        count = 0
        with httpx.Client(
            base_url=f"{self.url}/api/v1",
            headers=bearer(user, "mediator", VILLAGE),
            timeout=ANSWER_WITHIN,
        ) as http:
            while not self.stopping.is_set():
                count += 1
                key = f"{self.marker}-c{number}-{count}"
                step = count % 4
                if step == 1 or not cases:
                    body = {
                        "kind": "dispute",
                        "unit": VILLAGE,
                        "category": "邻里纠纷",
                        "summary": f"{self.marker} registration {key}",
                        "channel": "grid_patrol",
                    }
                    item = Call("register", "/cases", "POST", body, key, user)
                elif step == 2:
                    case_id = cases[count % len(cases)]
                    body = {"text": f"{self.marker} note {key}"}
                    path = f"/cases/{case_id}/notes"
                    item = Call("note", path, "POST", body, key, user, case_id)
                elif step == 3:
                    item = Call("read", f"/cases/{cases[-1]}")
                else:
                    item = Call("list", "/cases", "GET")
                call(http, item)
                with self.lock:
                    self.calls.append(item)
                if item.kind == "register" and item.status in OK:
                    cases.append(str(item.answer["id"]))
                if item.status is None or item.status >= 500:
                    time.sleep(0.1)  # a client that is told to retry does not hammer

    def _probe(self) -> None:
        """A probe every PROBE_EVERY, each on its own (a slow one does not delay the next)."""

        def one(probe: Probe) -> None:
            try:
                answer = httpx.get(f"{self.url}/ready", timeout=PROBE_TIMEOUT)
                probe.status = answer.status_code
                probe.detail = answer.text[:200]
            except httpx.TransportError as error:
                probe.detail = f"{type(error).__name__}: {error}"
            probe.took = time.monotonic() - probe.sent

        with ThreadPoolExecutor(max_workers=int(PROBE_TIMEOUT / PROBE_EVERY) + 2) as pool:
            pending: list[Future[None]] = []
            while not self.stopping.is_set():
                probe = Probe(time.monotonic())
                with self.lock:
                    self.probes.append(probe)
                pending.append(pool.submit(one, probe))
                time.sleep(PROBE_EVERY)
            for future in pending:
                future.result()


@dataclass
class Timeline:
    stopping: float = 0.0  # pg_ctl stop called
    down: float = 0.0  # pg_ctl stop returned: the database is down
    starting: float = 0.0  # pg_ctl start called
    up: float = 0.0  # the database accepts connections again


def recovered_at(probes: list[Probe], since: float) -> float | None:
    """When /ready began answering 200 to every probe sent after ``since`` (and kept on for
    at least STEADY seconds), or None."""
    after = sorted((p for p in probes if p.sent >= since and p.took), key=lambda p: p.sent)
    start: float | None = None
    for probe in after:
        if probe.status != 200:
            start = None
        elif start is None:
            start = probe.sent
    if start is None or after[-1].sent - start < STEADY:
        return None
    return start


# --- after recovery: resends and what is stored --------------------------------------------


def resend_until_stored(url: str, item: Call) -> Call:
    """``item`` sent again with its key until it succeeds (503 means: again, shortly)."""
    deadline = time.monotonic() + RESEND_WITHIN
    with httpx.Client(
        base_url=f"{url}/api/v1",
        headers=bearer(item.user, "mediator", VILLAGE),
        timeout=ANSWER_WITHIN,
    ) as http:
        while True:
            again = call(http, Call(item.kind, item.path, item.method, item.body, item.key,
                                    item.user, item.case_id))  # fmt: skip
            if again.status in OK or time.monotonic() > deadline:
                return again
            if again.status is not None and again.status != 503:
                return again
            time.sleep(0.5)


def stored_registrations(url: str, marker: str) -> dict[str, list[str]]:
    """Registration key → ids of the stored cases whose summary names it."""
    found: dict[str, list[str]] = {}
    offset = 0
    with httpx.Client(headers=bearer("outage-reader", "supervisor", COUNTY), timeout=30) as http:
        while True:
            page = http.get(
                f"{url}/api/v1/cases",
                params={"unit": COUNTY, "q": marker, "limit": 500, "offset": offset},
            )
            assert page.status_code == 200, page.text
            items = page.json()["items"]
            for item in items:
                found.setdefault(item["summary"].rsplit(" ", 1)[-1], []).append(item["id"])
            if len(items) < 500:
                return found
            offset += 500


def stored_notes(url: str, marker: str) -> Counter[tuple[str, str]]:
    """(case id, note key) → how many notes naming the key the village's audit trail holds."""
    with httpx.Client(headers=bearer("outage-auditor", "auditor", COUNTY), timeout=60) as http:
        export = http.get(f"{url}/api/v1/audit/export", params={"unit": VILLAGE})
    assert export.status_code == 200, export.text
    notes: Counter[tuple[str, str]] = Counter()
    for line in export.text.splitlines():
        record = json.loads(line) if line.strip() else {}
        text = str((record.get("payload") or {}).get("text", ""))
        if str(record.get("event_type", "")).endswith("NoteAdded") and marker in text:
            notes[(str(record["case_id"]), text.rsplit(" ", 1)[-1])] += 1
    return notes


def wait_until_listed(url: str, marker: str, keys: set[str]) -> dict[str, list[str]]:
    """The stored registrations once every key is listed (the views follow within seconds),
    or as they are after RECOVERY_WITHIN."""
    deadline = time.monotonic() + RECOVERY_WITHIN
    while True:
        found = stored_registrations(url, marker)
        if keys <= set(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.3)


# --- the test -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivatePostgres]:
    with private_postgres() as running:
        yield running


# One process with a clean stop, two workers with a crash-like one (no shutdown checkpoint);
# FENGQIAO_FULL_OUTAGE_MATRIX=1 runs every pairing (about twice as long).
VARIANTS = {
    "one-process-fast": (1, "fast"),
    "two-workers-immediate": (2, "immediate"),
}
if os.environ.get("FENGQIAO_FULL_OUTAGE_MATRIX"):
    VARIANTS |= {"one-process-immediate": (1, "immediate"), "two-workers-fast": (2, "fast")}


@pytest.mark.parametrize(("workers", "mode"), list(VARIANTS.values()), ids=list(VARIANTS))
def test_postgres_stopped_for_ten_seconds_under_load(
    cluster: PrivatePostgres, tmp_path: Path, workers: int, mode: str
) -> None:
    env = environment(tmp_path / "data")
    env.update(
        FENGQIAO_DATABASE_URL=cluster.create_database(),
        FENGQIAO_CIPHER_KEY=new_cipher_key(),
        FENGQIAO_SIGNING_KEY=new_signing_key(),
        FENGQIAO_SECRET=SECRET,
    )
    done = subprocess.run(
        [*fengqiao(), "demo", "--cases", "0"], env=env, capture_output=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
    enrol_in_store(
        env,
        *(member(f"load-client-{n}", VILLAGE, Role.MEDIATOR) for n in range(CLIENTS)),
        member("outage-reader", COUNTY, Role.SUPERVISOR),
        member("outage-auditor", COUNTY, Role.AUDITOR),
    )
    args = ("--workers", str(workers)) if workers > 1 else ()
    with serving(env, tmp_path / "serve.log", *args, kind=Served, graceful=True) as served:
        label = f"{'one process' if workers == 1 else f'{workers} workers'}, stop -m {mode}"
        outage(served, cluster, mode, label, f"{mode}{workers}{uuid.uuid4().hex[:6]}")


def outage(served: Served, cluster: PrivatePostgres, mode: str, label: str, marker: str) -> None:
    load = Load(served.url, marker)
    times = Timeline()
    load.start()
    try:
        time.sleep(WARM_UP)
        times.stopping = time.monotonic()
        cluster.stop(mode)
        times.down = time.monotonic()
        time.sleep(OUTAGE)
        times.starting = time.monotonic()
        cluster.start()
        times.up = time.monotonic()
        deadline = times.up + RECOVERY_WITHIN + STEADY
        while time.monotonic() < deadline and recovered_at(load.probes, times.up) is None:
            time.sleep(0.2)
        time.sleep(1.0)  # a little load after recovery too
    finally:
        if not cluster.running():
            cluster.start()
        load.stop()
    check(served, load, times, label)


def logged(served: Served) -> list[str]:
    """The server's log without its access lines."""
    return [line for line in served.output().splitlines() if not line.startswith("INFO:")]


def check(served: Served, load: Load, times: Timeline, label: str) -> None:
    calls = list(load.calls)
    probes = [p for p in load.probes if p.took]
    problems: list[str] = []

    unanswered = [c for c in calls if c.status is None]
    server_errors = [
        c for c in calls if c.status is not None and c.status >= 500 and c.status != 503
    ]
    refused = [c for c in calls if c.status is not None and 300 <= c.status < 500]
    no_retry_after = [c for c in calls if c.status == 503 and not c.retry_after]
    unavailable = [c for c in calls if c.status == 503]
    overlapping = [c for c in calls if c.sent < times.starting and c.sent + c.took > times.down]
    problems += [f"a 5xx other than 503: {c.describe()}" for c in server_errors]
    problems += [f"not answered within {ANSWER_WITHIN} s: {c.describe()}" for c in unanswered]
    problems += [f"a failure that is not a 503: {c.describe()}" for c in refused]
    problems += [f"a 503 without Retry-After: {c.describe()}" for c in no_retry_after]
    if not unavailable:
        problems.append(
            f"no request was answered 503 ({len(overlapping)} overlapped the outage: none was "
            f"told to retry)"
        )

    late_probes = [p for p in probes if p.status is None or p.took > READY_WITHIN]
    for when, late in (
        ("before the stop", [p for p in late_probes if p.sent + p.took < times.stopping]),
        ("from the stop on", [p for p in late_probes if p.sent + p.took >= times.stopping]),
    ):
        if late:
            worst = max(late, key=lambda p: p.took)
            problems.append(
                f"{len(late)} /ready probes {when} not answered within {READY_WITHIN} s, sent "
                f"from {late[0].sent - times.stopping:+.1f} s to "
                f"{late[-1].sent - times.stopping:+.1f} s after the stop; the slowest took "
                f"{worst.took:.2f} s: {worst.status} {worst.detail}"
            )
    down_probes = [p for p in probes if p.sent >= times.down and p.sent + p.took <= times.starting]
    problems += [
        f"/ready said {p.status} while the database was down ({p.sent - times.down:+.1f} s)"
        for p in down_probes
        if p.status != 503
    ]
    if not down_probes:
        problems.append("no /ready probe was answered while the database was down")
    if not any(p.status == 200 for p in probes if p.sent < times.stopping):
        problems.append("/ready never said 200 before the outage")
    recovered = recovered_at(probes, times.up)
    recovery = None if recovered is None else max(0.0, recovered - times.up)
    if recovery is None or recovery > RECOVERY_WITHIN:
        tail = [f"{p.sent - times.up:+.1f}s {p.status} {p.detail[:80]}" for p in probes[-5:]]
        problems.append(
            f"/ready not steadily 200 within {RECOVERY_WITHIN} s of the database's start "
            f"(last probes: {tail})"
        )

    if recovered is not None and not any(
        c.kind == "register" and c.status in OK for c in calls if c.sent >= recovered
    ):
        problems.append("no registration succeeded once /ready said 200 again")

    # after recovery: everything answered 503 (or not at all) sent again with its key
    keyed = [c for c in calls if c.key is not None]
    retried = [c for c in keyed if c.status not in OK]
    with ThreadPoolExecutor(CLIENTS) as pool:
        resent = list(pool.map(lambda c: resend_until_stored(served.url, c), retried))
    problems += [f"sent again after recovery: {c.describe()}" for c in resent if c.status not in OK]
    registrations = {c.key for c in keyed if c.kind == "register"}
    found = wait_until_listed(served.url, load.marker, {str(k) for k in registrations})
    acknowledged = {
        str(c.key): c.answer.get("id")
        for c in (*calls, *resent)
        if c.kind == "register" and c.status in OK
    }
    for key in sorted(str(k) for k in registrations):
        ids = found.get(key, [])
        if len(ids) != 1:
            problems.append(f"registration {key} stored {len(ids)} times: {ids}")
        elif key in acknowledged and ids != [acknowledged[key]]:
            problems.append(f"registration {key} acknowledged as {acknowledged[key]}, stored {ids}")
    problems += [f"a stored case nobody registered: {k}" for k in set(found) - registrations]
    notes = stored_notes(served.url, load.marker)
    sent_notes = {(str(c.case_id), str(c.key)) for c in keyed if c.kind == "note"}
    problems += [
        f"note {key} on case {case} stored {notes.get((case, key), 0)} times"
        for case, key in sorted(sent_notes)
        if notes.get((case, key), 0) != 1
    ]
    problems += [f"a stored note nobody sent: {k}" for k in set(notes) - sent_notes]
    readers = bearer("outage-reader", "supervisor", COUNTY)
    for key, case_id in acknowledged.items():
        read = httpx.get(f"{served.url}/api/v1/cases/{case_id}", headers=readers, timeout=30)
        if read.status_code != 200:
            problems.append(f"acknowledged registration {key} ({case_id}): {read.status_code}")

    took = [c.took for c in unavailable]
    statuses = Counter(str(c.status) if c.status else "none" for c in calls)
    print(
        f"\npostgres stopped [{label}]: requests={len(calls)} {dict(statuses)} "
        f"overlapping_outage={len(overlapping)} 503s={len(unavailable)} "
        f"max_503_wait={max(took, default=0.0):.2f}s unanswered={len(unanswered)} "
        f"5xx={len(server_errors)} probes={len(probes)} "
        f"max_ready={max((p.took for p in probes), default=0.0):.2f}s "
        f"recovery={'never' if recovery is None else f'{recovery:.1f}s'} "
        f"resent={len(retried)} outage={times.starting - times.down:.1f}s"
    )
    assert not problems, (
        f"{len(problems)} problems ({label}); server log tail:\n"
        + "\n".join(logged(served)[-15:])
        + "\n\n"
        + "\n".join(problems[:60])
        + (f"\n… and {len(problems) - 60} more" if len(problems) > 60 else "")
    )
