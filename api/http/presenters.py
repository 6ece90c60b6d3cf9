"""Domain objects and views as the API's answer types; personal data masked."""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from api.http.schemas import (
    CallerOut,
    CaseOut,
    DeadlineOut,
    HistoryEntryOut,
    InspectionItemOut,
    InspectionOut,
    PartyOut,
    QueueItemOut,
    ReferralInOut,
    RepeatLinkOut,
    SupervisionOut,
    UnitOut,
)
from domain.case import Case
from domain.clocks import DeadlineKind
from domain.jurisdiction import Jurisdiction, Unit
from domain.parties import Party, mask_digits, masked
from projections.db import TRANSIENT_ERRORS
from projections.history import HistoryEntry
from projections.inspections import InspectionItem
from projections.queue import QueueItem
from projections.repeats import Link, statuses
from projections.viewset import ViewSet

log = logging.getLogger(__name__)
# a case's repeat links: the earlier cases it repeats, the later ones repeating it
RepeatLinks = tuple[list[RepeatLinkOut], list[RepeatLinkOut]]


def party_out(party: Party, unmasked: bool = False) -> PartyOut:
    """A party as answered: ID number, phone and address masked unless ``unmasked``."""
    shown = party if unmasked else masked(party)
    return PartyOut(
        name=shown.name,
        role=shown.role.value,
        id_number=shown.id_number,
        phone=shown.phone,
        address=shown.address,
    )


def case_out(
    case: Case, now: datetime, unmasked: bool = False, links: RepeatLinks = ([], [])
) -> CaseOut:
    """The case as answered; ``links``: its repeat links (``repeat_links``), when read."""
    return CaseOut(
        id=str(case.id),
        number=case.number,
        kind=case.kind,
        category=case.category,
        summary=case.summary,
        status=case.status.value,
        level=case.level.value,
        unit=case.unit,
        owner=case.owner,
        tier=case.tier.value,
        assignee=case.assignee,
        awaiting_signature=case.awaiting_signature,
        deadlines=[
            # in UTC like every other time in answers, whatever offset an extension came with
            DeadlineOut(
                kind=d.kind.value, due_at=d.due_at.astimezone(UTC), overdue=d.is_overdue(now)
            )
            for d in sorted(case.deadlines.values(), key=lambda d: d.due_at)
        ],
        policy_version=case.policy_version,
        version=case.version,
        registered_at=case.registered_at,
        updated_at=case.updated_at,
        channel=case.channel,
        people_involved=case.people_involved,
        amount_involved=str(case.amount_involved) if case.amount_involved is not None else None,
        parties=[party_out(p, unmasked) for p in case.parties],
        flags=sorted(case.flags),
        level_cause=str(case.level_cause),
        suggested_level=case.suggested_level.value if case.suggested_level else None,
        risk_triggers=list(case.risk_triggers),
        police_callouts=case.police_callouts,
        caller=caller_out(case.caller, unmasked),
        referral_in=referral_in_out(case),
        supervision=supervision_out(case),
        inspection=inspection_out(case, now),
        repeat_of=links[0],
        repeated_by=links[1],
        key_persons=list(case.key_persons),
        clue_id=case.clue_id or None,
    )


def repeat_links(views: ViewSet, case: Case) -> RepeatLinks:
    """重复纠纷 in both files: the earlier cases the registration recorded (their number and
    outcome now, from the repeat index) and the later cases recorded as repeating this one,
    each with its status from the cases view. A command's answer is not failed by views out
    of reach after it was recorded: the links are then the ones the registration recorded."""
    recorded = {str(entry["case_id"]): entry for entry in case.repeat_of}
    try:
        later = views.repeats.repeated_by(str(case.id))
        known = views.repeats.known(recorded) if recorded else {}
        status = statuses(views.cases, [*recorded, *(link.case_id for link in later)])
    except TRANSIENT_ERRORS:
        log.warning("repeat links of case %s not read: the views are out of reach", case.id)
        later, known, status = [], {}, {}
    earlier = [
        _link_out(known.get(case_id) or _as_recorded(entry), status, entry["matched_by"])
        for case_id, entry in recorded.items()
    ]
    return earlier, [_link_out(link, status, link.matched_by) for link in later]


