"""Audit exports over HTTP: streamed, hash-chained, scoped to the caller's subtree, recorded."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import anyio.to_thread
from litestar import Request, get
from litestar.exceptions import HTTPException
from litestar.params import Parameter
from litestar.response import Stream
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

from api.http.openapi import ATTACHMENT, BOUND, CSV, NDJSON, TEXT, answers, contract
from api.http.permissions import EXPORTERS, require_read, require_role, require_unit
from api.http.routes.reads import parse_bound
from api.http.runtime import Runtime
from domain.actors import Actor
from domain.errors import InvalidInputError
from domain.tree_head import Head
from projections.audit_export import (
    ExportFilter,
    TreeProofs,
    export_batches,
    manifest_fields,
    seal_details,
)
from projections.audit_trail import ChainWriter

Req = Request[Any, Any, Any]
VIEWS_TIMEOUT = 30.0  # seconds an export waits for the views to reach its own record
MEDIA = {"jsonl": NDJSON, "csv": CSV}
# What an export answers: the file, as JSON Lines or CSV (``format``), one record per event and
# a manifest last (docs/audit-format.md); refusals as problem documents.
FILE = "The hash-chained export: JSON Lines, or CSV with format=csv (a download)."
EXPORT = contract(headers={200: {"Content-Disposition": ATTACHMENT}}, content={200: {CSV: TEXT}})


def _stream(
    runtime: Runtime, actor: Actor, scope: ExportFilter, form: str, until: int, head: Head
) -> Iterator[str]:
    """The file, chunk by chunk: memory stays flat however many events it holds. Once the
    last chunk is taken the export is sealed (its final hash recorded); a download broken off
    before is not."""
    buffer = io.StringIO()
    writer = ChainWriter(buffer, form)
    started = datetime.now(UTC)
    proofs = TreeProofs(runtime.views.merkle, head.size)
    batches = export_batches(
        runtime.app, runtime.views.cases, runtime.app.units(), writer, scope, until, proofs
    )
    for _ in batches:
        chunk = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if chunk:
            yield chunk
    summary = writer.finish(manifest_fields(scope, started, actor.user, head))
    yield buffer.getvalue()
    runtime.app.record_access(actor, "export_sealed", scope.case_id, seal_details(summary, until))


def _response(runtime: Runtime, actor: Actor, scope: ExportFilter, form: str, name: str) -> Stream:
    # The file is the log up to this export's own record; the cases view that scopes it
    # must have reached it, or cases registered just before would be silently left out.
    position = runtime.app.record_access(actor, "export", scope.case_id, scope.describe()) or 0
    runtime.views.poke()
    behind = HTTPException(
        status_code=HTTP_503_SERVICE_UNAVAILABLE,
        detail="the read models are behind the log: retry the export shortly",
    )
    if not runtime.views.wait(position, VIEWS_TIMEOUT):
        raise behind
    if runtime.head_signer is None:
        raise HTTPException(
            status_code=HTTP_503_SERVICE_UNAVAILABLE, detail="no signing key in this process"
        )
    try:  # the head the records are proven in: the tree as it stands, the export's record in it
        head, _ = runtime.head_signer.sign_now()
    except TimeoutError:
        raise behind from None
    return Stream(
        _stream(runtime, actor, scope, form, position, head),
        media_type=MEDIA[form],
        headers={"content-disposition": f'attachment; filename="{name}.{form}"'},
    )


@get(
    "/audit/export",
    responses=answers(200, str, FILE, (401, 403, 422, 503), media_type=NDJSON),
    operation_class=EXPORT,
)
async def export_audit(
    request: Req,
    runtime: Runtime,
    unit: str | None = None,
    start: Annotated[str | None, Parameter(query="from", schema_extra=BOUND)] = None,
    end: Annotated[str | None, Parameter(query="to", schema_extra=BOUND)] = None,
    form: Annotated[str, Parameter(query="format", pattern="^(jsonl|csv)$")] = "jsonl",
) -> Stream:
    actor: Actor = request.user
    require_role(actor, EXPORTERS, "export the audit trail")
    root = unit or actor.unit
    require_unit(actor, runtime.app.units(), root)
    try:
        begin = parse_bound(start, "from", datetime.min.replace(tzinfo=UTC), end=False)
        finish = parse_bound(end, "to", datetime.max.replace(tzinfo=UTC), end=True)
    except ValueError as error:
        raise InvalidInputError(str(error).split(":")[0], str(error)) from None
    scope = ExportFilter(root, begin if start else None, finish if end else None)
    return await anyio.to_thread.run_sync(_response, runtime, actor, scope, form, f"audit-{root}")


@get(
    "/cases/{case_id:uuid}/audit",
    responses=answers(200, str, FILE, (401, 403, 404, 422, 503), media_type=NDJSON),
    operation_class=EXPORT,
)
async def export_case_audit(
    case_id: UUID,
    request: Req,
    runtime: Runtime,
    form: Annotated[str, Parameter(query="format", pattern="^(jsonl|csv)$")] = "jsonl",
) -> Stream:
    actor: Actor = request.user
    require_role(actor, EXPORTERS, "export the audit trail")

    def work() -> Stream:
        require_read(actor, runtime.app.units(), runtime.app.get_case(case_id))
        scope = ExportFilter(case_id=case_id)
        return _response(runtime, actor, scope, form, f"audit-{case_id}")

    return await anyio.to_thread.run_sync(work)


HANDLERS = [export_audit, export_case_audit]
