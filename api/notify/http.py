"""One POST to a channel's HTTP endpoint (the webhook, the SMS provider), its failures sorted.

408, 425, 429 and 5xx, a timeout and a refused or broken connection are worth retrying; any
other 4xx is permanent (a dead letter). What is kept of a failure is its status or the type of
the network error, never the request.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Mapping

from scheduler.dispatch import PermanentFailure, TransientFailure

RETRIED_STATUSES = frozenset({408, 425, 429})


def post(url: str, body: bytes, headers: Mapping[str, str], timeout: float, what: str) -> bytes:
    """The answer's body to a POST the endpoint acknowledged (2xx)."""
    request = urllib.request.Request(url, data=body, method="POST", headers=dict(headers))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            reply: bytes = answer.read()
            return reply
    except urllib.error.HTTPError as error:
        status = error.code
        if status in RETRIED_STATUSES or status >= 500:
            raise TransientFailure(f"{what} answered HTTP {status}") from None
        raise PermanentFailure(f"{what} answered HTTP {status}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise TransientFailure(f"{what} unreachable: {type(reason).__name__}") from None
