"""Writes the packaged .docx templates (``api/documents/templates/*.docx``) with python-docx.

Run it after changing a template's layout here, and commit the files it writes:

    python -m api.documents.make_templates [DIRECTORY]

Why a script and not files drawn in Word: the templates are reviewed as code (a diff shows
what changed on the form), every one shares the same page, header, footer and type, and the
Jinja tags are written whole, each in one run, so docxtpl reads them as written. A county
that wants its own form opens the written file in Word, edits it, keeps the ``{{ … }}`` and
``{%p … %}``/``{%tr … %}`` tags it needs, and puts it in its FENGQIAO_DOCUMENT_TEMPLATES
directory under the same name. The fields each template is given are those of
``api.documents.context``.
"""

from __future__ import annotations

import sys
import zipfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import docx
from docx.document import Document
from docx.enum.section import WD_SECTION_START
from docx.enum.table import WD_ALIGN_VERTICAL, WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from api.documents.templates import PACKAGED

SERIF = "宋体"  # SimSun: on every Chinese Windows; Word and WPS substitute it elsewhere
SANS = "黑体"  # SimHei
LATIN = "Times New Roman"
WARN = RGBColor(0xB0, 0x00, 0x00)
DATE_BLANK = "年　　月　　日"
FIXED = datetime(2026, 1, 1, tzinfo=UTC)  # the templates' own date, so a rewrite is stable
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
VOID = "{% if masked %}脱敏副本，不得签署{% endif %}"  # on the line a masked copy has


# --- the frame every document shares --------------------------------------------------------


def _fonts(element: Any, east_asian: str) -> None:
    """Sets a style's or run's fonts: Latin text in Times, Chinese in ``east_asian``."""
    properties = element.get_or_add_rPr()
    fonts = properties.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        properties.insert(0, fonts)
    for attribute, name in (("ascii", LATIN), ("hAnsi", LATIN), ("eastAsia", east_asian)):
        fonts.set(qn(f"w:{attribute}"), name)


def _page(document: Document) -> None:
    """A4, the wider left margin for binding; 宋体 小四 (12 pt) text."""
    section = document.sections[0]
    section.start_type = WD_SECTION_START.NEW_PAGE
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(18)
    section.left_margin, section.right_margin = Mm(26), Mm(20)
    section.header_distance, section.footer_distance = Mm(10), Mm(9)
    normal = document.styles["Normal"]
    normal.font.size = Pt(12)
    _fonts(normal.element, SERIF)
    paragraphs = normal.paragraph_format
    paragraphs.space_after = Pt(3)
    paragraphs.line_spacing = 1.4


def _rule_below(paragraph: Paragraph) -> None:
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for name, value in (("val", "single"), ("sz", "6"), ("space", "1"), ("color", "000000")):
        bottom.set(qn(f"w:{name}"), value)
    border.append(bottom)
    paragraph._p.get_or_add_pPr().append(border)


def _field(paragraph: Paragraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES), worked out by Word when the page is laid out."""
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _header_and_footer(document: Document) -> None:
    """The case number on every page's header; page N of M in the footer."""
    section = document.sections[0]
    header = section.header.paragraphs[0]
    header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _small(header.add_run("{{ committee }}　　"))
    warning = header.add_run("{% if masked %}脱敏副本 不得用于签署　　{% endif %}")
    _small(warning).font.color.rgb = WARN
    _small(header.add_run("{{ number }}"))
    _rule_below(header)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _small(footer.add_run("{{ number }}　第 "))
    _field(footer, "PAGE")
    _small(footer.add_run(" 页，共 "))
    _field(footer, "NUMPAGES")
    _small(footer.add_run(" 页"))


def _small(run: Run) -> Run:
    run.font.size = Pt(9)
    _fonts(run._r, SANS)
    return run


