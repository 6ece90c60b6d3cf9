"""Notifications end to end on SQLite and PostgreSQL: the outbox view, the dispatcher and the
real channels (an SMTP server, a webhook receiver and an SMS provider, all local).

Every trigger reaches exactly its recipients, once per channel each takes; nothing any notice
says holds an ID number or a full phone number; the outbox rebuilt equals the live one and
nothing is sent again; a channel down ten minutes delivers everything in order once back;
permanent failures and notices failing past the give-up age become dead letters; quiet hours
hold ordinary SMS and not a red case's; disabled members and channels turned off get nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from api.notify.addresses import Addresses
from api.notify.email import EmailSender
from api.notify.sms import SmsSender, sign
from api.notify.webhook import SIGNATURE, WebhookSender, signature
from api.rating_links import read_link
from api.wiring.bootstrap import OPERATOR
from domain.actors import Role
from domain.application import FengqiaoApplication
from domain.calendar import SHANGHAI
from domain.case.commands import AssignCase, ExtendDeadline
from domain.directory import Channel
from domain.levels import Level
from projections import notice_templates as nt
from projections.inbox import Inbox
from projections.notifications import Notice
from projections.viewset import ViewSet
from scheduler.delivery import Deliveries, State
from scheduler.dispatch import EMAIL, SMS, WEBHOOK, Dispatcher, Sender
from tests.support.notify import (
    COUNTY,
    FULL_PHONE,
    ID_NUMBER,
    PARTY_ID_NUMBER,
    PARTY_PHONE,
    SMS_KEY_SECRET,
    STAFF,
    VILLAGE,
    WEBHOOK_SECRET,
    Mailbox,
    Receiver,
    Story,
    actor,
    channels,
    sms_settings,
    webhook_settings,
    with_staff,
)
from tests.support.views import dump
from tests.support.world import Clock

PUBLIC_URL = "https://fengqiao.example"
SECRET = "notifications-suite-secret-0123456789"  # signs the rating links
TIMEOUT = 1.0  # seconds a channel may take: a hanging receiver fails fast


@pytest.fixture(params=("sqlite", "postgres"))
def backend(request: pytest.FixtureRequest) -> str:
    """The views live in SQLite or PostgreSQL (not in memory)."""
    return str(request.param)


@pytest.fixture
def story(app: FengqiaoApplication, views: ViewSet, clock: Clock) -> Story:
    with_staff(app, STAFF)
    return Story(app, clock, views.deadlines, views.catch_up)


def dispatcher(
    app: FengqiaoApplication,
    views: ViewSet,
    clock: Clock,
    senders: Mapping[str, Sender],
    give_up: timedelta = timedelta(hours=24),
) -> Dispatcher:
    """A dispatcher over the test's views, switched on now (the log so far is history)."""
    views.catch_up()
    sending = Dispatcher(
        views.notifications,
        views.deadlines,
        senders,
        Addresses(app, PUBLIC_URL, SECRET),
        clock,
        rules=lambda: app.policy.notices,
        give_up=give_up,
        draw=lambda: 1.0,  # the whole back-off: retries at known times
    )
    sending.setup(app.recorder.max_notification_id() or 0)
    return sending


@contextmanager
def real_channels() -> Iterator[tuple[Mailbox, Receiver, Receiver, dict[str, Sender]]]:
    with channels() as (mailbox, webhook, sms):
        senders: dict[str, Sender] = {
            EMAIL: EmailSender(mailbox.settings(), TIMEOUT),
            WEBHOOK: WebhookSender(webhook_settings(webhook), TIMEOUT),
            SMS: SmsSender(sms_settings(sms), TIMEOUT),
        }
        yield mailbox, webhook, sms, senders


def all_notices(views: ViewSet) -> list[Notice]:
    """Every notice: the outbox's and the dispatcher's warnings, in the order they happened."""
    found = []
    view = views.notifications
    with view.db.transaction(write=False) as cursor:
        for table in ("outbox", "swept"):
            cursor.execute(f"SELECT * FROM {view.t(table)}")
            found += [Notice.from_row(row) for row in cursor.fetchall()]
    return sorted(found, key=lambda n: (n.position == 0, n.position, n.created_at, n.id))


