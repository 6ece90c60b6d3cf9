"""Policies are versioned data: documents that round-trip, typos refused by name, and rules
frozen per case (a case runs on the version it was registered under, whatever comes later).
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from domain.actors import SYSTEM
from domain.application import FengqiaoApplication
from domain.case.commands import ActOnDeadline, RaiseLevel
from domain.clocks import DeadlineKind, Duration
from domain.errors import PolicyError
from domain.levels import Level, Tier
from domain.policy import DEFAULT_CLOCKS, Breach, ClockRule, Policy
from domain.policy_book import POLICY_BOOK_ID
from domain.policy_document import policy_from_document, policy_to_document
from tests.support.builders import drive
from tests.support.world import ADMIN, MEDIATOR, T0, TOWNSHIP, Clock

OPERATOR_TOML = """
version = "leshan-2026.2"
holidays = ["2026-09-29", "2026-11-02"]

[clocks.yellow.village]
sign = "12h"
resolve = "2wd"

[clocks.orange.township]
sign = "6h"

[clocks.yellow.township]
sign = "8h"
resolve = "4wd"
on_breach = "flag"

[follow_up]
due_after = "5d"

[rating]
window = "15d"
"""


def custom_policy(version: str, township_sign: str = "8h") -> Policy:
    clocks = dict(DEFAULT_CLOCKS)
    clocks[(Level.ORANGE, Tier.TOWNSHIP)] = ClockRule(
        Duration.parse(township_sign), Duration.parse("5wd"), Breach.ESCALATE
    )
    return Policy(version=version, clocks=clocks)


# --- documents ----------------------------------------------------------------------------


def test_the_default_policy_round_trips_through_its_document() -> None:
    policy = Policy()
    assert policy_from_document(policy_to_document(policy)) == policy


def test_an_operators_toml_file_reads_over_the_defaults_and_round_trips() -> None:
    policy = policy_from_document(tomllib.loads(OPERATOR_TOML))
    assert policy.version == "leshan-2026.2"
    assert policy.holidays == frozenset({date(2026, 9, 29), date(2026, 11, 2)})
    assert policy.rule_for(Level.YELLOW, Tier.VILLAGE) == ClockRule(
        Duration(12, "h"), Duration(2, "wd"), Breach.ESCALATE
    )
    # A partial rule keeps the default's other fields.
    assert policy.rule_for(Level.ORANGE, Tier.TOWNSHIP) == ClockRule(
        Duration(6, "h"), Duration(5, "wd"), Breach.ESCALATE
    )
    assert policy.rule_for(Level.YELLOW, Tier.TOWNSHIP).on_breach is Breach.FLAG
    assert policy.rule_for(Level.RED, Tier.COUNTY) == DEFAULT_CLOCKS[(Level.RED, Tier.COUNTY)]
    assert policy.follow_up_due_after == Duration(5, "d")
    assert policy.rating_window == Duration(15, "d")
    assert policy.rework == Policy().rework
    document = policy_to_document(policy)
    assert policy_from_document(document) == policy
    assert policy_to_document(policy_from_document(document)) == document


@pytest.mark.parametrize(
    ("document", "key"),
    [
        ({"version": "v", "escalation": {}}, "escalation"),
        ({"version": "v", "follow_up": {"due_afterr": "7d"}}, "follow_up.due_afterr"),
        ({"version": "v", "clocks": {"purple": {}}}, "clocks.purple"),
        ({"version": "v", "clocks": {"red": {"province": {}}}}, "clocks.red.province"),
        (
            {"version": "v", "clocks": {"red": {"county": {"signn": "1h"}}}},
            "clocks.red.county.signn",
        ),
    ],
)
def test_an_unknown_key_is_refused_naming_the_key(document: dict[str, Any], key: str) -> None:
    with pytest.raises(PolicyError) as caught:
        policy_from_document(document)
    assert caught.value.key == key


@pytest.mark.parametrize(
    ("document", "key"),
    [
        (
            {"version": "v", "clocks": {"yellow": {"village": {"sign": "24 hours"}}}},
            "clocks.yellow.village.sign",
        ),
        (
            {"version": "v", "clocks": {"red": {"county": {"resolve": "0d"}}}},
            "clocks.red.county.resolve",
        ),
        ({"version": "v", "rework": {"due_after": "15"}}, "rework.due_after"),
        ({"version": "v", "emergency": {"red_sign": 15}}, "emergency.red_sign"),
        (
            {"version": "v", "clocks": {"red": {"county": {"on_breach": "explode"}}}},
            "clocks.red.county.on_breach",
        ),
        ({"version": "v", "holidays": ["2026-13-01"]}, "holidays"),
        ({"version": "  "}, "version"),
        ({}, "version"),
        (
            {"version": "v", "clocks": {"red": {"township": {"sign": "1h"}}}},
            "clocks.red.township",
        ),
    ],
)
def test_a_bad_value_is_refused_naming_the_key(document: dict[str, Any], key: str) -> None:
    with pytest.raises(PolicyError) as caught:
        policy_from_document(document)
    assert caught.value.key == key


# --- versions, frozen per case ------------------------------------------------------------


def test_a_case_keeps_the_policy_version_it_was_registered_under(
    app: FengqiaoApplication, clock: Clock
) -> None:
    app.adopt_policy(ADMIN, custom_policy("v1", township_sign="8h"))
    old = drive(app, "signed")
    app.adopt_policy(ADMIN, custom_policy("v2", township_sign="2h"))
    new = drive(app, "signed")
    assert app.get_case(old.id).policy_version == "v1"
    assert app.get_case(new.id).policy_version == "v2"
    assert app.policy.version == "v2"

    # Both miss the village deadline: each moves to the township on its own version's clocks.
    clock.now = T0 + timedelta(days=11)
    for case in (old, new):
        resolve = case.pending(DeadlineKind.RESOLVE)
        assert resolve is not None
        app.execute(case.id, ActOnDeadline(DeadlineKind.RESOLVE, resolve.due_at), SYSTEM)
    old_sign = app.get_case(old.id).pending(DeadlineKind.SIGN)
    new_sign = app.get_case(new.id).pending(DeadlineKind.SIGN)
    assert old_sign is not None
    assert new_sign is not None
    assert app.get_case(old.id).owner == app.get_case(new.id).owner == TOWNSHIP
    assert (old_sign.due_at, old_sign.rule, old_sign.policy_version) == (
        clock.now + timedelta(hours=8),
        "8h",
        "v1",
    )
    assert (new_sign.due_at, new_sign.rule, new_sign.policy_version) == (
        clock.now + timedelta(hours=2),
        "2h",
        "v2",
    )


def test_a_case_keeps_its_rules_in_a_process_started_with_another_policy(
    app: FengqiaoApplication, env: dict[str, str], backend: str, clock: Clock
) -> None:
    if backend == "memory":
        pytest.skip("a second process needs a shared store")
    app.adopt_policy(ADMIN, custom_policy("v1", township_sign="8h"))
    case = drive(app, "signed")
    later = FengqiaoApplication(env=env, clock=clock, policy=custom_policy("v9", "1h"))
    try:
        later.adopt_policy(ADMIN, later.policy)
        clock.advance(hours=1)
        # The second process raises the level: the case moves to the township, and the new
        # clocks it starts come from v1, read from the policy book, not from v9.
        later.execute(case.id, RaiseLevel(Level.ORANGE, "人数增加"), MEDIATOR)
        sign = later.get_case(case.id).pending(DeadlineKind.SIGN)
        assert sign is not None
        assert (sign.due_at, sign.rule, sign.policy_version) == (
            clock.now + timedelta(hours=8),
            "8h",
            "v1",
        )
        assert drive(later, "registered").policy_version == "v9"
    finally:
        later.close()


def test_adopting_the_same_policy_again_records_nothing(app: FengqiaoApplication) -> None:
    policy = custom_policy("v1")
    app.adopt_policy(ADMIN, policy)
    version = app.repository.get(POLICY_BOOK_ID).version
    app.adopt_policy(ADMIN, policy)
    assert app.repository.get(POLICY_BOOK_ID).version == version


def test_switching_back_to_an_earlier_version_makes_it_current_again(
    app: FengqiaoApplication,
) -> None:
    app.adopt_policy(ADMIN, custom_policy("v1"))
    app.adopt_policy(ADMIN, custom_policy("v2", "2h"))
    app.adopt_policy(ADMIN, custom_policy("v1"))
    assert app.policy.version == "v1"
    assert app.repository.get(POLICY_BOOK_ID).current == "v1"
    assert drive(app, "registered").policy_version == "v1"


def test_adopting_other_rules_under_an_adopted_version_is_refused(
    app: FengqiaoApplication,
) -> None:
    app.adopt_policy(ADMIN, custom_policy("v1", "8h"))
    book_version = app.repository.get(POLICY_BOOK_ID).version
    with pytest.raises(PolicyError) as caught:
        app.adopt_policy(ADMIN, custom_policy("v1", "2h"))
    assert caught.value.key == "version"
    assert app.repository.get(POLICY_BOOK_ID).version == book_version
    assert app.policy == custom_policy("v1", "8h")
    assert str(app.policy_for("v1").rule_for(Level.ORANGE, Tier.TOWNSHIP).sign) == "8h"


def test_the_policy_cases_are_registered_under_cannot_be_redefined_in_place(
    app: FengqiaoApplication,
) -> None:
    case = drive(app, "registered")
    assert case.policy_version == app.policy.version == "default-1"
    changed = replace(Policy(), follow_up_due_after=Duration(3, "d"))
    with pytest.raises(PolicyError) as caught:
        app.adopt_policy(ADMIN, changed)
    assert caught.value.key == "version"
    assert app.policy_for("default-1") == Policy()
