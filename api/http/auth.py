"""Who is calling: HS256 bearer tokens carrying user id (``sub``), ``role`` and ``unit``.

The secret is ``FENGQIAO_SECRET``; on the embedded default, a random secret generated once into
the data directory (mode 0600). There is no built-in default secret.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.connection import ASGIConnection
from litestar.security.jwt import JWTAuth, Token

from api.wiring.settings import Settings, SettingsError, write_private
from domain.actors import Actor, Role

ALGORITHM = "HS256"
SECRET_FILE = "secret.key"
HUMAN_ROLES = {role.value for role in Role if role is not Role.SYSTEM}


def load_secret(settings: Settings) -> str:
    """The signing secret: configured, or generated once for the embedded default."""
    if settings.secret:
        return settings.secret
    if settings.database_url is not None:
        raise SettingsError("FENGQIAO_SECRET: required when FENGQIAO_DATABASE_URL is set")
    path = settings.data_dir / SECRET_FILE
    if not path.exists():
        write_private(path, secrets.token_urlsafe(48))
    return path.read_text(encoding="utf-8").strip()


def mint_token(secret: str, user: str, role: str, unit: str, ttl: timedelta) -> str:
    if role not in HUMAN_ROLES:
        raise ValueError(f"role must be one of {', '.join(sorted(HUMAN_ROLES))}")
    token = Token(exp=datetime.now(UTC) + ttl, sub=user, extras={"role": role, "unit": unit})
    return token.encode(secret, ALGORITHM)


async def _actor_from_token(
    token: Token, connection: ASGIConnection[Any, Any, Any, Any]
) -> Actor | None:
    """A token with an unknown role or no unit authenticates nobody (401)."""
    role = token.extras.get("role")
    unit = token.extras.get("unit")
    if role not in HUMAN_ROLES or not isinstance(unit, str) or not unit:
        return None
    return Actor(user=token.sub, role=Role(role), unit=unit)


def jwt_auth(secret: str) -> JWTAuth[Actor, Token]:
    return JWTAuth[Actor, Token](
        retrieve_user_handler=_actor_from_token,
        token_secret=secret,
        algorithm=ALGORITHM,
        exclude=["/health", "/ready", "/schema"],
        exclude_opt_key="public",
    )