def triggers(notices: list[Notice]) -> list[tuple[str, set[str]]]:
    """The notices grouped by what called for them: (template, recipients), in order."""
    groups: dict[tuple[int, str, datetime], set[str]] = {}
    for notice in notices:
        groups.setdefault((notice.position, notice.template, notice.created_at), set())
        groups[notice.position, notice.template, notice.created_at].add(notice.recipient)
    return [(template, users) for (_, template, _), users in groups.items()]


def tell_everything(story: Story, sending: Dispatcher) -> None:
    story.tell()
    story.warning_case()
    story.catch_up()
    assert sending.warn() > 0


# --- every trigger, every channel ----------------------------------------------------------------


def test_each_trigger_reaches_its_recipients_once_on_every_channel(
    app: FengqiaoApplication, views: ViewSet, clock: Clock, story: Story
) -> None:
    with real_channels() as (mailbox, webhook, sms, senders):
        sending = dispatcher(app, views, clock, senders)
        tell_everything(story, sending)
        report = sending.run_once()
        sending.run_once()  # again: nothing more

        notices = all_notices(views)
        assert triggers(notices) == story.expected
        assert report.outcomes == {"sent": sum(1 for n in notices if n.channel != "in_app")}
        staff = app.directory()
        by_channel: dict[str, list[Notice]] = {}
        for notice in notices:
            by_channel.setdefault(notice.channel, []).append(notice)
        ours = {user for user, _, _ in STAFF}
        for notice in notices:  # each member on every channel they take; a party by SMS
            if notice.recipient.startswith("party:"):
                assert notice.channel == SMS
                continue
            reachable = {c.value for c in staff.member(notice.recipient).reachable_by()}
            same = (notice.position, notice.template, notice.recipient, notice.created_at)
            sent = {n.channel for n in notices if (n.position, n.template, n.recipient,
                    n.created_at) == same}  # fmt: skip
            assert sent == reachable
            if notice.recipient in ours:
                assert sent == {"in_app", "email", "sms", "webhook"}

        mails = {m["Message-ID"].strip("<>").split("@")[0]: m for m in mailbox.messages}
        assert len(mails) == len(mailbox.messages) == len(by_channel[EMAIL])
        for notice in by_channel[EMAIL]:
            mail = mails[notice.id]
            assert mail["To"] == staff.member(notice.recipient).email
            assert mail["Subject"] == nt.subject(notice.template, notice.params)
            assert mail.get_content().strip() == notice.text

        hooks = {r.headers["x-fengqiao-delivery"]: r for r in webhook.requests}
        assert len(hooks) == len(webhook.requests) == len(by_channel[WEBHOOK])
        for notice in by_channel[WEBHOOK]:
            request = hooks[notice.id]
            assert request.headers[SIGNATURE.lower()] == signature(WEBHOOK_SECRET, request.body)
            body = request.json()
            assert (body["recipient"], body["text"]) == (notice.recipient, notice.text)
            assert int(request.headers["x-fengqiao-timestamp"]) == body["sent_at"]

        texts = {r.form()["OutId"]: r.form() for r in sms.requests}
        assert len(texts) == len(sms.requests) == len(by_channel[SMS])
        for notice in by_channel[SMS]:
            form = texts[notice.id]
            signed = {k: v for k, v in form.items() if k != "Signature"}
            assert form["Signature"] == sign(signed, SMS_KEY_SECRET)
            assert form["TemplateCode"].startswith("SMS_")
            values = json.loads(form["TemplateParam"])
            if notice.recipient.startswith("party:"):
                assert form["PhoneNumbers"] == PARTY_PHONE
                assert values["link"].startswith(f"{PUBLIC_URL}/rate/")
                link = read_link(SECRET, values["link"].rsplit("/", 1)[1])
                assert str(link.case_id) == notice.case_id
            else:
                assert form["PhoneNumbers"] == staff.member(notice.recipient).phone
                assert values == nt.sms_values(notice.template, notice.params)


