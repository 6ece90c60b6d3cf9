"""The ledger as a file: Chinese headers and values, as CSV for Excel or as an xlsx workbook.

The columns are in the order a 综治中心 reports its cases upward, and every value is in the
words of the people reading it (the dashboard's own names, ``api/http/web/static/i18n.js``).

Both writers keep memory flat however many rows: CSV goes out chunk by chunk as the rows are
read; the workbook is written by XlsxWriter in ``constant_memory`` mode, which writes each row
to a temporary file as soon as the next begins and keeps strings inline (no shared-string
table growing with every distinct case number), and assembles the xlsx (a ZIP, whose directory
comes last) only when the sheet is complete. So an xlsx can only be sent once written: it is
written to an unlinked temporary file and streamed from there.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from domain.calendar import SHANGHAI
from projections.ledger import LedgerRow

HEADERS = (
    "序号", "案件编号", "登记时间", "纠纷类别", "预警等级", "承办层级", "办理状态", "当事人",
    "承办人", "化解结果", "涉及金额", "回访情况", "评价", "办结时间",
)  # fmt: skip
LEVELS = {"red": "红", "orange": "橙", "yellow": "黄"}
TIERS = {"village": "村", "township": "镇", "county": "县"}
STATUSES = {
    "registered": "待签收",
    "signed": "已签收",
    "in_mediation": "调解中",
    "paused": "已中止",
    "reopened": "重新办理",
    "resolved": "已化解",
    "terminated": "调解终止",
    "referred": "已转办",
    "followed_up": "已回访",
    "closed": "已办结",
    "rejected": "不予受理",
}
OUTCOMES = {"resolved": "已化解", "terminated": "调解终止", "referred": "已转办"}
GRADES = {
    "very_satisfied": "非常满意",
    "satisfied": "满意",
    "basically_satisfied": "基本满意",
    "dissatisfied": "不满意",
    "very_dissatisfied": "非常不满意",
}
CSV_BOM = "\ufeff"  # Excel reads a CSV as UTF-8 only when it starts with one
TIME_FORMAT = "%Y-%m-%d %H:%M"
CHUNK_ROWS = 500  # rows per CSV chunk sent
READ_BYTES = 64 * 1024  # bytes per xlsx chunk sent
SHEET = "台账"
# Column widths in the workbook, in characters, by header.
WIDTHS = (6, 26, 17, 14, 8, 8, 10, 30, 16, 16, 12, 26, 10, 17)
# A text cell starting with one of these is a formula to a spreadsheet opening a CSV.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | Decimal | datetime | None


def cells(index: int, row: LedgerRow) -> tuple[Cell, ...]:
    """Row ``index`` (from 1) of the ledger: times in Shanghai (naive: a spreadsheet has no
    zones), the amount exact, every code in Chinese."""
    return (
        index,
        row.number,
        _local(row.registered_at),
        row.category,
        LEVELS.get(row.level, row.level),
        TIERS.get(row.tier, row.tier),
        STATUSES.get(row.status, row.status),
        row.parties,
        row.handler or "",
        outcome(row),
        row.amount,
        follow_up(row),
        GRADES.get(row.grade, row.grade) if row.grade else "",
        _local(row.closed_at) if row.closed_at else None,
    )


def outcome(row: LedgerRow) -> str:
    if row.outcome is None:
        return ""
    words = OUTCOMES.get(row.outcome, row.outcome)
    return f"{words}（已答复）" if row.outcome == "referred" and row.answered else words


def follow_up(row: LedgerRow) -> str:
    """The visits since the outcome and what the last one found: 已回访1次：满意，协议已履行."""
    if row.follow_ups == 0:
        return "未回访" if row.outcome else ""
    found = "满意" if row.satisfied else "不满意"
    if row.honoured is not None:
        found += "，协议已履行" if row.honoured else "，协议未履行"
    return f"已回访{row.follow_ups}次：{found}"


def _local(moment: datetime) -> datetime:
    return moment.astimezone(SHANGHAI).replace(tzinfo=None)


# --- CSV ---------------------------------------------------------------------------------------


def csv_chunks(rows: Iterable[LedgerRow]) -> Iterator[str]:
    """The ledger as CSV text for Excel, chunk by chunk: a byte-order mark, the headers, then
    ``CHUNK_ROWS`` rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS)
    yield CSV_BOM + _drain(buffer)
    for index, row in enumerate(rows, start=1):
        writer.writerow([_csv_text(cell) for cell in cells(index, row)])
        if index % CHUNK_ROWS == 0:
            yield _drain(buffer)
    rest = _drain(buffer)
    if rest:
        yield rest


