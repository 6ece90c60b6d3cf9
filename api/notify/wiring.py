"""Builds the dispatcher from the settings: the configured channels, addresses from the
application, the notifications and deadlines views, one dispatcher per database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from api.http.auth import load_secret
from api.notify.addresses import Addresses
from api.notify.email import EmailSender
from api.notify.sms import SmsSender
from api.notify.webhook import WebhookSender
from api.wiring.settings import Settings
from api.wiring.views import split_schema
from domain.application import FengqiaoApplication
from projections.viewset import ViewSet
from scheduler.dispatch import EMAIL, SMS, WEBHOOK, Dispatcher, DispatchService, Sender
from scheduler.lock import AdvisoryLock, FileLock, SweepLock, lock_key


def senders(settings: Settings) -> dict[str, Sender]:
    """The configured channels' adapters (none by default)."""
    notify = settings.notify
    found: dict[str, Sender] = {}
    if notify.smtp is not None:
        found[EMAIL] = EmailSender(notify.smtp, notify.timeout)
    if notify.webhook is not None:
        found[WEBHOOK] = WebhookSender(notify.webhook, notify.timeout)
    if notify.sms is not None:
        found[SMS] = SmsSender(notify.sms, notify.timeout)
    return found


def build_dispatcher(
    settings: Settings,
    app: FengqiaoApplication,
    views: ViewSet,
    clock: Callable[[], datetime],
    channels: dict[str, Sender] | None = None,
) -> Dispatcher:
    dispatcher = Dispatcher(
        views.notifications,
        views.deadlines,
        senders(settings) if channels is None else channels,
        Addresses(app, settings.notify.public_url, load_secret(settings)),
        clock,
        rules=lambda: app.policy.notices,
        give_up=settings.notify.give_up,
    )
    dispatcher.setup(app.recorder.max_notification_id() or 0)
    return dispatcher


def build_notifier(
    settings: Settings,
    app: FengqiaoApplication,
    views: ViewSet,
    clock: Callable[[], datetime],
    channels: dict[str, Sender] | None = None,
) -> DispatchService:
    """The dispatcher in its threads, poked by each batch the notifications view applies; one
    per store (an advisory lock of its own on PostgreSQL, a file lock in the data directory)."""
    lock: SweepLock = FileLock(settings.data_dir / "notifications.lock")
    if settings.database_url is not None:
        conninfo, schema = split_schema(settings.database_url)
        lock = AdvisoryLock(conninfo, lock_key(schema, "notifications"))
    service = DispatchService(build_dispatcher(settings, app, views, clock, channels), lock)
    views.runners["notifications"].listeners.append(service.poke)
    return service
