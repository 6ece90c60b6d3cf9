"""Who is calling: HS256 bearer tokens carrying user id (``sub``), ``role`` and ``unit``, or
RS256 tokens of the deployment's identity provider (``api.http.oidc``).

The secret is ``FENGQIAO_SECRET``; on the embedded default, a random secret generated once into
the data directory (mode 0600). There is no built-in default secret.

A token is taken only for an active member of the staff directory (``domain.directory``), in a
role the member holds, at the member's unit: a token minted for someone who left, or for a
role or unit they no longer have, stops working within ``DIRECTORY_MAX_AGE`` seconds of the
change, however long it had to run. A provider's token names only the user: the unit is the
member's, the role its ``role`` claim when the member holds it, else the member's first.

Anything wrong with a token (its scheme, its signature, its times, the type of a claim) is a
401: a token is the caller's input, and no shape of it may reach the code as a 500. The answer
says which: no token, an expired one (log in again), one issued in the future (a clock is
wrong), or an invalid one (``TokenRefusedError.code``).
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio.to_thread
import jwt
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, ServiceUnavailableException
from litestar.middleware.authentication import AuthenticationResult
from litestar.security.jwt import JWTAuth, JWTAuthenticationMiddleware, Token
from litestar.security.jwt.token import JWTDecodeOptions

from api.http.errors import TokenRefusedError
from api.http.messages import TOKEN
from api.http.oidc import IdentityProvider, ProviderUnreachableError, is_provider_token
from api.wiring.settings import OidcSettings, Settings, SettingsError, write_private
from domain.actors import Actor, Role
from domain.directory import STAFF_ROLES, Directory, StaffMember

ALGORITHM = "HS256"
SECRET_FILE = "secret.key"
HUMAN_ROLES = {role.value for role in STAFF_ROLES}
# Clocks of the machine that mints a token and of this one differ by a few seconds: within
# this margin a token issued "in the future" (or just expired) is still taken.
CLOCK_LEEWAY = timedelta(seconds=30)
SCHEME = "bearer"  # RFC 6750; auth-schemes compare case-insensitively (RFC 7235 §2.1)
# Every request checks its caller against a read of the directory at most this old (seconds):
# a member disabled in another process is let in no longer than that.
DIRECTORY_MAX_AGE = 1.0
# Tokens kept verified per process (``VerifiedTokens``): one per signed-in user and role.
VERIFIED_TOKENS = 10_000


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


def expired(expiry: datetime, now: datetime) -> bool:
    """Whether a token expiring at ``expiry`` has run out, the clocks' leeway allowed."""
    return expiry < now - CLOCK_LEEWAY


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
        if expired(self.exp, now):
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
    ``Basic <jwt>`` passed as a bearer token. Only ``Bearer`` carries a token here. A token
    that says RS256 goes to the identity provider's check when one is configured."""

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        scheme, _, credentials = connection.headers.get(self.auth_header, "").partition(" ")
        if scheme.lower() != SCHEME or not credentials.strip():
            raise TokenRefusedError("missing", "a Bearer token is required")
        return await self.authenticate_token(credentials.strip(), connection)

    async def authenticate_token(
        self, encoded_token: str, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        gate = self.retrieve_user_handler
        if not isinstance(gate, Gate) or self.revoked_token_handler is not None:
            return await super().authenticate_token(encoded_token, connection)
        if gate.takes(encoded_token):
            token, actor = await gate.from_provider(encoded_token)
            return AuthenticationResult(user=actor, auth=token)
        kept = gate.tokens.get(encoded_token)
        if kept is None:  # Litestar's own check of the token, then the caller's (``Gate``)
            result = await super().authenticate_token(encoded_token, connection)
            gate.tokens.keep(encoded_token, result.auth)
            return result
        user = await gate(kept, connection)
        if not user:
            raise NotAuthorizedException()
        return AuthenticationResult(user=user, auth=kept)


class VerifiedTokens:
    """Tokens whose signature was checked, by their exact text, so a client's next request
    with the same token is not checked again (PyJWT's decoding, the HMAC key's preparation
    above all, was a twentieth of a command's time under the interpreter lock). Only the
    signature's verdict is kept: a kept token past its expiry is decoded again (and refused as
    expired), and who it names is checked against the directory on every request. Used on the
    event loop's thread only."""

    def __init__(self, size: int = VERIFIED_TOKENS) -> None:
        self.size = size
        self._tokens: OrderedDict[str, Token] = OrderedDict()

    def get(self, encoded: str) -> Token | None:
        token = self._tokens.get(encoded)
        if token is None:
            return None
        if expired(token.exp, datetime.now(UTC)):
            del self._tokens[encoded]
            return None
        self._tokens.move_to_end(encoded)
        return token

    def keep(self, encoded: str, token: Token) -> None:
        self._tokens[encoded] = token
        self._tokens.move_to_end(encoded)
        if len(self._tokens) > self.size:
            self._tokens.popitem(last=False)


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


def refusal(member: StaffMember | None, role: Role, unit: str) -> str | None:
    """Why the directory refuses someone acting as ``role`` at ``unit`` (a
    ``TokenRefusedError`` code), or None when it lets them in."""
    if member is None:
        return "unknown_user"
    if not member.active:
        return "disabled_user"
    if role not in member.roles:
        return "role_not_held"
    if unit != member.unit:
        return "wrong_unit"
    return None


def refused(code: str) -> TokenRefusedError:
    """The 401 of a ``refusal`` code, in English words (the answer is told in the caller's
    language from the code, ``api.http.messages.TOKEN``)."""
    return TokenRefusedError(code, TOKEN[code][1])


@dataclass
class Gate:
    """Lets in the callers the staff directory knows: the retrieve-user handler of fengqiao's
    own tokens, and the check of the identity provider's (``provider``, when configured)."""

    directory: Callable[[], Directory]  # a read at most DIRECTORY_MAX_AGE seconds old
    provider: IdentityProvider | None = None
    # That read when this process holds one young enough, without asking the store (None
    # when it must): what the event loop may call without blocking.
    recent: Callable[[], Directory | None] = lambda: None
    tokens: VerifiedTokens = field(default_factory=VerifiedTokens)

    def takes(self, encoded: str) -> bool:
        """Whether a token is the identity provider's to check (None configured: none is)."""
        return self.provider is not None and is_provider_token(encoded)

    async def staff(self) -> Directory:
        """The directory: this process's recent read on the event loop (most requests), else
        read off it, since that may ask the store."""
        recent = self.recent()
        if recent is not None:
            return recent
        return await anyio.to_thread.run_sync(self.directory)

    async def __call__(
        self, token: Token, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> Actor | None:
        actor = actor_from_claims(token.sub, token.extras.get("role"), token.extras.get("unit"))
        if actor is None:
            return None
        code = refusal((await self.staff()).get(actor.user), actor.role, actor.unit)
        if code is not None:
            raise refused(code)
        return actor

    async def from_provider(self, encoded: str) -> tuple[Token, Actor]:
        """The token and the caller of a provider's token: the member it names, at their
        unit, in the role its ``role`` claim names when they hold it, else their first."""
        provider = self.provider
        if provider is None:  # pragma: no cover - only called with a provider
            raise TokenRefusedError("invalid", "Invalid token")
        try:
            claims = await anyio.to_thread.run_sync(provider.claims, encoded)
        except ProviderUnreachableError as error:
            raise ServiceUnavailableException("the identity provider cannot be reached") from error
        user = provider.user(claims)
        member = (await self.staff()).get(user)
        if member is None or not member.active:
            raise refused("unknown_user" if member is None else "disabled_user")
        claimed = claims.get("role")
        held = {role.value: role for role in member.roles}
        role = held[claimed] if isinstance(claimed, str) and claimed in held else member.roles[0]
        token = LenientToken(
            exp=_moment(claims.get("exp")),
            iat=_moment(claims["iat"]) if "iat" in claims else datetime.now(UTC),
            sub=user,
            extras={"role": role.value, "unit": member.unit},
        )
        return token, Actor(user=user, role=role, unit=member.unit)


def _moment(value: object) -> datetime:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TokenRefusedError("invalid", "Invalid token: a time is not a number")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise TokenRefusedError("invalid", "Invalid token: a time out of range") from None


def jwt_auth(
    secret: str,
    directory: Callable[[], Directory],
    oidc: OidcSettings | None = None,
    recent: Callable[[], Directory | None] = lambda: None,
) -> JWTAuth[Actor, Token]:
    """Bearer tokens: fengqiao's own, and the identity provider's when ``oidc`` is set; the
    caller must be an active member of ``directory`` in every case (``recent``: see
    ``Gate``)."""
    provider = IdentityProvider(oidc, CLOCK_LEEWAY) if oidc is not None else None
    return JWTAuth[Actor, Token](
        retrieve_user_handler=Gate(directory, provider, recent),
        token_secret=secret,
        algorithm=ALGORITHM,
        exclude=["/health", "/ready", "/schema"],
        exclude_opt_key="public",
        token_cls=LenientToken,
        authentication_middleware_class=BearerAuthentication,
    )
