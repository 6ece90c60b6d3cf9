"""Events as an audit record shows them, read straight from the stored JSON.

An export and the Merkle tree need each event's state as plain JSON values: times as ISO text,
ids as text, amounts as strings, value objects (deadlines, parties) as key-sorted mappings
(``projections.audit_export``). Decoding the event first and then flattening it again costs
twice: the library's transcoder builds every datetime, UUID and value object, and the export
takes them apart. ``PlainDecoder`` decrypts and decompresses the record and reads its JSON
into those plain values at once, in one pass of the JSON parser.

It reads only what it can read exactly as the event would have been flattened. A record
stored by an older version of its class (the library upcasts those as it decodes) or holding
a value of a transcoding it does not know is decoded the full way (``PlainEvent.of``), so both
paths give the same plain event; ``tests/integration/test_plain_events.py`` holds every record
of a demo store and of the version-1 fixture store to that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, dataclass, fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from json import JSONDecoder
from operator import itemgetter
from typing import Any
from uuid import UUID

from eventsourcing.persistence import JSONTranscoder, Mapper, Notification
from eventsourcing.utils import resolve_topic

_PLAIN_TYPES = frozenset({str, int, float, bool, type(None)})  # exactly these, not subclasses
_ENVELOPE = ("originator_id", "originator_version")  # kept beside the state, not in it


class NotPlainError(Exception):
    """The record needs the full decoding: an older class version or an unknown value type."""


@dataclass(frozen=True, slots=True)
class PlainEvent:
    """An event as plain data: its class, its aggregate and version, its time, and the rest
    of its state (``timestamp``, ``actor`` and ``role`` included) as plain JSON values with
    every mapping's keys sorted."""

    kind: type
    originator_id: str
    originator_version: int
    timestamp: datetime
    state: dict[str, Any]

    @classmethod
    def of(cls, event: Any) -> PlainEvent:
        """The plain form of a decoded event (the full way)."""
        state = {k: v for k, v in vars(event).items() if k not in _ENVELOPE}
        return cls(
            type(event),
            str(event.originator_id),
            event.originator_version,
            event.timestamp,
            plain(state),
        )


def plain(value: Any) -> Any:
    """JSON-ready: times as ISO text, amounts as strings, enums as their values, value
    objects (deadlines, parties) as the mappings they are stored as, keys sorted.

    Plain values (most of a payload) are returned at the first test; a value object's fields
    are read directly (``dataclasses.asdict`` deep-copies every value first, which was a
    tenth of an export's time)."""
    kind = type(value)
    if kind in _PLAIN_TYPES:
        return value
    if kind is dict:
        return {str(k): plain(v) for k, v in sorted(value.items())}
    if kind is list or kind is tuple:
        return [plain(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return plain({field.name: getattr(value, field.name) for field in fields(value)})
    return _converted(value)


def _converted(value: Any) -> Any:
    """``plain`` of what is not a plain value, a list, a dict or a value object of its own
    class: subclasses of those, and the scalars JSON lacks."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


def _uuid_text(data: str) -> str:
    return str(UUID(data))


def _same(data: Any) -> Any:
    return data


# how the library's own transcodings' data reads as plain values (``plain`` of what they decode)
_LIBRARY_VALUES: dict[str, Callable[[Any], Any]] = {
    "uuid_hex": _uuid_text,  # stored as 32 hex digits; shown with hyphens
    "decimal_str": _same,  # str(Decimal(text)) is the text itself
    "datetime_iso": _same,  # fromisoformat(text).isoformat() is the text itself
}


def _value_object(kind: type) -> Callable[[Any], Any]:
    """A value object's stored mapping as ``plain`` shows the object: every field, one the
    mapping leaves out at its default (a deadline never extended stores no
    ``extended_from``), keys sorted. Only for value objects whose stored mapping is their
    fields (``domain.transcodings``)."""
    every = frozenset(f.name for f in fields(kind))
    defaults = {f.name: plain(f.default) for f in fields(kind) if f.default is not MISSING}

    def read(data: Any) -> Any:
        if type(data) is not dict or not data.keys() <= every:
            raise NotPlainError(f"{kind.__name__} stored as {data!r}")
        if len(data) == len(every):
            return data  # its keys were sorted as it was parsed
        missing = every - data.keys()
        if not missing <= defaults.keys():
            raise NotPlainError(f"{kind.__name__} without {sorted(missing - defaults.keys())}")
        return dict(sorted({**data, **{name: defaults[name] for name in missing}}.items()))

    return read


class PlainDecoder:
    """Reads stored records as ``PlainEvent``s: decrypted, decompressed, their JSON parsed
    into plain values in one pass (falling back to the mapper where that cannot be exact)."""

    def __init__(self, mapper: Mapper[Any]) -> None:
        self.mapper = mapper
        self.values = dict(_LIBRARY_VALUES)
        transcoder = mapper.transcoder
        if isinstance(transcoder, JSONTranscoder):
            for name, transcoding in transcoder.names.items():
                if name not in self.values and is_dataclass(transcoding.type):
                    self.values[name] = _value_object(transcoding.type)
        self.parser = JSONDecoder(object_pairs_hook=self._mapping)
        self.fallbacks = 0  # records decoded the full way (read by tests and benchmarks)

    def decode(self, notification: Notification) -> PlainEvent:
        """The record as a plain event; the mapper's errors when it cannot be decoded."""
        try:
            return self._read(notification)
        except NotPlainError:
            self.fallbacks += 1
            return PlainEvent.of(self.mapper.to_domain_event(notification))

    def _read(self, notification: Notification) -> PlainEvent:
        kind = resolve_topic(notification.topic)  # the library keeps the topics it resolved
        try:
            state = self.parser.decode(self._text(notification))
        except NotPlainError:
            raise
        except Exception:  # a damaged record: the mapper decodes it again and says what is wrong
            raise NotPlainError(notification.topic) from None
        if type(state) is not dict:
            raise NotPlainError(f"{notification.topic} stored as {type(state).__name__}")
        if state.pop("class_version", 1) != getattr(kind, "class_version", 1):
            raise NotPlainError(f"{notification.topic} stored at an older class version")
        timestamp = state.get("timestamp")
        if type(timestamp) is not str:
            raise NotPlainError(f"{notification.topic} without a timestamp")
        return PlainEvent(
            kind,
            str(notification.originator_id),
            notification.originator_version,
            datetime.fromisoformat(timestamp),
            state,
        )

    def _text(self, notification: Notification) -> str:
        data = bytes(notification.state)
        if self.mapper.cipher:
            data = self.mapper.cipher.decrypt(data)
        if self.mapper.compressor:
            data = self.mapper.compressor.decompress(data)
        return data.decode("utf-8")

    def _mapping(self, pairs: list[tuple[str, Any]]) -> Any:
        """One JSON object: a transcoded value as its plain form, any other with sorted keys.
        (The library's decoder reads any two-member object of ``_type_`` and ``_data_`` as a
        transcoded value, so this does too.)"""
        if len(pairs) == 2 and {pairs[0][0], pairs[1][0]} == _TAGGED:
            found = dict(pairs)
            read = self.values.get(found["_type_"])
            if read is None:
                raise NotPlainError(f"no plain form of {found['_type_']!r}")
            return read(found["_data_"])
        pairs.sort(key=_first)
        return dict(pairs)


_first = itemgetter(0)
_TAGGED = {"_type_", "_data_"}  # a transcoded value's two members, in either order