def _as_recorded(entry: dict[str, Any]) -> Link:
    """An earlier case as the registration recorded it (the index has not read it)."""
    at = datetime.fromisoformat(entry["registered_at"])
    return Link(str(entry["case_id"]), entry["number"], at, tuple(entry["matched_by"]), None)


def _link_out(link: Link, status: dict[str, str], matched_by: Any) -> RepeatLinkOut:
    return RepeatLinkOut(
        id=link.case_id,
        number=link.number,
        registered_at=link.registered_at.astimezone(UTC),
        matched_by=list(matched_by),
        status=status.get(link.case_id),
        outcome=link.outcome,
    )


def caller_out(caller: dict[str, Any] | None, unmasked: bool) -> CallerOut | None:
    if caller is None:
        return None
    phone = caller.get("phone")
    return CallerOut(
        name=caller.get("name"),
        phone=phone if unmasked else mask_digits(phone),
        anonymous=bool(caller.get("anonymous")),
    )


def referral_in_out(case: Case) -> ReferralInOut | None:
    referral = case.referral_in
    if referral is None:
        return None
    due = referral.get("due_at")
    return ReferralInOut(
        agency=referral["agency"],
        reference=referral["reference"],
        due_at=due.astimezone(UTC) if due is not None else None,
        reported_back=case.reported_back,
    )


def supervision_out(case: Case) -> SupervisionOut | None:
    order = case.supervision
    if order is None:
        return None
    return SupervisionOut(
        order=order.number,
        by_unit=order.by_unit,
        instruction=order.text,
        due_at=order.due_at.astimezone(UTC),
        reminders=order.reminders,
    )


def inspection_out(case: Case, now: datetime) -> InspectionOut | None:
    sample = case.inspection
    if sample is None:
        return None
    clock = case.pending(DeadlineKind.INSPECTION)  # moved, if the calendar facts changed
    due = sample.due_at if clock is None or sample.recorded else clock.due_at
    return InspectionOut(
        draw=sample.draw,
        township=sample.township,
        month=sample.month,
        due_at=due.astimezone(UTC),
        overdue=not sample.recorded and now >= due,
        recorded_at=sample.recorded_at.astimezone(UTC) if sample.recorded_at else None,
        reached=sample.reached,
        satisfied=sample.satisfied,
        agreement_honoured=sample.agreement_honoured,
        rework=sample.rework,
    )


def inspection_item_out(item: InspectionItem) -> InspectionItemOut:
    """A sampled case in the inspectors' list: the view's item, its case id as text."""
    fields = asdict(item)
    return InspectionItemOut(case=str(fields.pop("case_id")), **fields)


def queue_item_out(item: QueueItem) -> QueueItemOut:
    return QueueItemOut(
        id=str(item.id),
        number=item.number,
        kind=item.kind,
        level=item.level,
        tier=item.tier,
        owner=item.owner,
        unit=item.unit,
        status=item.status,
        summary=item.summary,
        category=item.category,
        assignee=item.assignee,
        due_at=item.due_at,
        due_kind=item.due_kind,
        overdue=item.overdue,
        seconds_to_breach=item.seconds_to_breach,
        flags=list(item.flags),
        version=item.version,
        awaiting_signature=item.awaiting_signature,
        level_cause=item.level_cause,
        repeat=item.repeat,
        key_person=item.key_person,
    )


def history_out(entry: HistoryEntry) -> HistoryEntryOut:
    return HistoryEntryOut(
        version=entry.version,
        position=entry.position,
        event_type=entry.event_type,
        at=entry.at,
        actor=entry.actor,
        role=entry.role,
        text=entry.text,
        fields=entry.fields,
    )


def unit_out(unit: Unit, units: Jurisdiction) -> UnitOut:
    return UnitOut(
        code=unit.code,
        name=unit.name,
        tier=unit.tier.value,
        parent=unit.parent,
        sample=unit.sample,
        children=list(units.children.get(unit.code, [])),
    )
