"""The case file (一案一档): ``GET /cases/{id}/file``, everything recorded on a case, in order.

The file is read from the event log, not from a view: it is complete the moment a command is
answered, and holds every field each event recorded — the registration's parties and reporter,
session notes and attendees, the agreement, referral answers, follow-up and ruling notes,
notes, attachments (with their download URL) and the pending clocks after each event. A view
is read only for each event's log position, which may still be missing for the newest.

Each entry also says who acted (actor, role), when (UTC and Shanghai time) and for which unit:
case events do not record the actor's unit, so the file gives the unit that owned the case at
the time (``owner``), which replaying the case's events gives exactly.

Personal data is masked as on every other answer (``domain.parties``): parties' ID numbers and
phones keep their first 3 and last 4 characters, addresses their first part. The recorded
texts are free text and may repeat them, so in a masked file they are masked there too: a
party's own ID number, phone or address wherever it appears, and anything shaped like a
resident ID number or a mainland phone number. Names stay, as the masking rules keep them.
``?unmask=true&reason=…`` shows the plain data to the assigned mediator or a supervisor of
the owning unit, as the case read does, and is recorded as an access record (``unmask``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any
from uuid import UUID

import anyio.to_thread
from litestar import Request, get
from litestar.params import Parameter

from api.http.openapi import READ_ERRORS, answers, contract
from api.http.permissions import require_read, require_unmask
from api.http.runtime import Runtime
from api.http.schemas import FileEntryOut, FileOut
from domain.actors import Actor
from domain.calendar import SHANGHAI
from domain.case import Case
from domain.clocks import Deadline
from domain.errors import CaseNotFoundError, InvalidInputError
from domain.jurisdiction import Jurisdiction
from domain.parties import Party, mask_address, mask_digits, masked
from projections.history import line, readable_fields

Req = Request[Any, Any, Any]
UNMASKED = ["id_number", "phone", "address"]
# What every event carries and the entry already says (or that only the library needs).
_BASE_FIELDS = frozenset(
    {"originator_id", "originator_version", "originator_topic", "timestamp", "actor", "role"}
)
_UNIT_FIELDS = ("unit", "owner", "from_unit", "to_unit")


@get(
    "/cases/{case_id:uuid}/file",
    responses=answers(
        200, FileOut, "Everything recorded on the case, oldest first (一案一档).", READ_ERRORS
    ),
    operation_class=contract(),
)
async def get_case_file(
    case_id: UUID,
    request: Req,
    runtime: Runtime,
    unmask: bool = False,
    reason: Annotated[str | None, Parameter(max_length=500)] = None,
) -> FileOut:
    """The case file; with ``unmask=true`` and a ``reason``, the assigned mediator or a
    supervisor of the owning unit sees personal data plain (and that is recorded)."""
    actor: Actor = request.user

    def work() -> FileOut:
        case, entries = replay(case_id, runtime.app.repository.event_store.get(case_id))
        units = runtime.app.units()
        require_read(actor, units, case)
        if unmask:
            require_unmask(actor, units, case)
            if not reason or not reason.strip() or "\x00" in reason:
                raise InvalidInputError("reason", "unmasking personal data needs a reason")
            filter_ = {"fields": UNMASKED, "read": "file"}
            runtime.app.record_access(actor, "unmask", case_id, filter_, reason)
        positions = runtime.views.history.positions(case_id)
        mask = None if unmask else TextMask(case.parties)
        return file_out(case, entries, positions, units, mask)

    return await anyio.to_thread.run_sync(work)


# --- reading the log -------------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    """An event of the case with what replaying told about it."""

    event: Any
    owner: str  # the unit owning the case when it was recorded
    status: str  # the case's status after it


def replay(case_id: UUID, events: Iterable[Any]) -> tuple[Case, list[Recorded]]:
    """The case as its events leave it, and each event with the owner before it and the
    status after it: the aggregate's own ``mutate``, one event at a time."""
    case: Case | None = None
    recorded = []
    for event in events:
        if case is None and isinstance(event, Case.Registered):
            owner = event.owner
        elif case is not None and isinstance(event, Case.Event):
            owner = case.owner
        else:
            raise CaseNotFoundError(case_id)  # another aggregate's id
        case = event.mutate(case)
        assert case is not None  # a case event always leaves a case
        recorded.append(Recorded(event, owner, case.status.value))
    if case is None:
        raise CaseNotFoundError(case_id)
    return case, recorded


