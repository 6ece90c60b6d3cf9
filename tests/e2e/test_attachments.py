"""The case file's attachments over HTTP, on SQLite and PostgreSQL: an upload is typed by its
bytes, bounded, stored once per content and encrypted, and every download is on the record.

Each deployment here has a cipher key (as every real one has) and a 1 MiB attachment limit.
The files are the hand-made samples of ``tests/unit/test_media_types.py``; each carries a
marker text, which must appear in plain nowhere the system stores data.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from api.http.attachment_store import TABLE
from api.http.runtime import Runtime
from api.http.uploads import FORM_OVERHEAD
from api.wiring.settings import (
    ATTACHMENT_MAX_MIB,
    Settings,
    SettingsError,
    encryption_env,
    new_cipher_key,
)
from domain.case.commands import ATTACHMENT_KINDS
from tests.support import backends
from tests.support.api import (
    API,
    API_BACKENDS,
    COUNTY,
    NEIGHBOUR_VILLAGE,
    OTHER_COUNTY,
    TOWNSHIP,
    VILLAGE,
    Client,
    Store,
    assert_problem,
    auth,
    events_recorded,
    ok,
    register,
    serving,
)
from tests.support.backends import store_env
from tests.support.world import Clock
from tests.unit.test_media_types import ELF, MARKER, SAMPLES, sample

MIB = 1024 * 1024
ACCEPTED = "JPEG, PNG, PDF, DOCX, MP3, M4A"


@dataclass
class Deployment:
    http: Client
    runtime: Runtime
    store: Store

    def stored(self) -> int:
        """How many contents the attachment store holds."""
        if self.store.backend == "sqlite":
            root = self.store.path / "attachments"
            return sum(1 for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))
        schema = self.store.env["POSTGRES_SCHEMA"]
        with psycopg.connect(backends.test_database_url()) as conn:
            exists = conn.execute("SELECT to_regclass(%s)", (f'"{schema}".{TABLE}',)).fetchone()
            if exists is None or exists[0] is None:
                return 0
            query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, TABLE))
            row = conn.execute(query).fetchone()
            return int(row[0]) if row else 0


def deploy(backend: str, tmp_path: Path, clock: Clock) -> Iterator[Deployment]:
    with store_env(backend, tmp_path) as settings:
        extra = {"SQLITE_LOCK_TIMEOUT": "10"} if backend == "sqlite" else {}
        secure = {**encryption_env(new_cipher_key()), ATTACHMENT_MAX_MIB: "1"}
        store = Store(backend, {**settings, **extra, **secure}, tmp_path)
        with serving(store, clock) as (http, runtime):
            yield Deployment(http, runtime, store)


@pytest.fixture(params=API_BACKENDS)
def deployment(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock
) -> Iterator[Deployment]:
    yield from deploy(str(request.param), tmp_path, clock)


@pytest.fixture
def embedded(tmp_path: Path, clock: Clock) -> Iterator[Deployment]:
    """SQLite only: for what the backend cannot change (how a form is read and refused)."""
    yield from deploy("sqlite", tmp_path, clock)


def new_case(http: Client) -> str:
    # No parties: this suite is about the case file, not personal data.
    return str(register(http, parties=[])["id"])


def upload(
    http: Client,
    case_id: str,
    content: bytes,
    name: str = "现场照片.jpg",
    kind: str | None = "photo",
    role: str = "reporter",
    unit: str = VILLAGE,
    declared: str = "image/jpeg",
    fields: dict[str, str] | None = None,
    **headers: str,
) -> Any:
    data = {"kind": kind} if kind is not None else {}
    return http.post(
        f"{API}/cases/{case_id}/attachments",
        files={"file": (name, content, declared)},
        data={**data, **(fields or {})},
        headers=auth(role, unit, **headers),
    )


def listed(http: Client, case_id: str, role: str = "reporter", unit: str = VILLAGE) -> Any:
    return ok(http.get(f"{API}/cases/{case_id}/attachments", headers=auth(role, unit)))


def download(
    http: Client,
    case_id: str,
    sha256: str,
    role: str = "reporter",
    unit: str = VILLAGE,
    **params: str,
) -> Any:
    path = f"{API}/cases/{case_id}/attachments/{sha256}"
    return http.get(path, params=params, headers=auth(role, unit))


# --- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", SAMPLES)
def test_each_kind_of_file_goes_in_and_comes_back_as_it_was(
    deployment: Deployment, kind: str
) -> None:
    http = deployment.http
    case_id = new_case(http)
    _, media_type, name = SAMPLES[kind]
    content = sample(kind)

    answer = upload(http, case_id, content, name=name, declared="application/octet-stream")

    case = ok(answer)  # like every command: the case as it left it, and its version
    assert answer.headers["etag"] == f'"{case["version"]}"'
    [attachment] = listed(http, case_id)
    assert attachment["name"] == name
    assert attachment["media_type"] == media_type  # from the bytes, not what the client said
    assert attachment["size"] == len(content)
    assert attachment["kind"] == "photo"
    back = download(http, case_id, attachment["sha256"])
    assert back.status_code == 200, back.text
    assert back.content == content
    assert back.headers["content-type"] == media_type
    assert back.headers["content-disposition"].startswith("attachment;")
    assert back.headers["x-content-type-options"] == "nosniff"


def test_kind_and_position_are_recorded_and_listed(deployment: Deployment) -> None:
    http = deployment.http
    case_id = new_case(http)
    position = {"latitude": "29.2236", "longitude": "103.9467"}  # 犍为县

    ok(upload(http, case_id, sample("jpeg"), kind="evidence", fields=position))
    ok(upload(http, case_id, sample("pdf"), name="协议.pdf", kind="agreement"))

    first, second = listed(http, case_id, role="auditor", unit=COUNTY)
    assert (first["kind"], first["latitude"], first["longitude"]) == ("evidence", 29.2236, 103.9467)
    assert (second["kind"], second["latitude"], second["longitude"]) == ("agreement", None, None)
    assert first["added_by"] == f"reporter-{VILLAGE}"
    assert first["url"] == f"/api/v1/cases/{case_id}/attachments/{first['sha256']}"
    history = ok(http.get(f"{API}/cases/{case_id}/history", headers=auth("reporter", VILLAGE)))
    assert [e["event_type"] for e in history].count("AttachmentAdded") == 2


# --- what is refused stores nothing -----------------------------------------------------------


def test_a_renamed_executable_is_refused_and_nothing_is_stored(deployment: Deployment) -> None:
    http, runtime = deployment.http, deployment.runtime
    case_id = new_case(http)
    before = events_recorded(runtime)

    answer = upload(http, case_id, ELF + MARKER, name="photo.jpg", declared="image/jpeg")

    problem = assert_problem(answer, 422)
    assert problem["field"] == "file"
    assert ACCEPTED in problem["reason"]
    assert events_recorded(runtime) == before
    assert deployment.stored() == 0
    assert listed(http, case_id) == []


def test_a_file_over_the_limit_is_413_and_nothing_is_stored(deployment: Deployment) -> None:
    http, runtime = deployment.http, deployment.runtime
    case_id = new_case(http)
    before = events_recorded(runtime)
    photo = sample("jpeg")
    exactly = photo + b"x" * (MIB - len(photo))  # trailing bytes: still a JPEG by its magic

    over = upload(http, case_id, exactly + b"\x00")

    assert_problem(over, 413)
    assert events_recorded(runtime) == before
    assert deployment.stored() == 0
    ok(upload(http, case_id, exactly))  # the limit itself is allowed
    assert deployment.stored() == 1


def test_an_announced_body_over_the_limit_is_refused_before_it_is_read(
    embedded: Deployment,
) -> None:
    http = embedded.http
    case_id = new_case(http)
    headers = {
        **auth("reporter", VILLAGE),
        "content-type": "multipart/form-data; boundary=x",
        "content-length": str(MIB + FORM_OVERHEAD + 1),
    }

    answer = http.post(f"{API}/cases/{case_id}/attachments", content=b"--x\r\n", headers=headers)

    assert_problem(answer, 413)
    assert embedded.stored() == 0


def raw_form(parts: list[tuple[str, str | None, bytes]], boundary: str = "b0undary") -> bytes:
    body = b""
    for name, filename, value in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        body += value + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


def post_form(http: Client, case_id: str, body: bytes, boundary: str = "b0undary") -> Any:
    headers = {
        **auth("reporter", VILLAGE),
        "content-type": f"multipart/form-data; boundary={boundary}",
    }
    return http.post(f"{API}/cases/{case_id}/attachments", content=body, headers=headers)


PHOTO = ("file", "a.jpg", sample("jpeg"))


@pytest.mark.parametrize(
    ("parts", "status", "field"),
    [
        ([("kind", None, b"photo")], 422, "file"),
        ([PHOTO], 422, "kind"),
        ([PHOTO, ("kind", None, b"selfie")], 422, "kind"),
        ([("file", None, sample("jpeg")), ("kind", None, b"photo")], 422, "file"),  # no name
        ([PHOTO, ("kind", None, b"photo"), ("colour", None, b"red")], 422, "colour"),
        ([PHOTO, ("kind", None, b"photo"), ("kind", None, b"photo")], 400, "kind"),
        ([PHOTO, ("kind", None, b"photo"), ("latitude", None, b"91")], 422, "latitude"),
        ([PHOTO, ("kind", None, b"photo"), ("latitude", None, b"29.5")], 422, "longitude"),
        (
            [
                PHOTO,
                ("kind", None, b"photo"),
                ("latitude", None, b"nan"),
                ("longitude", None, b"1"),
            ],
            422,
            "latitude",
        ),
        (
            [
                PHOTO,
                ("kind", None, b"photo"),
                ("longitude", None, b"180.5"),
                ("latitude", None, b"1"),
            ],
            422,
            "longitude",
        ),
    ],
)
def test_a_bad_form_is_refused_naming_the_field_and_nothing_is_stored(
    embedded: Deployment, parts: list[tuple[str, str | None, bytes]], status: int, field: str
) -> None:
    http = embedded.http
    case_id = new_case(http)
    before = events_recorded(embedded.runtime)

    problem = assert_problem(post_form(http, case_id, raw_form(parts)), status)

    assert problem["field"] == field
    assert events_recorded(embedded.runtime) == before
    assert embedded.stored() == 0


def test_a_body_that_is_not_a_form_is_refused(embedded: Deployment) -> None:
    http = embedded.http
    case_id = new_case(http)
    path = f"{API}/cases/{case_id}/attachments"

    as_json = http.post(path, json={"kind": "photo"}, headers=auth("reporter", VILLAGE))
    truncated = post_form(http, case_id, raw_form([PHOTO, ("kind", None, b"photo")])[:-20])
    empty = post_form(http, case_id, b"")

    assert assert_problem(as_json, 415)["field"] == "Content-Type"
    assert assert_problem(truncated, 400)["field"] == "body"
    assert assert_problem(empty, 400)["field"] == "body"
    assert embedded.stored() == 0


# --- once per content -------------------------------------------------------------------------


def test_the_same_bytes_are_stored_once_and_attached_to_a_case_once(
    deployment: Deployment,
) -> None:
    http, runtime = deployment.http, deployment.runtime
    first, second = new_case(http), new_case(http)
    photo = sample("jpeg")

    version = ok(upload(http, first, photo))["version"]
    events = events_recorded(runtime)
    again = ok(upload(http, first, photo, name="IMG_0001.jpg", kind="evidence"))
    ok(upload(http, second, photo))

    assert again["version"] == version  # the case already had it: nothing recorded
    assert events_recorded(runtime) == events + 1  # only the second case's attachment
    assert [a["name"] for a in listed(http, first)] == ["现场照片.jpg"]  # the first record holds
    assert len(listed(http, second)) == 1
    assert deployment.stored() == 1


def test_an_idempotency_key_replays_the_upload_however_the_form_is_encoded(
    deployment: Deployment,
) -> None:
    http, runtime = deployment.http, deployment.runtime
    case_id = new_case(http)
    # httpx picks a new boundary for each request: the same upload, other bytes on the wire
    first = upload(http, case_id, sample("png"), name="a.png", Idempotency_Key="photo-1")
    events = events_recorded(runtime)
    ok(upload(http, case_id, sample("pdf"), name="b.pdf"))  # the case moves on

    resent = upload(http, case_id, sample("png"), name="a.png", Idempotency_Key="photo-1")
    other = upload(http, case_id, sample("m4a"), name="a.png", Idempotency_Key="photo-1")

    assert (resent.status_code, resent.content) == (first.status_code, first.content)
    assert resent.headers["etag"] == first.headers["etag"]
    assert events_recorded(runtime) == events + 1  # the PDF only
    assert assert_problem(other, 422)["field"] == "Idempotency-Key"
    assert len(listed(http, case_id)) == 2


# --- at rest ----------------------------------------------------------------------------------


def plain_marker_places(deployment: Deployment) -> list[str]:
    """Every file (SQLite) or table row (PostgreSQL) where MARKER lies in plain."""
    if deployment.store.backend == "sqlite":
        return [
            str(path)
            for path in deployment.store.path.rglob("*")
            if path.is_file() and MARKER in path.read_bytes()
        ]
    schema = deployment.store.env["POSTGRES_SCHEMA"]
    found = []
    with psycopg.connect(backends.test_database_url()) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
        ).fetchall()
        assert any(name == TABLE for (name,) in tables), tables
        for (name,) in tables:
            query = sql.SQL("SELECT t::text FROM {} AS t").format(sql.Identifier(schema, name))
            for (row,) in conn.execute(query):
                if MARKER.decode() in row or MARKER.hex() in row:  # bytea shows as hex
                    found.append(f"{name}: {row[:80]}")
    return found


def test_no_attachment_lies_in_plain_in_any_file_or_table(deployment: Deployment) -> None:
    http = deployment.http
    case_id = new_case(http)
    for kind, (_, _, name) in SAMPLES.items():
        ok(upload(http, case_id, sample(kind), name=name))

    assert deployment.stored() == len(SAMPLES)
    assert plain_marker_places(deployment) == []
    # and yet every one of them comes back whole
    for attachment in listed(http, case_id):
        assert MARKER in download(http, case_id, attachment["sha256"]).content


# --- downloads on the record ------------------------------------------------------------------


def test_every_download_is_recorded_and_exported(deployment: Deployment) -> None:
    http = deployment.http
    case_id = new_case(http)
    ok(upload(http, case_id, sample("pdf"), name="调解协议书.pdf", kind="agreement"))
    [attachment] = listed(http, case_id)
    sha256 = attachment["sha256"]

    assert download(http, case_id, sha256).status_code == 200
    assert download(http, case_id, sha256, "auditor", COUNTY, reason="督查抽检").status_code == 200

    export = http.get(f"{API}/cases/{case_id}/audit", headers=auth("auditor", COUNTY))
    assert export.status_code == 200, export.text
    records = [json.loads(line) for line in export.text.splitlines()]
    downloads = [
        (r["actor"], r["payload"]["filter"], r["payload"]["reason"])
        for r in records
        if r.get("event_type") == "AccessRecord.Recorded" and r["payload"]["kind"] == "download"
    ]
    assert downloads == [
        (f"reporter-{VILLAGE}", {"sha256": sha256}, ""),
        (f"auditor-{COUNTY}", {"sha256": sha256}, "督查抽检"),
    ]


def test_listing_a_case_records_no_download(embedded: Deployment) -> None:
    http, runtime = embedded.http, embedded.runtime
    case_id = new_case(http)
    ok(upload(http, case_id, sample("jpeg")))
    before = events_recorded(runtime)

    listed(http, case_id)

    assert events_recorded(runtime) == before


# --- who may ----------------------------------------------------------------------------------


def test_who_may_upload_list_and_download(embedded: Deployment) -> None:
    http = embedded.http
    case_id = new_case(http)
    photo = sample("jpeg")

    # Reporters, mediators and supervisors of the owning subtree attach; auditors never do.
    ok(upload(http, case_id, photo, role="mediator", unit=TOWNSHIP))
    assert_problem(upload(http, case_id, sample("png"), role="auditor", unit=COUNTY), 403)
    assert_problem(upload(http, case_id, sample("png"), unit=NEIGHBOUR_VILLAGE), 403)
    assert_problem(upload(http, case_id, sample("png"), role="supervisor", unit=OTHER_COUNTY), 403)
    assert embedded.stored() == 1

    # Whoever reads the case lists and downloads; nobody else.
    [attachment] = listed(http, case_id, role="auditor", unit=COUNTY)
    assert download(http, case_id, attachment["sha256"], "auditor", COUNTY).content == photo
    outsider = ("supervisor", OTHER_COUNTY)
    assert_problem(http.get(f"{API}/cases/{case_id}/attachments", headers=auth(*outsider)), 403)
    assert_problem(download(http, case_id, attachment["sha256"], *outsider), 403)


def test_an_attachment_is_reached_only_through_its_own_case(embedded: Deployment) -> None:
    """Content is stored once for every case that has it, but a case's readers reach only
    what their case holds: another case's hash is not found through this one."""
    http = embedded.http
    mine, theirs = new_case(http), new_case(http)
    ok(upload(http, theirs, sample("pdf")))
    [attachment] = listed(http, theirs)

    assert_problem(download(http, mine, attachment["sha256"]), 404)
    assert_problem(download(http, mine, "0" * 64), 404)
    assert_problem(download(http, mine, "not-a-hash"), 422)
    assert_problem(upload(http, "5f0c4d1e-0000-4000-8000-000000000000", sample("pdf")), 404)


