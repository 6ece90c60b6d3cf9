"""Records no view can decode, written straight into the event store through the library's
recorder, as a bad deploy (an event class renamed away) or a damaged row would leave them: the
product needs no hook for a test to make its views fail."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from domain.case import Case

RETIRED_TOPIC = "domain.retired:Gone"  # an event class no longer in the code
UNDECODABLE = ("unknown topic", "corrupt state")


def write_undecodable(app: Application[Any], how: str = "unknown topic") -> int:
    """Records one event the mapper cannot turn back into a domain event; its log position.

    ``unknown topic``: a topic that resolves to nothing. ``corrupt state``: a case event's
    topic over bytes that neither decrypt nor parse."""
    if how == "unknown topic":
        topic, state = RETIRED_TOPIC, b"{}"
    elif how == "corrupt state":
        topic, state = get_topic(Case.Registered), b"\x00 not a stored state"
    else:  # pragma: no cover - a typo in a parametrisation
        raise ValueError(how)
    # the position the insert returns, not the log's head: a server running beside the test
    # (its scheduler, its tree-head signer) may record events of its own a moment later
    ids = app.recorder.insert_events([StoredEvent(uuid4(), 1, topic, state)])
    return ids[0] if ids else app.recorder.max_notification_id() or 0
