"""SIGKILL between the event write and the answer, again and again: no stuck key, nothing lost,
nothing doubled, every acknowledged id retrievable.

The real ``fengqiao serve`` runs on one port and one store (SQLite in a data directory, or a
database in a private PostgreSQL cluster) while eight clients register cases and add notes to
the cases they registered, each request with its own Idempotency-Key. The server is killed with
SIGKILL at random moments (at least twenty times) and started again each time on the same port
and store. A client sends the SAME request with the SAME key again until it gets a definitive
answer: a 2xx, or a 4xx (a refusal, which here is a failure: nothing these clients send may be
refused). Connection errors, timeouts and 503s are not definitive.

Afterwards, through the HTTP API only:

* every request was answered 2xx within a bounded time after the last restart: no key is left
  hanging or refused ("still running", "failed, retry");
* a resend of every acknowledged request gets the first answer again (the same case);
* the stored registrations are exactly the registration keys, each once, with the acknowledged
  id; each case's notes are exactly its note keys, each once (the note text carries the key);
* every acknowledged case id can be read.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
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
from tests.support.server import Served, environment, fengqiao, free_port, load_jurisdiction
from tests.support.staff import enrol_in_store, member

pytestmark = pytest.mark.slow

VILLAGE = "511123001001"
COUNTY = "511123"
SECRET = "crash-kills-signing-secret-0123456789abcdefghijkl"

KILLS = 20
CLIENTS = 8
LIFE = (0.3, 1.6)  # seconds a server lives once healthy before it is killed, at random
ATTEMPT_TIMEOUT = 10.0  # one attempt's wait for its answer
SETTLE_WITHIN = 20.0  # after the last restart every request is answered 2xx within this
READY_WITHIN = 30.0  # for the views to catch up before the stored cases are counted
START_WITHIN = 60.0
RESEND_PAUSE = 0.05  # between attempts of one request
NOT_DEFINITIVE = {502, 503, 504}
OK = {200, 201}


def seed() -> int:
    """The kill moments' seed: printed, and taken from FENGQIAO_CRASH_SEED to replay a run."""
    given = os.environ.get("FENGQIAO_CRASH_SEED")
    return int(given) if given else random.SystemRandom().randrange(1 << 31)


def bearer(user: str, role: str, unit: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SECRET, user, role, unit, timedelta(hours=2))}"}


@dataclass
class Sent:
    """One logical request (one Idempotency-Key) and everything that happened to it."""

    kind: str  # "register" | "note"
    user: str
    key: str
    path: str
    body: dict[str, Any]
    case_id: str | None = None  # the case a note is for
    first_sent: float = 0.0
    answered_at: float | None = None
    attempts: int = 0
    refused_connections: int = 0  # attempts that found no server listening
    cut_off: int = 0  # attempts sent whose connection broke before the answer (a kill)
    status: int | None = None
    answer: dict[str, Any] = field(default_factory=dict)
    last_trouble: str = ""
    server_errors: list[str] = field(default_factory=list)  # 500s and the like

    @property
    def acknowledged(self) -> bool:
        return self.status in OK

    def describe(self) -> str:
        return (
            f"{self.kind} {self.key} ({self.path}): status {self.status}, "
            f"{self.attempts} attempts, last trouble {self.last_trouble!r}, "
            f"answer {json.dumps(self.answer, ensure_ascii=False)[:300]}"
        )


class Run:
    """The shared state of one run: the clock marks the killer sets, and every request."""

    def __init__(self, marker: str) -> None:
        self.marker = marker
        self.stop_sending = threading.Event()
        self.last_restart: float | None = None  # monotonic, once the last life is healthy
        self.lock = threading.Lock()
        self.sent: list[Sent] = []

    def settle_deadline(self) -> float | None:
        last = self.last_restart
        return None if last is None else last + SETTLE_WITHIN

    def record(self, sent: Sent) -> None:
        with self.lock:
            self.sent.append(sent)


