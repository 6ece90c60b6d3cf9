"""Every event a case can record is accounted for by every view, the timeline and the dashboard.

The views dispatch on event classes. A new event class added to the aggregate and forgotten
in a view would be skipped silently (a status never changing, a count never made), so each
view declares what it handles and what it ignores (``View.handles``/``View.ignores``) and this
suite fails for any case event class in neither; likewise for a history reading
(``projections.history.TEXT``: its fields and Chinese line), a dashboard label (the ``event``
names in the dashboard's ``i18n.js``) and a dashboard line in each language (its ``lines``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from domain.case import STATUS_AFTER, Case, CaseState
from domain.dispute import Dispute
from domain.incident import Incident
from domain.status import Status
from projections.engine import View
from projections.events import CLOCK_EVENTS, lookup
from projections.history import TEXT, describe, readable_fields
from projections.viewset import VIEW_CLASSES

I18N = Path(__file__).resolve().parents[2] / "api" / "http" / "web" / "static" / "i18n.js"

# The aggregates' base classes of events, not events a case records.
_BASES = (Case.Event, Case.ClocksChanged, Case.Created)


def case_event_classes(aggregates: Iterable[type] = (Dispute, Incident)) -> list[type]:
    """Every event class a case can record: the aggregates' nested ``Case.Event`` classes
    (each aggregate has its own copy of each), bar the bases."""
    found: dict[type, None] = {}
    for aggregate in aggregates:
        for name in dir(aggregate):
            value = getattr(aggregate, name)
            if not (isinstance(value, type) and issubclass(value, Case.Event)):
                continue
            if any(issubclass(value, b) and value.__name__ == b.__name__ for b in _BASES):
                continue
            found[value] = None
    return list(found)


def dashboard_labels() -> set[str]:
    """The event types the dashboard has a (Chinese) label for."""
    source = I18N.read_text(encoding="utf-8")
    zh = source[source.index("const names = {") :]
    block = re.search(r"\n    event: \{(.*?)\n    \},", zh, re.DOTALL)
    assert block is not None, "no event label table in i18n.js"
    return set(re.findall(r"^\s+(\w+):", block.group(1), re.MULTILINE))


def dashboard_lines() -> dict[str, set[str]]:
    """The event types the dashboard has a timeline line for, per language."""
    source = I18N.read_text(encoding="utf-8")
    table = source[source.index("const lines = {") :]
    found = {}
    for language in ("zh", "en"):
        block = re.search(rf"\n  {language}: \{{(.*?)\n  \}},", table, re.DOTALL)
        assert block is not None, f"no {language} timeline lines in i18n.js"
        keys = re.findall(r'^\s+"?([\w.]+)"?:', block.group(1), re.MULTILINE)
        found[language] = {key.split(".")[0] for key in keys}
    return found


def unaccounted(view: type[View], events: Iterable[type]) -> list[str]:
    """The event classes ``view`` neither handles nor declares ignored."""
    declared = (*view.handles, *view.ignores)
    return [cls.__qualname__ for cls in events if not issubclass(cls, declared)]


def contradicted(
    handles: tuple[type, ...], ignores: tuple[type, ...], events: Iterable[type]
) -> list[str]:
    """The event classes a view declares both handled and ignored."""
    return [
        cls.__qualname__ for cls in events if issubclass(cls, handles) and issubclass(cls, ignores)
    ]


def carries_clocks(event_type: type) -> bool:
    return any("deadlines" in getattr(cls, "__annotations__", {}) for cls in event_type.__mro__)


def gaps(events: Iterable[type]) -> dict[str, list[str]]:
    """Where each event class is missing: a view, the history text, the dashboard labels, or
    the list of events carrying clocks (in it exactly when it has a ``deadlines`` field)."""
    events = list(events)
    labels = dashboard_labels()
    found = {
        f"view {name}": unaccounted(view, events) + contradicted(view.handles, view.ignores, events)
        for name, view in VIEW_CLASSES.items()
    }
    found["clock events"] = [
        c.__qualname__ for c in events if carries_clocks(c) != issubclass(c, CLOCK_EVENTS)
    ]
    found["history text"] = [c.__qualname__ for c in events if lookup(TEXT, c) is None]
    found["dashboard label"] = [c.__qualname__ for c in events if c.__name__ not in labels]
    for language, rendered in dashboard_lines().items():
        found[f"dashboard line ({language})"] = [
            c.__qualname__ for c in events if c.__name__ not in rendered
        ]
    return {where: missing for where, missing in found.items() if missing}


def test_the_enumeration_finds_the_events_of_both_kinds() -> None:
    events = case_event_classes()
    names = {cls.__qualname__ for cls in events}
    assert {"Dispute.Signed", "Incident.Signed", "Dispute.Registered"} <= names
    assert "Dispute.JudicialConfirmationRequested" in names
    assert "Incident.JudicialConfirmationRequested" not in names
    assert not names & {"Dispute.Event", "Dispute.ClocksChanged", "Dispute.Created"}
    assert len(events) >= 50


def test_every_case_event_is_handled_or_ignored_rendered_and_labelled() -> None:
    assert gaps(case_event_classes()) == {}


def test_a_new_event_class_left_unhandled_is_reported_everywhere() -> None:
    class Withdrawn(Dispute.Event):  # built here: the domain stays as it is
        reason: str

    reported = gaps([Withdrawn])

    assert set(reported) == {
        "view cases",
        "view deadlines",
        "view statistics",
        "view ledger",
        "view notifications",
        "view repeats",
        "history text",
        "dashboard label",
        "dashboard line (zh)",
        "dashboard line (en)",
    }  # the history view records every case event; its text table is what lacks it
    assert all(missing == [Withdrawn.__qualname__] for missing in reported.values())


def test_a_new_event_carrying_clocks_must_be_one_of_the_clock_events() -> None:
    class Withdrawn(Dispute.Event):
        reason: str
        deadlines: dict[str, Any]

    class Suspended(CaseState.ClocksChanged):
        reason: str

    assert "clock events" in gaps([Withdrawn])
    assert "clock events" not in gaps([Suspended, Dispute.Signed, Dispute.Assigned])


def test_an_event_declared_both_handled_and_ignored_is_reported() -> None:
    handles, ignores = (Case.Signed,), (Case.Signed,)

    assert contradicted(handles, ignores, [Dispute.Signed]) == ["Dispute.Signed"]


@pytest.mark.parametrize("aggregate", [Dispute, Incident])
def test_stored_events_find_the_case_classes_entries(aggregate: type[Case]) -> None:
    """Decoded events are the kind's copies; the tables are keyed by ``Case``'s classes."""
    assert lookup(STATUS_AFTER, aggregate.Resolved) is Status.RESOLVED
    assert lookup(STATUS_AFTER, aggregate.Signed) is None
    assert lookup(TEXT, aggregate.Closed) == TEXT[Case.Closed]


def test_an_event_type_without_a_text_falls_back_to_its_name() -> None:
    class Withdrawn(Dispute.Event):
        reason: str

    event = Withdrawn.__new__(Withdrawn)
    assert describe(event) == "Withdrawn"
    assert readable_fields(event) == {}
