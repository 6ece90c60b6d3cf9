"""Parties to a case: personal data (names, ID numbers, phones, addresses).

Validated here; encrypted at rest by the event store's cipher; masked in answers and exports.

An ID number is a mainland resident identity card number (居民身份证号码, GB 11643): 17 digits
and a check digit, with a real birth date in it; a phone is a mainland mobile or fixed-line
number, in national form or with +86. Both are checked with libraries that know the rules
(python-stdnum, phonenumbers) rather than a pattern that lets a mistyped digit through: a case
file whose parties cannot be reached or identified is worth little. The place code in an ID
number is not checked: codes are reassigned as counties merge, and python-stdnum's table
refuses numbers issued under a code that is valid today to people born before it existed.
Only ASCII digits are taken: the libraries would read "１３９…" or "١٣٩…" as digits, and such a
number would then be stored in a form no one searches for.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any

import phonenumbers
from stdnum.cn import ric

from domain.errors import InvalidInputError
from domain.status import PartyRole

MAX_PARTIES = 200
MAX_NAME = 100
MAX_ADDRESS = 300
ID_NUMBER_LENGTH = 18
# No one registered with a case was born before this.
EARLIEST_BIRTH = date(1900, 1, 1)
_ID_CHARACTERS = frozenset("0123456789X")
# What a phone number may be written with: digits, a leading +, and the usual separators.
_PHONE_CHARACTERS = frozenset("0123456789+- ()")
_PHONE_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }
)


@dataclass(frozen=True)
class Party:
    name: str
    role: PartyRole
    id_number: str | None = None
    phone: str | None = None
    address: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["role"] = self.role.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Party:
        return cls(
            name=data["name"],
            role=PartyRole(data["role"]),
            id_number=data.get("id_number"),
            phone=data.get("phone"),
            address=data.get("address"),
        )


def validated(parties: list[Party]) -> tuple[Party, ...]:
    """The parties as stored, after checking each field; names the first bad one."""
    if len(parties) > MAX_PARTIES:
        raise InvalidInputError(
            "parties",
            f"at most {MAX_PARTIES} parties",
            "max_items",
            {"limit": MAX_PARTIES, "count": len(parties)},
        )
    stored = []
    for index, party in enumerate(parties):
        where = f"parties[{index}]"
        if not party.name.strip() or len(party.name) > MAX_NAME:
            raise InvalidInputError(
                f"{where}.name",
                f"must be 1 to {MAX_NAME} characters",
                "length",
                {"min": 1, "max": MAX_NAME},
            )
        id_number = None if party.id_number is None else resident_id(where, party.id_number)
        phone = None if party.phone is None else phone_number(where, party.phone)
        if party.address is not None and len(party.address) > MAX_ADDRESS:
            raise InvalidInputError(
                f"{where}.address",
                f"must be at most {MAX_ADDRESS} characters",
                "max_length",
                {"max": MAX_ADDRESS},
            )
        cleaned = Party(
            party.name.strip(),
            party.role,
            id_number,
            phone,
            party.address.strip() if party.address else None,
        )
        stored.append(cleaned)
    return tuple(stored)


def resident_id(where: str, value: str) -> str:
    """An 18-character resident ID number, upper case and without spaces: its check digit
    right (GB 11643, as python-stdnum computes it) and its birth date a real day since 1900."""
    field = f"{where}.id_number"
    number = "".join(value.split()).upper()  # "5101 0419 9001 0112 3x" as it is read out
    if len(number) != ID_NUMBER_LENGTH or not set(number) <= _ID_CHARACTERS or "X" in number[:-1]:
        raise InvalidInputError(
            field,
            "must be an 18-character resident ID number: 17 digits and a check digit (0-9 or X)",
            "id_number_format",
            {"length": ID_NUMBER_LENGTH},
        )
    if ric.calc_check_digit(number) != number[-1]:
        raise InvalidInputError(
            field,
            "is not a valid resident ID number: its check digit (the last character) does not "
            "match the other 17; check it for a mistyped digit",
            "id_number_checksum",
        )
    try:
        born = ric.get_birth_date(number)
    except ValueError:  # stdnum's InvalidComponent: no such day
        born = None
    if born is None or born < EARLIEST_BIRTH:
        raise InvalidInputError(
            field,
            "is not a valid resident ID number: characters 7 to 14 must be a real birth date "
            "(YYYYMMDD) since 1900",
            "id_number_birth_date",
            {"earliest": EARLIEST_BIRTH},
        )
    return number


def phone_number(where: str, value: str) -> str:
    """A mainland China mobile or fixed-line number, as written (trimmed): 13812345678,
    0833-1234567 or +86 138 1234 5678. Hotlines (400, 95xxx), other countries and Hong Kong,
    Macao or Taiwan numbers are refused: a party is reached on a number of their own."""
    field = f"{where}.phone" if where else "phone"
    number = value.strip()
    parsed = None
    if number and set(number) <= _PHONE_CHARACTERS:
        try:
            parsed = phonenumbers.parse(number, "CN")
        except phonenumbers.NumberParseException:
            parsed = None
    valid = (
        parsed is not None
        and phonenumbers.region_code_for_number(parsed) == "CN"
        and phonenumbers.is_valid_number(parsed)
        and phonenumbers.number_type(parsed) in _PHONE_TYPES
    )
    if not valid:
        raise InvalidInputError(
            field,
            "must be a mainland China mobile number (11 digits, like 13812345678) or a fixed-line "
            "number with its area code (like 0833-1234567), optionally starting with +86",
            "phone",
        )
    return number


def mask_digits(value: str | None) -> str | None:
    """ID numbers and phones keep their first 3 and last 4 characters: 511***********1234."""
    if not value:
        return value
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str | None) -> str | None:
    """A name keeps its first and last characters (张*明, 张*, 欧**哲); one character is
    hidden whole. What a list of people may show without naming them to a passer-by.

    A trailing note in brackets (王建国（示例）, 李四（原名李小四）) is not part of the name: the
    name before it is masked as any name is, and the note masked whole inside its brackets —
    a note may name someone too — except the sample data's mark 示例, which says the person
    is invented (王*国（示例）, 李*（*****）)."""
    if not value:
        return value
    name = value.strip()
    note = _NOTE.search(name)
    if note is None or note.start() == 0:
        return _mask_bare(name)
    bracketed = note.group(0).strip()
    inner = bracketed[1:-1]
    shown = inner if inner in _HARMLESS_NOTES else "*" * len(inner)
    return _mask_bare(name[: note.start()].rstrip()) + bracketed[0] + shown + bracketed[-1]


# A closing note: （…） or (…) at the very end, with no bracket inside it.
_NOTE = re.compile(r"\s*[（(][^（()）]*[)）]$")
# Notes that name nobody and are shown as written: the sample data's mark.
_HARMLESS_NOTES = frozenset({"示例"})


def _mask_bare(name: str) -> str:
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_address(value: str | None) -> str | None:
    """An address keeps its first part (as written: down to the village) and no more."""
    if not value:
        return value
    return value[: min(len(value) // 2, 12)] + "***"


def masked(party: Party) -> Party:
    """A stored party as shown to anyone not entitled to (or not asking for) the plain data."""
    return replace(
        party,
        id_number=mask_digits(party.id_number),
        phone=mask_digits(party.phone),
        address=mask_address(party.address),
    )
