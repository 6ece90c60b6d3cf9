"""Signing tree heads: at most every N seconds while the log grows, and on demand (an export, an
auditor's ``fengqiao audit head``).

A head is signed over the Merkle tree view as it stands once it has caught up with the log
(``refresh``), and recorded as an event (``FengqiaoApplication.record_tree_head``). That event is
itself a leaf of the next tree: the periodic job signs again only when something besides heads
was recorded since the last one (the log's last position is not the last head's own event), so
a quiet log is not signed over and over because of its own heads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from domain.application import FengqiaoApplication
from domain.tree_head import Head
from projections.tree_heads import TreeHeadsView
from projections.viewset import ViewSet
from scheduler.signing import SigningKey

log = logging.getLogger(__name__)
CATCH_UP_TIMEOUT = 5.0  # seconds a head waits for the tree to reach the log's head


class Tree(Protocol):
    """The Merkle tree over the log, as the head job reads it (``projections.merkle``)."""

    def head(self) -> tuple[int, bytes]: ...


class HeadSigner:
    def __init__(
        self,
        app: FengqiaoApplication,
        tree: Tree,
        heads: TreeHeadsView,
        key: SigningKey,
        clock: Callable[[], datetime],
        every: float,
        refresh: Callable[[], None] = lambda: None,
    ) -> None:
        self.app = app
        self.tree = tree
        self.heads = heads
        self.key = key
        self.clock = clock
        self.every = every  # seconds: the least time between two periodic heads
        self.refresh = refresh  # brings the tree and heads views up to the log's head

    def sign_now(self) -> tuple[Head, int | None]:
        """A head of the whole tree as it stands, signed now and recorded; the log position of
        its event (None when the same size and root had been recorded: that head is answered).
        For exports and auditors: not limited to one every N seconds."""
        self.refresh()
        size, root = self.tree.head()
        head = self.key.sign(size, root.hex(), self.clock())
        return self.app.record_tree_head(head)

    def due(self, now: datetime) -> bool:
        """Whether the periodic job signs at ``now``: the log grew since the last head (by more
        than heads' own events) and that head is at least ``every`` seconds old."""
        last = self.heads.latest()
        top = self.app.recorder.max_notification_id() or 0
        if last is None:
            return top > 0
        if top <= last.position:
            return False
        signed = datetime.fromisoformat(last.head.signed_at.replace("Z", "+00:00"))
        return (now - signed).total_seconds() >= self.every

    def tick(self) -> Head | None:
        """The periodic job: signs and records a head when one is due; None otherwise."""
        self.refresh()
        if not self.due(self.clock()):
            return None
        head, _ = self.sign_now()
        return head


def signer_over(
    app: FengqiaoApplication,
    views: ViewSet,
    key: SigningKey,
    clock: Callable[[], datetime],
    every: float,
) -> HeadSigner:
    """A signer over ``views``' Merkle tree and heads: before each head the two views are
    brought up to the log's head (``ViewSet.bring_up``: by their followers where they run,
    waiting up to ``CATCH_UP_TIMEOUT``, else by applying what is missing here); a head is never
    signed over a tree behind the log."""

    def refresh() -> None:
        if not all(views.bring_up(name, CATCH_UP_TIMEOUT) for name in ("merkle", "heads")):
            raise TimeoutError("the Merkle tree view is behind the log: no head signed")

    return HeadSigner(app, views.merkle, views.heads, key, clock, every, refresh)
