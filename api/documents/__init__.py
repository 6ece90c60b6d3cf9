"""The case file's documents (一案一档): 受理登记表, 调解笔录, 人民调解协议书, 回访记录 and
司法确认申请书, filled in from a case's record as printable A4 pages (HTML) and Word files
(.docx), from templates a county can replace (``FENGQIAO_DOCUMENT_TEMPLATES``).

Nothing here knows HTTP: ``api.http.routes.documents`` checks who may have which copy,
records plain ones, and answers. Masked copies (脱敏副本) are the default; the parties' full
names and ID numbers appear only on a plain copy.
"""

from __future__ import annotations

from api.documents.build import DOCX, HTML, MEDIA_TYPES, Document, Format, build_document
from api.documents.case_file import CaseFile, read_case_file
from api.documents.context import Generation, available
from api.documents.kinds import (
    KINDS,
    DocumentKind,
    DocumentRefusedError,
    NoSuchDocumentError,
    NotAvailableError,
)
from api.documents.templates import (
    TEMPLATES_SETTING,
    Templates,
    templates_from,
)

__all__ = [
    "DOCX",
    "HTML",
    "KINDS",
    "MEDIA_TYPES",
    "TEMPLATES_SETTING",
    "CaseFile",
    "Document",
    "DocumentKind",
    "DocumentRefusedError",
    "Format",
    "Generation",
    "NoSuchDocumentError",
    "NotAvailableError",
    "Templates",
    "available",
    "build_document",
    "read_case_file",
    "templates_from",
]
