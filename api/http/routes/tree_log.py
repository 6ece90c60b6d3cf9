"""The tamper-evident log over HTTP: the public key heads are signed with, the signed tree heads,
and inclusion and consistency proofs over the Merkle tree of the event log (``projections.merkle``;
docs/audit-format.md, "Signed tree heads").

The key is for anyone signed in, whatever their role: it is no secret, but everything under
``/api/v1`` takes a token, and an auditor must hold the key from elsewhere anyway (handed over by
the operator, ``fengqiao audit key``): a key fetched from the server it is meant to check proves
nothing about that server. Heads and proofs follow the audit export's rule (``EXPORTERS``:
auditors, supervisors and admins), at any unit: the tree covers the whole log and cannot be cut
to a subtree, and it holds only hashes of stored (encrypted) records, never their content.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from litestar import Request, get
from litestar.exceptions import HTTPException
from litestar.params import Parameter
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

from api.http.openapi import answers, contract
from api.http.permissions import EXPORTERS, require_role
from api.http.runtime import Runtime
from api.http.tree_schemas import ConsistencyOut, HeadOut, HeadsOut, InclusionOut, SigningKeyOut
from domain.actors import Actor
from domain.errors import InvalidInputError
from domain.tree_head import Head
from projections.merkle import MerkleView
from projections.tree_heads import HeadRow
from scheduler.signing import describe_public

Req = Request[Any, Any, Any]
ACTION = "read the log's heads and proofs"
CATCH_UP_TIMEOUT = 2.0  # seconds a read waits for the tree and heads to reach the log's head
PROOF_ERRORS = (400, 401, 403, 422, 503)  # 400: a required size or position left out
LARGEST = 2**62  # a log position or tree size the stores' integers hold


def head_out(head: Head, position: int | None = None) -> HeadOut:
    return HeadOut(**head.as_json(), position=position)


def _row_out(row: HeadRow | None) -> HeadOut | None:
    return None if row is None else head_out(row.head, row.position)


def _signer(runtime: Runtime) -> Any:
    if runtime.head_signer is None:
        raise HTTPException(
            status_code=HTTP_503_SERVICE_UNAVAILABLE, detail="no signing key in this process"
        )
    return runtime.head_signer


@get(
    "/ledger/key",
    responses=answers(200, SigningKeyOut, "The public key tree heads are signed with.", (401, 503)),
    operation_class=contract(),
    sync_to_thread=False,
)
def signing_key(runtime: Runtime) -> SigningKeyOut:
    """The Ed25519 public key that signs the log's tree heads, and its id: for anyone signed
    in. An auditor should also hold it from elsewhere (``fengqiao audit key``): a key fetched
    from the server it is meant to check proves nothing about that server."""
    return SigningKeyOut(**describe_public(_signer(runtime).key.public))


@get(
    "/ledger/heads",
    responses=answers(200, HeadsOut, "Signed tree heads, latest first.", PROOF_ERRORS),
    operation_class=contract(),
)
async def list_heads(
    request: Req,
    runtime: Runtime,
    limit: Annotated[int, Parameter(ge=1, le=500)] = 50,
    offset: Annotated[int, Parameter(ge=0, le=10_000_000)] = 0,
) -> HeadsOut:
    """The signed tree heads recorded in the log, latest first (paged): a head is signed at
    most every ``FENGQIAO_HEAD_SECONDS`` while the log grows, and on demand. For auditors,
    supervisors and admins."""
    actor: Actor = request.user
    require_role(actor, EXPORTERS, ACTION)

    def work() -> HeadsOut:
        _caught_up(runtime, "heads")
        view = runtime.views.heads
        rows = view.page(limit, offset)
        heads = [head_out(row.head, row.position) for row in rows]
        return HeadsOut(heads=heads, total=view.count(), limit=limit, offset=offset)

    return await anyio.to_thread.run_sync(work)


def _caught_up(runtime: Runtime, *names: str) -> None:
    """Waits briefly for the views to reach the log's head: a head signed a moment ago (an
    export's) is listed, and a proof is of the tree that holds every record committed."""
    top = runtime.app.recorder.max_notification_id() or 0
    runtime.views.wait(top, CATCH_UP_TIMEOUT, names)


