"""Records read plain from the stored JSON are the records their decoded events make.

An export's records and the Merkle tree's leaves are built from ``PlainDecoder`` (the stored
JSON read straight into plain values); ``record_of`` builds them from the event the library
decodes. A leaf that differed between the two would break every signed head over it, so the
two must agree to the byte on every record: of a demo store (every kind of event the demo
plays, the township's clues, screening and key persons included, encrypted as production
stores them) on each backend, and of the version-1 fixture store, whose events the library
upcasts (those are read the full way, and must say so).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import Notification

from api.cli.main import main
from api.wiring.settings import Settings, new_cipher_key
from domain.application import FengqiaoApplication
from projections.audit_export import plain_record, record_of
from projections.plain_events import PlainDecoder
from tests.support import backends
from tests.support.world import COUNTY, SUPERVISOR

FIXTURES = Path(__file__).parent.parent / "fixtures"
DEMO_CASES = 30
# events with parties (masked), staff (phones masked), deadlines (value objects, one field
# stored only when set), access records (filed by their unit) and the township's front line
SHOWN_DIFFERENTLY = {
    "Dispute.Registered", "Incident.Registered", "Directory.Enrolled", "Dispute.Escalated",
    "Dispute.DeadlineExtended", "AccessRecord.Recorded", "Clue.Recorded", "KeyPerson.Flagged",
    "ScreeningReport.Filed",
}  # fmt: skip


def canonical(record: dict[str, Any]) -> str:
    """The record's text with its members in order (the hash chain's canonical form)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def every_record(app: FengqiaoApplication) -> list[Notification]:
    top = app.recorder.max_notification_id() or 0
    return list(app.recorder.select_notifications(start=1, limit=top + 1))


def mismatches(app: FengqiaoApplication, decoder: PlainDecoder) -> list[tuple[str, str]]:
    found = []
    for notification in every_record(app):
        full = record_of(notification.id, app.mapper.to_domain_event(notification), "u")
        fast = plain_record(notification.id, decoder.decode(notification), "u")
        if canonical(full) != canonical(fast):
            found.append((canonical(full), canonical(fast)))
    return found


@pytest.fixture(params=["sqlite", "postgres"])
def demo_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FengqiaoApplication]:
    environ = {"FENGQIAO_DATA_DIR": str(tmp_path / "data"), "FENGQIAO_CIPHER_KEY": new_cipher_key()}
    with _database(request.param, environ):
        assert main(["demo", "--cases", str(DEMO_CASES)], environ=environ) == 0
        app = FengqiaoApplication(env=Settings.from_env(environ).application_env())
        try:
            a_case = next(n.originator_id for n in every_record(app) if "Registered" in n.topic)
            app.record_access(SUPERVISOR, "unmask", UUID(str(a_case)), {}, "核实当事人身份")
            app.record_access(SUPERVISOR, "export", None, {"unit": COUNTY})
            yield app
        finally:
            app.close()


@contextmanager
def _database(backend: str, environ: dict[str, str]) -> Iterator[None]:
    """A PostgreSQL schema for the demo (dropped afterwards), or nothing on SQLite."""
    if backend != "postgres":
        yield
        return
    with backends.postgres_schema() as schema:
        environ["FENGQIAO_DATABASE_URL"] = f"{backends.test_database_url()}?schema={schema}"
        yield


def test_every_record_of_a_demo_store_reads_plain_as_its_event_flattens(
    demo_store: FengqiaoApplication,
) -> None:
    decoder = PlainDecoder(demo_store.mapper)
    records = every_record(demo_store)
    kinds = {n.topic.rpartition(":")[2] for n in records}
    assert SHOWN_DIFFERENTLY - kinds == set(), "records whose payload the export masks or flattens"
    assert mismatches(demo_store, decoder) == []
    assert decoder.fallbacks == 0, "today's records are read plain, not the full way"


def test_records_stored_by_older_classes_are_read_the_full_way_and_agree(
    tmp_path: Path,
) -> None:
    copy = tmp_path / "events.sqlite3"
    shutil.copy(FIXTURES / "store-v1.sqlite3", copy)
    app = FengqiaoApplication(
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(copy)}
    )
    try:
        decoder = PlainDecoder(app.mapper)
        assert mismatches(app, decoder) == []
        assert decoder.fallbacks > 0, "the version-1 events need the library's upcasts"
    finally:
        app.close()