def deliver(http: httpx.Client, run: Run, sent: Sent) -> None:
    """Sends ``sent`` until it has a definitive answer, or until the settle deadline."""
    sent.first_sent = time.monotonic()
    headers = {"Idempotency-Key": sent.key}
    while True:
        deadline = run.settle_deadline()
        if deadline is not None and time.monotonic() > deadline:
            return  # stuck: no definitive answer within SETTLE_WITHIN of the last restart
        sent.attempts += 1
        try:
            answer = http.post(sent.path, json=sent.body, headers=headers)
        except httpx.TimeoutException as error:
            sent.last_trouble = f"no answer within {ATTEMPT_TIMEOUT} s ({type(error).__name__})"
            continue
        except httpx.TransportError as error:
            if isinstance(error, httpx.ConnectError):
                sent.refused_connections += 1
            else:
                sent.cut_off += 1
            sent.last_trouble = type(error).__name__
            time.sleep(RESEND_PAUSE * 2)  # the server is down or starting
            continue
        if answer.status_code >= 500:
            sent.last_trouble = f"{answer.status_code} {answer.text[:200]}"
            if answer.status_code not in NOT_DEFINITIVE:
                sent.server_errors.append(sent.last_trouble)
            time.sleep(RESEND_PAUSE)
            continue
        sent.status = answer.status_code
        sent.answered_at = time.monotonic()
        try:
            sent.answer = answer.json()
        except ValueError:
            sent.answer = {"text": answer.text[:300]}
        return


def client(run: Run, url: str, number: int, rng: random.Random) -> None:
    """Registers cases and adds notes to its own acknowledged cases until told to stop."""
    user = f"crash-client-{number}"
    cases: list[str] = []
    with httpx.Client(
        base_url=f"{url}/api/v1",
        headers=bearer(user, "mediator", VILLAGE),
        timeout=httpx.Timeout(ATTEMPT_TIMEOUT, connect=2.0),
    ) as http:
        count = 0
        while not run.stop_sending.is_set():
            count += 1
            key = f"{run.marker}-c{number}-{count}"
            if not cases or rng.random() < 0.4:
                body = {
                    "kind": "dispute",
                    "unit": VILLAGE,
                    "category": "邻里纠纷",
                    "summary": f"{run.marker} registration {key}",
                    "channel": "grid_patrol",
                }
                sent = Sent("register", user, key, "/cases", body)
            else:
                case_id = rng.choice(cases)
                body = {"text": f"{run.marker} note {key}"}
                sent = Sent("note", user, key, f"/cases/{case_id}/notes", body, case_id)
            run.record(sent)
            deliver(http, run, sent)
            if sent.kind == "register" and sent.acknowledged and "id" in sent.answer:
                cases.append(str(sent.answer["id"]))
            # a refusal is a failure, reported at the end; the client goes on with new keys


