"""The notification channels' settings: each channel is on only when configured.

In-app notices need nothing. Email needs ``FENGQIAO_SMTP_HOST`` (and a sender), the webhook
``FENGQIAO_WEBHOOK_URL`` (and its secret), SMS ``FENGQIAO_SMS_URL`` (with the provider's key,
sign name and a template code for every notice template, and ``FENGQIAO_PUBLIC_URL`` for the
rating links it carries). A channel half configured stops start-up with the variable named:
nothing is sent anywhere by default, and nothing half-way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import NoReturn
from urllib.parse import urlsplit

from domain.clocks import Duration
from domain.errors import PolicyError
from projections.notice_templates import TEMPLATES

SMTP = "FENGQIAO_SMTP_"
Getter = Callable[[str], "str | None"]
MIN_SECRET = 16


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    sender: str
    port: int = 587
    user: str | None = None
    password: str | None = None
    starttls: bool = True


@dataclass(frozen=True)
class WebhookSettings:
    url: str
    secret: str


@dataclass(frozen=True)
class SmsSettings:
    """An SMS provider shaped like Alibaba Cloud's SendSms (dysmsapi): signed form posts
    naming a sign name and a pre-approved template by code."""

    url: str
    key_id: str
    key_secret: str
    sign_name: str
    templates: Mapping[str, str]  # notice template -> the provider's template code


@dataclass(frozen=True)
class NotifySettings:
    smtp: SmtpSettings | None = None
    webhook: WebhookSettings | None = None
    sms: SmsSettings | None = None
    public_url: str | None = None  # where citizens open their rating links
    give_up: timedelta = timedelta(hours=24)
    timeout: float = 10.0  # seconds a channel may take to answer one send
    channels: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        on = [name for name in ("email", "sms", "webhook") if self.channel(name) is not None]
        object.__setattr__(self, "channels", tuple(on))

    def channel(self, name: str) -> object | None:
        return {"email": self.smtp, "sms": self.sms, "webhook": self.webhook}.get(name)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> NotifySettings:
        def get(name: str) -> str | None:
            return (environ.get(name) or "").strip() or None

        public = get("FENGQIAO_PUBLIC_URL")
        if public is not None:
            public = _url("FENGQIAO_PUBLIC_URL", public).rstrip("/")
        sms = _sms(get)
        if sms is not None and public is None:
            _refuse("FENGQIAO_PUBLIC_URL: required with FENGQIAO_SMS_URL (rating links in SMS)")
        return cls(
            smtp=_smtp(get),
            webhook=_webhook(get),
            sms=sms,
            public_url=public,
            give_up=_give_up(get("FENGQIAO_NOTIFY_GIVE_UP") or "24h"),
            timeout=_timeout(get("FENGQIAO_NOTIFY_TIMEOUT") or "10"),
        )


def _refuse(message: str) -> NoReturn:
    """A bad setting (``SettingsError``, imported here: ``settings`` imports this module)."""
    from api.wiring.settings import SettingsError

    raise SettingsError(message)


def _url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        _refuse(f"{name}: {value!r} is not an http(s) URL")
    return value


def _smtp(get: Callable) -> SmtpSettings | None:  # type: ignore[type-arg]
    host = get(SMTP + "HOST")
    others = [name for name in ("PORT", "USER", "PASSWORD", "FROM", "STARTTLS") if get(SMTP + name)]
    if host is None:
        if others:
            _refuse(f"{SMTP}{others[0]}: set FENGQIAO_SMTP_HOST too, or neither")
        return None
    sender = get(SMTP + "FROM")
    if sender is None or "@" not in sender:
        _refuse("FENGQIAO_SMTP_FROM: required with FENGQIAO_SMTP_HOST (an address)")
    port_text = get(SMTP + "PORT") or "587"
    if not (port_text.isascii() and port_text.isdigit() and 0 < int(port_text) < 65536):
        _refuse(f"FENGQIAO_SMTP_PORT: {port_text!r} is not a port")
    starttls_text = (get(SMTP + "STARTTLS") or "true").lower()
    if starttls_text not in ("true", "false", "1", "0", "yes", "no"):
        _refuse(f"FENGQIAO_SMTP_STARTTLS: {starttls_text!r} is not true or false")
    starttls = starttls_text in ("true", "1", "yes")
    user, password = get(SMTP + "USER"), get(SMTP + "PASSWORD")
    if (user is None) != (password is None):
        _refuse("FENGQIAO_SMTP_USER and FENGQIAO_SMTP_PASSWORD: both, or neither")
    if password is not None and not starttls:
        _refuse("FENGQIAO_SMTP_PASSWORD: only over STARTTLS (FENGQIAO_SMTP_STARTTLS)")
    return SmtpSettings(host, sender, int(port_text), user, password, starttls)


def _webhook(get: Callable) -> WebhookSettings | None:  # type: ignore[type-arg]
    url, secret = get("FENGQIAO_WEBHOOK_URL"), get("FENGQIAO_WEBHOOK_SECRET")
    if url is None:
        if secret is not None:
            _refuse("FENGQIAO_WEBHOOK_SECRET: set FENGQIAO_WEBHOOK_URL too")
        return None
    if secret is None or len(secret) < MIN_SECRET:
        _refuse(
            f"FENGQIAO_WEBHOOK_SECRET: required with FENGQIAO_WEBHOOK_URL, "
            f"at least {MIN_SECRET} characters"
        )
    return WebhookSettings(_url("FENGQIAO_WEBHOOK_URL", url), secret)


def _sms(get: Callable) -> SmsSettings | None:  # type: ignore[type-arg]
    names = ("KEY_ID", "KEY_SECRET", "SIGN_NAME", "TEMPLATES")
    url = get("FENGQIAO_SMS_URL")
    if url is None:
        given = [name for name in names if get(f"FENGQIAO_SMS_{name}")]
        if given:
            _refuse(f"FENGQIAO_SMS_{given[0]}: set FENGQIAO_SMS_URL too, or neither")
        return None
    values = {name: get(f"FENGQIAO_SMS_{name}") for name in names}
    for name, value in values.items():
        if value is None:
            _refuse(f"FENGQIAO_SMS_{name}: required with FENGQIAO_SMS_URL")
    return SmsSettings(
        url=_url("FENGQIAO_SMS_URL", url),
        key_id=str(values["KEY_ID"]),
        key_secret=str(values["KEY_SECRET"]),
        sign_name=str(values["SIGN_NAME"]),
        templates=_template_codes(str(values["TEMPLATES"])),
    )


def _template_codes(text: str) -> dict[str, str]:
    """``assigned=SMS_1,sign_overdue=SMS_2,…``: a provider template for every notice's."""
    codes: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, _, code = part.partition("=")
        if name.strip() not in TEMPLATES or not code.strip():
            _refuse(
                f"FENGQIAO_SMS_TEMPLATES: {part!r} is not TEMPLATE=CODE with TEMPLATE one of "
                + ", ".join(TEMPLATES)
            )
        codes[name.strip()] = code.strip()
    missing = [name for name in TEMPLATES if name not in codes]
    if missing:
        _refuse(f"FENGQIAO_SMS_TEMPLATES: no code for {', '.join(missing)}")
    return codes


def _give_up(text: str) -> timedelta:
    try:
        duration = Duration.parse(text, "FENGQIAO_NOTIFY_GIVE_UP")
    except PolicyError:
        _refuse(f"FENGQIAO_NOTIFY_GIVE_UP: {text!r} is not like 24h")
    if duration.unit == "wd" or not timedelta(minutes=1) <= duration.as_timedelta():
        _refuse("FENGQIAO_NOTIFY_GIVE_UP: calendar time (m, h, d), at least 1m")
    return duration.as_timedelta()


def _timeout(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        _refuse(f"FENGQIAO_NOTIFY_TIMEOUT: {text!r} is not a number")
    if not 1 <= seconds <= 120:
        _refuse("FENGQIAO_NOTIFY_TIMEOUT: 1 to 120 seconds")
    return seconds
