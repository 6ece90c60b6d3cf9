"""The documents of a case file (一案一档) that the system fills in, and the refusals when a
case has no such document.

Each kind is a URL segment, a template's name (``<slug>.html``, ``<slug>.docx``) and a title.
A kind made once per session or follow-up visit is numbered from 1 in the order they were
recorded, whatever happened in between (a reopened case keeps its earlier sessions: they were
held, and their records were signed).
"""

from __future__ import annotations

from dataclasses import dataclass

# What a refusal says: (中文, English).
Pair = tuple[str, str]


@dataclass(frozen=True)
class DocumentKind:
    slug: str  # the URL segment and the templates' stem
    title: str  # the document's name, on it and in its file name
    numbered: bool = False  # one per session or follow-up, addressed by its number from 1
    disputes_only: bool = False  # an incident has no agreement a court could confirm

    def file_name(self, number: str, n: int | None, masked: bool, extension: str) -> str:
        """（2026）犍调字第0001号-调解笔录（第2次）.docx; a masked copy says so in its name."""
        counted = f"（第{n}次）" if n is not None else ""
        copy = "（脱敏副本）" if masked else ""
        return f"{number}-{self.title}{counted}{copy}.{extension}"


REGISTRATION = DocumentKind("registration", "受理登记表")
MEDIATION_RECORD = DocumentKind("mediation-record", "调解笔录", numbered=True)
MEDIATION_AGREEMENT = DocumentKind("mediation-agreement", "人民调解协议书", disputes_only=True)
FOLLOW_UP_RECORD = DocumentKind("follow-up-record", "回访记录", numbered=True)
JUDICIAL_CONFIRMATION = DocumentKind(
    "judicial-confirmation-application", "司法确认申请书", disputes_only=True
)
KINDS = (
    REGISTRATION,
    MEDIATION_RECORD,
    MEDIATION_AGREEMENT,
    FOLLOW_UP_RECORD,
    JUDICIAL_CONFIRMATION,
)


class DocumentRefusedError(Exception):
    """The case has no such document: 404 when it never will or the number is past those
    recorded, 409 when the case's state does not hold one now (it may later)."""

    status = 404

    def __init__(self, said: Pair, case_status: str | None = None) -> None:
        super().__init__(said[1])
        self.said = said  # (中文, English)
        self.case_status = case_status


class NoSuchDocumentError(DocumentRefusedError):
    """Nothing to fill it in from, and nothing the case can do will change that."""

    status = 404


class NotAvailableError(DocumentRefusedError):
    """The case's state does not hold the document now: no agreement in force yet (or any
    more, after a reopening), or an oral one a court cannot confirm."""

    status = 409
