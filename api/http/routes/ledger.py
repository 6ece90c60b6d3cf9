"""The ledger (台账) over HTTP: a subtree's cases of a period, as xlsx or CSV, recorded.

Who may export the audit trail may export the ledger of their subtree: it lists every case,
its parties' names masked. Each export is first recorded (an access record of kind
``ledger`` with its filter), and lists the cases registered up to that record, so what was
handed out can be told afterwards from the trail.

CSV is streamed as the rows are read. An xlsx is a ZIP whose directory comes last, so it is
written whole first, in constant memory, to a temporary file that is streamed out and gone
once sent (``projections.ledger_files``).
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Annotated, Any

import anyio.to_thread
from litestar import Request, get
from litestar.exceptions import HTTPException
from litestar.openapi.spec import OpenAPIFormat, OpenAPIHeader, OpenAPIType, Schema
from litestar.params import Parameter
from litestar.response import Stream
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

from api.http.openapi import BOUND, CSV, TEXT, answers, contract
from api.http.permissions import EXPORTERS, require_role, require_unit
from api.http.routes.reads import stats_period
from api.http.runtime import Runtime
from domain.actors import Actor
from domain.calendar import SHANGHAI
from projections.ledger import describe, ledger_rows, ledger_view
from projections.ledger_files import csv_chunks, file_chunks, xlsx_file

Req = Request[Any, Any, Any]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA = {"xlsx": XLSX, "csv": CSV}
VIEWS_TIMEOUT = 30.0  # seconds an export waits for the ledger view to reach its own record
FILE = (
    "The ledger: one row per case located in the unit's subtree and registered in the period, "
    "Chinese headers and values; an xlsx workbook, or CSV (UTF-8 with a byte-order mark, for "
    "Excel) with format=csv. A download."
)
LEDGER = contract(
    headers={
        200: {
            "Content-Disposition": OpenAPIHeader(
                schema=TEXT,
                description='attachment; filename="ledger-….xlsx" (or .csv)',
                required=True,
            )
        }
    },
    # the workbook's bytes, not text (Litestar would call the answer a string)
    content={200: {XLSX: Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY), CSV: TEXT}},
)


def file_name(unit: str, start: datetime, end: datetime, form: str) -> str:
    """``ledger-<unit>-<first day>-<last day>.<form>``, the days in Shanghai (``to`` is the
    day after the last, as a whole-day period ends)."""
    first = start.astimezone(SHANGHAI).strftime("%Y%m%d")
    last = datetime.fromtimestamp(end.timestamp() - 1, SHANGHAI).strftime("%Y%m%d")
    return f"ledger-{unit}-{first}-{last}.{form}"


def _response(
    runtime: Runtime, actor: Actor, unit: str, period: tuple[datetime, datetime], form: str
) -> Stream:
    start, end = period
    position = runtime.app.record_access(actor, "ledger", None, describe(unit, *period, form))
    runtime.views.poke()
    if not runtime.views.wait(position, VIEWS_TIMEOUT, names=["ledger"]):
        raise HTTPException(
            status_code=HTTP_503_SERVICE_UNAVAILABLE,
            detail="the read models are behind the log: retry the export shortly",
        )
    rows = ledger_rows(ledger_view(runtime.views), unit, start, end, until=position)
    headers = {
        "content-disposition": f'attachment; filename="{file_name(unit, start, end, form)}"',
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
    }
    if form == "csv":
        return Stream(csv_chunks(rows), media_type=CSV, headers=headers)
    handle, _ = xlsx_file(rows, title=f"台账 {unit}")
    headers["content-length"] = str(os.fstat(handle.fileno()).st_size)
    return Stream(file_chunks(handle), media_type=XLSX, headers=headers)


@get(
    "/ledger",
    responses=answers(200, bytes, FILE, (401, 403, 422, 503), media_type=XLSX),
    operation_class=LEDGER,
)
async def export_ledger(
    request: Req,
    runtime: Runtime,
    unit: Annotated[
        str | None, Parameter(description="A unit code: its subtree (default the caller's unit).")
    ] = None,
    start: Annotated[str | None, Parameter(query="from", schema_extra=BOUND)] = None,
    end: Annotated[str | None, Parameter(query="to", schema_extra=BOUND)] = None,
    # named as sent: a refusal names the parameter by its Python name (导出格式, not 协议形式)
    format: Annotated[str, Parameter(pattern="^(xlsx|csv)$")] = "xlsx",  # noqa: A002
) -> Stream:
    """The period is the statistics' (dates are whole Shanghai days, ``to`` included; by
    default the 30 days up to now); the unit is the caller's own unless named."""
    actor: Actor = request.user
    require_role(actor, EXPORTERS, "export the ledger")
    root = unit or actor.unit
    require_unit(actor, runtime.app.units(), root)
    period = stats_period(start, end, runtime.clock())
    return await anyio.to_thread.run_sync(_response, runtime, actor, root, period, format)


HANDLERS = [export_ledger]