def test_no_notice_says_an_id_number_or_a_full_phone_number(
    app: FengqiaoApplication, views: ViewSet, clock: Clock, story: Story, tmp_path: Path
) -> None:
    with real_channels() as (mailbox, webhook, sms, senders):
        sending = dispatcher(app, views, clock, senders)
        tell_everything(story, sending)
        sending.run_once()
        said = [f"{m['Subject']}\n{m.get_content()}" for m in mailbox.messages]
        said += [r.json()["text"] for r in webhook.requests]
        said += [r.form()["TemplateParam"] for r in sms.requests]
    inbox = Inbox(views.notifications)
    notices = all_notices(views)
    for user in {n.recipient for n in notices}:
        said += [item.notice.text for item in inbox.items(user, 200)]
    said += [json.dumps(n.params, ensure_ascii=False) for n in notices]
    assert len(said) > 100
    templates = {n.template for n in notices}
    assert templates >= set(nt.TEMPLATES) - {nt.RATING_INVITATION}
    for text in said:
        assert not FULL_PHONE.search(text), text
        assert not ID_NUMBER.search(text), text
        assert "张三" not in text, text
        assert "李四" not in text, text
    if story.deadlines.db.engine == "sqlite":  # the views' file (and its log) hold none either
        data = b"".join(path.read_bytes() for path in (tmp_path / "views").glob("views.sqlite3*"))
        assert data
        for secret in (PARTY_PHONE, PARTY_ID_NUMBER, "张三", "@staff.example", "1390001"):
            assert secret.encode() not in data, secret


def test_the_outbox_rebuilt_equals_the_live_one_and_sends_nothing_again(
    app: FengqiaoApplication, views: ViewSet, clock: Clock, story: Story
) -> None:
    with real_channels() as (mailbox, webhook, sms, senders):
        sending = dispatcher(app, views, clock, senders)
        tell_everything(story, sending)
        sending.run_once()
        live = dump(views.notifications)
        sent = len(mailbox.messages), len(webhook.requests), len(sms.requests)
        assert all(sent)

        views.rebuild(["notifications"])
        assert dump(views.notifications) == live
        report = sending.run_once()

        assert report.outcomes == {}
        assert (len(mailbox.messages), len(webhook.requests), len(sms.requests)) == sent


# --- failures ------------------------------------------------------------------------------------


def assignments(story: Story, count: int) -> None:
    """``count`` assignments in a row, each a notice to the village's mediator."""
    case = story.register("assigned", VILLAGE)
    for _ in range(count):
        story.clock.advance(seconds=1)
        story.run(case, AssignCase(f"mediator-{VILLAGE}"), actor(Role.SUPERVISOR, VILLAGE))
    story.catch_up()


def webhook_only(receiver: Receiver) -> dict[str, Sender]:
    return {WEBHOOK: WebhookSender(webhook_settings(receiver), TIMEOUT)}


def queued(views: ViewSet, channel: str) -> list[str]:
    """The channel's notices in the order the dispatcher took them in."""
    with views.notifications.db.transaction(write=False) as cursor:
        cursor.execute(
            f"SELECT id FROM {views.notifications.t('deliveries')} WHERE channel = ? ORDER BY seq",
            (channel,),
        )
        return [str(row[0]) for row in cursor.fetchall()]


def until(clock: Clock, end: datetime, step: timedelta, act: Callable[[], Any]) -> None:
    while clock() < end:
        clock.now = min(end, clock() + step)
        act()


