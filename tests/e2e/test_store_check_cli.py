"""`fengqiao audit check` as an operator runs it, on SQLite and PostgreSQL: 0 on an untouched
store, 1 naming each row changed by hand; and `/ready`'s verdict on a failed check."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest

from api.cli.main import main
from api.http.routes.health import Readings, _verdict
from api.wiring.settings import new_cipher_key, new_signing_key
from tests.support import backends


@dataclass
class Store:
    environ: dict[str, str]
    backend: str
    schema: str = ""

    def tamper(self, statement: str, position: int) -> None:
        """``statement`` with ``{t}`` the event table and ``{p}`` its position column."""
        if self.backend == "sqlite":
            path = Path(self.environ["FENGQIAO_DATA_DIR"]) / "events.sqlite3"
            with sqlite3.connect(path) as conn:
                conn.execute(statement.format(t="stored_events", p="rowid"), (position,))
            return
        table = f'"{self.schema}"."fengqiao_events"'
        with psycopg.connect(backends.test_database_url()) as conn:
            conn.execute(
                statement.format(t=table, p="notification_id").replace("?", "%s"), (position,)
            )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        found = Store({"FENGQIAO_DATA_DIR": str(tmp_path / "data")}, "sqlite")
        assert main(["demo", "--cases", "0"], environ=found.environ) == 0
        yield found
        return
    with backends.postgres_schema() as schema:
        environ = {
            "FENGQIAO_DATABASE_URL": f"{backends.test_database_url()}?schema={schema}",
            "FENGQIAO_CIPHER_KEY": new_cipher_key(),
            "FENGQIAO_SIGNING_KEY": new_signing_key(),
        }
        assert main(["demo", "--cases", "0"], environ=environ) == 0
        yield Store(environ, "postgres", schema)


def audit_check(store: Store, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    status = main(["audit", "check"], environ=store.environ)
    return status, capsys.readouterr().out


def test_an_untouched_store_passes_and_a_changed_one_is_named(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = audit_check(store, capsys)
    assert status == 0
    checked = int(out.split()[1])
    assert out == f"checked {checked} events\n"
    assert checked > 10

    store.tamper("UPDATE {t} SET state = substr(state, 2) WHERE {p} = ?", 4)
    store.tamper("DELETE FROM {t} WHERE {p} = ?", 9)
    status, out = audit_check(store, capsys)

    assert status == 1
    assert out.splitlines() == [
        "store check failed: 2 rows differ from the tree",
        "  position 4: edited",
        "  position 9: deleted",
    ]


def test_ready_reports_a_failed_store_check() -> None:
    runtime: Any = SimpleNamespace(sweeps=None, sweep_every=None)
    now = datetime(2026, 9, 28, tzinfo=UTC)
    failed = Readings(
        {"merkle": 0}, {}, None, None, "2026-09-28T03:00:00+00:00: position 4: edited"
    )

    verdict = _verdict(runtime, failed, now)

    assert verdict.status == "store check failed"
    assert verdict.store_check is not None
    assert "position 4: edited" in verdict.store_check
    assert _verdict(runtime, Readings({"merkle": 0}, {}, None, None), now).status == "ready"
