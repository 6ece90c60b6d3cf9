"""Parties to a case: personal data (names, ID numbers, phones, addresses).

Validated here; encrypted at rest by the event store's cipher; masked in answers and exports.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from typing import Any

from domain.errors import InvalidInputError
from domain.status import PartyRole

_ID_NUMBER = re.compile(r"^[0-9]{17}[0-9X]$")
_PHONE = re.compile(r"^\+?[0-9][0-9-]{5,18}[0-9]$")
MAX_PARTIES = 200


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
        raise InvalidInputError("parties", f"at most {MAX_PARTIES} parties")
    stored = []
    for index, party in enumerate(parties):
        where = f"parties[{index}]"
        if not party.name.strip() or len(party.name) > 100:
            raise InvalidInputError(f"{where}.name", "must be 1 to 100 characters")
        if party.id_number is not None and not _ID_NUMBER.match(party.id_number.upper()):
            raise InvalidInputError(f"{where}.id_number", "must be an 18-character resident ID")
        if party.phone is not None and not _PHONE.match(party.phone):
            raise InvalidInputError(f"{where}.phone", "must be a phone number")
        if party.address is not None and len(party.address) > 300:
            raise InvalidInputError(f"{where}.address", "must be at most 300 characters")
        cleaned = Party(
            party.name.strip(),
            party.role,
            party.id_number.upper() if party.id_number else None,
            party.phone,
            party.address.strip() if party.address else None,
        )
        stored.append(cleaned)
    return tuple(stored)


def mask_digits(value: str | None) -> str | None:
    """ID numbers and phones keep their first 3 and last 4 characters: 511***********1234."""
    if not value:
        return value
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


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