class Crashable:
    """``fengqiao serve`` on a fixed port and store: started, killed, started again."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.served: Served | None = None
        self.lives = 0

    def start(self) -> None:
        with self.log.open("ab") as sink:
            sink.write(f"\n===== life {self.lives + 1} =====\n".encode())
            sink.flush()
            process = subprocess.Popen(
                [*fengqiao(), "serve", "--port", str(self.port)],
                env=self.env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        self.lives += 1
        self.served = Served(process, self.log, self.url, Path(self.env["FENGQIAO_DATA_DIR"]))
        self.served.wait_until_healthy(START_WITHIN)

    def kill(self) -> None:
        assert self.served is not None
        self.served.stop(graceful=False)  # SIGKILL, and reaped

    def stop(self) -> None:
        if self.served is not None:
            self.served.stop(graceful=True)


def prepare(env: dict[str, str]) -> None:
    """The sample jurisdiction in the store (no cases), and the staff the clients act as."""
    load_jurisdiction(env)
    clients = [member(f"crash-client-{n}", VILLAGE, Role.MEDIATOR) for n in range(CLIENTS)]
    readers = [
        member("crash-reader", COUNTY, Role.SUPERVISOR),
        member("crash-auditor", COUNTY, Role.AUDITOR),
    ]
    enrol_in_store(env, *clients, *readers)


# --- after the storm: what the API says is stored ------------------------------------------


def wait_until_views_caught_up(url: str) -> None:
    deadline = time.monotonic() + READY_WITHIN
    last = ""
    while time.monotonic() < deadline:
        try:
            answer = httpx.get(f"{url}/ready", timeout=5)
            last = f"{answer.status_code} {answer.text[:300]}"
            lag = answer.json().get("lag", {}) if answer.status_code == 200 else None
            if lag is not None and not any(lag.values()):
                return
        except (httpx.TransportError, ValueError) as error:
            last = repr(error)
        time.sleep(0.2)
    pytest.fail(f"the views did not catch up within {READY_WITHIN} s: /ready {last}")


def stored_registrations(url: str, marker: str) -> dict[str, list[str]]:
    """Registration key → ids of the stored cases whose summary names it."""
    found: dict[str, list[str]] = {}
    offset = 0
    with httpx.Client(headers=bearer("crash-reader", "supervisor", COUNTY), timeout=30) as http:
        while True:
            page = http.get(
                f"{url}/api/v1/cases",
                params={"unit": COUNTY, "q": marker, "limit": 500, "offset": offset},
            )
            assert page.status_code == 200, page.text
            items = page.json()["items"]
            for item in items:
                key = item["summary"].rsplit(" ", 1)[-1]
                found.setdefault(key, []).append(item["id"])
            if len(items) < 500:
                return found
            offset += 500


def stored_notes(url: str, marker: str) -> dict[str, Counter[str]]:
    """Case id → note key → how many notes naming it the village's audit trail holds."""
    with httpx.Client(headers=bearer("crash-auditor", "auditor", COUNTY), timeout=60) as http:
        export = http.get(f"{url}/api/v1/audit/export", params={"unit": VILLAGE})
    assert export.status_code == 200, export.text
    notes: dict[str, Counter[str]] = {}
    for line in export.text.splitlines():
        record = json.loads(line) if line.strip() else {}
        text = str((record.get("payload") or {}).get("text", ""))
        if str(record.get("event_type", "")).endswith("NoteAdded") and marker in text:
            counted = notes.setdefault(str(record["case_id"]), Counter())
            counted[text.rsplit(" ", 1)[-1]] += 1
    return notes


_local = threading.local()


def connection() -> httpx.Client:
    """This thread's client (kept alive between the checks' many requests)."""
    if not hasattr(_local, "http"):
        _local.http = httpx.Client(timeout=ATTEMPT_TIMEOUT)
    http: httpx.Client = _local.http
    return http


def unreadable(url: str, case_id: str) -> str | None:
    """None when the case can be read; else what the read answered."""
    headers = bearer("crash-reader", "supervisor", COUNTY)
    try:
        read = connection().get(f"{url}/api/v1/cases/{case_id}", headers=headers)
    except httpx.TransportError as error:
        return f"{case_id}: {type(error).__name__}"
    return None if read.status_code == 200 else f"{case_id}: {read.status_code} {read.text[:200]}"


def resend(url: str, sent: Sent) -> str | None:
    """The acknowledged request once more: None when it gets its first answer again."""
    headers = {**bearer(sent.user, "mediator", VILLAGE), "Idempotency-Key": sent.key}
    try:
        again = connection().post(f"{url}/api/v1{sent.path}", json=sent.body, headers=headers)
    except httpx.TransportError as error:
        return f"resent {sent.kind} {sent.key}: {type(error).__name__} (no answer)"
    if again.status_code != sent.status:
        return f"resent {sent.kind} {sent.key}: {again.status_code} {again.text[:300]}"
    if again.json().get("id") != sent.answer.get("id"):
        return f"resent {sent.kind} {sent.key}: another case {again.json().get('id')}"
    return None


