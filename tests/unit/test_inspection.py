"""督查回访 with no event store: the monthly draw (its size, its reproducible sample, what it
refuses) and a sampled case (its callback clock at the exact instant, the flag when it is due,
the callback recorded once, rework reopening the case).

T0 is Monday 2026-09-28 10:00 in Shanghai, the week before 国庆 (Oct 1-7; Sat Oct 10 worked).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from domain.actors import SYSTEM, Actor, Role
from domain.case import Case
from domain.case.commands import (
    ActOnDeadline,
    CloseCase,
    PauseCase,
    RecordInspection,
    ResumeCase,
)
from domain.clocks import DeadlineKind, Duration
from domain.errors import CommandNotAllowedError, InvalidInputError, PolicyError
from domain.inspection import (
    InspectionDraw,
    InspectionRules,
    Month,
    derive_sample,
    draw_id,
    rank,
    sample_size,
)
from domain.policy import Policy
from domain.policy_document import policy_from_document, policy_to_document
from domain.status import Flag, ReopenCause, Status
from tests.support.decider import UNITS, clocks, drive, due, later, names, refused, run
from tests.support.world import COUNTY, MEDIATOR, T0, TOWNSHIP, VILLAGE

INSPECTOR = Actor("inspector-1", Role.INSPECTOR, COUNTY)
SEED = "00112233445566778899aabbccddeeff"
AUGUST = Month(2026, 8)
# Ten working days from T0: Sep 29, 30, then Oct 8, 9, 10 (调休), 12-16: the end of Fri Oct 16.
INSPECTION_DUE = datetime(2026, 10, 16, 16, 0, tzinfo=UTC)
# Fifteen working days of rework from a moment on Tue Oct 13: the end of Tue Nov 3.
REWORK_FROM_OCT_13_DUE = datetime(2026, 11, 3, 16, 0, tzinfo=UTC)


def ids(count: int, seed: int = 7) -> list[str]:
    """``count`` case ids, the same ones for the same ``seed``."""
    rng = random.Random(seed)
    return [str(UUID(int=rng.getrandbits(128), version=4)) for _ in range(count)]


def drawn(population: list[str], seed: str = SEED) -> InspectionDraw:
    return InspectionDraw.draw(
        SYSTEM, T0, UNITS, TOWNSHIP, AUGUST, population, seed, InspectionRules()
    )


# --- the draw ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("closed", "drawn_count"), [(45, 5), (12, 3), (30, 3), (31, 4), (2, 2), (0, 0)]
)
def test_a_draw_takes_the_percentage_rounded_up_at_least_the_minimum_at_most_all(
    closed: int, drawn_count: int
) -> None:
    assert sample_size(closed, 10, 3) == drawn_count
    draw = drawn(ids(closed))
    assert len(draw.sample) == drawn_count
    assert set(draw.sample) <= set(draw.population)


def test_the_sample_is_reproducible_from_the_recorded_seed_and_nobody_chose_it() -> None:
    population = ids(45)
    draw = drawn(population)
    event = draw.collect_events()[0]

    assert type(event).__name__ == "Drawn"
    assert event.population == sorted(population)
    assert (event.seed, event.percentage, event.minimum) == (SEED, 10, 3)
    # anyone holding the event derives the same sample, whatever order the population is in
    assert derive_sample(reversed(event.population), event.seed, 5) == event.sample
    assert draw.verified
    assert draw.rederived() == draw.sample
    # it is the five lowest SHA-256 ranks of "seed:id"
    lowest = sorted(population, key=lambda case_id: rank(SEED, case_id))[:5]
    assert event.sample == sorted(lowest)
    # another seed draws another sample
    assert drawn(population, "ffeeddccbbaa99887766554433221100").sample != event.sample


def test_a_draw_of_a_township_month_has_one_id_whoever_asks() -> None:
    assert drawn(ids(3)).id == draw_id(TOWNSHIP, AUGUST) == draw_id(TOWNSHIP, Month(2026, 8))
    assert draw_id(TOWNSHIP, Month(2026, 9)) != draw_id(TOWNSHIP, AUGUST)


def test_a_changed_record_no_longer_verifies() -> None:
    draw = drawn(ids(45))
    draw.sample = sorted([*draw.sample[1:], draw.population[0]])
    assert not draw.verified


@pytest.mark.parametrize(
    ("township", "month", "seed", "field"),
    [
        (VILLAGE, AUGUST, SEED, "township"),
        (COUNTY, AUGUST, SEED, "township"),
        ("511199999", AUGUST, SEED, "township"),
        (TOWNSHIP, Month(2026, 9), SEED, "month"),  # September has not ended at T0
        (TOWNSHIP, AUGUST, "not-hex", "seed"),
        (TOWNSHIP, AUGUST, "abc", "seed"),
    ],
)
def test_a_draw_is_refused_for_what_is_not_a_township_an_unfinished_month_or_a_bad_seed(
    township: str, month: Month, seed: str, field: str
) -> None:
    with pytest.raises(InvalidInputError) as refused_draw:
        InspectionDraw.draw(SYSTEM, T0, UNITS, township, month, ids(5), seed, InspectionRules())
    assert refused_draw.value.field == field


def test_months_are_shanghai_months() -> None:
    october = Month.parse("2026-10")
    assert str(october) == "2026-10"
    assert october.start == datetime(2026, 9, 30, 16, 0, tzinfo=UTC)
    assert october.end == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert Month(2026, 1).previous() == Month(2025, 12)
    assert Month(2026, 12).following() == Month(2027, 1)
    assert Month.of(datetime(2026, 9, 30, 16, 30, tzinfo=UTC)) == october
    for bad in ("2026-13", "2026-1", "26-10", "２０２６-10", "1999-12"):
        with pytest.raises(InvalidInputError):
            Month.parse(bad)


def test_the_policy_reads_and_writes_an_inspection_table_only_when_it_differs() -> None:
    assert "inspection" not in policy_to_document(Policy())
    policy = policy_from_document(
        {"version": "v-insp", "inspection": {"percentage": 20, "minimum": 5, "due": "5wd"}}
    )
    assert policy.inspection == InspectionRules(20, 5, Duration(5, "wd"))
    assert policy_to_document(policy)["inspection"] == {
        "percentage": 20,
        "minimum": 5,
        "due": "5wd",
    }
    for table in ({"percentage": 0}, {"minimum": -1}, {"due": "soon"}, {"sample": 3}):
        with pytest.raises(PolicyError):
            policy_from_document({"version": "v-bad", "inspection": table})


# --- a sampled case -------------------------------------------------------------------------


def sampled(status: str = "closed") -> Case:
    """A case driven to ``status``, then sampled by August's draw a minute later."""
    case = drive(status)
    case.sample_for_inspection(
        SYSTEM, later(case), clocks(), UNITS, draw_id(TOWNSHIP, AUGUST), TOWNSHIP, "2026-08"
    )
    return case