def test_a_channel_down_ten_minutes_delivers_everything_in_order_once_back(
    app: FengqiaoApplication, views: ViewSet, clock: Clock, story: Story
) -> None:
    with Receiver() as webhook:
        sending = dispatcher(app, views, clock, webhook_only(webhook))
        webhook.mode = "fail"
        assignments(story, 6)
        sending.deliveries.intake()
        order = queued(views, WEBHOOK)
        assert len(order) == 6
        down_until = clock() + timedelta(minutes=10)
        until(clock, down_until, timedelta(seconds=5), lambda: sending.drain(WEBHOOK))

        tried = [r.headers["x-fengqiao-delivery"] for r in webhook.requests]
        assert set(tried) == {order[0]}  # the head held the channel: nothing behind it went
        gaps = [b.at - a.at for a, b in zip(webhook.requests, webhook.requests[1:], strict=False)]
        assert len(tried) <= 10  # 2 s doubling to the 5-minute cap: not hammered
        assert all(gap >= 0 for gap in gaps)
        head = sending.deliveries.get(order[0])
        assert head is not None
        assert head.state is State.PENDING
        assert head.next_at - clock() <= timedelta(minutes=5)

        webhook.mode = "ok"
        until(clock, clock() + timedelta(minutes=6), timedelta(seconds=5),
              lambda: sending.drain(WEBHOOK))  # fmt: skip

        acknowledged = [r.headers["x-fengqiao-delivery"] for r in webhook.acknowledged()]
        assert acknowledged == order  # each once, in order
        assert {sending.deliveries.get(n).state for n in order} == {State.DELIVERED}  # type: ignore[union-attr]


def test_a_send_that_times_out_is_retried_with_the_same_key(
    app: FengqiaoApplication, views: ViewSet, clock: Clock, story: Story
) -> None:
    with Receiver() as webhook:
        sending = dispatcher(app, views, clock, webhook_only(webhook))
        webhook.mode = "hang"
        assignments(story, 2)
        sending.run_once()
        first = sending.deliveries.get(queued(views, WEBHOOK)[0])
        assert first is not None
        assert (first.attempts, first.state) == (1, State.PENDING)
        assert "TimeoutError" in first.last_error or "timeout" in first.last_error
        webhook.mode = "ok"
        clock.advance(seconds=3)
        sending.run_once()
        keys = [r.headers["x-fengqiao-delivery"] for r in webhook.requests]
        assert keys == [queued(views, WEBHOOK)[0], *queued(views, WEBHOOK)]
        assert keys.count(keys[0]) == 2  # the same idempotency key, for the receiver to drop


def test_permanent_failures_become_dead_letters_and_the_rest_goes_on(
    app: FengqiaoApplication, views: ViewSet, clock: Clock, story: Story
) -> None:
    with Receiver() as webhook, Mailbox() as mailbox:
        senders = {**webhook_only(webhook), EMAIL: EmailSender(mailbox.settings(), TIMEOUT)}
        sending = dispatcher(app, views, clock, senders)
        mailbox.refuse = {app.directory().member(f"mediator-{VILLAGE}").email or ""}
        webhook.mode = "reject"
        assignments(story, 1)
        sending.run_once()
        webhook.mode = "ok"
        clock.advance(seconds=1)
        story.run(story.cases["assigned"], AssignCase(f"mediator-{VILLAGE}"),
                  actor(Role.SUPERVISOR, VILLAGE))  # fmt: skip
        story.catch_up()
        sending.run_once()

        dead = sending.deliveries.dead_letters()
        assert {(d.notice.channel, d.last_error) for d in dead} == {
            (WEBHOOK, "webhook answered HTTP 400"),
            (EMAIL, "SMTP recipient refused (550)"),
        }
        assert all(d.attempts == 1 for d in dead)
        assert len(webhook.acknowledged()) == 1  # the next notice went
        assert mailbox.messages == []  # both to the refused address: both dead letters
        assert Counter(d.notice.channel for d in dead) == {WEBHOOK: 1, EMAIL: 2}