def _size(tree: MerkleView, size: int | None, field: str, least: int = 0) -> tuple[int, int]:
    """(the size asked for, or the tree's whole size; the tree's size), refused past the tree."""
    current = tree.size()
    if size is None:
        return current, current
    if not least <= size <= current:
        raise InvalidInputError(
            field,
            f"must be {least} to {current}: the tree holds {current} records",
            "tree_size",
            {"least": least, "size": current},
        )
    return size, current


def _index(runtime: Runtime, position: int) -> int:
    """The leaf index of the record at ``position``; refused when the tree has no such record."""
    index = runtime.views.merkle.index_of(position)
    if index is None:
        raise InvalidInputError(
            "position", f"the log has no record at position {position}", "tree_position"
        )
    return index


@get(
    "/ledger/inclusion",
    opt={"fields": "tree"},
    responses=answers(200, InclusionOut, "The record's leaf and audit path.", PROOF_ERRORS),
    operation_class=contract(),
)
async def inclusion(
    request: Req,
    runtime: Runtime,
    position: Annotated[int, Parameter(ge=1, le=LARGEST)],
    size: Annotated[int | None, Parameter(ge=1, le=LARGEST)] = None,
) -> InclusionOut:
    """Proves the record at log ``position`` is in the tree of ``size`` leaves (the whole tree
    when left out): its leaf hash and index, the audit path and the root, and the signed head
    of that size when one was recorded. Verify with RFC 9162 §2.1.3.2."""
    actor: Actor = request.user
    require_role(actor, EXPORTERS, ACTION)

    def work() -> InclusionOut:
        _caught_up(runtime, "merkle", "heads")
        tree = runtime.views.merkle
        index = _index(runtime, position)
        chosen, _ = _size(tree, size, "size", least=1)
        if index >= chosen:
            raise InvalidInputError(
                "size",
                f"the record at position {position} is leaf {index}: the tree needs more than "
                f"{chosen} leaves to hold it",
                "tree_holds",
                {"position": position, "least": index + 1},
            )
        return InclusionOut(
            position=position,
            index=index,
            size=chosen,
            leaf=tree.leaf(index).hash.hex(),
            path=[node.hex() for node in tree.inclusion_proof(index, chosen)],
            root=tree.root(chosen).hex(),
            head=_row_out(runtime.views.heads.of_size(chosen)),
        )

    return await anyio.to_thread.run_sync(work)


@get(
    "/ledger/consistency",
    opt={"fields": "tree"},  # its from and to are sizes of the tree, not dates (labels)
    responses=answers(200, ConsistencyOut, "The consistency proof.", PROOF_ERRORS),
    operation_class=contract(),
)
async def consistency(
    request: Req,
    runtime: Runtime,
    old: Annotated[int, Parameter(query="from", ge=0, le=LARGEST)],
    new: Annotated[int | None, Parameter(query="to", ge=0, le=LARGEST)] = None,
) -> ConsistencyOut:
    """Proves the tree of ``to`` leaves (the whole tree when left out) extends the tree of
    ``from`` leaves: nothing in the first ``from`` records was changed, removed or reordered.
    Both roots, the proof, and the signed heads of those sizes when recorded. Verify with RFC
    9162 §2.1.4.2."""
    actor: Actor = request.user
    require_role(actor, EXPORTERS, ACTION)

    def work() -> ConsistencyOut:
        _caught_up(runtime, "merkle", "heads")
        tree = runtime.views.merkle
        later, _ = _size(tree, new, "to")
        _size(tree, old, "from")
        if old > later:
            raise InvalidInputError(
                "from", f"must not be more than to ({later})", "tree_order", {"to": later}
            )
        heads = runtime.views.heads
        return ConsistencyOut(
            from_size=old,
            to_size=later,
            from_root=tree.root(old).hex(),
            to_root=tree.root(later).hex(),
            path=[node.hex() for node in tree.consistency_proof(old, later)],
            from_head=_row_out(heads.of_size(old)),
            to_head=_row_out(heads.of_size(later)),
        )

    return await anyio.to_thread.run_sync(work)


HANDLERS = [signing_key, list_heads, inclusion, consistency]
