"""What a registration must carry (``domain.intake``), with no store: a category from the
policy's vocabulary for its kind, a summary of at least five characters; and the policy
document that carries the vocabulary, written so that versions adopted before it compare
equal to themselves.
"""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.dispute import Dispute
from domain.errors import InvalidInputError, PolicyError
from domain.incident import Incident
from domain.intake import DISPUTE_CATEGORIES, INCIDENT_CATEGORIES, Intake
from domain.policy import Policy
from domain.policy_document import policy_from_document, policy_to_document
from tests.support.builders import registration
from tests.support.decider import UNITS, clocks
from tests.support.world import REPORTER, T0

INTAKE = Intake()


def test_the_dispute_vocabulary_is_the_peoples_mediation_statistics() -> None:
    assert INTAKE.words("dispute") == (
        "婚姻家庭", "邻里", "房屋宅基地", "土地承包", "山林水利", "劳动争议", "合同债务",
        "损害赔偿", "医疗", "物业", "征地拆迁", "环境污染", "消费", "其他",
    )  # fmt: skip
    assert "其他" in INTAKE.words("incident")
    assert INTAKE.words("crime") == ()


@pytest.mark.parametrize(
    ("kind", "written", "filed"),
    [
        ("dispute", "邻里", "邻里"),
        ("dispute", " 邻里 ", "邻里"),
        ("dispute", "邻里纠纷", "邻里"),  # as the statistics forms name it
        ("dispute", "劳动争议纠纷", "劳动争议"),
        ("incident", "消防隐患", "消防"),
        ("incident", "治安事件", "治安"),
        ("incident", "安全生产事故", "安全生产"),
        ("incident", "群体性事件", "群体性事件"),
    ],
)
def test_a_category_is_filed_under_the_vocabularys_word(
    kind: str, written: str, filed: str
) -> None:
    assert INTAKE.category(kind, written) == filed


@pytest.mark.parametrize(
    ("kind", "written"),
    [
        ("dispute", "劳资纠纷"),  # everyday words are not the vocabulary's
        ("dispute", "邻居吵架"),
        ("dispute", "消防"),  # an incident's category
        ("incident", "邻里"),  # a dispute's category
        ("dispute", "纠纷"),
        ("dispute", ""),
        ("incident", "消防纠纷"),  # a dispute's ending on an incident
    ],
)
def test_an_unknown_category_is_refused_naming_the_list(kind: str, written: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        INTAKE.category(kind, written)

    error = caught.value
    assert (error.field, error.rule) == ("category", "one_of")
    assert error.limits["choices"] == INTAKE.words(kind)
    assert all(word in error.reason for word in INTAKE.words(kind))


@pytest.mark.parametrize(
    ("summary", "rule"),
    [
        ("河堤裂缝", "min_length"),  # four characters say too little to act on
        ("a b c d", "min_length"),  # spaces do not count
        ("   ", "required"),
        ("两户因排水\x00沟发生争执", "no_nul"),
        ("长" * 2001, "max_length"),
    ],
)
def test_a_summary_says_enough(summary: str, rule: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        INTAKE.summary(summary)

    assert (caught.value.field, caught.value.rule) == ("summary", rule)


def test_a_summary_of_five_characters_is_kept_trimmed() -> None:
    assert INTAKE.summary("  河堤出现裂缝 ") == "河堤出现裂缝"
    assert INTAKE.summary("长" * 2000) == "长" * 2000


def test_registration_applies_the_policys_intake() -> None:
    custom = Policy(
        version="custom",
        intake=Intake({"dispute": ("土地",), "incident": INCIDENT_CATEGORIES}, min_summary=2),
    )

    case = Dispute.register(
        uuid4(), REPORTER, T0, UNITS, clocks(policy=custom),
        registration(category="土地纠纷", summary="界址"),
    )  # fmt: skip

    assert (case.category, case.summary) == ("土地", "界址")
    with pytest.raises(InvalidInputError) as caught:
        Dispute.register(uuid4(), REPORTER, T0, UNITS, clocks(), registration(summary="界址"))
    assert caught.value.field == "summary"


def test_each_kind_registers_only_under_its_own_words() -> None:
    incident = Incident.register(
        uuid4(), REPORTER, T0, UNITS, clocks(), registration(category="地质灾害隐患", parties=())
    )
    assert incident.category == "地质灾害"
    with pytest.raises(InvalidInputError):
        Dispute.register(uuid4(), REPORTER, T0, UNITS, clocks(), registration(category="消防"))


def test_a_stored_case_keeps_the_category_it_was_registered_with() -> None:
    """Validation is for new registrations: replaying an old event checks nothing."""
    case = Dispute.register(uuid4(), REPORTER, T0, UNITS, clocks(), registration())
    (event,) = case.collect_events()
    object.__setattr__(event, "category", "邻里纠纷")  # as cases were stored before

    assert event.mutate(None).category == "邻里纠纷"


# --- the policy document --------------------------------------------------------------------


def test_the_built_in_intake_is_left_out_of_the_document() -> None:
    """Versions adopted before intake rules existed were stored without them: their
    documents must still equal the code's, or the policy book refuses them at start-up."""
    document = policy_to_document(Policy())

    assert "intake" not in document
    assert policy_from_document(document) == Policy()


def test_an_operators_intake_round_trips() -> None:
    document = {
        "version": "leshan-2027.1",
        "intake": {"min_summary": 8, "categories": {"incident": ["房屋安全", "其他"]}},
    }

    policy = policy_from_document(document)

    assert policy.intake.words("incident") == ("房屋安全", "其他")
    assert policy.intake.words("dispute") == DISPUTE_CATEGORIES
    assert policy.intake.min_summary == 8
    assert policy_from_document(policy_to_document(policy)) == policy


@pytest.mark.parametrize(
    ("intake", "key"),
    [
        ({"categories": {"crime": ["盗窃"]}}, "intake.categories.crime"),
        ({"categories": {"dispute": []}}, "intake.categories.dispute"),
        ({"categories": {"dispute": ["邻里", "邻里"]}}, "intake.categories.dispute"),
        ({"categories": {"dispute": [" 邻里"]}}, "intake.categories.dispute"),
        ({"categories": {"dispute": ["长" * 51]}}, "intake.categories.dispute"),
        ({"categories": {"dispute": "邻里"}}, "intake.categories.dispute"),
        ({"min_summary": 0}, "intake.min_summary"),
        ({"min_summary": "5"}, "intake.min_summary"),
        ({"vocabulary": {}}, "intake.vocabulary"),
        ("邻里", "intake"),
    ],
)
def test_a_bad_intake_is_refused_naming_the_key(intake: object, key: str) -> None:
    with pytest.raises(PolicyError) as caught:
        policy_from_document({"version": "bad", "intake": intake})

    assert caught.value.key == key
