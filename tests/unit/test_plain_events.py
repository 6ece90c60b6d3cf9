"""Edge cases of reading records plain (``projections.plain_events``): whatever the full
decoding would read, the plain reading reads the same; whatever it would refuse, the plain
reading refuses with the same error. (Every record of real stores: the integration test.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import Notification

from domain.application import FengqiaoApplication
from projections.audit_export import plain_record, record_of
from projections.plain_events import PlainDecoder

NOTE = "domain.dispute:Dispute.NoteAdded"
AT = {"_type_": "datetime_iso", "_data_": "2026-09-28T02:00:00+00:00"}


@pytest.fixture
def app() -> Iterator[FengqiaoApplication]:
    application = FengqiaoApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield application
    application.close()


def stored(state: dict[str, Any] | bytes, topic: str = NOTE) -> Notification:
    data = state if isinstance(state, bytes) else json.dumps(state).encode()
    return Notification(originator_id=uuid4(), originator_version=3, topic=topic, state=data, id=7)


def both(app: FengqiaoApplication, record: Notification) -> tuple[str, str]:
    full = record_of(record.id, app.mapper.to_domain_event(record), "u")
    decoder = PlainDecoder(app.mapper)
    fast = plain_record(record.id, decoder.decode(record), "u")
    assert decoder.fallbacks == 0
    return json.dumps(full, ensure_ascii=False), json.dumps(fast, ensure_ascii=False)


def note(**extra: Any) -> dict[str, Any]:
    return {"timestamp": AT, "actor": "mediator-1", "role": "mediator", "text": "电话联系", **extra}


def test_a_tagged_value_reads_the_same_with_its_members_in_either_order(
    app: FengqiaoApplication,
) -> None:
    reversed_tag = {"_data_": "00000000000000000000000000000001", "_type_": "uuid_hex"}
    full, fast = both(app, stored(note(extra={"b": reversed_tag, "a": [AT, 1.5, None]})))
    assert full == fast
    assert '"00000000-0000-0000-0000-000000000001"' in fast


@pytest.mark.parametrize(
    "state",
    [
        note(extra={"_data_": 1, "_type_": "no_such_type"}),  # a tag nobody registered
        b'{"timestamp": ',  # cut short
        b"\xff\xfe",  # not UTF-8
    ],
    ids=["unknown tag", "cut short", "not text"],
)
def test_a_record_the_full_decoding_refuses_is_refused_with_the_same_error(
    app: FengqiaoApplication, state: dict[str, Any] | bytes
) -> None:
    record = stored(state)
    with pytest.raises(Exception) as full:  # noqa: PT011 - whatever the library raises
        app.mapper.to_domain_event(record)
    with pytest.raises(type(full.value)):
        PlainDecoder(app.mapper).decode(record)
