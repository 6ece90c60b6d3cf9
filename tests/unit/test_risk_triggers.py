"""Risk triggers (预警指标): the facts that suggest a case's level, applied at registration and
checked at assessment, with no event store."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.actors import SYSTEM
from domain.case.commands import ActOnDeadline, AssessCase, LowerLevel
from domain.clocks import DeadlineKind
from domain.errors import InvalidInputError, PolicyError
from domain.levels import Level
from domain.policy import Policy
from domain.policy_document import policy_from_document, policy_to_document
from domain.risk import Facts, RiskRules, risk_from_table, risk_to_table
from domain.status import LevelCause
from tests.support.decider import drive, due, names, refused, run
from tests.support.world import COUNTY, MEDIATOR, SUPERVISOR, TOWNSHIP, VILLAGE

RULES = RiskRules()


@pytest.mark.parametrize(
    ("facts", "level", "triggers"),
    [
        (Facts("邻里", 4), Level.YELLOW, ()),
        (Facts("邻里", 10), Level.ORANGE, ("people_involved>=10",)),
        (Facts("邻里", 40), Level.RED, ("people_involved>=30",)),
        (Facts("合同债务", 2, Decimal("150000")), Level.ORANGE, ("amount_involved>=100000",)),
        (Facts("邻里", 2, police_callouts=3), Level.ORANGE, ("police_callouts>=3",)),
        (Facts("征地拆迁", 2), Level.ORANGE, ("category=征地拆迁",)),
        (
            Facts("征地拆迁", 35, Decimal("2000000"), 5),
            Level.RED,
            (
                "people_involved>=30",
                "amount_involved>=1000000",
                "police_callouts>=3",
                "category=征地拆迁",
            ),
        ),
    ],
)
def test_the_highest_trigger_sets_the_suggestion_and_every_trigger_is_named(
    facts: Facts, level: Level, triggers: tuple[str, ...]
) -> None:
    suggestion = RULES.suggest(facts)

    assert (suggestion.level, suggestion.triggers) == (level, triggers)


def test_forty_people_register_as_red_owned_by_the_county_saying_why() -> None:
    case = drive("registered", people_involved=40)

    assert (case.level, case.owner, case.level_cause) == (Level.RED, COUNTY, LevelCause.TRIGGERS)
    assert (case.suggested_level, case.risk_triggers) == (Level.RED, ["people_involved>=30"])


def test_a_level_given_above_the_suggestion_is_kept_as_given() -> None:
    case = drive("registered", level=Level.ORANGE, people_involved=2)

    assert (case.level, case.owner, case.level_cause) == (Level.ORANGE, TOWNSHIP, "registered")
    assert case.suggested_level is Level.YELLOW


def test_an_assessment_below_the_suggestion_needs_its_own_reason() -> None:
    case = drive("signed")  # yellow, two people, in the village
    assert case.owner == VILLAGE

    error = refused(
        case, InvalidInputError, AssessCase(Level.YELLOW, [], "复核", people_involved=12), MEDIATOR
    )
    assert (error.field, error.rule) == ("below_suggestion_reason", "below_suggestion")
    assert error.limits["suggested"] == "orange"

    kept_low = AssessCase(
        Level.YELLOW,
        [],
        "复核",
        people_involved=12,
        below_suggestion_reason="十二人为同一家庭成员，矛盾单纯",
    )
    events = run(case, kept_low, MEDIATOR, case.modified_on)
    assert names(events) == ["Assessed"]
    assessed = events[0]
    assert (assessed.suggested_level, assessed.risk_triggers) == ("orange", ["people_involved>=10"])
    assert assessed.below_suggestion_reason == "十二人为同一家庭成员，矛盾单纯"
    assert (case.people_involved, case.level, case.level_cause) == (12, Level.YELLOW, "assessed")


def test_an_assessment_at_the_suggestion_records_no_reason_for_being_below() -> None:
    case = drive("signed")

    events = run(
        case, AssessCase(Level.ORANGE, ["群体纠纷"], "人数增加", people_involved=12), MEDIATOR,
        case.modified_on,
    )  # fmt: skip

    assert events[0].below_suggestion_reason == ""
    assert (case.level, case.owner) == (Level.ORANGE, TOWNSHIP)


def test_an_overdue_climb_and_a_lowering_say_why_the_level_changed() -> None:
    climbed = drive("signed")
    resolve = due(climbed, DeadlineKind.RESOLVE)
    run(climbed, ActOnDeadline(DeadlineKind.RESOLVE, resolve), SYSTEM, resolve)
    assert (climbed.level, climbed.level_cause) == (Level.ORANGE, LevelCause.OVERDUE)

    lowered = drive("signed", level=Level.ORANGE)
    run(lowered, LowerLevel(Level.YELLOW, "风险消除"), SUPERVISOR, lowered.modified_on)
    assert lowered.level_cause == LevelCause.LOWERED


def test_risk_rules_read_from_a_policy_table_and_back() -> None:
    table = {
        "people": {"red": 50, "orange": 20},
        "amount": {"orange": "50000"},
        "police_callouts": {"orange": 2},
        "categories": {"征地拆迁": "red", "劳动争议": "orange"},
    }

    rules = risk_from_table(table, RiskRules())

    assert rules.people == ((50, Level.RED), (20, Level.ORANGE))
    assert rules.suggest(Facts("劳动争议", 25)).triggers == (
        "people_involved>=20",
        "category=劳动争议",
    )
    assert risk_from_table(risk_to_table(rules), RiskRules()) == rules


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"people": {"purple": 3}}, "risk.people.purple"),
        ({"people": {"red": 0}}, "risk.people.red"),
        ({"amount": {"orange": "很多"}}, "risk.amount.orange"),
        ({"categories": {"邻里": "yellow"}}, "risk.categories.邻里"),
        ({"weather": {}}, "risk.weather"),
    ],
)
def test_a_bad_risk_table_is_refused_naming_the_key(table: dict[str, object], key: str) -> None:
    with pytest.raises(PolicyError) as refusal:
        risk_from_table(table, RiskRules())

    assert refusal.value.key == key


def test_a_policy_file_carries_its_risk_rules_and_the_default_writes_none() -> None:
    policy = policy_from_document({"version": "v-risk", "risk": {"people": {"red": 50}}})

    assert policy.risk.people == ((50, Level.RED),)
    assert policy_from_document(policy_to_document(policy)) == policy
    assert "risk" not in policy_to_document(Policy())


@pytest.mark.parametrize(
    ("facts", "level", "triggers"),
    [
        (Facts("邻里", 4, repeat=True), Level.ORANGE, ("repeat",)),
        (Facts("邻里", 4, key_person=True), Level.ORANGE, ("key_person",)),
        (Facts("邻里", 4, repeat=True, key_person=True), Level.RED, ("repeat", "key_person")),
        (Facts("邻里", 10, repeat=True), Level.RED, ("people_involved>=10", "repeat")),
        (Facts("邻里", 40, key_person=True), Level.RED, ("people_involved>=30", "key_person")),
    ],
)
def test_a_repeat_or_a_key_person_raises_the_suggestion_one_step_each(
    facts: Facts, level: Level, triggers: tuple[str, ...]
) -> None:
    suggestion = RULES.suggest(facts)
    assert (suggestion.level, suggestion.triggers) == (level, triggers)
