"""Personal data (docs/design.md, Audit trail): parties' names, ID numbers, phones and
addresses are encrypted at rest, masked in answers and exports unless the caller may see them
and asks (with a reason, which is recorded), and never written to the logs.

At rest is checked the blunt way: every byte of every file in a SQLite data directory, and
every row of every table of a PostgreSQL schema, searched for every party's data as read back
(decrypted) through the application.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import psycopg
import pytest
from litestar.testing import TestClient

from api.cli.main import main
from api.demo.grassroots import FAMILY, KEY_PERSON, WALL_NEIGHBOUR, clue_people
from api.demo.load import demo_case_id
from api.http.app import create_app
from api.http.runtime import Runtime, build_runtime
from api.wiring.settings import Settings, new_cipher_key, new_signing_key
from domain.application import FengqiaoApplication
from domain.parties import mask_address, mask_digits
from tests.support import backends
from tests.support.api import (
    ADDRESS,
    API,
    COUNTY,
    ID_NUMBER,
    NEIGHBOUR_VILLAGE,
    OTHER_TOWNSHIP,
    PHONE,
    SECRET,
    TOWNSHIP,
    VILLAGE,
    Client,
    assert_problem,
    auth,
    ok,
    party,
    register,
    registration,
    send,
)

DEMO_CASES = 40
DEMO_SEED = 2026
PARTY_FIELDS = ("name", "id_number", "phone", "address")

# One more party's data, sent over the API (none of it occurs in the demo's).
API_PARTY = {
    "name": "欧阳明哲",
    "role": "applicant",
    "id_number": "51112319850707463X",
    "phone": "13566027718",
    "address": "四川省乐山市犍为县罗城镇石溪村（示例）七组305号",
}


def _personal_values(app: FengqiaoApplication, case_ids: Iterable[Any]) -> set[str]:
    """Every party's name, ID number, phone and address, read back through the application
    (so decrypted): what must not be found anywhere at rest."""
    values: set[str] = set()
    for case_id in case_ids:
        for person in app.get_case(case_id).parties:
            values.update(str(getattr(person, f)) for f in PARTY_FIELDS if getattr(person, f))
    return values


def _found_in(blob: bytes, values: Iterable[str]) -> list[str]:
    """The values that occur in ``blob``, as UTF-8 or as hex (how PostgreSQL prints bytea)."""
    found = []
    for value in values:
        raw = value.encode("utf-8")
        if raw in blob or raw.hex().encode() in blob:
            found.append(value)
    return found


def _data_files(directory: Path) -> list[Path]:
    return sorted(path for path in directory.rglob("*") if path.is_file())


def _scan_directory(directory: Path, values: set[str]) -> dict[str, list[str]]:
    leaks = {}
    for path in _data_files(directory):
        found = _found_in(path.read_bytes(), values)
        if found:
            leaks[path.name] = found
    return leaks


# --- at rest: SQLite ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("personal") / "data"
    environ = {"FENGQIAO_DATA_DIR": str(data)}
    assert main(["demo", "--cases", str(DEMO_CASES)], environ=environ) == 0
    return data


def _sqlite_settings(data: Path) -> Settings:
    return Settings.from_env({"FENGQIAO_DATA_DIR": str(data)})


def _demo_values(settings: Settings) -> set[str]:
    app = FengqiaoApplication(env=settings.event_store_env())
    try:
        ids = [demo_case_id(DEMO_SEED, i) for i in range(DEMO_CASES)]
        values = _personal_values(app, ids)
    finally:
        app.close()
    # the township's family, key person and neighbours (``api.demo.grassroots``): in cases,
    # clues, the key-person list and the repeat index, by fingerprint only
    for person in (*FAMILY, KEY_PERSON, WALL_NEIGHBOUR, *clue_people()):
        values.update(str(getattr(person, f)) for f in PARTY_FIELDS if getattr(person, f))
    return values


def test_no_file_in_a_sqlite_data_directory_holds_personal_data(demo_dir: Path) -> None:
    settings = _sqlite_settings(demo_dir)
    values = _demo_values(settings)
    assert len(values) >= DEMO_CASES * 3, "names, ID numbers and phones of every case"
    assert any(len(v) == 18 and v[:17].isdigit() for v in values), "ID numbers read back"
    files = {path.name for path in _data_files(demo_dir)}
    assert {"events.sqlite3", "views.sqlite3"} <= files
    assert _scan_directory(demo_dir, values) == {}
    # the key that opens them sits beside them, readable by its owner only
    assert (demo_dir / "cipher.key").stat().st_mode & 0o777 == 0o600


def test_stored_events_are_encrypted_not_only_compressed(demo_dir: Path) -> None:
    """Compression alone would hide the text from a byte search; the stored state must not
    even decompress without the key."""
    with sqlite3.connect(demo_dir / "events.sqlite3") as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        states: list[bytes] = []
        for table in tables:
            columns = [row[1] for row in db.execute(f"PRAGMA table_info('{table}')")]
            if "state" in columns:
                states += [row[0] for row in db.execute(f"SELECT state FROM '{table}'")]
    assert len(states) > DEMO_CASES
    for state in states:
        with pytest.raises(zlib.error):
            zlib.decompress(state)


def _api_traffic(http: Client, runtime: Runtime) -> dict[str, Any]:
    """A registration with personal data, retried with its Idempotency-Key (so it is answered
    from its receipt), and an unmasked read."""
    body = registration(parties=[API_PARTY])
    headers = auth("reporter", VILLAGE, **{"Idempotency-Key": "register-ouyang-1"})
    first = http.post(f"{API}/cases", json=body, headers=headers)
    again = http.post(f"{API}/cases", json=body, headers=headers)
    assert first.status_code == again.status_code == 201, first.text
    assert again.json() == first.json()
    case: dict[str, Any] = first.json()
    assert case["parties"][0]["id_number"] == mask_digits(API_PARTY["id_number"])
    plain = http.get(
        f"{API}/cases/{case['id']}",
        params={"unmask": "true", "reason": "核对身份"},
        headers=auth("supervisor", COUNTY),
    )
    assert ok(plain)["parties"][0]["phone"] == API_PARTY["phone"]
    return case


def test_api_traffic_leaves_no_personal_data_at_rest_receipts_included(
    demo_dir: Path,
) -> None:
    settings = _sqlite_settings(demo_dir)
    values = _demo_values(settings) | {str(API_PARTY[f]) for f in PARTY_FIELDS}
    runtime = build_runtime(settings, SECRET, scheduler=False)
    with TestClient(app=create_app(runtime), raise_server_exceptions=False) as http:
        _api_traffic(http, runtime)
        runtime.saw(runtime.app.recorder.max_notification_id())
        # while the stores are open: write-ahead logs and shared memory files included
        assert _scan_directory(demo_dir, values) == {}
    assert _scan_directory(demo_dir, values) == {}


# --- at rest: PostgreSQL ------------------------------------------------------------------


def _dump_schema(schema: str) -> bytes:
    """Every row of every table in the schema, as COPY prints it."""
    chunks: list[bytes] = []
    with psycopg.connect(backends.test_database_url(), autocommit=True) as conn:
        tables = [
            str(row[0])
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            )
        ]
        assert tables
        for table in tables:
            query = f'COPY (SELECT * FROM "{schema}"."{table}") TO STDOUT'
            with conn.cursor().copy(query) as copy:
                chunks += [bytes(data) for data in copy]
    return b"".join(chunks)


@pytest.mark.postgres
def test_no_table_in_a_postgresql_schema_holds_personal_data() -> None:
    with backends.postgres_schema() as schema:
        environ: Mapping[str, str] = {
            "FENGQIAO_DATABASE_URL": f"{backends.test_database_url()}?schema={schema}",
            "FENGQIAO_CIPHER_KEY": new_cipher_key(),
            "FENGQIAO_SIGNING_KEY": new_signing_key(),
        }
        assert main(["demo", "--cases", str(DEMO_CASES)], environ=environ) == 0
        settings = Settings.from_env(environ)
        runtime = build_runtime(settings, SECRET, scheduler=False)
        with TestClient(app=create_app(runtime), raise_server_exceptions=False) as http:
            case = _api_traffic(http, runtime)
        values = _demo_values(settings) | {str(API_PARTY[f]) for f in PARTY_FIELDS}
        dump = _dump_schema(schema)
        assert case["id"].encode() in dump, "the dump holds the case (ids are not secret)"
        assert len(dump) > 100_000
        assert _found_in(dump, values) == []


# --- masked in answers, unmasked on request -----------------------------------------------

ROLES_AT = {
    "reporter": VILLAGE,
    "mediator": VILLAGE,
    "supervisor": COUNTY,
    "auditor": COUNTY,
    "admin": "511100",
}
PLAIN = (ID_NUMBER, PHONE, ADDRESS)


def _assert_masked(text: str) -> None:
    for value in PLAIN:
        assert value not in text


def _access_events(runtime: Runtime) -> list[Any]:
    app = runtime.app
    notifications = app.recorder.select_notifications(start=1, limit=1_000_000)
    return [
        app.mapper.to_domain_event(n)
        for n in notifications
        if n.topic.startswith("domain.access:AccessRecord")
    ]


def test_every_role_sees_masked_parties_by_default(client: tuple[Client, Runtime]) -> None:
    http, _ = client
    answer = http.post(f"{API}/cases", json=registration(), headers=auth("reporter", VILLAGE))
    _assert_masked(answer.text)
    case = ok(answer, 201)
    for role, unit in ROLES_AT.items():
        got = http.get(f"{API}/cases/{case['id']}", headers=auth(role, unit))
        _assert_masked(got.text)
        shown = ok(got)["parties"][0]
        assert shown["name"] == "张三"
        assert shown["id_number"] == mask_digits(ID_NUMBER) == "511***********1234"
        assert shown["phone"] == mask_digits(PHONE) == "139****0321"
        assert shown["address"] == mask_address(ADDRESS)
        assert shown["address"].endswith("***")
        for path in (f"/cases/{case['id']}/history", f"/cases?unit={unit}"):
            _assert_masked(http.get(f"{API}{path}", headers=auth(role, unit)).text)


def test_only_the_assigned_mediator_and_an_owning_supervisor_may_unmask_and_each_is_recorded(
    client: tuple[Client, Runtime],
) -> None:
    http, runtime = client
    case = register(http)
    assert send(http, case["id"], "sign").status_code == 200
    # u-1 is a mediator and a grid worker of the village (``tests.support.staff``)
    assigned = send(
        http, case["id"], "assign", {"assignee": "u-1"}, role="supervisor", unit=VILLAGE
    )
    assert ok(assigned)["assignee"] == "u-1"
    path = f"{API}/cases/{case['id']}"
    recorded_before = len(_access_events(runtime))

    def unmask(
        role: str, unit: str, user: str | None = None, reason: str | None = "调解需要"
    ) -> Any:
        params = {"unmask": "true"} if reason is None else {"unmask": "true", "reason": reason}
        return http.get(path, params=params, headers=auth(role, unit, user))

    allowed = [
        ("mediator", VILLAGE, "u-1"),  # the assigned mediator
        ("supervisor", VILLAGE, None),  # supervisors of the owning unit (VILLAGE) or above
        ("supervisor", TOWNSHIP, None),
        ("supervisor", COUNTY, None),
    ]
    for role, unit, user in allowed:
        shown = ok(unmask(role, unit, user))["parties"][0]
        assert (shown["id_number"], shown["phone"], shown["address"]) == PLAIN, (role, unit)
    refused = [
        ("mediator", VILLAGE, "mediator-9"),  # a mediator, but not the assigned one
        ("mediator", OTHER_TOWNSHIP, None),  # a mediator where the case is unseen
        ("reporter", VILLAGE, "u-1"),  # the assignee's id with another role
        ("reporter", VILLAGE, None),
        ("auditor", COUNTY, None),
        ("admin", "511100", None),
        ("supervisor", NEIGHBOUR_VILLAGE, None),  # a supervisor elsewhere
        ("supervisor", OTHER_TOWNSHIP, None),
    ]
    for role, unit, user in refused:
        answer = unmask(role, unit, user)
        assert_problem(answer, 403)
        _assert_masked(answer.text)
    # the assignee's id at a unit that is not theirs is not let in at all
    elsewhere = unmask("mediator", OTHER_TOWNSHIP, "u-1")
    assert assert_problem(elsewhere, 401)["detail"] == "令牌所称单位与该用户在人员名录中的单位不符"
    _assert_masked(elsewhere.text)
    for reason in (None, "", "   "):
        for role, unit, user in (("mediator", VILLAGE, "u-1"), ("supervisor", COUNTY, None)):
            answer = unmask(role, unit, user, reason)
            assert assert_problem(answer, 422)["field"] == "reason"
            _assert_masked(answer.text)
    # refused and reasonless requests record nothing; each unmasking one event
    access = _access_events(runtime)[recorded_before:]
    assert [(a.kind, a.role, a.unit) for a in access] == [
        ("unmask", role, unit) for role, unit, _ in allowed
    ]
    for event in access:
        assert event.case_id == case["id"]
        assert event.reason == "调解需要"
        assert event.filter == {"fields": ["id_number", "phone", "address"]}
    assert access[0].actor == "u-1"

    # the next export shows each unmasking, and is itself masked
    export = http.get(f"{API}/audit/export", headers=auth("auditor", COUNTY))
    assert export.status_code == 200, export.text
    _assert_masked(export.text)
    records = [json.loads(line) for line in export.text.splitlines()[:-1]]
    unmaskings = [
        r
        for r in records
        if r["event_type"] == "AccessRecord.Recorded" and r["payload"]["kind"] == "unmask"
    ]
    assert [(r["actor"], r["role"], r["payload"]["reason"]) for r in unmaskings] == [
        (a.actor, a.role, "调解需要") for a in access
    ]
    registered = next(r for r in records if r["case_id"] == case["id"])
    shown_party = registered["payload"]["parties"][0]
    assert shown_party["id_number"] == mask_digits(ID_NUMBER)
    assert shown_party["phone"] == mask_digits(PHONE)
    csv_export = http.get(f"{API}/audit/export?format=csv", headers=auth("auditor", COUNTY))
    assert csv_export.status_code == 200
    _assert_masked(csv_export.text)
    case_export = http.get(f"{API}/cases/{case['id']}/audit", headers=auth("auditor", COUNTY))
    assert case_export.status_code == 200
    _assert_masked(case_export.text)


# --- never in the logs --------------------------------------------------------------------


def test_personal_data_never_reaches_the_logs(
    client: tuple[Client, Runtime],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    http, runtime = client
    caplog.set_level(logging.DEBUG)
    for name in ("litestar", "uvicorn", "uvicorn.error", "uvicorn.access"):
        # loggers that may not propagate to the root, where caplog listens
        monkeypatch.setattr(logging.getLogger(name), "handlers", [caplog.handler])
        monkeypatch.setattr(logging.getLogger(name), "level", logging.DEBUG)
    case = register(http, parties=[party()])
    ok(
        http.get(
            f"{API}/cases/{case['id']}",
            params={"unmask": "true", "reason": "核对"},
            headers=auth("supervisor", COUNTY),
        )
    )
    # refusals that carry personal data: a bad phone beside a good ID number, and a bad ID
    bad_phone = http.post(
        f"{API}/cases",
        json=registration(parties=[party(phone="13987650321x")]),
        headers=auth("reporter", VILLAGE),
    )
    assert_problem(bad_phone, 422)
    bad_id = http.post(
        f"{API}/cases",
        json=registration(parties=[party(id_number=ID_NUMBER + "9")]),
        headers=auth("reporter", VILLAGE),
    )
    assert bad_id.status_code in (400, 422)
    _assert_masked(bad_phone.text)
    assert ID_NUMBER + "9" not in bad_id.text
    # and a request the server cannot place in any jurisdiction
    stranger = http.post(
        f"{API}/cases", json=registration(unit="999999999999"), headers=auth("reporter", VILLAGE)
    )
    assert stranger.status_code in (403, 422)
    assert http.get(f"{API}/audit/export", headers=auth("auditor", COUNTY)).status_code == 200

    # a registration the server fails on: logged with its traceback, but not its body
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the store went away")

    monkeypatch.setattr(runtime.app, "register_once", broken)
    failed = http.post(f"{API}/cases", json=registration(), headers=auth("reporter", VILLAGE))
    assert_problem(failed, 500)
    _assert_masked(failed.text)
    logged = _logged_text(caplog.records)
    assert "the store went away" in logged, "the failure was logged (so the logs were seen)"
    for value in (*PLAIN, ID_NUMBER + "9", "13987650321x"):
        assert value not in logged


def _logged_text(records: Iterable[logging.LogRecord]) -> str:
    """Everything a handler could write: messages, their arguments and any traceback."""
    parts: list[str] = []
    for record in records:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


def test_a_case_handed_to_another_unit_leaves_its_old_assignee_without_access_to_plain_data(
    client: tuple[Client, Runtime],
) -> None:
    """“The assigned mediator” is the current owner's: after the case moves, the village's
    mediator no longer unmasks it, and the new owner has assigned nobody yet."""
    http, _ = client
    case = register(http)
    ok(send(http, case["id"], "sign"))
    assign = {"assignee": "mediator-9"}
    ok(send(http, case["id"], "assign", assign, role="supervisor", unit=VILLAGE))
    path = f"{API}/cases/{case['id']}"
    params = {"unmask": "true", "reason": "调解需要"}
    ok(http.get(path, params=params, headers=auth("mediator", VILLAGE, "mediator-9")))

    up = {"reason": "村级无法调处，上交乡镇"}
    moved = ok(send(http, case["id"], "escalate", up, role="supervisor", unit=VILLAGE))

    assert (moved["owner"], moved["assignee"]) == (TOWNSHIP, None)
    answer = http.get(path, params=params, headers=auth("mediator", VILLAGE, "mediator-9"))
    assert_problem(answer, 403)
    _assert_masked(answer.text)
    listed = ok(http.get(f"{API}/cases", headers=auth("supervisor", COUNTY)))
    items = listed["items"] if isinstance(listed, dict) else listed
    assert [c["assignee"] for c in items if c["id"] == case["id"]] == [None]