def test_a_download_names_the_file_safely(embedded: Deployment) -> None:
    http = embedded.http
    case_id = new_case(http)
    ok(upload(http, case_id, sample("jpeg"), name='C:\\Users\\张三\\a"b;c.jpg'))
    [attachment] = listed(http, case_id)

    answer = download(http, case_id, attachment["sha256"])

    assert attachment["name"] == 'a"b;c.jpg'  # the folder an old browser sends is dropped
    assert answer.headers["content-disposition"] == (
        "attachment; filename=\"a_b;c.jpg\"; filename*=UTF-8''a%22b%3Bc.jpg"
    )


# --- settings and contract --------------------------------------------------------------------


def test_the_limit_is_a_setting_in_whole_mib(tmp_path: Path) -> None:
    assert Settings.from_env({}).attachment_max_mib == 20
    settings = Settings.from_env({"FENGQIAO_DATA_DIR": str(tmp_path), ATTACHMENT_MAX_MIB: "64"})
    assert settings.attachment_max_mib == 64
    assert settings.application_env()[ATTACHMENT_MAX_MIB] == "64"
    for bad in ("0", "1.5", "２０", "-1", "257", "lots"):
        with pytest.raises(SettingsError, match=ATTACHMENT_MAX_MIB):
            Settings.from_env({ATTACHMENT_MAX_MIB: bad})


def test_the_documented_kinds_are_the_domains(embedded: Deployment) -> None:
    document = embedded.http.get("/schema/openapi.json").json()
    upload_form = document["paths"]["/api/v1/cases/{case_id}/attachments"]["post"]["requestBody"]
    schema = upload_form["content"]["multipart/form-data"]["schema"]
    assert schema["properties"]["kind"]["enum"] == list(ATTACHMENT_KINDS)
    listing = document["components"]["schemas"]["AttachmentOut"]["properties"]["kind"]
    assert sorted(listing["enum"]) == sorted(ATTACHMENT_KINDS)
