"""The SMS channel, shaped like Alibaba Cloud's SendSms (dysmsapi 2017-05-25), the common shape
of China's SMS APIs: a signed form POST naming the phone, a sign name (签名) and a pre-approved
template (模板) by code, with the template's variables as JSON; the operator sends only text the
provider approved, so the notice is its variables, not free text.

The request is signed as Alibaba's RPC API signs (HMAC-SHA1 over the sorted, percent-encoded
parameters, keyed with the access key secret and ``&``), carries a fresh ``SignatureNonce`` and
the notice id as ``OutId`` (the idempotency key: a resend after a crash carries the same one,
for the provider's records and receipts to tie the copy to it).

Answer ``{"Code": "OK", …}`` is an acknowledgement. Flow control, an empty balance, a suspended
service, ``isp.*`` (the provider's own trouble), 5xx, 408/429 and network failures are retried;
other codes (``isv.MOBILE_NUMBER_ILLEGAL``…) and other 4xx are permanent (a dead letter).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

from api.notify.http import post
from api.wiring.notify_settings import SmsSettings
from scheduler.dispatch import Outgoing, PermanentFailure, TransientFailure

VERSION = "2017-05-25"
RETRIED_CODES = frozenset(
    {
        "isv.BUSINESS_LIMIT_CONTROL",  # flow control: too many to one phone just now
        "isv.AMOUNT_NOT_ENOUGH",  # the account's balance: topped up, it goes again
        "isv.OUT_OF_SERVICE",
        "Throttling",
        "ServiceUnavailable",
    }
)


def encode(value: str) -> str:
    """Alibaba's percent-encoding (RFC 3986: only ``A-Za-z0-9-_.~`` left as they are)."""
    return urllib.parse.quote(value, safe="~")


def sign(parameters: Mapping[str, str], secret: str, method: str = "POST") -> str:
    canonical = "&".join(f"{encode(k)}={encode(v)}" for k, v in sorted(parameters.items()))
    to_sign = f"{method}&{encode('/')}&{encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class SmsSender:
    def __init__(self, settings: SmsSettings, timeout: float) -> None:
        self.settings = settings
        self.timeout = timeout

    def parameters(self, message: Outgoing, now: datetime) -> dict[str, str]:
        settings = self.settings
        parameters = {
            "AccessKeyId": settings.key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "RegionId": "cn-hangzhou",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": VERSION,
            "PhoneNumbers": message.address,
            "SignName": settings.sign_name,
            "TemplateCode": settings.templates[message.notice.template],
            "TemplateParam": json.dumps(message.values, ensure_ascii=False, sort_keys=True),
            "OutId": message.id,
        }
        parameters["Signature"] = sign(parameters, settings.key_secret)
        return parameters

    def send(self, message: Outgoing) -> None:
        if message.notice.template not in self.settings.templates:
            raise PermanentFailure(f"no SMS template code for {message.notice.template}")
        body = urllib.parse.urlencode(self.parameters(message, datetime.now(UTC))).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        reply = post(self.settings.url, body, headers, self.timeout, "SMS provider")
        _check(reply)


def _check(reply: bytes) -> None:
    try:
        answer = json.loads(reply)
        code = str(answer.get("Code", ""))
    except (ValueError, AttributeError):
        raise TransientFailure("SMS provider answered something not JSON") from None
    if code == "OK":
        return
    if code in RETRIED_CODES or code.startswith("isp."):
        raise TransientFailure(f"SMS provider answered {code[:80]}")
    raise PermanentFailure(f"SMS provider answered {code[:80]}")
