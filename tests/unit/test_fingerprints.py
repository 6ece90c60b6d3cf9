"""Fingerprints (keyed hashes of ID numbers and phones): one person however the number was
typed, nobody without the key."""

from __future__ import annotations

import base64

import pytest

from domain.application import fingerprints_of
from domain.fingerprints import Fingerprints
from domain.parties import Party, resident_id
from domain.status import PartyRole

KEY = base64.b64encode(bytes(range(32))).decode()
ID_NUMBER = "11010519491231002X"
PRINTS = fingerprints_of(KEY)


def test_an_id_number_matches_however_it_was_typed() -> None:
    assert PRINTS is not None
    plain = PRINTS.id_number(ID_NUMBER)
    for typed in ("110105 19491231 002x", " 11010519491231002x ", "1101 0519 4912 3100 2X"):
        assert PRINTS.id_number(typed) == plain


def test_a_phone_matches_however_it_was_typed() -> None:
    assert PRINTS is not None
    plain = PRINTS.phone("13812345678")
    for typed in ("+86 138 1234 5678", "138-1234-5678", "+8613812345678", "(138) 1234 5678"):
        assert PRINTS.phone(typed) == plain
    assert PRINTS.phone("0833-1234567") == PRINTS.phone("+86 833 123 4567")
    assert PRINTS.phone("13812345679") != plain


def test_a_fingerprint_names_nobody_without_the_key_and_kinds_never_match() -> None:
    assert PRINTS is not None
    other = Fingerprints.derived_from(b"another deployment's cipher key")
    print_ = PRINTS.id_number(ID_NUMBER)
    assert other.id_number(ID_NUMBER) != print_
    assert ID_NUMBER not in print_
    assert ID_NUMBER.lower() not in print_
    assert print_.startswith("id:")
    assert len(print_) == len("id:") + 32
    # the same digits as an ID number and as a phone are two different things
    assert PRINTS.id_number("13812345678") != PRINTS.phone("13812345678").replace("phone", "id")


def test_a_party_is_matched_by_both_and_parties_by_each_once() -> None:
    assert PRINTS is not None
    party = Party("张三", PartyRole.APPLICANT, ID_NUMBER, "13812345678")
    same = Party("张三丰", PartyRole.RESPONDENT, "11010519491231002x", "+86 138 1234 5678")
    assert PRINTS.of_party(party) == PRINTS.of_party(same)
    assert len(PRINTS.of_parties([party, same])) == 2
    assert PRINTS.of_party(Party("李四", PartyRole.APPLICANT)) == ()


def test_no_cipher_key_no_fingerprints() -> None:
    assert fingerprints_of(None) is None
    assert fingerprints_of("") is None


@pytest.mark.parametrize("typed", ["110105 19491231 002x", "11010519491231002x"])
def test_a_registration_takes_an_id_number_read_out_with_spaces(typed: str) -> None:
    assert resident_id("parties[0]", typed) == ID_NUMBER