def write_csv(rows: Iterable[LedgerRow], out: IO[str]) -> int:
    """Writes the ledger as CSV to ``out`` (opened with ``newline=""``); returns the rows."""
    counted = Counted(rows)
    for chunk in csv_chunks(counted):
        out.write(chunk)
    return counted.count


class Counted:
    """Rows passed through, counted."""

    def __init__(self, rows: Iterable[LedgerRow]) -> None:
        self._rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[LedgerRow]:
        for row in self._rows:
            self.count += 1
            yield row


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _csv_text(cell: Cell) -> str:
    """A cell as CSV text. Free text that a spreadsheet would run as a formula gets a leading
    apostrophe, and line ends become spaces (one case, one line, for those who count lines)."""
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.strftime(TIME_FORMAT)
    if not isinstance(cell, str):
        return str(cell)
    text = cell.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


# --- xlsx --------------------------------------------------------------------------------------


def write_xlsx(
    rows: Iterable[LedgerRow], path: Path | str, title: str = "", tmpdir: str | None = None
) -> int:
    """Writes the ledger as an xlsx workbook at ``path`` (its rows' temporary files in
    ``tmpdir``, else the system's); returns the rows written. Text is always written as text
    (never read as a formula, a number or a link), times as dates."""
    import xlsxwriter  # only an xlsx export pays for the import

    workbook = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "tmpdir": tmpdir,
        },
    )
    try:
        workbook.set_properties({"title": title or SHEET, "subject": "矛盾纠纷台账"})
        sheet = workbook.add_worksheet(SHEET)
        formats = _formats(workbook)
        for column, width in enumerate(WIDTHS):
            sheet.set_column(column, column, width)
        sheet.freeze_panes(1, 0)
        for column, header in enumerate(HEADERS):
            sheet.write_string(0, column, header, formats["header"])
        count = 0
        for count, row in enumerate(rows, start=1):
            for column, cell in enumerate(cells(count, row)):
                _write(sheet, count, column, cell, formats)
    finally:
        workbook.close()
    return count


def _formats(workbook: Any) -> dict[str, Any]:
    return {
        "header": workbook.add_format({"bold": True}),
        "time": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        "amount": workbook.add_format({"num_format": "#,##0.00"}),
    }


def _write(sheet: Any, row: int, column: int, cell: Cell, formats: dict[str, Any]) -> None:
    if cell is None or cell == "":
        return  # nothing to write: constant_memory writes no empty cells
    if isinstance(cell, datetime):
        sheet.write_datetime(row, column, cell, formats["time"])
    elif isinstance(cell, Decimal):
        sheet.write_number(row, column, float(cell), formats["amount"])
    elif isinstance(cell, int):
        sheet.write_number(row, column, cell)
    else:
        sheet.write_string(row, column, cell)


def xlsx_file(rows: Iterable[LedgerRow], title: str = "") -> tuple[IO[bytes], int]:
    """The ledger as an xlsx workbook in a temporary file already unlinked (nothing is left
    behind whatever happens to the reader), open at its start; and how many rows it holds."""
    folder = tempfile.mkdtemp(prefix="fengqiao-ledger-")
    path = os.path.join(folder, "ledger.xlsx")
    try:
        count = write_xlsx(rows, path, title, tmpdir=folder)
        handle = open(path, "rb")  # noqa: SIM115 - returned open, closed by its reader
    finally:
        for name in os.listdir(folder):
            os.unlink(os.path.join(folder, name))
        os.rmdir(folder)
    return handle, count


def file_chunks(handle: IO[bytes]) -> Iterator[bytes]:
    """An open file's bytes, chunk by chunk; closes it at the end (or when abandoned)."""
    with handle:
        while chunk := handle.read(READ_BYTES):
            yield chunk
