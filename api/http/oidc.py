"""Bearer tokens from the deployment's identity provider (OIDC), taken besides fengqiao's own.

A county that signs its staff in through its own identity provider (统一身份认证) sets
``FENGQIAO_OIDC_ISSUER`` and ``FENGQIAO_OIDC_AUDIENCE``. Its tokens are signed RS256 with keys
it publishes as a JWK set (``FENGQIAO_OIDC_JWKS_URL``, else the ``jwks_uri`` of its discovery
document, else ``<issuer>/.well-known/jwks.json``), fetched with PyJWT's ``PyJWKClient`` and
cached (the set for five minutes; a key id not in it fetches it again, at most every 30 s).

Only RS256 is taken from the provider: a token that says HS256 is fengqiao's own and is checked
against fengqiao's secret, never against a public key (the HS256-with-public-key confusion), and
``none`` or any other algorithm is refused. The issuer, the audience and the expiry are checked;
the user id claim (``sub``, or ``FENGQIAO_OIDC_USER_CLAIM``) names a member of the staff
directory, whose unit and roles decide the rest (``api.http.auth``).
"""

from __future__ import annotations

import json
import threading
import urllib.request
from datetime import timedelta
from typing import Any

import jwt
from jwt import PyJWKClient
from jwt.exceptions import PyJWKClientConnectionError, PyJWKClientError

from api.http.errors import TokenRefusedError
from api.wiring.settings import OidcSettings

ALGORITHM = "RS256"
JWKS_LIFESPAN = 300.0  # seconds the key set is kept before it is fetched again
FETCH_TIMEOUT = 5.0  # seconds for the provider to answer a fetch of its keys or discovery


class ProviderUnreachableError(Exception):
    """The identity provider's keys could not be fetched: nobody's token can be checked."""


def is_provider_token(encoded: str) -> bool:
    """Whether a token says it is signed as the provider signs (RS256); fengqiao's own say
    HS256. The header is read unverified only to pick the check: the check itself names the
    one algorithm it accepts."""
    try:
        header = jwt.get_unverified_header(encoded)
    except jwt.InvalidTokenError:
        return False
    return header.get("alg") == ALGORITHM


class IdentityProvider:
    """Checks the provider's tokens; one per process (the key cache is its own)."""

    def __init__(
        self, settings: OidcSettings, leeway: timedelta, timeout: float = FETCH_TIMEOUT
    ) -> None:
        self.settings = settings
        self.leeway = leeway  # for exp, nbf and iat, as fengqiao's own tokens get
        self.timeout = timeout
        self._client: PyJWKClient | None = None
        self._lock = threading.Lock()

    def jwks_url(self) -> str:
        """Where the keys are: configured, from the discovery document, or the usual path."""
        if self.settings.jwks_url:
            return self.settings.jwks_url
        issuer = self.settings.issuer.rstrip("/")
        discovery = f"{issuer}/.well-known/openid-configuration"
        try:
            with urllib.request.urlopen(discovery, timeout=self.timeout) as answer:
                document: Any = json.load(answer)
        except (OSError, ValueError):
            document = None
        found = document.get("jwks_uri") if isinstance(document, dict) else None
        return found if isinstance(found, str) and found else f"{issuer}/.well-known/jwks.json"

    def _keys(self) -> PyJWKClient:
        with self._lock:
            if self._client is None:
                self._client = PyJWKClient(
                    self.jwks_url(),
                    cache_jwk_set=True,
                    lifespan=JWKS_LIFESPAN,
                    timeout=self.timeout,
                )
            return self._client

    def claims(self, encoded: str) -> dict[str, Any]:
        """The verified claims of a provider's token; TokenRefusedError (401) saying what was
        wrong, ProviderUnreachableError when its keys cannot be had. Blocking: call it off the
        event loop."""
        try:
            key = self._keys().get_signing_key_from_jwt(encoded)
        except PyJWKClientConnectionError as error:
            raise ProviderUnreachableError(str(error)) from None
        except (PyJWKClientError, jwt.InvalidTokenError):
            raise TokenRefusedError("unknown_key", "the token's signing key is unknown") from None
        try:
            claims: dict[str, Any] = jwt.decode(
                encoded,
                key=key.key,
                algorithms=[ALGORITHM],
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRefusedError("expired", "token expired") from None
        except jwt.ImmatureSignatureError:
            raise TokenRefusedError("not_yet_valid", "token issued in the future") from None
        except jwt.InvalidIssuerError:
            raise TokenRefusedError("wrong_issuer", "the token's issuer is not trusted") from None
        except jwt.InvalidAudienceError:
            raise TokenRefusedError("wrong_audience", "the token is not for this service") from None
        except jwt.InvalidTokenError:
            raise TokenRefusedError("invalid", "Invalid token") from None
        return claims

    def user(self, claims: dict[str, Any]) -> str:
        """The directory's user id the claims name."""
        user = claims.get(self.settings.user_claim)
        if not isinstance(user, str) or not user:
            raise TokenRefusedError("invalid", f"Invalid token: no {self.settings.user_claim}")
        return user