def file_out(
    case: Case,
    recorded: list[Recorded],
    positions: Mapping[int, int],
    units: Jurisdiction,
    mask: TextMask | None,
) -> FileOut:
    entries = [
        entry_out(case.id, r, positions.get(r.event.originator_version), mask) for r in recorded
    ]
    return FileOut(
        id=str(case.id),
        number=case.number,
        kind=case.kind,
        version=case.version,
        unmasked=mask is None,
        units=unit_names(entries, units),
        entries=entries,
    )


def entry_out(
    case_id: UUID, recorded: Recorded, position: int | None, mask: TextMask | None
) -> FileEntryOut:
    event = recorded.event
    fields = {
        name: plain(value, mask)
        for name, value in sorted(vars(event).items())
        if name not in _BASE_FIELDS
    }
    if isinstance(event, Case.AttachmentAdded):
        fields["url"] = f"/api/v1/cases/{case_id}/attachments/{event.sha256}"
    timeline = readable_fields(event)
    return FileEntryOut(
        version=event.originator_version,
        position=position,
        type=type(event).__name__,
        at=event.timestamp.astimezone(UTC),
        at_local=event.timestamp.astimezone(SHANGHAI).isoformat(timespec="seconds"),
        actor=event.actor,
        role=event.role,
        owner=recorded.owner,
        status=recorded.status,
        fields=fields,
        timeline=timeline,
        text=line(type(event).__name__, timeline),
    )


def unit_names(entries: list[FileEntryOut], units: Jurisdiction) -> dict[str, str]:
    """The name of every unit an entry names (its owner, a location, a move's ends)."""
    codes = {e.owner for e in entries}
    codes.update(
        str(e.fields[name]) for e in entries for name in _UNIT_FIELDS if e.fields.get(name)
    )
    return {code: units.get(code).name for code in sorted(codes) if code in units}


def plain(value: Any, mask: TextMask | None) -> Any:
    """A recorded value as plain JSON, never a Python repr: times in UTC (``Z``), amounts as
    text, enums as their codes, parties and clocks as mappings; masked where ``mask`` is."""
    if isinstance(value, Party):  # masked by the parties' own rules, field by field
        value, mask = (value if mask is None else masked(value)).to_dict(), None
    elif isinstance(value, Deadline):
        value = value.to_dict()
    if isinstance(value, dict):
        return {str(k): plain(v, mask) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [plain(v, mask) for v in value]
    if isinstance(value, str):
        return value if mask is None else mask.text(value)
    return _scalar(value)


def _scalar(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, bool | int | float):
        return value
    raise TypeError(f"no plain form for {type(value).__name__}")


# --- masking free text -----------------------------------------------------------------------

_EDGE_BEFORE = r"(?<![0-9A-Za-z])"
_EDGE_AFTER = r"(?![0-9A-Za-z])"
# A resident ID number; a mainland mobile (+86 and separators allowed); a fixed line with its
# area code. Edges keep them from matching inside longer codes (a SHA-256, a unit code).
_SHAPES = re.compile(
    _EDGE_BEFORE
    + r"(?:[0-9]{17}[0-9Xx]"
    + r"|(?:\+?86[- ]?)?1[3-9][0-9](?:[- ]?[0-9]{4}){2}"
    + r"|0[0-9]{2,3}-[0-9]{7,8})"
    + _EDGE_AFTER
)


class TextMask:
    """Masks personal data in free text by the rules parties are masked by."""

    def __init__(self, parties: Iterable[Party]) -> None:
        exact: dict[str, str] = {}
        for party in parties:
            for value, shown in (
                (party.id_number, mask_digits(party.id_number)),
                (party.phone, mask_digits(party.phone)),
                (party.address, mask_address(party.address)),
            ):
                if value and shown:
                    exact[value] = shown
        # longest first: an address that holds another party's shorter one masks whole
        self._exact = sorted(exact.items(), key=lambda item: -len(item[0]))

    def text(self, value: str) -> str:
        for plain_value, shown in self._exact:
            value = value.replace(plain_value, shown)
        return _SHAPES.sub(lambda found: mask_digits(found.group()) or "", value)


HANDLERS = [get_case_file]
