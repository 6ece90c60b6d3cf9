"""A masked copy (脱敏副本) masks the parties' names too, and the parties wherever free text
repeats them; a plain copy shows everything as stored."""

from __future__ import annotations

from api.documents.disclosure import Disclosure, mask_name
from domain.parties import Party
from domain.status import PartyRole

ZHANG = Party(
    "张三", PartyRole.APPLICANT, "51112319800109123X", "13800000001", "犍为县罗城镇石溪村三组"
)
OUYANG = Party("欧阳娜娜", PartyRole.RESPONDENT, phone="0833-1234567")
ZHANG_SANFENG = Party("张三丰", PartyRole.THIRD_PARTY)
WANG = Party("王", PartyRole.THIRD_PARTY)  # a one-character name


def test_a_name_keeps_its_first_character() -> None:
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name(" 王 ") == "*"
    assert mask_name("") == ""


def test_a_masked_copy_masks_each_party() -> None:
    shown = Disclosure(False, (ZHANG, OUYANG)).shown()
    assert [p.name for p in shown] == ["张*", "欧***"]
    assert shown[0].id_number == "511***********123X"
    assert shown[0].phone == "138****0001"
    assert shown[0].address == "犍为县罗城***"
    assert shown[1].phone == "083*****4567"


def test_a_masked_copy_masks_the_parties_in_free_text() -> None:
    disclosure = Disclosure(False, (ZHANG, OUYANG, ZHANG_SANFENG, WANG))
    text = "张三丰见证：欧阳娜娜赔偿张三，电话13800000001，身份证51112319800109123X。王五在场。"
    assert disclosure.text(text) == (
        "张**见证：欧***赔偿张*，电话138****0001，身份证511***********123X。王五在场。"
    )


def test_a_plain_copy_shows_what_was_stored() -> None:
    disclosure = Disclosure(True, (ZHANG,))
    assert disclosure.shown() == (ZHANG,)
    assert disclosure.text("张三") == "张三"
    assert not disclosure.masked