def test_sampling_starts_the_callback_clock_ten_working_days_on() -> None:
    case = drive("closed")
    case.sample_for_inspection(
        SYSTEM, T0 + timedelta(hours=1), clocks(), UNITS, uuid4(), TOWNSHIP, "2026-08"
    )
    (event,) = case.collect_events()

    assert type(event).__name__ == "InspectionSampled"
    assert event.due_at == INSPECTION_DUE
    assert due(case, DeadlineKind.INSPECTION) == INSPECTION_DUE
    assert case.deadlines["inspection"].rule == "10wd"
    assert case.inspection is not None
    assert not case.inspection.recorded
    assert case.status is Status.CLOSED


def test_a_case_outside_the_township_is_not_sampled() -> None:
    case = drive("closed")
    with pytest.raises(InvalidInputError):
        case.sample_for_inspection(SYSTEM, later(case), clocks(), UNITS, uuid4(), "511123002", "")
    assert not case.pending_events


def test_the_clock_is_flagged_at_its_due_instant_and_the_callback_clears_it() -> None:
    case = sampled()
    case.collect_events()
    just_before = INSPECTION_DUE - timedelta(microseconds=1)
    early = run(case, ActOnDeadline(DeadlineKind.INSPECTION, INSPECTION_DUE), SYSTEM, just_before)
    assert early == []  # not due yet: nothing

    at_due = ActOnDeadline(DeadlineKind.INSPECTION, INSPECTION_DUE)
    fired = run(case, at_due, SYSTEM, INSPECTION_DUE)

    assert names(fired) == ["ClockFired"]
    assert Flag.INSPECTION_OVERDUE in case.flags
    events = run(case, RecordInspection(reached=True, satisfied=True), INSPECTOR, later(case))
    assert names(events) == ["InspectionRecorded"]
    assert Flag.INSPECTION_OVERDUE not in case.flags


