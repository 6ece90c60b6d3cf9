"""Who a document names, and how: a masked copy (脱敏副本) for anyone who may read the case, the
plain one only for those who may unmask it.

A masked copy goes further than the API's masking: it masks names as well (张三 → 张*), since a
printed page leaves the system and its access rules behind. And the parties are written into
free text too (an agreement says "甲方张三…", attendees are listed by name), so their registered
names, ID numbers and phones are masked wherever the text repeats them. Other personal data
someone typed into free text cannot be recognised: that is why a masked copy says on every page
that it is one, and is never the copy to sign.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from domain.parties import Party, mask_address, mask_digits, masked

# Shorter names are left in free text: masking one character wherever it occurs would mangle
# the text and hide nothing (the masked name keeps the surname anyway).
SHORTEST_NAME_REPLACED = 2
MASKED_NOTICE = (
    "脱敏副本：当事人姓名、身份证号码、联系电话和住址已部分隐去，仅供查阅，不得用于签署。"
    "签署用文书须由承办调解员或所属单位主管以完整信息生成。"
)


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***: the first character, then one * for each other."""
    name = name.strip()
    if len(name) <= 1:
        return "*" * len(name)
    return name[0] + "*" * (len(name) - 1)


@dataclass(frozen=True)
class Disclosure:
    """The parties as a document shows them, and free text with them masked in it."""

    plain: bool
    parties: tuple[Party, ...]

    @property
    def masked(self) -> bool:
        return not self.plain

    def party(self, party: Party) -> Party:
        if self.plain:
            return party
        return replace(masked(party), name=mask_name(party.name))

    def shown(self) -> tuple[Party, ...]:
        return tuple(self.party(p) for p in self.parties)

    def text(self, text: str) -> str:
        """Free text, with every registered party's name, ID number and phone masked where
        it appears (longest first, so 张三丰 is not masked as 张三's name plus 丰)."""
        if self.plain or not text:
            return text
        for found, masked_as in self._replacements():
            text = text.replace(found, masked_as)
        return text

    def _replacements(self) -> list[tuple[str, str]]:
        pairs: dict[str, str] = {}
        for party in self.parties:
            name = party.name.strip()
            if len(name) >= SHORTEST_NAME_REPLACED:
                pairs[name] = mask_name(name)
            for value, hidden in (
                (party.id_number, mask_digits(party.id_number)),
                (party.phone, mask_digits(party.phone)),
                (party.address, mask_address(party.address)),
            ):
                if value and hidden:
                    pairs[value] = hidden
        return sorted(pairs.items(), key=lambda pair: len(pair[0]), reverse=True)
