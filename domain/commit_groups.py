"""Group commit: commands saved at the same moment by different threads share one transaction.

Under concurrent requests each command's save waits for the store's one writer anyway (SQLite
takes one writer at a time; PostgreSQL's insert locks the table so positions follow commit
order). Each such transaction pays its own commit, which on SQLite is a flush of the log to
disk (``synchronous=FULL``: the event store is the record) and on PostgreSQL its round trips
and the table lock. So the thread that gets the writer's turn (the leader) saves, in one
transaction, every command that queued while the previous transaction ran, and hands each its
own recordings. Alone, a command saves alone, exactly as without the group.

A group is all or nothing, so a group that fails (a version conflict of one member, two
members on one aggregate, a dropped connection) is saved again one member at a time, in the
order they came, and each member gets what its own save gave: the conflicting command alone
sees its ``IntegrityError`` and is decided again; a commit whose acknowledgement was lost is
recognised by its own member as today (``FengqiaoApplication._commit``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

R = TypeVar("R")  # what a save gives per event (the library's Recording)

Save = Callable[..., list[R]]


class UnsavedError(RuntimeError):
    """A command's save was left unfinished by the thread saving its group."""


@dataclass(eq=False)
class _Member(Generic[R]):
    """One command's aggregates, and what saving them gave (recordings or the error)."""

    aggregates: Sequence[Any]
    events: int
    recordings: list[R] = field(default_factory=list)
    error: BaseException | None = None
    done: bool = False

    def outcome(self) -> list[R]:
        if self.error is not None:
            raise self.error
        return self.recordings


class CommitGroups(Generic[R]):
    """Saves each caller's aggregates, in a transaction shared with the callers waiting at the
    same time (see module)."""

    def __init__(self, save: Save[R], enabled: bool = True) -> None:
        self._save = save
        self.enabled = enabled
        self._changed = threading.Condition()  # guards the queue and whether a group is saving
        self._queue: list[_Member[R]] = []
        self._saving = False
        self._leader: int | None = None  # the thread saving a group, while it does
        # for benchmarks: the most commands one transaction held, and commands per transaction
        self.largest = 0
        self.commands = self.transactions = 0

    def save(self, *aggregates: Any) -> list[R]:
        """Saves ``aggregates`` (one command's: a case, its counter, its receipt) and gives
        their recordings, in order; raises what their save raised."""
        if not self.enabled or self._leader == threading.get_ident():
            return self._save(*aggregates)  # a save within the group's own save goes alone
        member = _Member[R](aggregates, sum(len(a.pending_events) for a in aggregates))
        with self._changed:
            self._queue.append(member)
            while self._saving and not member.done:
                self._changed.wait()
            if member.done:  # another thread led the group that held it
                return member.outcome()
            self._saving = True  # this thread leads the next group: everyone queued so far
            self._leader = threading.get_ident()
            group, self._queue = self._queue, []
        try:
            self._run(group)
        finally:
            _abandoned(group)
            with self._changed:
                self._saving, self._leader = False, None
                self._changed.notify_all()
        return member.outcome()

    def _run(self, group: list[_Member[R]]) -> None:
        self.largest = max(self.largest, len(group))
        self.commands += len(group)
        if len(group) > 1 and _apart(group) and self._together(group):
            self.transactions += 1
            return
        for member in group:
            self._alone(member)
        self.transactions += len(group)

    def _together(self, group: list[_Member[R]]) -> bool:
        """Saves the group in one transaction; False, with every aggregate's new events put
        back (the library takes them off as it saves), when that failed."""
        aggregates = [a for m in group for a in m.aggregates]
        pending = [list(a.pending_events) for a in aggregates]
        try:
            recordings = self._save(*aggregates)
        except Exception:  # each member's own save says which one failed, and how
            for aggregate, events in zip(aggregates, pending, strict=True):
                aggregate.pending_events[:] = events
            return False
        _share(group, recordings)
        return True

    def _alone(self, member: _Member[R]) -> None:
        try:
            member.recordings = self._save(*member.aggregates)
        except Exception as error:
            member.error = error
        member.done = True


def _abandoned(group: list[_Member[R]]) -> None:
    """Members the leader never got to (it was interrupted: ``KeyboardInterrupt``, the
    process ending) learn that theirs may not be saved, instead of waiting or finding none."""
    for member in group:
        if not member.done:
            member.error = UnsavedError("the save this command shared was interrupted")
            member.done = True


def _apart(group: list[_Member[R]]) -> bool:
    """Whether no aggregate is in two members: two commands on one aggregate would both write
    its next version, and the group would fail for both."""
    ids = [a.id for m in group for a in m.aggregates]
    return len(ids) == len(set(ids))


def _share(group: list[_Member[R]], recordings: list[R]) -> None:
    """Each member's recordings: the library records events in the order the aggregates were
    given, and each aggregate's in its own order."""
    start = 0
    for member in group:
        member.recordings = recordings[start : start + member.events]
        member.done = True
        start += member.events
