"""One document of a case file, filled in and rendered: what the HTTP route (or anything else
that prints a case file) calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from api.documents.case_file import CaseFile
from api.documents.context import Generation, document_context, number_of
from api.documents.disclosure import Disclosure
from api.documents.kinds import DocumentKind
from api.documents.templates import Templates
from domain.jurisdiction import Jurisdiction

Format = Literal["html", "docx"]
HTML = "text/html"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MEDIA_TYPES: dict[Format, str] = {"html": HTML, "docx": DOCX}


@dataclass(frozen=True)
class Document:
    content: bytes
    media_type: str
    file_name: str  # （2026）犍调字第0001号-人民调解协议书.docx


def build_document(
    templates: Templates,
    kind: DocumentKind,
    file: CaseFile,
    n: int | None,
    units: Jurisdiction,
    plain: bool,
    generation: Generation,
    form: Format,
) -> Document:
    """``kind`` of ``file``'s case (session or visit ``n``) as a printable page or a Word
    file; with ``plain``, naming the parties in full (the caller has checked who may).
    Raises ``DocumentRefusedError`` when the case has no such document."""
    disclosure = Disclosure(plain, file.case.parties)
    context = document_context(kind, file, n, units, disclosure, generation)
    render = templates.html if form == "html" else templates.docx
    name = kind.file_name(number_of(file), n, disclosure.masked, form)
    return Document(render(kind.slug, context), MEDIA_TYPES[form], name)