# --- the run ------------------------------------------------------------------------------


def storm(env: dict[str, str], tmp_path: Path, backend: str) -> None:
    prepare(env)
    rng = random.Random(seed_value := seed())
    run = Run(f"crash{uuid.uuid4().hex[:8]}")
    server = Crashable(env, tmp_path / "serve.log")
    started = time.monotonic()
    clients: list[threading.Thread] = []
    try:
        server.start()
        for number in range(CLIENTS):
            thread = threading.Thread(
                target=client,
                args=(run, server.url, number, random.Random(rng.random())),
                name=f"crash-client-{number}",
                daemon=True,
            )
            thread.start()
            clients.append(thread)
        for _ in range(KILLS):
            time.sleep(rng.uniform(*LIFE))
            server.kill()
            server.start()
        run.stop_sending.set()
        if server.served is None or server.served.process.poll() is not None:
            server.start()
        run.last_restart = time.monotonic()
        for thread in clients:
            thread.join(SETTLE_WITHIN + ATTEMPT_TIMEOUT + 5)
        hung_clients = [thread.name for thread in clients if thread.is_alive()]
        check(run, server, backend, seed_value, started, hung_clients)
    finally:
        run.stop_sending.set()
        server.stop()


def check(
    run: Run,
    server: Crashable,
    backend: str,
    seed_value: int,
    started: float,
    hung_clients: list[str],
) -> None:
    assert run.last_restart is not None
    sent = list(run.sent)
    acknowledged = [s for s in sent if s.acknowledged]
    refused = [s for s in sent if s.status is not None and not s.acknowledged]
    stuck = [s for s in sent if s.status is None]
    late = [
        s
        for s in acknowledged
        if s.answered_at is not None and s.answered_at - run.last_restart > SETTLE_WITHIN
    ]
    server_errors = [error for s in sent for error in s.server_errors]
    resends = sum(s.attempts - 1 for s in sent)
    cut_off = sum(1 for s in sent if s.cut_off)
    waits = [s.answered_at - s.first_sent for s in acknowledged if s.answered_at is not None]
    problems: list[str] = []
    phases = {"settle": time.monotonic()}

    # once more, every acknowledged request a kill cut off: the first answer again
    again = [s for s in acknowledged if s.cut_off]
    with ThreadPoolExecutor(CLIENTS) as pool:
        replays = [p for p in pool.map(lambda s: resend(server.url, s), again) if p]
    phases["replays"] = time.monotonic()

    wait_until_views_caught_up(server.url)
    phases["views"] = time.monotonic()
    registered = stored_registrations(server.url, run.marker)
    phases["list"] = time.monotonic()
    register_keys = {s.key: s for s in sent if s.kind == "register"}
    doubled = {key: ids for key, ids in registered.items() if len(ids) > 1}
    unknown = sorted(set(registered) - set(register_keys))
    lost = sorted(key for key in register_keys if key not in registered)
    wrong_id = [
        f"{key}: acknowledged {s.answer.get('id')}, stored {registered.get(key)}"
        for key, s in register_keys.items()
        if s.acknowledged and key in registered and registered[key] != [s.answer.get("id")]
    ]
    stored_total = sum(len(ids) for ids in registered.values())

    notes_sent: dict[str, list[Sent]] = {}
    for s in sent:
        if s.kind == "note" and s.case_id is not None:
            notes_sent.setdefault(s.case_id, []).append(s)
    note_problems: list[str] = []
    stored = stored_notes(server.url, run.marker)
    phases["export"] = time.monotonic()
    for case_id in set(stored) - set(notes_sent):
        note_problems.append(f"case {case_id}: notes nobody sent it: {dict(stored[case_id])}")
    for case_id, notes in notes_sent.items():
        counted = stored.get(case_id, Counter())
        keys = {s.key for s in notes}
        for s in notes:
            times = counted.get(s.key, 0)
            if times > 1 or (s.acknowledged and times != 1):
                note_problems.append(f"case {case_id}: note {s.key} stored {times} times")
        for key in set(counted) - keys:
            note_problems.append(f"case {case_id}: a note {key} nobody sent for this case")
        if sum(counted.values()) != len(keys):
            note_problems.append(
                f"case {case_id}: {sum(counted.values())} notes stored for {len(keys)} keys"
            )
    ids = [str(s.answer.get("id")) for s in acknowledged if s.kind == "register"]
    with ThreadPoolExecutor(CLIENTS) as pool:
        unread = [p for p in pool.map(lambda i: unreadable(server.url, i), ids) if p]
    phases["reads"] = time.monotonic()

    took = time.monotonic() - started
    marks = [run.last_restart, *phases.values()]
    spent = " ".join(f"{name}={end - begin:.0f}s" for name, begin, end in
                     zip(phases, marks, marks[1:], strict=False))  # fmt: skip
    print(
        f"\ncrash kills [{backend}]: kills={server.lives - 1} requests={len(sent)} "
        f"acknowledged={len(acknowledged)} resends={resends} cut_off={cut_off} "
        f"max_resend_wait={max(waits, default=0.0):.1f}s stuck={len(stuck)} "
        f"refused={len(refused)} 5xx={len(server_errors)} registrations={len(register_keys)} "
        f"stored={stored_total} notes={sum(len(n) for n in notes_sent.values())} "
        f"seed={seed_value} storm={run.last_restart - started:.0f}s {spent} took={took:.0f}s"
    )

    if cut_off < KILLS:
        problems.append(f"only {cut_off} requests were cut off by a kill, fewer than the kills")
    if hung_clients:
        problems.append(f"clients still sending {SETTLE_WITHIN} s after the last restart: "
                        f"{hung_clients}")  # fmt: skip
    problems += [f"stuck (no definitive answer): {s.describe()}" for s in stuck]
    problems += [f"refused: {s.describe()}" for s in refused]
    problems += [f"answered later than {SETTLE_WITHIN} s after the last restart: "
                 f"{s.describe()}" for s in late]  # fmt: skip
    problems += [f"server error: {error}" for error in server_errors]
    problems += replays
    problems += [
        f"registration {key} stored {len(ids)} times: {ids}" for key, ids in doubled.items()
    ]
    problems += [f"a stored case nobody registered: {key}" for key in unknown]
    problems += [f"registration {key} not stored ({register_keys[key].describe()})" for key in lost]
    problems += [f"registration stored under another id: {line}" for line in wrong_id]
    if stored_total != len(register_keys):
        problems.append(f"{stored_total} registrations stored for {len(register_keys)} keys")
    problems += note_problems
    problems += [f"acknowledged case unreadable: {line}" for line in unread]
    assert not problems, (
        f"{len(problems)} problems after {server.lives - 1} kills (seed {seed_value}):\n"
        + "\n".join(problems[:60])
        + (f"\n… and {len(problems) - 60} more" if len(problems) > 60 else "")
    )


# --- the backends -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivatePostgres]:
    with private_postgres() as running:
        yield running


def test_sqlite_survives_repeated_sigkills_with_no_stuck_lost_or_doubled_request(
    tmp_path: Path,
) -> None:
    env = environment(tmp_path / "data")
    env["FENGQIAO_SECRET"] = SECRET
    storm(env, tmp_path, "sqlite")


@pytest.mark.postgres
def test_postgres_survives_repeated_sigkills_with_no_stuck_lost_or_doubled_request(
    cluster: PrivatePostgres, tmp_path: Path
) -> None:
    env = environment(tmp_path / "data")
    env.update(
        FENGQIAO_DATABASE_URL=cluster.create_database(),
        FENGQIAO_CIPHER_KEY=new_cipher_key(),
        FENGQIAO_SIGNING_KEY=new_signing_key(),
        FENGQIAO_SECRET=SECRET,
    )
    storm(env, tmp_path, "postgres")