def test_a_notice_failing_past_the_give_up_age_is_a_dead_letter_until_retried(
    app: FengqiaoApplication, views: ViewSet, clock: Clock, story: Story
) -> None:
    with Receiver() as webhook:
        sending = dispatcher(app, views, clock, webhook_only(webhook), timedelta(hours=1))
        webhook.mode = "fail"
        assignments(story, 2)
        first, second = queued_after_intake(sending, views)
        until(clock, clock() + timedelta(minutes=70), timedelta(seconds=30),
              lambda: sending.drain(WEBHOOK))  # fmt: skip

        dead = {d.notice.id: d for d in sending.deliveries.dead_letters()}
        assert set(dead) == {first, second}
        # the head, tried until an hour had passed; the one behind it, older than that when
        # its turn came, given up at its first failure
        assert dead[first].attempts >= 10
        assert dead[second].attempts == 1
        for letter in dead.values():
            assert letter.last_error.startswith("gave up after ")
            assert letter.last_error.endswith("webhook answered HTTP 500")

        webhook.mode = "ok"
        assert sending.deliveries.retry(second, clock())
        assert sending.deliveries.retry(first, clock())
        assert not sending.deliveries.retry(first, clock())  # no longer a dead letter
        sending.run_once()
        acknowledged = [r.headers["x-fengqiao-delivery"] for r in webhook.acknowledged()]
        assert acknowledged == [first, second]  # back in their places in the queue


def queued_after_intake(sending: Dispatcher, views: ViewSet) -> list[str]:
    sending.deliveries.intake()
    return queued(views, WEBHOOK)


# --- quiet hours, preferences, channels off ---------------------------------------------


def test_quiet_hours_hold_ordinary_sms_until_seven_and_let_a_red_case_through(
    app: FengqiaoApplication, views: ViewSet, clock: Clock, story: Story
) -> None:
    with Receiver(b'{"Code": "OK"}') as provider:
        senders: dict[str, Sender] = {SMS: SmsSender(sms_settings(provider), TIMEOUT)}
        clock.now = datetime(2026, 9, 29, 23, 0, tzinfo=SHANGHAI).astimezone(UTC)
        sending = dispatcher(app, views, clock, senders)
        assignments(story, 1)  # to the village's mediator: ordinary
        story.register("red", VILLAGE, Level.RED)  # the county's supervisors: urgent
        story.catch_up()
        sending.run_once()

        red = {n.id for n in all_notices(views) if n.urgent and n.channel == SMS}
        held = {n.id for n in all_notices(views) if not n.urgent and n.channel == SMS}
        assert red
        assert held
        assert {r.form()["OutId"] for r in provider.requests} == red
        wake = sending.drain(SMS)
        assert wake == datetime(2026, 9, 30, 7, 0, tzinfo=SHANGHAI)
        clock.now = datetime(2026, 9, 30, 6, 59, tzinfo=SHANGHAI)
        sending.run_once()
        assert len(provider.requests) == len(red)
        clock.now = datetime(2026, 9, 30, 7, 0, tzinfo=SHANGHAI)
        sending.run_once()
        assert [r.form()["OutId"] for r in provider.requests][len(red) :] == sorted(
            held, key=queued(views, SMS).index
        )


def test_disabled_members_and_channels_turned_off_get_nothing(
    app: FengqiaoApplication, views: ViewSet, clock: Clock, story: Story
) -> None:
    supervisor, mediator = f"supervisor-{VILLAGE}", f"mediator-{VILLAGE}"
    quiet = f"mediator-{COUNTY}"
    app.change_directory(OPERATOR, lambda d: d.disable(OPERATOR, supervisor, "调离", clock()))
    app.change_directory(
        OPERATOR, lambda d: d.choose_channels(OPERATOR, quiet, [Channel.IN_APP], clock())
    )
    with Receiver() as webhook:
        sending = dispatcher(app, views, clock, webhook_only(webhook))
        story.tell()
        story.catch_up()
        notices = all_notices(views)
        assert supervisor not in {n.recipient for n in notices}
        assert {n.channel for n in notices if n.recipient == quiet} == {"in_app"}

        # disabled after the notice was written: skipped when its turn comes
        app.change_directory(OPERATOR, lambda d: d.disable(OPERATOR, mediator, "调离", clock()))
        report = sending.run_once()
        skipped = {d.notice.recipient for d in skipped_deliveries(sending)}
        assert skipped == {mediator}
        assert report.outcomes["skipped"] == sum(
            1 for n in notices if n.recipient == mediator and n.channel == WEBHOOK
        )
        assert mediator not in {r.json()["recipient"] for r in webhook.requests}
        # email and SMS are not configured: recorded as skipped, never sent
        counts = sending.deliveries.counts()
        assert counts["skipped"] == sum(
            1 for n in notices if n.channel in (EMAIL, SMS) or (n.recipient == mediator and
                                                                n.channel == WEBHOOK)
        )  # fmt: skip


