"""Tokens of an identity provider (OIDC), on SQLite and PostgreSQL: a real HTTP server on this
machine publishes the provider's discovery document and its RSA keys (made here with
``cryptography``); fengqiao fetches them once and takes the provider's RS256 tokens besides its
own, for the directory member they name, at the member's unit. A token of another issuer or
audience, an expired one, one signed with an unknown key, one that says HS256 and is signed with
the provider's public key, and one for somebody the directory does not let in are refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from api.http.auth import CLOCK_LEEWAY
from api.http.oidc import IdentityProvider
from api.http.runtime import Runtime
from api.wiring.bootstrap import OPERATOR
from api.wiring.settings import OidcSettings
from domain.directory import Directory
from tests.support.api import (
    API,
    CITY,
    VILLAGE,
    Client,
    Store,
    assert_problem,
    auth,
    ok,
    serving,
)
from tests.support.world import Clock

AUDIENCE = "fengqiao-leshan"
MEDIATOR = f"mediator-{VILLAGE}"  # a sample member of staff: the village's mediator
KEY_SIZE = 2048


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class Provider:
    """An identity provider on a loopback port: its keys by id, and what was fetched."""

    url: str
    keys: dict[str, rsa.RSAPrivateKey]
    fetched: Counter[str] = field(default_factory=Counter)
    discovery: bool = True  # publishes /.well-known/openid-configuration

    def jwks(self) -> dict[str, Any]:
        published = []
        for kid, key in self.keys.items():
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            published.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return {"keys": published}

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {"iss": self.url, "aud": AUDIENCE, "sub": MEDIATOR, "iat": now, "exp": now + 300}
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, kid: str = "k1", key: rsa.RSAPrivateKey | None = None, **claims: Any) -> str:
        signing = key or self.keys[kid]
        return jwt.encode(self.claims(**claims), signing, algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def provider() -> Iterator[Provider]:
    keys = {"k1": _key()}
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    found = Provider(f"http://127.0.0.1:{server.server_address[1]}", keys)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found.fetched[self.path] += 1
            documents: dict[str, Any] = {
                "/keys": found.jwks(),
                "/.well-known/jwks.json": found.jwks(),
            }
            if found.discovery:
                documents["/.well-known/openid-configuration"] = {
                    "issuer": found.url,
                    "jwks_uri": f"{found.url}/keys",
                }
            document = documents.get(self.path)
            body = json.dumps(document).encode() if document is not None else b"{}"
            self.send_response(200 if document is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:  # quiet
            pass

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def oidc(store: Store, clock: Clock, provider: Provider) -> Iterator[tuple[Client, Runtime]]:
    settings = OidcSettings(issuer=provider.url, audience=AUDIENCE)
    with serving(store, clock, settings) as running:
        yield running


def bearer(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


def refused(http: Client, token: str, chinese: str) -> None:
    answer = http.get(f"{API}/users/me", headers=bearer(token))
    problem = assert_problem(answer, 401)
    assert problem["detail"].startswith(chinese), problem
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]


def test_a_providers_token_names_a_member_who_acts_at_their_unit_in_a_role_they_hold(
    oidc: tuple[Client, Runtime], provider: Provider
) -> None:
    http, _ = oidc
    # the unit a token may claim is not taken: the member's is
    me = ok(http.get(f"{API}/users/me", headers=bearer(provider.token(unit=CITY))))
    assert (me["user"], me["unit"], me["acting_as"]) == (MEDIATOR, VILLAGE, "mediator")
    queue = http.get(f"{API}/queues/{VILLAGE}", headers=bearer(provider.token()))
    assert ok(queue)["unit"] == VILLAGE
    assert_problem(http.get(f"{API}/queues/{CITY}", headers=bearer(provider.token())), 403)
    # u-1 is a grid worker and a mediator of the village: the role claim picks one they hold
    for claimed, acting in (("mediator", "mediator"), (None, "reporter"), ("admin", "reporter")):
        token = provider.token(sub="u-1", role=claimed)
        assert ok(http.get(f"{API}/users/me", headers=bearer(token)))["acting_as"] == acting
    # fengqiao's own tokens still work beside the provider's
    assert ok(http.get(f"{API}/users/me", headers=auth("mediator", VILLAGE)))["user"] == MEDIATOR
    # the keys were fetched once, through the discovery document, and kept
    assert (provider.fetched["/.well-known/openid-configuration"], provider.fetched["/keys"]) == (
        1,
        1,
    )


def test_tokens_the_provider_did_not_sign_for_fengqiao_or_for_someone_let_in_are_refused(
    oidc: tuple[Client, Runtime], provider: Provider
) -> None:
    http, runtime = oidc
    now = int(time.time())
    late = now - int(CLOCK_LEEWAY.total_seconds()) - 60
    stranger = _key()
    public = (
        provider.keys["k1"]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": "k1"}
    signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(provider.claims()).encode())}"
    confused = f"{signing}.{_b64(hmac.new(public, signing.encode(), hashlib.sha256).digest())}"
    unsigned = ".".join(
        (_b64(json.dumps({"alg": "none", "kid": "k1"}).encode()), signing.split(".")[1], "")
    )

    refused(http, provider.token(iss="https://idp.elsewhere.example"), "令牌不是本系统信任的")
    refused(http, provider.token(aud="another-service"), "令牌不是签发给本系统的")
    refused(http, provider.token(exp=late, iat=late - 300), "令牌已过期")
    refused(http, provider.token(kid="k9", key=stranger), "令牌的签名密钥不是")
    refused(http, provider.token(key=stranger), "令牌无效")  # the provider's key id, not its key
    refused(http, confused, "令牌无效")  # HS256 with the public key as the secret
    refused(http, unsigned, "令牌无效")
    refused(http, provider.token(sub=None), "令牌无效")
    refused(http, provider.token(sub="nobody-here"), "令牌所属用户不在人员名录中")

    at = runtime.clock()

    def disable(directory: Directory) -> None:
        directory.disable(OPERATOR, MEDIATOR, "调离", at)

    runtime.app.change_directory(OPERATOR, disable)
    refused(http, provider.token(), "该用户已停用")
    english = http.get(
        f"{API}/users/me", headers=bearer(provider.token(), **{"Accept-Language": "en"})
    )
    assert assert_problem(english, 401)["detail"] == "this user has been disabled"


def test_without_a_provider_configured_an_rs256_token_is_refused(
    client: tuple[Client, Runtime], provider: Provider
) -> None:
    http, _ = client
    refused(http, provider.token(), "令牌无效")
    assert sum(provider.fetched.values()) == 0


def test_the_user_id_can_come_from_another_claim(
    store: Store, clock: Clock, provider: Provider
) -> None:
    settings = OidcSettings(provider.url, AUDIENCE, user_claim="preferred_username")
    with serving(store, clock, settings) as (http, _):
        token = provider.token(sub="3f9c0a1e-opaque", preferred_username=MEDIATOR)
        assert ok(http.get(f"{API}/users/me", headers=bearer(token)))["user"] == MEDIATOR
        refused(http, provider.token(), "令牌无效")  # no preferred_username


def test_the_keys_are_found_by_discovery_else_at_the_usual_path(provider: Provider) -> None:
    settings = OidcSettings(provider.url, AUDIENCE)
    assert IdentityProvider(settings, CLOCK_LEEWAY).jwks_url() == f"{provider.url}/keys"
    provider.discovery = False
    fallback = IdentityProvider(settings, CLOCK_LEEWAY).jwks_url()
    assert fallback == f"{provider.url}/.well-known/jwks.json"
    configured = OidcSettings(provider.url, AUDIENCE, jwks_url=f"{provider.url}/keys")
    assert IdentityProvider(configured, CLOCK_LEEWAY).jwks_url() == f"{provider.url}/keys"


def test_a_provider_that_cannot_be_reached_is_503_not_a_refusal(
    store: Store, clock: Clock, provider: Provider
) -> None:
    """Nobody's token can be checked while the provider's keys cannot be had: the caller is
    told to try again (503), not that their token is bad."""
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{probe.getsockname()[1]}"
    settings = OidcSettings(nowhere, AUDIENCE, jwks_url=f"{nowhere}/keys")
    with serving(store, clock, settings) as (http, _):
        answer = http.get(f"{API}/users/me", headers=bearer(provider.token(iss=nowhere)))
        assert_problem(answer, 503)
        assert (
            ok(http.get(f"{API}/users/me", headers=auth("mediator", VILLAGE)))["user"] == MEDIATOR
        )
