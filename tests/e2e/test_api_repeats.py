"""重复纠纷 over HTTP, on SQLite and PostgreSQL: the third dispute of a family — its ID numbers
typed with spaces and a lower-case x, its phone with +86 and separators — arrives linked to the
first two and suggested one colour higher; the first case's file lists the later ones; the
queue's card says 重复; the statistics count it; and no table of any view, no file under the
data directory, holds a plain ID number or phone of theirs (scanned as
``test_personal_data`` scans).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from api.wiring.settings import encryption_env, new_cipher_key
from tests.support import backends
from tests.support.api import (
    API,
    API_BACKENDS,
    COUNTY,
    NEIGHBOUR_VILLAGE,
    TOWNSHIP,
    VILLAGE,
    Client,
    Store,
    auth,
    ok,
    register,
    serving,
)
from tests.support.world import Clock

FATHER_ID = "51112319800109123X"
MOTHER_ID = "511123199001091234"
FATHER_PHONE = "13800000001"
PLAIN = (FATHER_ID, MOTHER_ID, FATHER_PHONE, "+8613800000001")


@pytest.fixture(params=API_BACKENDS)
def keyed_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A store with a cipher key (events encrypted, parties fingerprinted)."""
    backend = str(request.param)
    with backends.store_env(backend, tmp_path) as settings:
        extra = {"SQLITE_LOCK_TIMEOUT": "10"} if backend == "sqlite" else {}
        yield Store(backend, {**settings, **extra, **encryption_env(new_cipher_key())}, tmp_path)


def parties(*people: tuple[str, str | None, str | None]) -> list[dict[str, Any]]:
    return [
        {"name": name, "role": "applicant", "id_number": id_number, "phone": phone}
        for name, id_number, phone in people
    ]


def test_the_third_dispute_of_a_family_arrives_linked_to_the_first_two(
    keyed_store: Store, clock: Clock
) -> None:
    with serving(keyed_store, clock) as (http, runtime):
        first = register(http, parties=parties(("王大", FATHER_ID, FATHER_PHONE)), category="邻里")
        clock.advance(days=30)
        second = register(
            http, NEIGHBOUR_VILLAGE, parties=parties(("王二", None, "+86 138-0000-0001"))
        )
        clock.advance(days=30)
        third = register(
            http,
            NEIGHBOUR_VILLAGE,
            parties=parties(
                ("王大", "5111 2319 8001 0912 3x", None), ("王母", "511123 199001091234", None)
            ),
            category="婚姻家庭",
        )
        fourth = register(http, parties=parties(("外人", None, "13900000000")), category="婚姻家庭")

        assert [(link["id"], link["matched_by"]) for link in third["repeat_of"]] == [
            (first["id"], ["party"])
        ], "the second shares only a phone the third did not give"
        assert [link["id"] for link in second["repeat_of"]] == [first["id"]]
        assert fourth["repeat_of"] == []
        for case in (second, third):
            assert case["suggested_level"] == "orange"
            assert "repeat" in case["risk_triggers"]
        assert fourth["suggested_level"] == "yellow"

        clock.advance(days=1)
        family = register(
            http,
            NEIGHBOUR_VILLAGE,
            parties=parties(("王二", None, "138 0000 0001"), ("王母", MOTHER_ID, None)),
            category="婚姻家庭",
        )
        assert [(link["id"], link["matched_by"]) for link in family["repeat_of"]] == [
            (first["id"], ["party"]),
            (second["id"], ["party"]),
            (third["id"], ["party", "place"]),
        ]
        assert family["level"] == "orange"
        assert family["repeat_of"][0]["number"] == first["number"]
        assert family["repeat_of"][0]["status"] == "registered"

        timeline = ok(
            http.get(f"{API}/cases/{family['id']}/history", headers=auth("supervisor", COUNTY))
        )
        said = f"重复纠纷：此前案件 {first['number']}、{second['number']}、{third['number']}"
        assert said in timeline[0]["text"]
        read = ok(http.get(f"{API}/cases/{first['id']}", headers=auth("supervisor", COUNTY)))
        assert [link["id"] for link in read["repeated_by"]] == [
            second["id"],
            third["id"],
            family["id"],
        ]
        assert read["repeated_by"][2]["matched_by"] == ["party"]
        assert read["repeat_of"] == []

        queue = ok(http.get(f"{API}/queues/{TOWNSHIP}", headers=auth("supervisor", TOWNSHIP)))
        badges = {item["id"]: item["repeat"] for item in queue["items"]}
        assert badges[family["id"]] is True
        assert badges[first["id"]] is False
        listed = ok(http.get(f"{API}/cases", headers=auth("supervisor", TOWNSHIP)))
        assert {i["id"] for i in listed["items"] if i["repeat"]} == {
            second["id"],
            third["id"],
            family["id"],
        }

        clock.advance(minutes=1)  # the statistics run to now, the last registration before
        stats = ok(
            http.get(
                f"{API}/repeats/statistics",
                params={"unit": TOWNSHIP, "since": "2026-01-01"},
                headers=auth("supervisor", TOWNSHIP),
            )
        )
        assert (stats["total"]["registered"], stats["total"]["repeats"]) == (5, 3)
        by_unit = {f["key"]: (f["registered"], f["repeats"]) for f in stats["by_unit"]}
        assert by_unit == {VILLAGE: (2, 0), NEIGHBOUR_VILLAGE: (3, 3)}
        by_category = {f["key"]: (f["registered"], f["repeats"]) for f in stats["by_category"]}
        assert by_category == {"邻里": (2, 1), "婚姻家庭": (3, 2)}
        refused = http.get(
            f"{API}/repeats/statistics",
            params={"unit": COUNTY},
            headers=auth("supervisor", TOWNSHIP),
        )
        assert refused.status_code == 403

        runtime.saw(runtime.app.recorder.max_notification_id())
        assert _leaks(keyed_store, http) == []


def _leaks(store: Store, http: Client) -> list[str]:
    """The plain ID numbers and phones found at rest: in any file under the data directory
    (SQLite), or any row of any table of the schema (PostgreSQL)."""
    if store.backend == "sqlite":
        blobs = [path.read_bytes() for path in store.path.rglob("*") if path.is_file()]
        assert any(path.name == "views.sqlite3" for path in store.path.rglob("*"))
    else:
        blobs = [_dump_schema(store.env["POSTGRES_SCHEMA"])]
    found = []
    for value in PLAIN:
        raw = value.encode()
        if any(raw in blob or raw.hex().encode() in blob for blob in blobs):
            found.append(value)
    return found


def _dump_schema(schema: str) -> bytes:
    chunks: list[bytes] = []
    with psycopg.connect(backends.test_database_url(), autocommit=True) as conn:
        tables = [
            str(row[0])
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            )
        ]
        assert any(table.startswith("repeats_") for table in tables)
        for table in tables:
            with conn.cursor().copy(f'COPY (SELECT * FROM "{schema}"."{table}") TO STDOUT') as copy:
                chunks += [bytes(data) for data in copy]
    return b"".join(chunks)
