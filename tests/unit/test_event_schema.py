"""Events are stored schema: a rename, removal or retype of a stored field, a moved event class,
or a field added without a default fails here before it can strand events already stored.

The golden file is the approved schema (``tests/unit/event_schema.py`` says how to approve a
change). A field may change type only with a higher ``class_version`` and its upcaster.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from eventsourcing.utils import resolve_topic

from tests.unit.event_schema import GOLDEN, current_schema


def approved() -> dict[str, Any]:
    if os.environ.get("FENGQIAO_WRITE_EVENT_SCHEMA"):
        GOLDEN.write_text(json.dumps(current_schema(), ensure_ascii=False, indent=1) + "\n")
    return dict(json.loads(GOLDEN.read_text()))


def schema_problems(golden: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """Every way ``now`` breaks events stored under ``golden``."""
    problems = []
    for topic, before in golden["events"].items():
        after = now["events"].get(topic)
        if after is None:
            problems.append(f"{topic}: gone (register the old topic for a moved class)")
            continue
        upcast = after["class_version"] > before["class_version"]
        if after["class_version"] < before["class_version"]:
            problems.append(f"{topic}: class_version went down")
        for name, field in before["fields"].items():
            new = after["fields"].get(name)
            if new is None and not upcast:
                problems.append(f"{topic}.{name}: removed or renamed")
            elif new is not None and new["type"] != field["type"] and not upcast:
                problems.append(f"{topic}.{name}: {field['type']} became {new['type']}")
        for name, field in after["fields"].items():
            if name not in before["fields"] and not field["default"] and not upcast:
                problems.append(f"{topic}.{name}: added without a default")
    for topic in now["events"].keys() - golden["events"].keys():
        problems.append(f"{topic}: new; approve it into the golden file")
    for name, value in golden["value_objects"].items():
        if now["value_objects"].get(name) != value:
            problems.append(f"value object {name!r}: changed; its stored form must not")
    return problems


def test_every_stored_event_keeps_its_topic_fields_and_types() -> None:
    assert schema_problems(approved(), current_schema()) == []


def test_every_approved_topic_still_resolves_to_a_class() -> None:
    for topic in approved()["events"]:
        resolve_topic(topic)


def test_an_upcast_version_bump_has_its_upcaster() -> None:
    for topic, event in approved()["events"].items():
        cls = resolve_topic(topic)
        for version in range(1, event["class_version"]):
            assert hasattr(cls, f"upcast_v{version}_v{version + 1}"), topic


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda e: e["fields"].pop("reason"), "removed or renamed"),
        (lambda e: e["fields"]["reason"].update(type="int"), "str became int"),
        (
            lambda e: e["fields"].update(extra={"type": "str", "default": False}),
            "without a default",
        ),
    ],
)
def test_the_check_finds_each_kind_of_breaking_change(change: Any, problem: str) -> None:
    now = current_schema()
    change(now["events"]["domain.dispute:Dispute.Rejected"])
    assert any(problem in p for p in schema_problems(approved(), now))


def test_the_check_finds_a_moved_event_class() -> None:
    now = current_schema()
    now["events"]["domain.case:Dispute.Rejected"] = now["events"].pop(
        "domain.dispute:Dispute.Rejected"
    )
    problems = schema_problems(approved(), now)
    assert any("gone" in p for p in problems)
    assert any("new" in p for p in problems)


def test_a_defaulted_new_field_passes() -> None:
    now = current_schema()
    now["events"]["domain.dispute:Dispute.Rejected"]["fields"]["extra"] = {
        "type": "str",
        "default": True,
    }
    assert schema_problems(approved(), now) == []
