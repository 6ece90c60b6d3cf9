"""What the event store holds, read off the code: every stored event's topic, class version and
fields with their types, and the value objects stored inside events.

``tests/unit/event_schema.json`` is this, as it was when last approved. To approve a change
(after following the rules in docs/design.md, "Changing a stored event"):
``FENGQIAO_WRITE_EVENT_SCHEMA=1 pytest tests/unit/test_event_schema.py``.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from eventsourcing.domain import CanMutateAggregate
from eventsourcing.utils import get_topic

from domain.access import AccessRecord
from domain.clue import Clue
from domain.directory import Directory
from domain.dispute import Dispute
from domain.incident import Incident
from domain.inspection import InspectionDraw
from domain.jurisdiction import Jurisdiction
from domain.key_person import KeyPerson
from domain.numbering import CaseNumbers
from domain.operations import Operations
from domain.policy_book import PolicyBook
from domain.receipt import CommandReceipt
from domain.screening_report import ScreeningReport
from domain.transcodings import DeadlineAsDict, PartyAsDict
from domain.tree_head import TreeHead

GOLDEN = Path(__file__).with_name("event_schema.json")
# Every aggregate whose events are stored.
AGGREGATES = (
    Dispute,
    Incident,
    Jurisdiction,
    Operations,
    PolicyBook,
    AccessRecord,
    CommandReceipt,
    CaseNumbers,
    Directory,
    InspectionDraw,
    Clue,
    KeyPerson,
    ScreeningReport,
    TreeHead,
)
VALUE_OBJECTS = (DeadlineAsDict(), PartyAsDict())
# Fields every event has from the library; their meaning is the library's.
_LIBRARY_FIELDS = {"originator_id", "originator_version", "timestamp", "originator_topic"}


def stored_event_classes() -> Iterator[type[Any]]:
    """The event classes nested in each stored aggregate (the library copies inherited ones)."""
    for aggregate in AGGREGATES:
        for name in dir(aggregate):
            value = getattr(aggregate, name)
            is_event = isinstance(value, type) and issubclass(value, CanMutateAggregate)
            if is_event and name != "Event" and value.__qualname__.startswith(aggregate.__name__):
                yield value


def type_name(kind: Any) -> str:
    """A field type as text, stable across Python versions."""
    if isinstance(kind, type) and not typing.get_args(kind):
        module = "" if kind.__module__ == "builtins" else f"{kind.__module__}."
        return module + kind.__qualname__
    return str(kind).replace("typing.", "")


def fields_of(cls: type[Any]) -> dict[str, dict[str, Any]]:
    hints = typing.get_type_hints(cls)
    return {
        f.name: {
            "type": type_name(hints[f.name]),
            "default": f.default is not dataclasses.MISSING
            or f.default_factory is not dataclasses.MISSING,
        }
        for f in dataclasses.fields(cls)
        if f.name not in _LIBRARY_FIELDS
    }


def current_schema() -> dict[str, Any]:
    events = {
        get_topic(cls): {
            "class_version": getattr(cls, "class_version", 1),
            "fields": fields_of(cls),
        }
        for cls in stored_event_classes()
    }
    values = {
        t.name: {"type": get_topic(t.type), "fields": fields_of(t.type)} for t in VALUE_OBJECTS
    }
    return {"events": dict(sorted(events.items())), "value_objects": values}
