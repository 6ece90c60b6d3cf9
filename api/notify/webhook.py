"""The webhook channel: each notice POSTed as JSON to one URL (the city's 12345 or WeChat Work
bridge), signed so the receiver knows it came from here.

Headers: ``X-Fengqiao-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with
FENGQIAO_WEBHOOK_SECRET>``, ``X-Fengqiao-Timestamp`` (Unix seconds, also in the body as
``sent_at``, so it is signed too) and ``X-Fengqiao-Delivery`` / ``Idempotency-Key`` (the notice
id: a resend after a crash carries the same, for the receiver to drop the copy).

A 2xx answer is an acknowledgement. 408, 425, 429 and 5xx, a timeout or a refused connection
are retried; any other 4xx is a permanent failure (a dead letter).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from api.notify.http import post
from api.wiring.notify_settings import WebhookSettings
from scheduler.dispatch import Outgoing

SIGNATURE = "X-Fengqiao-Signature"
TIMESTAMP = "X-Fengqiao-Timestamp"
DELIVERY = "X-Fengqiao-Delivery"


def signature(secret: str, body: bytes) -> str:
    """``sha256=<hex>``: what a receiver recomputes over the raw body to check a request."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def body_of(message: Outgoing, sent_at: int) -> bytes:
    notice = message.notice
    payload: dict[str, Any] = {
        "id": notice.id,
        "recipient": notice.recipient,  # a staff user id: the bridge knows whom it names
        "template": notice.template,
        "text": message.text,
        "case": notice.case_id,
        "number": message.params.get("number") or "",
        "level": message.params.get("level") or "",
        "urgent": notice.urgent,
        "created_at": notice.created_at.isoformat(),
        "sent_at": sent_at,
    }
    return json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")


class WebhookSender:
    def __init__(self, settings: WebhookSettings, timeout: float) -> None:
        self.url = settings.url
        self.secret = settings.secret
        self.timeout = timeout

    def send(self, message: Outgoing) -> None:
        sent_at = int(time.time())
        body = body_of(message, sent_at)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE: signature(self.secret, body),
            TIMESTAMP: str(sent_at),
            DELIVERY: message.id,
            "Idempotency-Key": message.id,
            "User-Agent": "fengqiao-notifications",
        }
        post(self.url, body, headers, self.timeout, "webhook")
