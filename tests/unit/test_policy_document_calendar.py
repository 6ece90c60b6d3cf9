"""A policy's calendar facts as a document: ``holidays`` and ``workdays`` (调休)."""

from __future__ import annotations

import tomllib
from datetime import date

import pytest

from domain.calendar import WorkingCalendar
from domain.errors import PolicyError
from domain.policy import Policy
from domain.policy_document import policy_from_document, policy_to_document

TOML = """
version = "leshan-2027.1"
holidays = ["2027-03-03"]
workdays = [2027-03-06, "2027-03-13"]
"""


def test_workdays_read_back_identical_through_the_document() -> None:
    policy = policy_from_document(tomllib.loads(TOML))
    assert policy.workdays == frozenset({date(2027, 3, 6), date(2027, 3, 13)})
    document = policy_to_document(policy)
    assert document["workdays"] == ["2027-03-06", "2027-03-13"]
    assert policy_from_document(document) == policy
    assert policy_to_document(policy_from_document(document)) == document


def test_a_policy_without_workdays_writes_its_document_as_before() -> None:
    """The policy book compares documents: versions adopted before ``workdays`` existed
    must read back identical."""
    document = policy_to_document(Policy(holidays=frozenset({date(2027, 3, 3)})))
    assert "workdays" not in document
    assert document["holidays"] == ["2027-03-03"]


def test_a_day_both_a_holiday_and_a_workday_is_refused_naming_the_key() -> None:
    document = {"version": "v", "holidays": ["2027-03-06"], "workdays": ["2027-03-06"]}
    with pytest.raises(PolicyError) as refused:
        policy_from_document(document)
    assert refused.value.key == "workdays"
    assert "2027-03-06" in str(refused.value)


@pytest.mark.parametrize("value", ["2027-02-30", "next saturday"])
def test_a_workday_that_is_not_a_date_is_refused_naming_the_key(value: str) -> None:
    with pytest.raises(PolicyError) as refused:
        policy_from_document({"version": "v", "workdays": [value]})
    assert refused.value.key == "workdays"


def test_a_make_up_working_day_is_worked_and_a_local_holiday_is_not() -> None:
    calendar = Policy(
        holidays=frozenset({date(2027, 3, 3)}), workdays=frozenset({date(2027, 3, 6)})
    ).calendar()
    assert isinstance(calendar, WorkingCalendar)
    assert not calendar.is_working_day(date(2027, 3, 3))  # a Wednesday
    assert calendar.is_working_day(date(2027, 3, 6))  # a Saturday
    assert not calendar.is_working_day(date(2027, 3, 7))  # the Sunday after
    assert calendar.name == "cn-statutory+1-local+1-workdays"
