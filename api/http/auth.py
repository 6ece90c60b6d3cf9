"""Who is calling: HS256 bearer tokens carrying user id (``sub``), ``role`` and ``unit``.

The secret is ``FENGQIAO_SECRET``; on the embedded default, a random secret generated once into
the data directory (mode 0600). There is no built-in default secret.

Anything wrong with a token (its scheme, its signature, its times, the type of a claim) is a
401: a token is the caller's input, and no shape of it may reach the code as a 500. The answer
says which: no token, an expired one (log in again), one issued in the future (a clock is
wrong), or an invalid one (``TokenRefusedError.code``).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from litestar.connection import ASGIConnection
from litestar.middleware.authentication import AuthenticationResult
from litestar.security.jwt import JWTAuth, JWTAuthenticationMiddleware, Token
from litestar.security.jwt.token import JWTDecodeOptions

from api.http.errors import TokenRefusedError
from api.wiring.settings import Settings, SettingsError, write_private
from domain.actors import Actor, Role
from domain.directory import STAFF_ROLES

ALGORITHM = "HS256"
SECRET_FILE = "secret.key"
HUMAN_ROLES = {role.value for role in STAFF_ROLES}
# Clocks of the machine that mints a token and of this one differ by a few seconds: within
# this margin a token issued "in the future" (or just expired) is still taken.
CLOCK_LEEWAY = timedelta(seconds=30)
SCHEME = "bearer"  # RFC 6750; auth-schemes compare case-insensitively (RFC 7235 §2.1)


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


@dataclass
class LenientToken(Token):
    """Litestar's token with ``CLOCK_LEEWAY`` on ``iat``, ``nbf`` and ``exp``.

    Litestar's own token refuses an ``iat`` one second ahead of this machine's clock (in
    ``__post_init__``, after PyJWT's checks), so both places get the same leeway here.
    """

    def __post_init__(self) -> None:
        if not isinstance(self.sub, str) or not self.sub:
            raise TokenRefusedError("invalid", "Invalid token: sub must be a non-empty string")
        now = datetime.now(UTC)
        if not isinstance(self.exp, datetime):
            raise TokenRefusedError("invalid", "Invalid token: no expiry")
        if self.exp < now - CLOCK_LEEWAY:
            raise TokenRefusedError("expired", "token expired")
        if not isinstance(self.iat, datetime) or self.iat > now + CLOCK_LEEWAY:
            raise TokenRefusedError("not_yet_valid", "token issued in the future")
        self.exp = self.exp.astimezone(UTC).replace(microsecond=0)
        self.iat = self.iat.astimezone(UTC).replace(microsecond=0)

    @classmethod
    def decode_payload(
        cls,
        encoded_token: str,
        secret: str,
        algorithms: list[str],
        issuer: str | Sequence[str] | None = None,
        audience: str | Sequence[str] | None = None,
        options: JWTDecodeOptions | None = None,
    ) -> Any:
        """PyJWT's checks; an expired or not yet valid token is told apart from a bad one
        (Litestar's own decoding calls every ``InvalidTokenError`` "Invalid token")."""
        try:
            return jwt.decode(
                jwt=encoded_token,
                key=secret,
                algorithms=algorithms,
                issuer=issuer,
                audience=audience,
                options=options,  # type: ignore[arg-type]
                leeway=CLOCK_LEEWAY,
            )
        except jwt.ExpiredSignatureError:
            raise TokenRefusedError("expired", "token expired") from None
        except jwt.ImmatureSignatureError:
            raise TokenRefusedError("not_yet_valid", "token issued in the future") from None


class BearerAuthentication(JWTAuthenticationMiddleware):
    """Litestar takes whatever follows the first space of the header, whatever the scheme:
    ``Basic <jwt>`` passed as a bearer token. Only ``Bearer`` carries a token here."""

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        scheme, _, credentials = connection.headers.get(self.auth_header, "").partition(" ")
        if scheme.lower() != SCHEME or not credentials.strip():
            raise TokenRefusedError("missing", "a Bearer token is required")
        return await self.authenticate_token(credentials.strip(), connection)


def mint_token(secret: str, user: str, role: str, unit: str, ttl: timedelta) -> str:
    if role not in HUMAN_ROLES:
        raise ValueError(f"role must be one of {', '.join(sorted(HUMAN_ROLES))}")
    token = Token(exp=datetime.now(UTC) + ttl, sub=user, extras={"role": role, "unit": unit})
    return token.encode(secret, ALGORITHM)


def actor_from_claims(sub: object, role: object, unit: object) -> Actor | None:
    """The caller a token names, or None (401) when a claim is missing, of the wrong type or
    an unknown role: claims are checked for type before use (a list is not hashable)."""
    if not isinstance(sub, str) or not sub:
        return None
    if not isinstance(role, str) or role not in HUMAN_ROLES:
        return None
    if not isinstance(unit, str) or not unit:
        return None
    return Actor(user=sub, role=Role(role), unit=unit)


async def _actor_from_token(
    token: Token, connection: ASGIConnection[Any, Any, Any, Any]
) -> Actor | None:
    return actor_from_claims(token.sub, token.extras.get("role"), token.extras.get("unit"))


def jwt_auth(secret: str) -> JWTAuth[Actor, Token]:
    return JWTAuth[Actor, Token](
        retrieve_user_handler=_actor_from_token,
        token_secret=secret,
        algorithm=ALGORITHM,
        exclude=["/health", "/ready", "/schema"],
        exclude_opt_key="public",
        token_cls=LenientToken,
        authentication_middleware_class=BearerAuthentication,
    )
