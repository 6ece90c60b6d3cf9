"""``fengqiao audit key|head|prove|check-consistency``: the signed tree heads and proofs of the
tamper-evident log, on the command line (docs/audit-format.md, "Signed tree heads").

``check-consistency`` is what an auditor runs with yesterday's saved head: it checks the head's
signature with the public key (``--key``, as the operator handed it over; else this deployment's
own), then proves from the store that today's log extends the saved one. Exit 0 when it does,
1 naming what failed, 2 for a file or key that cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api.wiring.settings import Settings
    from projections.merkle import MerkleView
    from projections.tree_heads import TreeHeadsView


def add_commands(audit_commands: Any) -> None:
    key = audit_commands.add_parser(
        "key", help="print the public key tree heads are signed with (JSON: key id, base64, PEM)"
    )
    key.set_defaults(handler=_key)
    head = audit_commands.add_parser(
        "head", help="sign a tree head of the whole log now, record it and print it (JSON)"
    )
    head.add_argument("--out", type=Path, help="also save the head to this file")
    head.set_defaults(handler=_head)
    prove = audit_commands.add_parser(
        "prove", help="print the inclusion proof of the record at a log position (JSON)"
    )
    prove.add_argument("--position", type=_whole, required=True, help="the record's log position")
    prove.add_argument("--size", type=_whole, help="the tree's size (default: the whole log)")
    prove.set_defaults(handler=_prove)
    check = audit_commands.add_parser(
        "check-consistency",
        help="verify a saved head's signature, then prove the log extends it (exit 1 if not)",
    )
    check.add_argument("head_file", type=Path, metavar="HEAD_FILE", help="a head saved as JSON")
    check.add_argument(
        "--key",
        metavar="PUBLIC_KEY",
        help="the public key: a file (PEM, base64 or the JSON of `audit key`) or the base64 "
        "itself; default: this deployment's own",
    )
    check.set_defaults(handler=_check_consistency)


def _whole(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _print(document: dict[str, Any]) -> None:
    print(json.dumps(document, ensure_ascii=False, indent=2))


def _key(args: argparse.Namespace, settings: Settings) -> int:
    from scheduler.signing import SigningKey, describe_public

    _print(describe_public(SigningKey.from_text(settings.signing_key_text()).public))
    return 0


class _Log:
    """The store, its views and the signer, opened for one command and closed after."""

    def __init__(self, settings: Settings) -> None:
        from datetime import UTC, datetime

        from api.wiring.bootstrap import build_application
        from api.wiring.views import build_views
        from scheduler.signing import SigningKey
        from scheduler.tree_heads import signer_over

        self.key = SigningKey.from_text(settings.signing_key_text())
        self.app = build_application(settings)
        self.views = build_views(settings, self.app)
        self.signer = signer_over(
            self.app, self.views, self.key, lambda: datetime.now(UTC), settings.head_seconds
        )

    @property
    def tree(self) -> MerkleView:
        return self.views.merkle

    @property
    def heads(self) -> TreeHeadsView:
        return self.views.heads

    def catch_up(self) -> None:
        for name in ("merkle", "heads"):
            self.views.runners[name].catch_up()

    def close(self) -> None:
        self.views.close()
        self.app.close()


def _head(args: argparse.Namespace, settings: Settings) -> int:
    log = _Log(settings)
    try:
        head, _ = log.signer.sign_now()
    finally:
        log.close()
    document = head.as_json()
    _print(document)
    if args.out is not None:
        args.out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return 0


def inclusion_document(
    tree: MerkleView, heads: TreeHeadsView, position: int, size: int | None
) -> dict[str, Any]:
    """The inclusion proof of the record at ``position`` in the tree of ``size`` leaves, as
    ``GET /api/v1/ledger/inclusion`` answers it; a ValueError saying what is wrong."""
    index = tree.index_of(position)
    if index is None:
        raise ValueError(f"--position: the log has no record at position {position}")
    current = tree.size()
    chosen = current if size is None else size
    if not index < chosen <= current:
        raise ValueError(
            f"--size: the record is leaf {index}: the size must be {index + 1} to {current}"
        )
    found = heads.of_size(chosen)
    return {
        "position": position,
        "index": index,
        "size": chosen,
        "leaf": tree.leaf(index).hash.hex(),
        "path": [node.hex() for node in tree.inclusion_proof(index, chosen)],
        "root": tree.root(chosen).hex(),
        "head": None if found is None else found.head.as_json(),
    }


def _prove(args: argparse.Namespace, settings: Settings) -> int:
    log = _Log(settings)
    try:
        log.catch_up()
        document = inclusion_document(log.tree, log.heads, args.position, args.size)
    except ValueError as error:
        print(f"fengqiao: {error}", file=sys.stderr)
        return 2
    finally:
        log.close()
    _print(document)
    return 0


def read_key(text: str) -> Any:
    """The public key ``--key`` names: a file holding it, or the key itself."""
    from scheduler.signing import load_public_key

    path = Path(text)
    if path.is_file():
        text = path.read_text(encoding="utf-8")
    return load_public_key(text)


def _check_consistency(args: argparse.Namespace, settings: Settings) -> int:
    from domain.errors import InvalidInputError
    from domain.tree_head import Head
    from projections import rfc9162
    from scheduler.signing import KeyFormatError, SigningKey, head_problem

    try:
        head = Head.of(json.loads(args.head_file.read_text(encoding="utf-8")))
        public = (
            read_key(args.key)
            if args.key
            else SigningKey.from_text(settings.signing_key_text()).public
        )
    except OSError as error:
        print(f"fengqiao: cannot read {args.head_file}: {error.strerror or error}", file=sys.stderr)
        return 2
    except (ValueError, InvalidInputError, KeyFormatError) as error:
        print(f"fengqiao: {error}", file=sys.stderr)
        return 2
    problem = head_problem(head, public)
    if problem is not None:
        print(f"the saved head is not genuine: {problem}")
        return 1
    log = _Log(settings)
    try:
        log.catch_up()
        size, root = log.tree.head()
        if size < head.size:
            print(
                f"the log does not extend the saved head: it holds {size} records, fewer than "
                f"the {head.size} the head was signed over (rolled back or rewritten)"
            )
            return 1
        proof = log.tree.consistency_proof(head.size, size)
    finally:
        log.close()
    if not rfc9162.verify_consistency(head.size, size, bytes.fromhex(head.root), root, proof):
        print(
            f"the log does not extend the saved head: its first {head.size} records are not "
            f"those the head was signed over (root {head.root[:16]}…), so records were changed, "
            "removed or reordered"
        )
        return 1
    print(
        f"the log extends the saved head: {head.size} records signed at {head.signed_at}, "
        f"{size} now (root {root.hex()})"
    )
    return 0