def skipped_deliveries(sending: Dispatcher) -> list[Any]:
    view = sending.view
    with view.db.transaction(write=False) as cursor:
        cursor.execute(f"SELECT id FROM {view.t('deliveries')} WHERE state = 'skipped' "
                       "AND channel = 'webhook'")  # fmt: skip
        ids = [str(row[0]) for row in cursor.fetchall()]
    return [sending.deliveries.get(i) for i in ids]


def test_events_before_the_dispatcher_first_started_are_never_sent(
    app: FengqiaoApplication, views: ViewSet, clock: Clock, story: Story
) -> None:
    assignments(story, 2)
    with Receiver() as webhook:
        sending = dispatcher(app, views, clock, webhook_only(webhook))
        sending.run_once()
        assert webhook.requests == []
        assert Inbox(views.notifications).unread(f"mediator-{VILLAGE}") == 2  # still in-app


# --- warnings before a resolve deadline -------------------------------------------------


def test_a_deadline_about_to_be_missed_is_warned_once_per_due_time(
    app: FengqiaoApplication, views: ViewSet, clock: Clock, story: Story
) -> None:
    sending = dispatcher(app, views, clock, {})
    due = story.warning_case()
    case = story.cases["warned"]
    story.catch_up()
    clock.now = due - timedelta(hours=4, minutes=1)
    assert sending.warn() == 0  # not yet inside the 4 hours
    clock.now = due - timedelta(hours=3)
    first = sending.warn()
    assert first > 0
    clock.advance(minutes=30)
    assert sending.warn() == 0  # once per (case, clock, due time)
    sending._warned.clear()  # a restarted dispatcher remembers nothing in memory
    assert sending.warn() == 0  # ...and the swept table says it was warned

    later = due + timedelta(days=2)
    story.run(case, ExtendDeadline(later, "等待鉴定"), actor(Role.SUPERVISOR, VILLAGE))
    story.catch_up()
    clock.now = later - timedelta(hours=1)
    assert sending.warn() == first  # a new due time: warned again
    texts = {item.notice.text for item in Inbox(views.notifications).items(f"mediator-{VILLAGE}")}
    local = later.astimezone(SHANGHAI)
    assert any(f"{local.month}月{local.day}日 {local:%H:%M}" in text for text in texts)


def test_a_red_case_is_warned_thirty_minutes_before(
    app: FengqiaoApplication, views: ViewSet, clock: Clock, story: Story
) -> None:
    sending = dispatcher(app, views, clock, {})
    case = story.register("red", VILLAGE, Level.RED)
    story.catch_up()
    due = app.get_case(case).deadlines["resolve"].due_at
    clock.now = due - timedelta(minutes=31)
    assert sending.warn() == 0
    clock.now = due - timedelta(minutes=29)
    assert sending.warn() > 0
    warned = [n for n in all_notices(views) if n.template == nt.BREACH_WARNING]
    assert {n.recipient for n in warned} == story.at(COUNTY, Role.MEDIATOR, Role.SUPERVISOR)
    assert all(n.urgent for n in warned)


def test_counts_of_each_state_add_up(
    app: FengqiaoApplication, views: ViewSet, clock: Clock, story: Story
) -> None:
    with Receiver() as webhook:
        sending = dispatcher(app, views, clock, webhook_only(webhook))
        assignments(story, 3)
        sending.run_once()
    counts = Counter(Deliveries(views.notifications).counts())
    assert counts == Counter({"delivered": 3, "skipped": 6})  # email and SMS not configured
