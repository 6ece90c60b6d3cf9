"""What each committed batch of the cases view did to the escalation queues.

A unit's queue is the open cases owned in its subtree (``projections.queue.get_queue``). A
change to a case concerns every queue that held it before the batch or holds it after. To know
"before", ``QueueFeed`` hooks the cases runner twice: inside the batch's transaction, before
the view applies it, it reads the touched cases' owners as they were; after the commit (in the
follower thread) it reads them as they are, with every owner's ancestors from the view's
closure table, and hands the result (``BatchChanges``) to ``publish``. Nothing is read while
nobody listens (``wanted``).

This module only reads the view; how changes reach clients (server-sent events, JSON) is the
API's business, so it stays free of any web framework or wire format.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.case import Case
from projections.cases import COLUMNS, CasesView
from projections.db import Cursor
from projections.engine import Batch, ViewRunner
from projections.events import is_case_event
from projections.queue import QueueItem, queue_item

log = logging.getLogger(__name__)

CHUNK = 500  # case ids or units per IN (...) list

Ancestors = dict[str, set[str]]  # a unit, with itself and every unit above it


@dataclass(frozen=True)
class Placement:
    """Where a case stood before a batch: its owner, and whether it was open (queued)."""

    owner: str
    open: bool


@dataclass(frozen=True)
class QueueChange:
    """What one batch did to one case, as any queue might need it."""

    case: str
    changes: list[str]  # the case's event types in the batch, in order (class names)
    position: int  # the batch's last log position
    before: Placement | None
    after_owner: str | None
    after_open: bool
    item: QueueItem | None  # as the case now stands; None when it is in no queue

    def concerns(self, unit: str, ancestors: Ancestors) -> bool:
        """The case was in ``unit``'s queue before the batch, or is after it."""
        was = (
            self.before is not None
            and self.before.open
            and unit in ancestors.get(self.before.owner, ())
        )
        return was or self.holds(unit, ancestors)

    def holds(self, unit: str, ancestors: Ancestors) -> bool:
        """The case is in ``unit``'s queue after the batch."""
        return (
            self.after_open
            and self.after_owner is not None
            and unit in ancestors.get(self.after_owner, ())
        )


@dataclass(frozen=True)
class BatchChanges:
    """Every case one batch touched, with the ancestry of their owners before and after."""

    position: int
    changes: list[QueueChange]
    ancestors: Ancestors

    def seen_from(self, unit: str) -> list[tuple[QueueChange, bool]]:
        """The changes ``unit``'s queue is told of, each with whether the case is in it now."""
        return [
            (change, change.holds(unit, self.ancestors))
            for change in self.changes
            if change.concerns(unit, self.ancestors)
        ]


