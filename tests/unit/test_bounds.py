"""The domain's bounds, with no store: every time a command carries lies in a range the views
can hold and the service can mean, every list has a sane length, and digits are ASCII digits.

A value out of bounds is refused with ``InvalidInputError`` naming the field and the limit, and
records nothing, whoever sends the command (these run the aggregate as the application does).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.bounds import (
    CLOCK_SKEW,
    EARLIEST,
    LATEST,
    MAX_AHEAD,
    MAX_ATTENDEES,
    MAX_EXTENSION,
    MAX_TRIGGERS,
    ahead,
    at_most,
    decision_time,
    in_the_past,
)
from domain.case.commands import (
    AddNote,
    AssessCase,
    ExtendDeadline,
    RecordMediationSession,
    SignCase,
)
from domain.dispute import Dispute
from domain.errors import InvalidInputError
from domain.levels import Level
from domain.parties import Party
from domain.status import PartyRole
from tests.support.builders import registration
from tests.support.decider import (
    YELLOW_RESOLVE_DUE,
    drive,
    names,
    refused,
    registered,
    run,
)
from tests.support.world import MEDIATOR, SUPERVISOR, T0

# In UTC these leave datetime's range: stored, one stopped every read model.
POISON = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(-timedelta(hours=14)))
YEAR_ONE = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))
LAST_OFFSET = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(-timedelta(hours=23, minutes=59)))
STEP = timedelta(hours=1)
BEFORE_2000 = EARLIEST - timedelta(seconds=1)
NAIVE = datetime(2026, 9, 27, 20, 0)  # noqa: DTZ001 - the point: no time zone


def refused_registration(at: datetime = T0, **overrides: object) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as caught:
        registered(registration(**overrides), at=at)
    return caught.value


# --- registration -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("occurred_at", "limit"),
    [
        (POISON, "now"),
        (YEAR_ONE, "2000-01-01"),
        (LAST_OFFSET, "now"),
        (BEFORE_2000, "2000-01-01"),
        (T0 + CLOCK_SKEW + timedelta(seconds=1), "5 minutes"),
        (NAIVE, "time zone"),
    ],
)
def test_a_registration_refuses_an_occurrence_out_of_range(
    occurred_at: datetime, limit: str
) -> None:
    error = refused_registration(occurred_at=occurred_at)

    assert error.field == "occurred_at"
    assert limit in error.reason


@pytest.mark.parametrize("occurred_at", [EARLIEST, T0 - timedelta(days=400), T0 + CLOCK_SKEW])
def test_a_registration_keeps_an_occurrence_in_range(occurred_at: datetime) -> None:
    assert registered(registration(occurred_at=occurred_at)).occurred_at == occurred_at


@pytest.mark.parametrize("at", [BEFORE_2000, LATEST, NAIVE])
def test_a_registration_refuses_a_clock_reading_out_of_range(at: datetime) -> None:
    assert refused_registration(at=at).field == "at"


def test_party_numbers_are_ascii_digits() -> None:
    full_width = Party(
        "张三", PartyRole.APPLICANT, id_number="５１１１２３１９９００１０１１２３４"
    )
    arabic_indic = Party("张三", PartyRole.APPLICANT, phone="١٣٩٨٧٦٥٠٣٢١")

    assert refused_registration(parties=(full_width,)).field == "parties[0].id_number"
    assert refused_registration(parties=(arabic_indic,)).field == "parties[0].phone"


# --- the time of any command ------------------------------------------------------------------


@pytest.mark.parametrize(("at", "limit"), [(LATEST, "2100-01-01"), (NAIVE, "time zone")])
def test_a_command_refuses_a_clock_reading_out_of_range(at: datetime, limit: str) -> None:
    case = drive("signed")

    error = refused(case, InvalidInputError, AddNote("备注"), MEDIATOR, at)

    assert (error.field, limit in error.reason) == ("at", True)


# --- extensions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("until", "limit"),
    [
        (POISON, "5 years"),
        (LAST_OFFSET, "5 years"),
        (YEAR_ONE, "2000-01-01"),
        (BEFORE_2000, "2000-01-01"),
        (YELLOW_RESOLVE_DUE + MAX_EXTENSION + timedelta(seconds=1), "90 days"),
        (NAIVE, "time zone"),
    ],
)
def test_an_extension_out_of_range_is_refused_naming_the_limit(until: datetime, limit: str) -> None:
    case = drive("in_mediation")

    error = refused(case, InvalidInputError, ExtendDeadline(until, "需现场勘验"), SUPERVISOR)

    assert error.field == "until"
    assert limit in error.reason


def test_extensions_of_one_clock_add_up_to_the_policy_total() -> None:
    """One step may ask for up to 90 days (what the views hold), but every extension of a
    clock together adds at most the policy's total (30 days by default) to its first due."""
    case = drive("in_mediation")
    first = YELLOW_RESOLVE_DUE
    at = T0 + timedelta(hours=1)

    assert names(run(case, ExtendDeadline(first + timedelta(days=20), "需勘验"), SUPERVISOR, at))
    longest = first + timedelta(days=30)
    events = run(case, ExtendDeadline(longest, "再需勘验"), SUPERVISOR, at + timedelta(hours=1))
    assert (names(events), events[0].until) == (["DeadlineExtended"], longest)
    assert case.deadlines["resolve"].extended_from == first

    beyond = ExtendDeadline(longest + timedelta(seconds=1), "还需勘验")
    error = refused(case, InvalidInputError, beyond, SUPERVISOR, at + timedelta(hours=2))
    assert (error.field, error.rule) == ("until", "extension_total")
    assert error.limits["latest"] == longest
    assert timedelta(days=30) < MAX_EXTENSION


