"""Fingerprints: keyed hashes of the personal identifiers people are matched by.

Finding that a new dispute involves a key person (重点人员) or the same family as earlier ones
needs an index of who was involved in what; an index of plain ID numbers and phones would be
the most valuable table to steal. So the index holds fingerprints instead: HMAC-SHA256 of the
normalised identifier under a key derived (HKDF-SHA256) from the store's cipher key. Matching
still works — the same person gives the same fingerprint however the number was typed — but a
stolen table names nobody without the key, and an unkeyed hash would not help: the 10^10
plausible ID numbers are few enough to hash them all.

Normalising is what makes "5101 0419 9001 0112 3x" and "51010419900101123X" one person:
whitespace dropped, a lower-case x raised; a phone is read by phonenumbers and written in
E.164 whatever its separators, +86 or leading 0 trunk prefix. A fingerprint carries its kind
(``id:``, ``phone:``) so an ID number and a phone can never match each other.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

import phonenumbers
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from domain.parties import Party

# What the derived key is for: another use of the cipher key derives another key.
_INFO = b"fengqiao/fingerprints/v1"
_HEX = 32  # 128 bits of the HMAC: collisions among a billion identifiers stay out of reach


def normalised_id_number(value: str) -> str:
    """An ID number as matched: no whitespace (full-width included), upper case."""
    return "".join(value.split()).upper()


def normalised_phone(value: str) -> str:
    """A phone as matched: E.164 (+8613812345678) when it parses as a Chinese number, else its
    digits alone (a number that was stored before the checks)."""
    try:
        parsed = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        return "".join(ch for ch in value if ch.isascii() and ch.isdigit())
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@dataclass(frozen=True)
class Fingerprints:
    """Keyed hashes under one deployment's key (``derived_from`` its cipher key)."""

    key: bytes

    @classmethod
    def derived_from(cls, secret: bytes) -> Fingerprints:
        """The fingerprint key of a deployment whose cipher key is ``secret``."""
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO)
        return cls(hkdf.derive(secret))

    def id_number(self, value: str) -> str:
        return self._of("id", normalised_id_number(value))

    def phone(self, value: str) -> str:
        return self._of("phone", normalised_phone(value))

    def of_party(self, party: Party) -> tuple[str, ...]:
        """The fingerprints a party is matched by: its ID number's and its phone's."""
        found = []
        if party.id_number:
            found.append(self.id_number(party.id_number))
        if party.phone:
            found.append(self.phone(party.phone))
        return tuple(found)

    def of_parties(self, parties: tuple[Party, ...] | list[Party]) -> tuple[str, ...]:
        """Every party's fingerprints, each once, in the parties' order."""
        return tuple(dict.fromkeys(fp for party in parties for fp in self.of_party(party)))

    def _of(self, kind: str, normalised: str) -> str:
        digest = hmac.new(self.key, f"{kind}:{normalised}".encode(), hashlib.sha256)
        return f"{kind}:{digest.hexdigest()[:_HEX]}"
