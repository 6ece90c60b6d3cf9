"""``GET /api/v1/stream/queues/{unit}``: server-sent events of queue changes. Being written."""

from __future__ import annotations

from typing import Any

HANDLERS: list[Any] = []
