"""Parties' ID numbers and phones (``domain.parties``), with no store: a resident ID number
whose check digit and birth date are right, a mainland mobile or fixed-line phone; each
refusal names the party's field and the rule it broke.
"""

from __future__ import annotations

import pytest

from domain.errors import InvalidInputError
from domain.parties import Party, mask_name, validated
from domain.status import PartyRole


def one(id_number: str | None = None, phone: str | None = None) -> Party:
    return validated([Party("张三", PartyRole.APPLICANT, id_number, phone)])[0]


def refusal(id_number: str | None = None, phone: str | None = None) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as caught:
        validated([Party("张三", PartyRole.APPLICANT), Party("李四", PartyRole.RESPONDENT,
                                                           id_number, phone)])  # fmt: skip
    return caught.value


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("511123199001091234", "511123199001091234"),
        ("51112319800109123X", "51112319800109123X"),
        ("51112319800109123x", "51112319800109123X"),  # the check letter, upper-cased
        (" 511123199001091234 ", "511123199001091234"),
    ],
)
def test_a_valid_id_number_is_kept(written: str, stored: str) -> None:
    assert one(id_number=written).id_number == stored


@pytest.mark.parametrize(
    ("written", "rule"),
    [
        ("12345", "id_number_format"),
        ("5111231990010912345", "id_number_format"),  # 19 characters
        ("51112319900109X234", "id_number_format"),  # X only as the check digit
        ("５１１１２３１９９００１０９１２３４", "id_number_format"),  # full-width digits
        ("511123199001091235", "id_number_checksum"),  # one digit off
        ("511123199001011234", "id_number_checksum"),  # the suite's old sample
        ("11010519900230001X", "id_number_birth_date"),  # 30 February
        ("110105189901010017", "id_number_birth_date"),  # born before 1900
    ],
)
def test_a_bad_id_number_is_refused_naming_the_rule(written: str, rule: str) -> None:
    error = refusal(id_number=written)

    assert (error.field, error.rule) == ("parties[1].id_number", rule)


@pytest.mark.parametrize(
    "written",
    [
        "13987650321",
        "+8613800000001",
        "+86 138 0000 0001",
        "138-0000-0001",
        "0086 13800000001",
        "0833-5123456",  # 乐山 fixed line
        "(0833) 5123456",
        "+86-10-12345678",  # 北京 fixed line
    ],
)
def test_a_mainland_phone_is_kept_as_written(written: str) -> None:
    assert one(phone=written).phone == written


@pytest.mark.parametrize(
    "written",
    [
        "call me",
        "12345",
        "12345678901",  # no mobile range starts 12
        "95588",  # a bank's hotline
        "4008123123",  # a company's 400 line
        "+85291234567",  # Hong Kong
        "+14155552671",  # elsewhere
        "083312345",  # a fixed line too short
        "١٣٩٨٧٦٥٠٣٢١",  # Arabic-Indic digits
        "１３９８７６５０３２１",  # full-width digits
        "13987650321x",
    ],
)
def test_a_phone_that_is_not_a_mainland_number_is_refused(written: str) -> None:
    error = refusal(phone=written)

    assert (error.field, error.rule) == ("parties[1].phone", "phone")
    assert "13812345678" in error.reason  # says what is expected, by example


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("王建国", "王*国"),
        ("张三", "张*"),
        ("王", "*"),
        ("王建国（示例）", "王*国（示例）"),
        ("欧阳娜娜（示例）", "欧**娜（示例）"),
        ("张三(村民)", "张*(**)"),
        ("王（示例）", "*（示例）"),
        ("李四（原名李小四）", "李*（*****）"),
    ],
)
def test_a_masked_name_masks_its_trailing_note_but_the_sample_mark(name: str, shown: str) -> None:
    """A note in brackets after a name is not a character of the name: the name before it is
    masked as any name is, and the note masked whole (it may name someone), but for the demo's
    示例, which names nobody."""
    assert mask_name(name) == shown