# --- mediation sessions and assessments ---------------------------------------------------


@pytest.mark.parametrize(
    ("held_at", "limit"),
    [(YEAR_ONE, "2000-01-01"), (BEFORE_2000, "2000-01-01"), (POISON, "now"), (NAIVE, "time zone")],
)
def test_a_session_held_out_of_range_is_refused(held_at: datetime, limit: str) -> None:
    case = drive("signed")

    error = refused(case, InvalidInputError, RecordMediationSession(held_at, "调解"), MEDIATOR)

    assert (error.field, limit in error.reason) == ("held_at", True)


def test_a_session_out_of_range_is_refused_whatever_the_status() -> None:
    case = drive("registered")  # not yet signed for: the status would refuse it too

    session = RecordMediationSession(YEAR_ONE, "调解")

    assert refused(case, InvalidInputError, session, MEDIATOR).field == "held_at"


def test_a_session_has_at_most_fifty_attendees() -> None:
    case = drive("signed")
    at = T0 + timedelta(hours=1)
    too_many = RecordMediationSession(at, "调解", [f"村民{i}" for i in range(MAX_ATTENDEES + 1)])

    error = refused(case, InvalidInputError, too_many, MEDIATOR, at)

    assert (error.field, "at most 50" in error.reason) == ("attendees", True)
    full = RecordMediationSession(at, "调解", [f"村民{i}" for i in range(MAX_ATTENDEES)])
    assert names(run(case, full, MEDIATOR, at)) == ["MediationSessionRecorded"]


def test_an_assessment_has_at_most_twenty_triggers() -> None:
    case = drive("signed")
    triggers = [f"触发{i}" for i in range(MAX_TRIGGERS + 1)]

    error = refused(case, InvalidInputError, AssessCase(Level.YELLOW, triggers, "研判"), MEDIATOR)

    assert (error.field, "at most 20" in error.reason) == ("triggers", True)
    events = run(case, AssessCase(Level.YELLOW, triggers[:-1], "研判"), MEDIATOR, T0 + STEP)
    assert names(events) == ["Assessed"]


# --- the bounds themselves ----------------------------------------------------------------


def test_the_limits_are_inclusive() -> None:
    assert decision_time(EARLIEST) == EARLIEST
    assert in_the_past("occurred_at", T0 + CLOCK_SKEW, T0) == T0 + CLOCK_SKEW
    assert ahead("until", T0 + MAX_AHEAD, T0) == T0 + MAX_AHEAD
    assert list(at_most("triggers", ["a"] * MAX_TRIGGERS, MAX_TRIGGERS)) == ["a"] * MAX_TRIGGERS


def test_a_due_time_may_be_at_most_five_years_ahead() -> None:
    """The 90-day cap on an extension keeps most far times out; this holds whatever the clock
    a time is set on."""
    with pytest.raises(InvalidInputError) as caught:
        ahead("until", T0 + MAX_AHEAD + timedelta(seconds=1), T0)

    assert (caught.value.field, "5 years" in caught.value.reason) == ("until", True)


def test_a_case_registered_at_the_earliest_time_signs() -> None:
    case = registered(registration(occurred_at=EARLIEST), Dispute, at=EARLIEST)

    assert names(run(case, SignCase(), MEDIATOR, EARLIEST + STEP)) == ["Signed"]


def test_times_compare_without_leaving_datetimes_range() -> None:
    """Comparing never converts to UTC, which is what overflowed in the views."""
    for value in (POISON, YEAR_ONE, LAST_OFFSET):
        with pytest.raises(InvalidInputError):
            ahead("until", value, datetime(2026, 1, 1, tzinfo=UTC))
