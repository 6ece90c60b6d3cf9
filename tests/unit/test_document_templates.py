"""The templates: every packaged one renders in both formats, masked and plain; what parties
and mediators typed is text, never markup or template code; a county's directory replaces
templates by name; the committed .docx files are what ``make_templates`` writes."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.document import Document

from api.documents import (
    KINDS,
    TEMPLATES_SETTING,
    DocumentKind,
    Format,
    Templates,
    build_document,
    read_case_file,
    templates_from,
)
from api.documents.context import Generation
from api.documents.make_templates import write
from api.documents.templates import PACKAGED, css_string
from domain.case.commands import RecordFollowUp, ResolveCase, SignCase
from domain.status import AgreementForm
from tests.support.decider import UNITS
from tests.support.world import T0
from tests.unit.test_document_case_file import NUMBER, Story

TYPED = '<script>alert(1)</script> & "引号" {{ number }} {% if true %}'


def story(agreement: str = "李四赔偿张三500元") -> Story:
    worked = Story().then(SignCase()).session("双方到场\n第二行")
    worked.then(ResolveCase(agreement, AgreementForm.WRITTEN))
    return worked.then(RecordFollowUp(satisfied=True, agreement_honoured=True))


def build(
    kind: DocumentKind,
    form: Format,
    plain: bool = False,
    templates: Templates | None = None,
    **kw: Any,
) -> bytes:
    worked = story(**kw)
    file = read_case_file(worked.case, worked.events)
    n = 1 if kind.numbered else None
    generation = Generation("mediator-1", T0)
    built = build_document(templates or Templates(), kind, file, n, UNITS, plain, generation, form)
    return built.content


def opened(content: bytes) -> tuple[Document, str, str]:
    document = docx.Document(io.BytesIO(content))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        lines += [cell.text for row in table.rows for cell in row.cells]
    header = "".join(p.text for p in document.sections[0].header.paragraphs)
    return document, "\n".join(lines), header


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.slug)
@pytest.mark.parametrize("plain", [False, True], ids=["masked", "plain"])
def test_every_template_renders_in_both_formats(kind: DocumentKind, plain: bool) -> None:
    page = build(kind, "html", plain).decode()
    assert page.startswith("<!doctype html>")
    assert NUMBER in page
    assert kind.title in page
    assert ("脱敏副本" in page) != plain
    _, body, header = opened(build(kind, "docx", plain))
    assert NUMBER in header
    assert NUMBER in body
    assert kind.title in body
    assert ("脱敏副本" in header) != plain
    assert ("张三" in body) == plain
    assert "{{" not in body, "every tag was rendered"
    assert "{%" not in body, "every tag was rendered"


def test_a_line_of_free_text_is_a_paragraph_in_both_formats() -> None:
    record = KINDS[1]
    assert "<p>双方到场</p>\n<p>第二行</p>" in build(record, "html").decode()
    _, body, _ = opened(build(record, "docx"))
    assert "双方到场\n第二行" in body


def test_typed_text_is_text_never_markup_or_template_code() -> None:
    agreement = KINDS[2]
    page = build(agreement, "html", agreement=TYPED).decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;引号&#34;" in page
    assert "{{ number }} {% if true %}" in page
    _, body, _ = opened(build(agreement, "docx", agreement=TYPED))
    assert TYPED in body


def test_a_county_replaces_templates_by_name(tmp_path: Path) -> None:
    (tmp_path / "document.css").write_text("body { color: navy }", encoding="utf-8")
    county = docx.Document()
    county.add_paragraph("犍为县人民调解协议书 {{ number }} {{ parties[0].name }}")
    county.save(str(tmp_path / "mediation-agreement.docx"))
    templates = templates_from({TEMPLATES_SETTING: str(tmp_path)})
    agreement = KINDS[2]
    page = build(agreement, "html", templates=templates).decode()
    assert "body { color: navy }" in page
    assert "@page" not in page
    assert "经调解，当事人自愿达成如下协议" in page  # the packaged page around it
    _, body, _ = opened(build(agreement, "docx", templates=templates))
    assert body == f"犍为县人民调解协议书 {NUMBER} 张*"
    _, registration, _ = opened(build(KINDS[0], "docx", templates=templates))
    assert "受理登记表" in registration  # not replaced: the packaged one


def test_the_setting_names_a_directory() -> None:
    assert templates_from({}) == Templates()
    assert templates_from({TEMPLATES_SETTING: " "}) == Templates()
    with pytest.raises(ValueError, match=TEMPLATES_SETTING):
        templates_from({TEMPLATES_SETTING: "/no/such/directory"})


def test_a_header_string_cannot_leave_its_css_string() -> None:
    assert css_string('a"b\\c</style>') == "a\\22 b\\5c c\\3c /style\\3e "


def test_the_committed_templates_are_what_the_script_writes(tmp_path: Path) -> None:
    for written in write(tmp_path):
        packaged = PACKAGED / written.name
        with zipfile.ZipFile(written) as new, zipfile.ZipFile(packaged) as old:
            members = {name: new.read(name) for name in new.namelist()}
            assert members == {name: old.read(name) for name in old.namelist()}, written.name
