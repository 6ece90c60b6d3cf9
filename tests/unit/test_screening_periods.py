"""排查 periods: which period a moment falls in (Beijing time) and when its reports are due."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.calendar import SHANGHAI
from domain.errors import InvalidInputError, PolicyError
from domain.policy import Policy
from domain.policy_document import policy_from_document, policy_to_document
from domain.screening import Period, ScreeningRules

MONTHLY = ScreeningRules()
QUARTERLY = ScreeningRules("quarterly", 10)


def test_a_month_begins_and_its_reports_fall_due_in_beijing_time() -> None:
    # 2026-11-30 16:00 UTC is already 1 December in Beijing
    assert MONTHLY.period_of(datetime(2026, 11, 30, 16, tzinfo=UTC)).id == "2026-12"
    assert MONTHLY.period_of(datetime(2026, 11, 30, 15, 59, tzinfo=UTC)).id == "2026-11"
    december = MONTHLY.parse("2026-12")
    assert MONTHLY.due_at(december) == datetime(2026, 12, 26, tzinfo=SHANGHAI)
    assert december.end == datetime(2027, 1, 1, tzinfo=SHANGHAI)
    assert december.previous().id == "2026-11"
    assert MONTHLY.parse("2027-01").previous().id == "2026-12"


def test_a_due_day_past_a_short_month_is_its_last_day() -> None:
    rules = ScreeningRules(due_day=31)
    assert rules.due_at(rules.parse("2027-02")) == datetime(2027, 3, 1, tzinfo=SHANGHAI)


def test_a_quarter_is_due_in_its_last_month() -> None:
    q4 = QUARTERLY.period_of(datetime(2026, 10, 5, tzinfo=SHANGHAI))
    assert q4 == Period(2026, 10, 3)
    assert q4.id == "2026-Q4"
    assert QUARTERLY.parse("2026-Q4") == q4
    assert QUARTERLY.due_at(q4) == datetime(2026, 12, 11, tzinfo=SHANGHAI)
    assert q4.end == datetime(2027, 1, 1, tzinfo=SHANGHAI)
    assert q4.previous().id == "2026-Q3"


@pytest.mark.parametrize("text", ["2026-13", "2026-Q4", "26-12", "", "1999-12"])
def test_a_month_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(InvalidInputError):
        MONTHLY.parse(text)


def test_the_policy_document_carries_screening_and_the_new_clocks() -> None:
    document = {
        "version": "p-15",
        "screening": {"period": "quarterly", "due_day": 10},
        "clues": {"triage": "2wd"},
        "key_persons": {"visit": "14d"},
        "repeats": {"window": "90d"},
    }
    policy = policy_from_document(document)
    assert policy.screening == QUARTERLY
    assert (str(policy.clue_triage), str(policy.key_person_visit)) == ("2wd", "14d")
    assert str(policy.repeat_window) == "90d"
    assert policy_from_document(policy_to_document(policy)) == policy
    assert "screening" not in policy_to_document(Policy())  # older documents read back as they were
    with pytest.raises(PolicyError):
        policy_from_document({"version": "x", "screening": {"period": "weekly"}})
    with pytest.raises(PolicyError):
        policy_from_document({"version": "x", "screening": {"due_day": 0}})