def test_the_callback_is_recorded_once_without_moving_the_case() -> None:
    case = sampled()
    case.collect_events()

    events = run(
        case,
        RecordInspection(True, satisfied=True, agreement_honoured=True, remarks="已电话回访"),
        INSPECTOR,
        later(case),
    )

    assert names(events) == ["InspectionRecorded"]
    (event,) = events
    assert (event.reached, event.satisfied, event.agreement_honoured) == (True, True, True)
    assert case.inspection is not None
    assert event.due_at == case.inspection.due_at
    assert not event.rework
    assert "inspection" not in case.deadlines
    assert case.status is Status.CLOSED
    assert case.inspection.recorded
    again = refused(case, CommandNotAllowedError, RecordInspection(reached=False), INSPECTOR)
    assert again.detail == "the inspection is recorded already"


def test_a_case_not_sampled_is_not_inspected() -> None:
    case = drive("closed")
    error = refused(case, CommandNotAllowedError, RecordInspection(True, True), INSPECTOR)
    assert error.detail == "the case was not sampled for inspection"


@pytest.mark.parametrize(
    "command",
    [
        RecordInspection(reached=False, satisfied=True),
        RecordInspection(reached=False, agreement_honoured=False),
        RecordInspection(reached=True),
        RecordInspection(reached=True, satisfied=True, remarks="x" * 4001),
    ],
)
def test_what_a_callback_says_must_hang_together(command: RecordInspection) -> None:
    case = sampled()
    case.collect_events()
    refused(case, InvalidInputError, command, INSPECTOR)


def test_rework_reopens_the_closed_case_on_the_rework_clock() -> None:
    case = sampled()
    case.collect_events()
    at = datetime(2026, 10, 13, 2, 0, tzinfo=UTC)

    events = run(
        case,
        RecordInspection(reached=True, satisfied=False, agreement_honoured=False, rework=True),
        INSPECTOR,
        at,
    )

    assert names(events) == ["InspectionRecorded", "Reopened"]
    assert events[1].cause == ReopenCause.INSPECTION
    assert case.status is Status.REOPENED
    assert due(case, DeadlineKind.RESOLVE) == REWORK_FROM_OCT_13_DUE
    assert case.outcome is None


def test_rework_of_a_case_being_worked_again_is_refused_but_the_callback_is_not() -> None:
    case = sampled("reopened")
    case.collect_events()
    rework = RecordInspection(reached=True, satisfied=False, rework=True)

    error = refused(case, CommandNotAllowedError, rework, INSPECTOR)

    assert error.status == "reopened"
    events = run(case, RecordInspection(reached=True, satisfied=False), INSPECTOR, later(case))
    assert names(events) == ["InspectionRecorded"]


def test_the_callback_clock_survives_a_pause_and_a_closing() -> None:
    paused = sampled("signed")
    paused.collect_events()
    at = later(paused)
    run(paused, PauseCase("等待鉴定", at + timedelta(days=5)), MEDIATOR, at)
    assert paused.inspection is not None
    assert due(paused, DeadlineKind.INSPECTION) == paused.inspection.due_at
    run(paused, ResumeCase(), MEDIATOR, later(paused))
    assert due(paused, DeadlineKind.INSPECTION) == paused.inspection.due_at

    closed = sampled("followed_up")
    closed.collect_events()
    run(closed, CloseCase(), MEDIATOR, later(closed))
    assert closed.status is Status.CLOSED
    assert closed.inspection is not None
    assert due(closed, DeadlineKind.INSPECTION) == closed.inspection.due_at