class QueueFeed:
    """Reads what the cases view's committed batches do to the queues, for ``publish``."""

    def __init__(
        self,
        view: CasesView,
        clock: Callable[[], datetime],
        wanted: Callable[[], bool],
        publish: Callable[[BatchChanges], None],
    ) -> None:
        self.view = view
        self.clock = clock
        self.wanted = wanted
        self.publish = publish
        self._pending = threading.local()  # the owners as they were, between the two hooks

    @classmethod
    def attach(
        cls,
        runner: ViewRunner,
        clock: Callable[[], datetime],
        wanted: Callable[[], bool],
        publish: Callable[[BatchChanges], None],
    ) -> QueueFeed:
        if not isinstance(runner.view, CasesView):
            raise TypeError(f"queue changes follow the cases view, not {runner.name}")
        feed = cls(runner.view, clock, wanted, publish)
        runner.preparers.append(feed.prepare)
        runner.discarders.append(feed.discard)
        runner.listeners.append(feed.listen)
        return feed

    # --- the runner's hooks (in the follower thread) --------------------------------------

    def prepare(self, cursor: Cursor, batch: Batch) -> None:
        """Before the view applies ``batch``: the touched cases' owners as they were."""
        self._pending.before = None
        if not self.wanted():
            return
        ids = touched(batch)
        before: dict[str, Placement] = {}
        for chunk in _chunks(ids):
            cursor.execute(
                f"SELECT id, owner, is_open FROM {self.view.t('cases')} "
                f"WHERE id IN ({_marks(chunk)})",
                chunk,
            )
            for case, owner, is_open in cursor.fetchall():
                before[case] = Placement(owner, bool(is_open))
        self._pending.before = before

    def discard(self) -> None:
        """Another process applied the batch ``prepare`` read for: the owners it read may be
        as they are after it, so where a case was is judged by its events instead."""
        self._pending.before = None

    def listen(self, position: int, batch: Batch) -> None:
        """After ``batch`` committed: what it changed, to ``publish``."""
        before: dict[str, Placement] | None = getattr(self._pending, "before", None)
        self._pending.before = None
        if not self.wanted():
            return
        try:
            changes = self.read(position, batch, before)
            if changes.changes:
                self.publish(changes)
        except Exception:  # a stream's trouble must never stop the view
            log.exception("queue streams: could not publish the batch ending at %s", position)

    # --- what changed ------------------------------------------------------------------

    def read(
        self, position: int, batch: Batch, before: dict[str, Placement] | None
    ) -> BatchChanges:
        """The batch's changes, case by case; ``before`` None (a listener came between the two
        hooks) judges where a case was by its events."""
        names: dict[str, list[str]] = {}
        registered: set[str] = set()  # cases whose first event in the batch registered them
        moved_from: dict[str, str] = {}
        for _, event in batch:
            if is_case_event(event):
                case = str(event.originator_id)
                if case not in names and isinstance(event, Case.Registered):
                    registered.add(case)
                names.setdefault(case, []).append(type(event).__name__)
                if hasattr(event, "from_unit"):
                    moved_from.setdefault(case, event.from_unit)
        if not names:
            return BatchChanges(position, [], {})
        rows = self._rows(list(names))
        now = self.clock()
        changes = []
        for case, events in names.items():
            row = rows.get(case)
            if before is not None:
                was = before.get(case)
            else:
                owner = moved_from.get(case, row["owner"] if row else None)
                was = Placement(owner, True) if owner and case not in registered else None
            is_open = bool(row and row["is_open"])
            changes.append(
                QueueChange(
                    case=case,
                    changes=events,
                    position=position,
                    before=was,
                    after_owner=row["owner"] if row else None,
                    after_open=is_open,
                    item=queue_item(row, now) if row and is_open else None,
                )
            )
        owners = {c.after_owner for c in changes if c.after_owner} | {
            c.before.owner for c in changes if c.before is not None
        }
        return BatchChanges(position, changes, self._ancestors(sorted(owners)))

    def _rows(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        names = ", ".join(COLUMNS)
        rows: dict[str, dict[str, Any]] = {}
        with self.view.db.transaction(write=False) as cursor:
            for chunk in _chunks(ids):
                cursor.execute(
                    f"SELECT {names} FROM {self.view.t('cases')} WHERE id IN ({_marks(chunk)})",
                    chunk,
                )
                for values in cursor.fetchall():
                    row = dict(zip(COLUMNS, values, strict=True))
                    rows[row["id"]] = row
        return rows

    def _ancestors(self, owners: list[str]) -> Ancestors:
        """Each owner with itself and every unit above it (the view's closure table)."""
        found: Ancestors = {owner: {owner} for owner in owners}
        with self.view.db.transaction(write=False) as cursor:
            for chunk in _chunks(owners):
                cursor.execute(
                    f"SELECT descendant, ancestor FROM {self.view.t('units')} "
                    f"WHERE descendant IN ({_marks(chunk)})",
                    chunk,
                )
                for descendant, ancestor in cursor.fetchall():
                    found[descendant].add(ancestor)
        return found


def touched(batch: Batch) -> list[str]:
    """The ids of the cases ``batch`` has events of, in order of first appearance."""
    return list(dict.fromkeys(str(e.originator_id) for _, e in batch if is_case_event(e)))


def _chunks(items: list[str]) -> list[list[str]]:
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


def _marks(chunk: list[str]) -> str:
    return ", ".join("?" for _ in chunk)
