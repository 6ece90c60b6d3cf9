"""The dispatcher: takes the outbox's notices in, sends them channel by channel, records each.

Guarantees, and how they are kept:

- **Every notice, once it is due.** The outbox is written in the view's transaction, so no
  event's notices are lost; the dispatcher takes them in by log position (``Deliveries.intake``)
  and keeps its own state, so a restart or a rebuild of the view sends nothing again.
- **Nothing acknowledged is sent twice.** A notice is marked delivered only after the channel
  acknowledged it. Killed between the two, the dispatcher sends it again on restart, with the
  same idempotency key (the notice id: a webhook's ``X-Fengqiao-Delivery``, an SMS's ``OutId``,
  an email's ``Message-ID``), so the receiver can tell the copy.
- **In order per channel.** A channel's notices go out one at a time in the order taken in.
  A notice that fails holds its channel until its retry (exponential back-off from 2 s,
  doubling, capped at 5 minutes, jittered to between half and all of that), so a channel down
  for ten minutes delivers everything, in order, once it is back. Channels do not hold each
  other up: each has its own thread.
- **Dead letters.** A permanent failure (a 4xx from a webhook or the SMS provider, an address
  the mail server refuses) and a notice still failing after the give-up age (24 h by default,
  counted from its creation or a retry by hand) are given up: listed for admins, retried by
  hand (``Deliveries.retry``), which puts them back in their place.
- **Skipped, not sent.** A notice with nobody to send it to when its turn comes (the member
  disabled since, or without that channel now, a party with no phone) and every notice of a
  channel that is not configured are recorded as skipped: turning a channel on later does not
  send its backlog.
- **Quiet hours.** An SMS that is not urgent waits while the policy's quiet hours last
  (22:00–07:00 北京时间 by default); an urgent one (a red case) goes at once, past them.
- **About to breach.** Every ``WARN_EVERY`` seconds the dispatcher reads the deadlines view for
  resolve deadlines inside their warning (the policy's: 4 h, a red case 30 min) and adds a
  warning for each, once per (case, clock, due time): kept beside the outbox (``swept``) and
  queued like any notice.

Addresses are looked up when a notice is sent (``Resolver``), never stored; the channels'
adapters live in the composition root (``api.notify``).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

from domain.levels import Level
from domain.notice_rules import NoticeRules
from projections import notice_templates as nt
from projections.deadlines import DeadlinesView
from projections.inbox import IN_APP, Inbox
from projections.notifications import Notice, NotificationsView
from scheduler.delivery import Deliveries, Delivery
from scheduler.lock import SweepLock

log = logging.getLogger(__name__)

EMAIL, SMS, WEBHOOK = "email", "sms", "webhook"
CHANNELS = (EMAIL, SMS, WEBHOOK)
GIVE_UP = timedelta(hours=24)
WARN_EVERY = 10.0  # seconds between looks for deadlines about to be missed
BATCH = 100  # pending notices read at a time


class Skip(Exception):  # noqa: N818 - an outcome, not an error
    """Nobody to send this notice to now (recorded as skipped, with why)."""


class PermanentFailure(Exception):  # noqa: N818
    """The channel refused this notice for good: a dead letter at once. The message is
    kept: codes and reasons only, never an address."""


class TransientFailure(Exception):  # noqa: N818
    """Worth trying again later (the channel down, slow, or asking us to slow down)."""


@dataclass(frozen=True)
class Outgoing:
    """A notice on its way: where to (an email address, a phone, or a staff user id for the
    webhook) and its parameters with what sending adds (a rating link)."""

    notice: Notice
    address: str
    params: Mapping[str, Any]

    @property
    def id(self) -> str:
        return self.notice.id

    @property
    def text(self) -> str:
        return nt.render(self.notice.template, self.params)

    @property
    def subject(self) -> str:
        return nt.subject(self.notice.template, self.params)

    @property
    def values(self) -> dict[str, str]:
        return nt.sms_values(self.notice.template, self.params)


class Sender(Protocol):
    def send(self, message: Outgoing) -> None:
        """Returns once the channel acknowledged; raises ``PermanentFailure`` (given up),
        anything else to be retried."""


class Resolver(Protocol):
    def resolve(self, notice: Notice) -> tuple[str, Mapping[str, Any]]:
        """The address and any parameters added at send time; raises ``Skip``."""


@dataclass(frozen=True)
class Backoff:
    """Seconds before the n-th retry: ``first`` doubling each time up to ``cap``, each drawn
    between half and all of that (so a recovered channel is not hit by every dispatcher at
    once)."""

    first: float = 2.0
    factor: float = 2.0
    cap: float = 300.0

    def delay(self, attempts: int, draw: float) -> timedelta:
        full = min(self.cap, self.first * self.factor ** max(0, attempts - 1))
        return timedelta(seconds=full * (0.5 + 0.5 * draw))


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"
    DEAD = "dead"
    SKIPPED = "skipped"


@dataclass
class Report:
    taken: int = 0
    warned: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: Outcome) -> None:
        self.outcomes[outcome.value] = self.outcomes.get(outcome.value, 0) + 1


class Dispatcher:
    """Sends what the outbox holds; one per database (``DispatchService`` holds the lock)."""

    def __init__(
        self,
        view: NotificationsView,
        deadlines: DeadlinesView,
        senders: Mapping[str, Sender],
        resolver: Resolver,
        clock: Callable[[], datetime],
        rules: Callable[[], NoticeRules],
        give_up: timedelta = GIVE_UP,
        backoff: Backoff = Backoff(),
        draw: Callable[[], float] = random.random,
    ) -> None:
        self.view = view
        self.deliveries = Deliveries(view)
        self.inbox = Inbox(view)
        self.deadlines = deadlines
        self.senders = dict(senders)
        self.resolver = resolver
        self.clock = clock
        self.rules = rules
        self.give_up = give_up
        self.backoff = backoff
        self.draw = draw
        self.on_warned: list[Callable[[list[Notice]], None]] = []  # new in-app warnings
        self._warned: dict[tuple[UUID, datetime], None] = {}

    def setup(self, head: int) -> None:
        self.deliveries.setup(head)

    # --- one round -------------------------------------------------------------------------

    def run_once(self) -> Report:
        """Takes in, warns, and sends every channel's due notices (the tests' and the CLI's
        step; the service runs the same parts in its threads)."""
        report = Report(taken=self.deliveries.intake(), warned=self.warn())
        for channel in CHANNELS:
            self.drain(channel, report)
        return report

    def drain(self, channel: str, report: Report | None = None) -> datetime | None:
        """Sends the channel's due notices in order; returns when it next has one due (None:
        when something new comes)."""
        report = report or Report()
        sender = self.senders.get(channel)
        if sender is None:
            self.deliveries.skip_channel(channel, self.clock(), f"channel {channel} not configured")
            return None
        while True:
            now = self.clock()
            rules = self.rules()
            quiet = channel == SMS and rules.quiet_at(now)
            batch = self.deliveries.pending(channel, BATCH, urgent_only=quiet)
            held = rules.quiet_ends(now) if quiet and self.deliveries.has_pending(channel) else None
            if not batch:
                return held
            for item in batch:
                if item.next_at > now:
                    return _earliest(item.next_at, held)  # the head holds the channel
                outcome = self._send(sender, item, now)
                report.count(outcome)
                if outcome is Outcome.RETRY:
                    retry = self.deliveries.get(item.notice.id)
                    return _earliest(retry.next_at if retry else now, held)

    def _send(self, sender: Sender, item: Delivery, now: datetime) -> Outcome:
        notice = item.notice
        attempts = item.attempts + 1
        try:
            address, extra = self.resolver.resolve(notice)
            sender.send(Outgoing(notice, address, {**notice.params, **extra}))
        except Skip as why:
            self.deliveries.skipped(notice.id, item.attempts, now, str(why))
            return Outcome.SKIPPED
        except PermanentFailure as error:
            return self._dead(item, attempts, now, str(error))
        except Exception as error:
            reason = _reason(error)
            if now - item.since >= self.give_up:
                return self._dead(
                    item, attempts, now, f"gave up after {attempts} attempts: {reason}"
                )
            retry_at = now + self.backoff.delay(attempts, self.draw())
            log.info("notice %s on %s failed (%s); retry at %s", notice.id, notice.channel,
                     reason, retry_at.isoformat())  # fmt: skip
            self.deliveries.failed(notice.id, attempts, retry_at, reason)
            return Outcome.RETRY
        self.deliveries.delivered(notice.id, attempts, self.clock())
        return Outcome.SENT

    def _dead(self, item: Delivery, attempts: int, now: datetime, reason: str) -> Outcome:
        notice = item.notice
        log.warning("notice %s on %s (%s) is a dead letter: %s", notice.id, notice.channel,
                    notice.template, reason)  # fmt: skip
        self.deliveries.dead(notice.id, attempts, now, reason)
        return Outcome.DEAD

    # --- deadlines about to be missed --------------------------------------------------------

    def warn(self) -> int:
        """Warnings for resolve deadlines now inside their warning, each once; returns how
        many notices were added."""
        now = self.clock()
        rules = self.rules()
        upcoming = self.deadlines.upcoming("resolve", now, now + rules.longest_warning)
        fresh = [d for d in upcoming if (d.case_id, d.due_at) not in self._warned]
        if not fresh:
            return 0
        facts = self.view.case_facts(str(d.case_id) for d in fresh)
        notices: list[Notice] = []
        for deadline in fresh:
            case = facts.get(str(deadline.case_id))
            if case is None:
                continue  # the view has not seen the case yet: next time
            if deadline.due_at - rules.warning_for(Level(case["level"])) > now:
                continue
            notices += self.view.warning_notices(case, deadline.kind, deadline.due_at, now)
            self._warned[deadline.case_id, deadline.due_at] = None
        self._forget(now)
        added = self._add_warnings(notices)
        fresh_in_app = [n for n in added if n.channel == IN_APP]
        for listener in self.on_warned:
            if fresh_in_app:
                listener(fresh_in_app)
        return len(added)

    def _add_warnings(self, notices: list[Notice]) -> list[Notice]:
        if not notices:
            return []
        with self.view.db.transaction() as cursor:
            marks = ", ".join("?" for _ in notices)
            cursor.execute(
                f"SELECT id FROM {self.inbox.swept} WHERE id IN ({marks})", [n.id for n in notices]
            )
            known = {str(row[0]) for row in cursor.fetchall()}
            added = [n for n in notices if n.id not in known]
            self.inbox.add_swept(cursor, added)
            self.deliveries.add(cursor, added)
        return added

    def _forget(self, now: datetime) -> None:
        """Warned clocks already due are not looked at again: forgotten here."""
        for key in [key for key in self._warned if key[1] <= now]:
            del self._warned[key]


def _earliest(first: datetime, second: datetime | None) -> datetime:
    return first if second is None or first <= second else second


def _reason(error: Exception) -> str:
    """What failed, for the record: an adapter's failures carry codes and reasons only;
    anything else is named by its type alone (its message could hold an address)."""
    if isinstance(error, TransientFailure):
        return str(error)
    return type(error).__name__


class DispatchService:
    """The dispatcher in threads: one takes notices in and warns (every ``poll`` seconds, at
    once when poked), one per channel sends. One service per database holds ``lock``."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        lock: SweepLock,
        poll: float = 1.0,
        warn_every: float = WARN_EVERY,
    ) -> None:
        self.dispatcher = dispatcher
        self.lock = lock
        self.poll = poll
        self.warn_every = warn_every
        self._stopping = threading.Event()
        self._poked = threading.Event()
        self._holding = threading.Event()
        self._wake = {channel: threading.Event() for channel in CHANNELS}
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self._stopping.clear()
        self._threads = [threading.Thread(target=self._intake, name="notify-intake", daemon=True)]
        self._threads += [
            threading.Thread(target=self._channel, args=(c,), name=f"notify-{c}", daemon=True)
            for c in CHANNELS
        ]
        for thread in self._threads:
            thread.start()

    def poke(self, *_: object) -> None:
        """Something was written to the outbox: take it in now rather than at the next poll."""
        self._poked.set()

    def stop(self) -> None:
        self._stopping.set()
        self._poked.set()
        for event in self._wake.values():
            event.set()
        for thread in self._threads:
            thread.join(timeout=15)
        self._threads = []
        self.lock.release()

    def _intake(self) -> None:
        warned_at = 0.0
        while not self._stopping.is_set():
            self._poked.clear()
            try:
                if self.lock.acquire():
                    self._holding.set()
                    self.dispatcher.deliveries.intake()
                    started = time.monotonic()
                    if started - warned_at >= self.warn_every:
                        self.dispatcher.warn()
                        warned_at = started
                    for event in self._wake.values():
                        event.set()
                else:
                    self._holding.clear()
            except Exception:
                log.exception("notifications: taking notices in failed; trying again")
                self._stopping.wait(self.poll)
            self._poked.wait(self.poll)

    def _channel(self, channel: str) -> None:
        wake = self._wake[channel]
        while not self._stopping.is_set():
            wake.wait(self.poll)
            wake.clear()
            if self._stopping.is_set() or not self._holding.is_set():
                continue
            try:
                due = self.dispatcher.drain(channel)
            except Exception:
                log.exception("notifications: the %s channel failed; trying again", channel)
                self._stopping.wait(self.poll)
                continue
            if due is not None:
                wait = (due - self.dispatcher.clock()).total_seconds()
                if wait <= 0:
                    wake.set()
