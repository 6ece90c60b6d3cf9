"""The identity provider's settings (``FENGQIAO_OIDC_*``) are checked at start-up: an issuer
needs an audience, the rest need an issuer, addresses are https (http only on this machine),
and a bad one stops start-up naming the variable."""

from __future__ import annotations

import pytest

from api.wiring.settings import OidcSettings, Settings, SettingsError

ISSUER = "https://sso.leshan.example/realms/fengqiao"


def settings(**variables: str) -> Settings:
    return Settings.from_env({f"FENGQIAO_OIDC_{k.upper()}": v for k, v in variables.items()})


def test_no_issuer_means_only_fengqiaos_own_tokens() -> None:
    assert settings().oidc is None


def test_an_issuer_and_an_audience_configure_the_provider() -> None:
    assert settings(issuer=ISSUER, audience="fengqiao").oidc == OidcSettings(ISSUER, "fengqiao")
    full = settings(
        issuer=ISSUER,
        audience="fengqiao",
        jwks_url=f"{ISSUER}/protocol/openid-connect/certs",
        user_claim="preferred_username",
    ).oidc
    assert full == OidcSettings(
        ISSUER, "fengqiao", f"{ISSUER}/protocol/openid-connect/certs", "preferred_username"
    )
    local = settings(issuer="http://127.0.0.1:8080", audience="fengqiao").oidc
    assert local is not None
    assert local.issuer == "http://127.0.0.1:8080"


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"issuer": ISSUER}, "FENGQIAO_OIDC_AUDIENCE"),
        ({"audience": "fengqiao"}, "FENGQIAO_OIDC_AUDIENCE"),
        ({"jwks_url": f"{ISSUER}/certs"}, "FENGQIAO_OIDC_JWKS_URL"),
        ({"issuer": "http://sso.leshan.example", "audience": "x"}, "FENGQIAO_OIDC_ISSUER"),
        ({"issuer": "sso.leshan.example", "audience": "x"}, "FENGQIAO_OIDC_ISSUER"),
        (
            {"issuer": ISSUER, "audience": "x", "jwks_url": "file:///etc/passwd"},
            "FENGQIAO_OIDC_JWKS_URL",
        ),
        ({"issuer": ISSUER, "audience": "x", "user_claim": "sub name"}, "FENGQIAO_OIDC_USER_CLAIM"),
    ],
)
def test_a_bad_provider_setting_stops_start_up_naming_it(
    variables: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError, match=named):
        settings(**variables)
