"""Real receivers for the notification channels, and the staff the notification suites notify.

- ``Receiver``: a local HTTP server (``http.server`` in a thread) recording every request (the
  webhook's, the SMS provider's), answering 200 — or, on demand, 500, 400 or nothing until the
  sender times out; for the SMS provider it answers Alibaba's ``{"Code": "OK"}`` shape.
- ``Mailbox``: a real SMTP server (aiosmtpd) in this process, keeping every message delivered,
  refusing recipients or deferring messages on demand.
- ``with_staff``: the staff a trigger reaches, every one with a phone and an email, enrolled
  (or given those contacts) in the directory.
- ``FULL_PHONE`` / ``ID_NUMBER``: what no notice may ever say.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from uuid import UUID

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from api.wiring.bootstrap import OPERATOR
from api.wiring.notify_settings import SmsSettings, SmtpSettings, WebhookSettings
from api.wiring.settings import new_cipher_key, new_signing_key
from domain.actors import Actor, Role
from domain.application import FengqiaoApplication
from domain.case import Registration
from domain.case.commands import (
    AssessCase,
    AssignCase,
    CaseCommand,
    EscalateCase,
    OrderSupervision,
    RecordMediationSession,
    ResolveCase,
    ReturnCase,
    SignCase,
    TakeOverCase,
)
from domain.directory import Directory, StaffMember
from domain.levels import Level
from domain.parties import Party
from domain.status import AgreementForm, Channel, PartyRole
from projections import notice_templates as nt
from projections.deadlines import DeadlinesView
from projections.notice_templates import TEMPLATES
from scheduler.sweep import Sweeper
from tests.support import backends
from tests.support.server import environment, free_port
from tests.support.world import Clock

FULL_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
WEBHOOK_SECRET = "webhook-secret-for-the-tests-0123456789"
SMS_KEY_ID, SMS_KEY_SECRET, SMS_SIGN = "test-key-id", "test-key-secret", "枫桥"
SMS_CODES = {name: f"SMS_{100 + i}" for i, name in enumerate(TEMPLATES)}
SENDER = "noreply@fengqiao.example"
STORE_SECRET = "notifications-store-secret-0123456789abcdef"  # FENGQIAO_SECRET of a fresh store


# --- HTTP receivers ---------------------------------------------------------------------------


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int  # the status answered (0: none, the sender gave up waiting)
    at: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


class Receiver:
    """Records each POST and answers as ``mode`` says: ``ok``, ``fail`` (500), ``reject``
    (400) or ``hang`` (answers only after ``hang_seconds``, past a sender's timeout)."""

    def __init__(self, ok_body: bytes = b'{"ok": true}') -> None:
        self.ok_body = ok_body
        self.mode = "ok"
        self.hang_seconds = 2.5
        self.delay = 0.0  # seconds before any answer (a slow receiver)
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status = receiver.answer_status()
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.lock:
                    receiver.requests.append(Request(self.path, headers, body, status))
                time.sleep(receiver.delay)
                if status == 0:
                    time.sleep(receiver.hang_seconds)
                    status = 200
                payload = receiver.ok_body if status == 200 else b'{"error": "no"}'
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the sender gave up waiting and closed
                    pass

            def log_message(self, *_: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer_status(self) -> int:
        return {"ok": 200, "fail": 500, "reject": 400, "hang": 0}[self.mode]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def acknowledged(self) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.answered == 200]

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- SMTP -------------------------------------------------------------------------------------


class Mailbox:
    """aiosmtpd on a free loopback port: ``messages`` delivered; ``refuse`` (addresses
    answered 550) and ``defer`` (every message answered 451) on demand."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()
        self.defer = False
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook names
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        if self.defer:
            return "451 4.3.0 try again later"
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted"

    def settings(self) -> SmtpSettings:
        return SmtpSettings("127.0.0.1", SENDER, self.port, starttls=False)

    def __enter__(self) -> Mailbox:
        self.controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.controller.stop()


@contextmanager
def fresh_store(backend: str, tmp_path: Path, **settings: str) -> Iterator[dict[str, str]]:
    """The environment ``fengqiao`` runs in on a fresh store (a SQLite data directory, or a
    PostgreSQL schema dropped afterwards), with ``settings`` (FENGQIAO_… variables) added."""
    env = environment(tmp_path / "data")
    env.update({"FENGQIAO_SECRET": STORE_SECRET, "FENGQIAO_CIPHER_KEY": new_cipher_key()})
    env["FENGQIAO_SIGNING_KEY"] = new_signing_key()  # required on PostgreSQL, as the cipher key
    env.update(settings)
    if backend == "sqlite":
        yield env
        return
    with backends.postgres_schema() as schema:
        env["FENGQIAO_DATABASE_URL"] = f"{backends.test_database_url()}?schema={schema}"
        yield env


@contextmanager
def channels() -> Iterator[tuple[Mailbox, Receiver, Receiver]]:
    """A mailbox, a webhook receiver and an SMS provider, all running."""
    with Mailbox() as mailbox, Receiver() as webhook, Receiver(b'{"Code": "OK"}') as sms:
        yield mailbox, webhook, sms


def webhook_settings(receiver: Receiver) -> WebhookSettings:
    return WebhookSettings(receiver.url, WEBHOOK_SECRET)


def sms_settings(receiver: Receiver) -> SmsSettings:
    return SmsSettings(receiver.url, SMS_KEY_ID, SMS_KEY_SECRET, SMS_SIGN, SMS_CODES)


# --- staff ------------------------------------------------------------------------------------


def contact(user: str, serial: int) -> tuple[str, str]:
    """A made-up mobile number and an address under the reserved ``.example``."""
    return f"1390001{serial:04d}", f"{user}@staff.example"


def with_staff(
    app: FengqiaoApplication, people: Iterable[tuple[str, str, Role]]
) -> dict[str, StaffMember]:
    """``(user, unit, role)`` in the directory, active, each with a phone and an email (kept
    if they had them, given if not); returns them by user id."""
    wanted = list(people)

    def change(directory: Directory) -> None:
        new: list[StaffMember] = []
        for serial, (user, unit, role) in enumerate(wanted):
            phone, address = contact(user, serial)
            known = directory.get(user)
            now = app.clock()
            if known is None:
                new.append(
                    StaffMember(user, f"测试{role.value}{serial}", unit, (role,), phone, address)
                )
                continue
            updated = replace(
                known,
                roles=tuple(dict.fromkeys((*known.roles, role))),
                phone=known.phone or phone,
                email=known.email or address,
            )
            if updated != known:
                directory.update(OPERATOR, updated, now)
            if not known.active:
                directory.reactivate(OPERATOR, user, now)
        if new:
            directory.enrol(OPERATOR, new, app.clock())

    app.change_directory(OPERATOR, change, units={unit for _, unit, _ in wanted})
    staff = app.directory()
    return {user: staff.member(user) for user, _, _ in wanted}


def staff_at(app: FengqiaoApplication, unit: str, *roles: Role) -> set[str]:
    """The active members of ``unit`` in any of ``roles``: who a notice to them reaches."""
    staff = app.directory()
    return {member.user for role in roles for member in staff.at_unit(unit, role)}


# --- a story that calls for every kind of notice ----------------------------------------------

CITY, COUNTY, TOWNSHIP = "511100", "511123", "511123001"
VILLAGE, NEIGHBOUR_VILLAGE = "511123001001", "511123001002"
STAFF = [
    (f"{role.value}-{unit}", unit, role)
    for unit in (VILLAGE, TOWNSHIP, COUNTY)
    for role in (Role.MEDIATOR, Role.SUPERVISOR)
] + [(f"supervisor-{CITY}", CITY, Role.SUPERVISOR), (f"reporter-{VILLAGE}", VILLAGE, Role.REPORTER)]
PARTY_ID_NUMBER = "511123199001091234"
PARTY_PHONE = "13987650321"


def actor(role: Role, unit: str) -> Actor:
    return Actor(f"{role.value}-{unit}", role, unit)


@dataclass
class Story:
    """Drives cases through every trigger of a notice on the application (the clock moving
    forward), and says who each notice must reach: ``expected`` holds (template, recipients)
    in the order the triggers happened."""

    app: FengqiaoApplication
    clock: Clock
    deadlines: DeadlinesView
    catch_up: Callable[[], None]  # brings the views up to the log (before a sweep)
    expected: list[tuple[str, set[str]]] = field(default_factory=list)
    cases: dict[str, UUID] = field(default_factory=dict)

    def expect(self, template: str, *groups: Iterable[str]) -> None:
        self.expected.append((template, {user for group in groups for user in group}))

    def at(self, unit: str, *roles: Role) -> set[str]:
        return staff_at(self.app, unit, *roles)

    def register(self, name: str, unit: str, level: Level = Level.YELLOW) -> UUID:
        party = Party(
            name="张三", role=PartyRole.APPLICANT, id_number=PARTY_ID_NUMBER, phone=PARTY_PHONE,
            address="四川省乐山市犍为县罗城镇石溪村三组12号",
        )  # fmt: skip
        details = Registration(
            category="邻里纠纷",
            summary="两户因排水沟堵塞发生争执，双方多次争吵",
            unit=unit,
            channel=Channel.GRID_PATROL,
            level=level,
            parties=(party, Party(name="李四", role=PartyRole.RESPONDENT)),
        )
        recorded = self.app.register(actor(Role.REPORTER, VILLAGE), "dispute", details)
        self.cases[name] = recorded.case.id
        return recorded.case.id

    def run(self, case: UUID, command: CaseCommand, by: Actor) -> None:
        self.app.execute(case, command, by, at=self.clock())

    def sweep(self) -> None:
        self.catch_up()
        report = Sweeper(self.app, self.deadlines, self.clock).sweep()
        assert report.refused == []

    def tell(self) -> None:
        """Every trigger, in order."""
        clock = self.clock
        mediator_v = f"mediator-{VILLAGE}"
        case = self.register("worked", VILLAGE)
        clock.advance(minutes=1)
        self.run(case, AssignCase(mediator_v), actor(Role.SUPERVISOR, VILLAGE))
        self.expect(nt.ASSIGNED, {mediator_v})
        clock.advance(hours=25)  # the village's 24 h to sign pass
        self.sweep()
        self.expect(nt.SIGN_OVERDUE, self.at(VILLAGE, Role.SUPERVISOR))
        clock.advance(minutes=1)
        self.run(case, EscalateCase("村调委会调解未果"), actor(Role.SUPERVISOR, VILLAGE))
        self.expect(nt.MOVED, self.at(TOWNSHIP, Role.MEDIATOR, Role.SUPERVISOR))
        clock.advance(minutes=1)
        self.run(case, ReturnCase("请村调委会先行调解"), actor(Role.SUPERVISOR, TOWNSHIP))
        self.expect(nt.MOVED, self.at(VILLAGE, Role.MEDIATOR, Role.SUPERVISOR))
        clock.advance(minutes=1)
        self.run(case, SignCase(), actor(Role.MEDIATOR, VILLAGE))
        self.run(case, AssignCase(mediator_v), actor(Role.SUPERVISOR, VILLAGE))
        self.expect(nt.ASSIGNED, {mediator_v})
        due = clock() + timedelta(days=1)
        order = OrderSupervision("请于一日内报告调处进展", due)
        self.run(case, order, actor(Role.SUPERVISOR, TOWNSHIP))
        self.expect(nt.SUPERVISION_ORDERED, self.at(VILLAGE, Role.SUPERVISOR), {mediator_v})
        clock.now = due + timedelta(seconds=1)
        self.sweep()
        self.expect(nt.SUPERVISION_REMINDED, self.at(VILLAGE, Role.SUPERVISOR), {mediator_v})
        clock.advance(minutes=1)
        self.run(case, TakeOverCase("涉及两镇群众，县级提级办理"), actor(Role.SUPERVISOR, COUNTY))
        self.expect(nt.MOVED, self.at(COUNTY, Role.MEDIATOR, Role.SUPERVISOR))
        clock.advance(minutes=1)
        self.register("red", NEIGHBOUR_VILLAGE, Level.RED)
        self.expect(nt.RED_ALERT, self.at(COUNTY, Role.SUPERVISOR))
        clock.advance(minutes=1)
        raised = self.register("raised", VILLAGE)
        assess = AssessCase(Level.RED, ["扬言持械"], "矛盾有激化苗头")
        self.run(raised, assess, actor(Role.MEDIATOR, VILLAGE))
        self.expect(nt.RED_ALERT, self.at(COUNTY, Role.SUPERVISOR))
        self.expect(nt.MOVED, self.at(COUNTY, Role.MEDIATOR, Role.SUPERVISOR))
        self._rating()

    def _rating(self) -> None:
        clock = self.clock
        clock.advance(minutes=1)
        case = self.register("rated", VILLAGE)
        self.run(case, SignCase(), actor(Role.MEDIATOR, VILLAGE))
        held = clock()
        clock.advance(minutes=1)
        session = RecordMediationSession(held, "双方同意共同出资疏通排水沟")
        self.run(case, session, actor(Role.MEDIATOR, VILLAGE))
        resolve = ResolveCase("双方各承担一半疏通费用", AgreementForm.WRITTEN)
        self.run(case, resolve, actor(Role.MEDIATOR, VILLAGE))
        self.expect(nt.RATING_INVITATION, {f"party:{case}:0"})

    def warning_case(self) -> datetime:
        """A case whose resolve deadline comes next (its assignee and supervisors are warned):
        the clock is moved to 3 hours before it. Returns the due time."""
        self.clock.advance(minutes=1)
        case = self.register("warned", VILLAGE)
        resolve = self.app.get_case(case).deadlines["resolve"].due_at
        self.clock.now = resolve - timedelta(hours=3)
        self.expect(
            nt.BREACH_WARNING, self.at(VILLAGE, Role.MEDIATOR), self.at(VILLAGE, Role.SUPERVISOR)
        )
        return resolve
