"""Everything one API process holds: the application, the views, the sweeps, a clock.

Built once by ``build_runtime`` (the composition root) and handed to ``create_app``; tests build
their own with an injected clock and store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from api.notify.wiring import build_notifier
from api.wiring.bootstrap import build_application
from api.wiring.settings import DEFAULT_RATE_PAGE_LIMIT, OidcSettings, Settings
from api.wiring.views import build_views, split_schema
from domain.application import FengqiaoApplication
from projections.viewset import ViewSet
from scheduler.catch_up import refresher
from scheduler.clues import TriageWatch
from scheduler.dispatch import DispatchService
from scheduler.heartbeat import Heartbeat
from scheduler.inspections import MonthlyDraw
from scheduler.key_persons import KeyPersonWatch
from scheduler.lock import AdvisoryLock, ProcessLock, SweepLock, lock_key
from scheduler.screening import ScreeningWatch
from scheduler.service import SweepService, Watch
from scheduler.signing import SigningKey
from scheduler.store_check import StoreCheck
from scheduler.sweep import Sweeper
from scheduler.tree_heads import HeadSigner, signer_over

READ_YOUR_WRITES_TIMEOUT = 2.0
READ_AFTER_WRITE = ("cases", "history")
# The views the follower applies a batch to first: what a client reads right after a command,
# then what a registration consults (``projections.ports``).
FOLLOWED_FIRST = (*READ_AFTER_WRITE, "repeats", "key_persons")


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    app: FengqiaoApplication
    views: ViewSet
    secret: str
    clock: Callable[[], datetime] = field(default=_utc_now)
    follow: bool = True  # run the view followers in this process
    subscribe: bool = False  # follow with PostgreSQL LISTEN/NOTIFY
    sweeps: SweepService | None = None  # the deadline scheduler, when it runs in this process
    # how often deadlines are swept here or by a process beside this one (None: nobody sweeps)
    sweep_every: float | None = None
    heartbeat: Heartbeat | None = None
    notifier: DispatchService | None = None  # the notifications' dispatcher, when it runs here
    started: datetime = field(default_factory=_utc_now)  # on the wall clock
    oidc: OidcSettings | None = None  # an identity provider whose tokens are taken too
    rate_page_limit: int = DEFAULT_RATE_PAGE_LIMIT  # requests a minute per address, /rate/…
    # signs tree heads on demand (an export) and publishes the key (None: no key here)
    head_signer: HeadSigner | None = None

    def start(self) -> None:
        if self.follow:
            self.views.follow(self.subscribe, first=FOLLOWED_FIRST)
        else:
            self.views.followed_elsewhere = True
        if self.sweeps is not None:
            self.sweeps.start()
        if self.notifier is not None:
            self.notifier.start()

    def stop(self) -> None:
        if self.notifier is not None:
            self.notifier.stop()
        if self.sweeps is not None:
            self.sweeps.stop()
        self.views.close()
        self.app.close()

    def current(self, name: str) -> None:
        """A read of a view no command waits for (statistics): first wait (briefly) until it
        has applied everything recorded before the read, so a supervisor who has just
        resolved a case counts it."""
        self.views.caught_up(name, READ_YOUR_WRITES_TIMEOUT)

    def saw(self, position: int | None) -> None:
        """Read your writes: wait (briefly) until the views a client reads next — queues,
        lists, histories — have applied ``position``. Statistics and the scheduler's deadlines
        follow within milliseconds but are not waited for."""
        self.views.poke()
        self.views.wait(position, READ_YOUR_WRITES_TIMEOUT, READ_AFTER_WRITE)


def build_sweeps(
    settings: Settings,
    app: FengqiaoApplication,
    views: ViewSet,
    clock: Callable[[], datetime],
    beat: Heartbeat | None = None,
    signer: HeadSigner | None = None,
) -> SweepService:
    """The scheduler: one sweeper per database (an advisory lock on PostgreSQL), recording
    each sweep on ``beat`` (a new heartbeat beside the deadlines view when not given), and
    drawing the month before's 督查回访 samples each night (``scheduler.inspections``)."""
    lock: SweepLock = ProcessLock()
    if settings.database_url is not None:
        conninfo, schema = split_schema(settings.database_url)
        lock = AdvisoryLock(conninfo, lock_key(schema))

    def refresh() -> None:
        views.runners["deadlines"].wait(app.recorder.max_notification_id() or 0, 1.0)

    sweeper = Sweeper(app, views.deadlines, clock)
    draws = MonthlyDraw(app, views.cases, clock)

    def monthly() -> None:  # the cases closed up to now in the view first: the population
        views.runners["cases"].wait(app.recorder.max_notification_id() or 0, 5.0)
        draws.run()

    return SweepService(
        sweeper,
        lock,
        settings.sweep_seconds,
        refresh,
        beat or heartbeat(views),
        monthly,
        watches(app, views, clock),
        heads=signer.tick if signer is not None else None,
        head_seconds=settings.head_seconds,
        store_check=StoreCheck(views.runners["merkle"], clock).run,
    )


def watches(app: FengqiaoApplication, views: ViewSet, clock: Callable[[], datetime]) -> list[Watch]:
    """The clocks kept outside cases, swept beside them (``scheduler.service.Watch``)."""
    found: list[Watch] = []
    clues = refresher(views, "clues")
    found.append(TriageWatch(app, views.clues, lambda _: clues()))
    found.append(KeyPersonWatch(app, views.key_persons, refresher(views, "key_persons")))
    found.append(ScreeningWatch(app, views.screening, refresher(views, "screening")))
    return found


def heartbeat(views: ViewSet) -> Heartbeat:
    """When deadlines were last swept, beside the deadlines view."""
    beat = Heartbeat(views.deadlines.db)
    beat.setup()
    return beat


def build_runtime(
    settings: Settings,
    secret: str,
    clock: Callable[[], datetime] | None = None,
    scheduler: bool = True,
    sweeps_elsewhere: bool = False,
) -> Runtime:
    """The runtime of one API process; ``scheduler`` runs the sweeps in it, and
    ``sweeps_elsewhere`` says a process beside it does (``/ready`` watches them either way)."""
    app = build_application(settings, clock=clock)
    views = build_views(settings, app)
    now = clock or _utc_now
    beat = heartbeat(views)
    key = SigningKey.from_text(settings.signing_key_text())
    signer = signer_over(app, views, key, now, settings.head_seconds)
    return Runtime(
        app=app,
        views=views,
        secret=secret,
        clock=now,
        subscribe=settings.database_url is not None,
        sweeps=build_sweeps(settings, app, views, now, beat, signer) if scheduler else None,
        sweep_every=settings.sweep_seconds if scheduler or sweeps_elsewhere else None,
        heartbeat=beat,
        notifier=build_notifier(settings, app, views, now) if scheduler else None,
        oidc=settings.oidc,
        rate_page_limit=settings.rate_page_limit,
        head_signer=signer,
    )