def _paragraph(
    document: Document,
    text: str = "",
    *,
    font: str | None = None,
    size: float | None = None,
    bold: bool = False,
    align: WD_ALIGN_PARAGRAPH | None = None,
    indent: bool = False,
    after: float | None = None,
) -> Paragraph:
    paragraph = document.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(24)  # two characters
    if after is not None:
        paragraph.paragraph_format.space_after = Pt(after)
    if text:
        run = paragraph.add_run(text)
        run.bold = bold
        if size is not None:
            run.font.size = Pt(size)
        if font is not None:
            _fonts(run._r, font)
    return paragraph


def _tag(document: Document, tag: str) -> None:
    """A paragraph holding only a docxtpl paragraph tag (``{%p if masked %}``): docxtpl
    removes the paragraph and keeps the tag."""
    document.add_paragraph(tag)


def _opening(document: Document, counted: bool = False) -> None:
    """Issuer, title, number and — on a masked copy — the warning."""
    _paragraph(document, "{{ committee }}", font=SANS, size=14, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph(
        document, "{{ title }}", font=SANS, size=22, align=WD_ALIGN_PARAGRAPH.CENTER, after=4
    )
    number = "编号：{{ number }}" + ("（第{{ n }}次）" if counted else "")
    _paragraph(document, number, size=11, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _tag(document, "{%p if masked %}")
    warning = _paragraph(document, "{{ masked_notice }}", font=SANS, size=10.5)
    for run in warning.runs:
        run.font.color.rgb = WARN
    _tag(document, "{%p endif %}")


def _heading(document: Document, text: str) -> None:
    heading = _paragraph(document, text, font=SANS, size=12.5, bold=True, after=2)
    heading.paragraph_format.keep_with_next = True


def _prose(document: Document, text: str) -> None:
    _paragraph(document, text, indent=True)


def _closing(document: Document) -> None:
    _paragraph(
        document,
        "本文书根据案件 {{ number }} 的办理记录生成：{{ generated_by }}，{{ generated_at }}。"
        "{% if masked %}脱敏副本，不得用于签署。{% endif %}",
        size=8.5,
    )


# --- tables --------------------------------------------------------------------------------

Row = tuple[str, str] | tuple[str, str, str, str]


def _table(document: Document, rows: int, widths: Sequence[int], grid: bool = True) -> Table:
    """A table of fixed column widths (in the grid and in every cell: Word reads the one,
    LibreOffice and WPS the other), centred; ruled when ``grid``."""
    table: Table = document.add_table(rows=rows, cols=len(widths))
    if grid:
        table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Mm(width)
    for row in table.rows:
        cant_split = OxmlElement("w:cantSplit")  # a row is never cut across two pages
        row._tr.get_or_add_trPr().append(cant_split)
        row.height, row.height_rule = Mm(8), WD_ROW_HEIGHT_RULE.AT_LEAST
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = Mm(width)
            cell.vertical_alignment = WD_ALIGN_VERTICAL.CENTER
    return table


def _form(document: Document, rows: Sequence[Row]) -> None:
    """Label and value cells: a two-item row spans the table, a four-item row is two pairs."""
    table = _table(document, len(rows), (30, 52, 30, 52))
    for row, spec in zip(table.rows, rows, strict=True):
        cells = row.cells
        if len(spec) == 2:
            cells[1].merge(cells[3])
            values = [(cells[0], spec[0], True), (cells[1], spec[1], False)]
        else:
            values = [
                (cell, text, i % 2 == 0)
                for i, (cell, text) in enumerate(zip(cells, spec, strict=True))
            ]
        for cell, text, is_label in values:
            _cell(cell, text, is_label)
    _paragraph(document, after=2)


def _cell(cell: _Cell, text: str, is_label: bool, size: float | None = None) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.paragraph_format.space_after = Pt(0)
    run = paragraph.add_run(text)
    if is_label:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _fonts(run._r, SANS)
        run.font.size = Pt(size or 10.5)
    elif size is not None:
        run.font.size = Pt(size)


def _parties(document: Document) -> None:
    """One row per party, by docxtpl's row loop (``{%tr for %}`` rows are removed); 五号
    (10.5 pt), so that an ID number fits its column."""
    headings = ("身份", "姓名", "身份证号码", "联系电话", "住址")
    values = ("{{ p.role }}", "{{ p.name }}", "{{ p.id_number }}", "{{ p.phone }}")
    table = _table(document, 4, (20, 24, 42, 30, 48))
    for cell, text in zip(table.rows[0].cells, headings, strict=True):
        _cell(cell, text, True, 10.5)
    table.rows[1].cells[0].text = "{%tr for p in parties %}"
    for cell, text in zip(table.rows[2].cells, (*values, "{{ p.address }}"), strict=True):
        _cell(cell, text, False, 10.5)
    table.rows[3].cells[0].text = "{%tr endfor %}"
    _paragraph(document, after=2)


# --- signatures ----------------------------------------------------------------------------


def _signatures(document: Document, party: str | None, *others: str) -> None:
    """A borderless table of signature lines, one row each: every party (by docxtpl's row
    loop) signing as ``party``, then ``others``. Columns keep the lines aligned; every line
    keeps with the next, so the block (and the seal after it) stays on one page."""
    _keep_with_signatures(document)
    looped = 3 if party else 0
    table = _table(document, looped + len(others), (78, 44, 42), grid=False)
    for row in table.rows:
        row.height, row.height_rule = Mm(12), WD_ROW_HEIGHT_RULE.AT_LEAST
        for cell in row.cells:
            cell.vertical_alignment = WD_ALIGN_VERTICAL.BOTTOM
            cell.paragraphs[0].paragraph_format.keep_with_next = True
    signers = list(others)
    if party:
        table.rows[0].cells[0].text = "{%tr for p in parties %}"
        table.rows[2].cells[0].text = "{%tr endfor %}"
        signers.insert(0, party)
    rows = [table.rows[1], *table.rows[3:]] if party else list(table.rows)
    for row, who in zip(rows, signers, strict=True):
        row.cells[0].paragraphs[0].add_run(f"{who}：")
        _signature_line(row.cells[1])
        date = row.cells[2].paragraphs[0]
        date.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        date.add_run(DATE_BLANK)
    _paragraph(document, after=4)


def _keep_with_signatures(document: Document, count: int = 2) -> None:
    """The last paragraphs of text go to the next page with the signatures, if they must: a
    page of signatures alone could be put under another text. (Paragraphs holding only a
    docxtpl tag are removed when rendered, so they do not count.)"""
    text = [p for p in document.paragraphs if p.text and not p.text.startswith("{%p")]
    for paragraph in text[-count:]:
        paragraph.paragraph_format.keep_with_next = True


def _signature_line(cell: _Cell) -> None:
    """The cell's bottom border is the line to sign on; a masked copy says it is void."""
    borders = OxmlElement("w:tcBorders")
    bottom = OxmlElement("w:bottom")
    for name, value in (("val", "single"), ("sz", "6"), ("space", "0"), ("color", "000000")):
        bottom.set(qn(f"w:{name}"), value)
    borders.append(bottom)
    cell._tc.get_or_add_tcPr().append(borders)
    paragraph = cell.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    void = paragraph.add_run(VOID)
    void.font.size = Pt(9)
    void.font.color.rgb = WARN
    _fonts(void._r, SANS)


def _seal(document: Document, date: str) -> None:
    seal = _paragraph(document, "{{ committee }}（盖章）", align=WD_ALIGN_PARAGRAPH.RIGHT, after=6)
    seal.paragraph_format.keep_with_next = True
    _paragraph(document, date, align=WD_ALIGN_PARAGRAPH.RIGHT)


# --- the documents -------------------------------------------------------------------------


def registration(document: Document) -> None:
    _opening(document)
    _form(
        document,
        [
            ("案件编号", "{{ number }}"),
            ("登记时间", "{{ case.registered_at }}", "预警等级", "{{ case.level }}"),
            ("案件类型", "{{ kind }}", "案件类别", "{{ case.category }}"),
            ("来源渠道", "{{ case.channel }}", "涉及人数", "{{ case.people_involved }}"),
            ("发生地点", "{{ case.location }}"),
            ("发生时间", "{{ case.occurred_at }}"),
            ("涉及金额", "{{ case.amount_involved }}"),
            ("简要情况", "{{ case.summary|paragraphs }}"),
            ("登记人", "{{ case.recorded_by }}", "报告人", "{{ case.reporter }}"),
            ("承办人", "{{ case.assignee }}"),
        ],
    )
    _heading(document, "当事人")
    _parties(document)
    _form(document, [("受理意见", "\n\n\n")])
    _signatures(document, "{{ p.role }} {{ p.name }}（签名或按指印）", "登记人（签名）")
    _seal(document, "{{ case.registered_on }}")


def mediation_record(document: Document) -> None:
    _opening(document, counted=True)
    _form(
        document,
        [
            ("调解时间", "{{ session.held_at }}", "调解次数", "第 {{ n }} 次"),
            ("调解单位", "{{ committee }}"),
            ("案件类别", "{{ case.category }}", "发生地点", "{{ case.location }}"),
            ("调解员", "{{ session.mediator }}", "记录时间", "{{ session.recorded_at }}"),
            ("参加人员", '{{ session.attendees|join("、") or "—" }}'),
        ],
    )
    _heading(document, "当事人")
    _parties(document)
    _heading(document, "纠纷简要情况")
    _prose(document, "{{ case.summary|paragraphs }}")
    _heading(document, "调解记录")
    _prose(document, "{{ session.notes|paragraphs }}")
    _prose(document, "以上笔录已向当事人宣读（或经当事人阅读），确认无误。")
    _signatures(
        document,
        "{{ p.role }} {{ p.name }}（签名或按指印）",
        "人民调解员（签名）",
        "记录人（签名）",
    )


def mediation_agreement(document: Document) -> None:
    _opening(document)
    _heading(document, "当事人")
    _tag(document, "{%p for p in parties %}")
    _paragraph(
        document,
        "{{ p.role }}：{{ p.name }}，身份证号码：{{ p.id_number }}，联系电话：{{ p.phone }}，"
        "住址：{{ p.address }}。",
    )
    _tag(document, "{%p endfor %}")
    _heading(document, "纠纷主要事实、争议事项")
    _prose(document, "{{ case.summary|paragraphs }}")
    _heading(document, "经调解，当事人自愿达成如下协议")
    _prose(document, "{{ agreement.text|paragraphs }}")
    _form(
        document,
        [
            ("协议金额", "{{ agreement.amount }}"),
            ("履行方式、时限", "{{ agreement.performance_due }}"),
            ("协议形式", "{{ agreement.form }}"),
            ("承办调解员", "{{ agreement.mediator }}（{{ agreement.resolved_at }} 记录化解）"),
        ],
    )
    _prose(
        document,
        "本协议书自当事人签名（或按指印）、人民调解员签名并加盖人民调解委员会印章之日起生效。"
        "本协议书一式 {{ copies }} 份，当事人、人民调解委员会各持一份。",
    )
    _tag(document, "{%p if agreement.written %}")
    _prose(
        document, "当事人可以自本协议书生效之日起三十日内，共同向有管辖权的人民法院申请司法确认。"
    )
    _tag(document, "{%p endif %}")
    _signatures(
        document,
        "{{ p.role }} {{ p.name }}（签名或按指印）",
        "人民调解员（签名）",
        "记录人（签名）",
    )
    _seal(document, "{{ agreement.resolved_on }}")


def follow_up_record(document: Document) -> None:
    _opening(document, counted=True)
    _form(
        document,
        [
            ("回访时间", "{{ follow_up.at }}", "回访次数", "第 {{ n }} 次"),
            ("回访人", "{{ follow_up.by }}", "办理结果", "{{ follow_up.outcome }}"),
            (
                "是否满意",
                "{{ follow_up.satisfied }}",
                "协议是否履行",
                "{{ follow_up.agreement_honoured }}",
            ),
            ("案件类别", "{{ case.category }}", "发生地点", "{{ case.location }}"),
        ],
    )
    _heading(document, "当事人")
    _parties(document)
    _heading(document, "纠纷简要情况")
    _prose(document, "{{ case.summary|paragraphs }}")
    _heading(document, "回访情况")
    _prose(document, "{{ follow_up.note|paragraphs }}")
    _signatures(document, "被回访人 {{ p.name }}（签名）", "回访人（签名）")


def judicial_confirmation_application(document: Document) -> None:
    _opening(document)
    _tag(document, "{%p for p in parties %}")
    _paragraph(
        document,
        "申请人（{{ p.role }}）：{{ p.name }}，身份证号码：{{ p.id_number }}，"
        "联系电话：{{ p.phone }}，住址：{{ p.address }}。",
    )
    _tag(document, "{%p endfor %}")
    _heading(document, "请求事项")
    _prose(
        document,
        "请求人民法院依法确认申请人于{{ agreement.resolved_on }}经{{ committee }}主持调解达成的"
        "人民调解协议（{{ number }}）有效。",
    )
    _heading(document, "事实和理由")
    _prose(
        document,
        "申请人因{{ case.category }}纠纷，于{{ agreement.resolved_on }}经{{ committee }}主持调解，"
        "达成如下协议：",
    )
    _prose(document, "{{ agreement.text|paragraphs }}")
    _prose(
        document,
        "协议金额：{{ agreement.amount }}；履行方式、时限：{{ agreement.performance_due }}。",
    )
    _prose(
        document,
        "申请人出于解决纠纷的目的自愿达成协议，没有恶意串通、规避法律的行为；如果因为该协议内容而"
        "给他人造成损害的，愿意承担相应的民事责任和其他法律责任。",
    )
    _paragraph(document, "此致")
    _paragraph(document, "{% if court %}{{ court }}{% else %}＿＿＿＿＿＿＿＿人民法院{% endif %}")
    _paragraph(document, "附：人民调解协议书一份")
    _signatures(document, "申请人 {{ p.name }}（签名或按指印）")


TEMPLATES: dict[str, Callable[[Document], None]] = {
    "registration": registration,
    "mediation-record": mediation_record,
    "mediation-agreement": mediation_agreement,
    "follow-up-record": follow_up_record,
    "judicial-confirmation-application": judicial_confirmation_application,
}


def write(folder: Path) -> list[Path]:
    """Writes every .docx template into ``folder``; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for slug, build in TEMPLATES.items():
        document = docx.Document()
        _page(document)
        _header_and_footer(document)
        build(document)
        _closing(document)
        document.core_properties.title = "{{ number }} {{ title }}"
        document.core_properties.author = "fengqiao"
        document.core_properties.created = FIXED
        document.core_properties.modified = FIXED
        document.core_properties.last_modified_by = "fengqiao"
        document.core_properties.revision = 1
        path = folder / f"{slug}.docx"
        document.save(str(path))
        _reproducible(path)
        written.append(path)
    return written


def _reproducible(path: Path) -> None:
    """The same template, the same bytes: every member dated 1980-01-01 and the document's
    own dates fixed, so a rewrite of unchanged templates changes no file in the repository."""
    with zipfile.ZipFile(path) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members:
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)


def main(argv: Sequence[str] = tuple(sys.argv[1:])) -> None:
    folder = Path(argv[0]) if argv else PACKAGED
    for path in write(folder):
        print(path)


if __name__ == "__main__":
    main()
