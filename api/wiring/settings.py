"""Settings: one typed object, read once at start-up from the environment it is given.

Nothing is read from ``os.environ`` at import time; ``main()`` passes the environment in, and
tests pass their own.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from api.wiring.notify_settings import NotifySettings
from domain.errors import PolicyError
from domain.policy import Policy
from domain.policy_document import policy_from_document


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


ATTACHMENT_MAX_MIB = "FENGQIAO_ATTACHMENT_MAX_MIB"
# A phone photo or a scanned agreement is a few MiB; a long recording of a mediation session
# in M4A is about 1 MiB a minute.
DEFAULT_ATTACHMENT_MAX_MIB = 20
# An upload is held in memory while it is checked and encrypted (about three copies).
LARGEST_ATTACHMENT_MAX_MIB = 256


def attachment_max_mib(environ: Mapping[str, str]) -> int:
    """The largest attachment accepted, in MiB (``FENGQIAO_ATTACHMENT_MAX_MIB``)."""
    raw = (environ.get(ATTACHMENT_MAX_MIB) or str(DEFAULT_ATTACHMENT_MAX_MIB)).strip()
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 4):
        raise SettingsError(f"{ATTACHMENT_MAX_MIB}: {raw!r} is not a whole number of MiB")
    value = int(raw)
    if not 1 <= value <= LARGEST_ATTACHMENT_MAX_MIB:
        raise SettingsError(f"{ATTACHMENT_MAX_MIB}: must be 1 to {LARGEST_ATTACHMENT_MAX_MIB}")
    return value


RATE_PAGE_LIMIT = "FENGQIAO_RATE_PAGE_LIMIT"
# Requests a minute one address may make to the public rating page (open, and submit).
DEFAULT_RATE_PAGE_LIMIT = 30


def rate_page_limit(environ: Mapping[str, str]) -> int:
    """Requests a minute from one address to ``/rate/…`` (``FENGQIAO_RATE_PAGE_LIMIT``)."""
    raw = (environ.get(RATE_PAGE_LIMIT) or str(DEFAULT_RATE_PAGE_LIMIT)).strip()
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= 10_000):
        raise SettingsError(f"{RATE_PAGE_LIMIT}: {raw!r} is not a whole number from 1 to 10000")
    return int(raw)


DOCUMENT_TEMPLATES = "FENGQIAO_DOCUMENT_TEMPLATES"


def document_templates(environ: Mapping[str, str]) -> Path | None:
    """A county's own document templates (``FENGQIAO_DOCUMENT_TEMPLATES``): a directory whose
    files replace the packaged ones of the same name; checked at start-up."""
    raw = (environ.get(DOCUMENT_TEMPLATES) or "").strip()
    if not raw:
        return None
    folder = Path(raw)
    if not folder.is_dir():
        raise SettingsError(f"{DOCUMENT_TEMPLATES}: {raw!r} is not a directory")
    return folder


OIDC_ISSUER = "FENGQIAO_OIDC_ISSUER"
OIDC_AUDIENCE = "FENGQIAO_OIDC_AUDIENCE"
OIDC_JWKS_URL = "FENGQIAO_OIDC_JWKS_URL"
OIDC_USER_CLAIM = "FENGQIAO_OIDC_USER_CLAIM"
_LOOPBACK = ("localhost", "127.0.0.1", "::1")
_CLAIM = re.compile(r"[A-Za-z0-9_.:/-]{1,100}")


@dataclass(frozen=True)
class OidcSettings:
    """The identity provider whose RS256 tokens are taken besides fengqiao's own: its issuer
    (``iss``), the audience it names fengqiao by (``aud``), where its signing keys are (None:
    from its discovery document, else ``<issuer>/.well-known/jwks.json``) and the claim that
    holds the user id of the staff directory."""

    issuer: str
    audience: str
    jwks_url: str | None = None
    user_claim: str = "sub"


def _web_address(variable: str, raw: str) -> str:
    """An https URL (http only on this machine, for a provider beside it or a test's)."""
    parts = urlsplit(raw)
    local = parts.scheme == "http" and parts.hostname in _LOOPBACK
    if not parts.hostname or not (parts.scheme == "https" or local):
        raise SettingsError(f"{variable}: {raw!r} is not an https://… URL")
    return raw


def oidc_settings(environ: Mapping[str, str]) -> OidcSettings | None:
    """The identity provider (``FENGQIAO_OIDC_*``), or None when no issuer is set; an issuer
    needs an audience, and the rest need an issuer."""
    issuer = (environ.get(OIDC_ISSUER) or "").strip()
    audience = (environ.get(OIDC_AUDIENCE) or "").strip()
    jwks = (environ.get(OIDC_JWKS_URL) or "").strip()
    claim = (environ.get(OIDC_USER_CLAIM) or "").strip()
    if not issuer:
        for variable, value in ((OIDC_AUDIENCE, audience), (OIDC_JWKS_URL, jwks)):
            if value:
                raise SettingsError(f"{variable}: needs {OIDC_ISSUER}")
        return None
    if not audience:
        raise SettingsError(f"{OIDC_AUDIENCE}: required with {OIDC_ISSUER}")
    if claim and not _CLAIM.fullmatch(claim):
        raise SettingsError(f"{OIDC_USER_CLAIM}: {claim!r} is not a claim name")
    return OidcSettings(
        issuer=_web_address(OIDC_ISSUER, issuer),
        audience=audience,
        jwks_url=_web_address(OIDC_JWKS_URL, jwks) if jwks else None,
        user_claim=claim or "sub",
    )


SIGNING_KEY_FILE = "signing.key"
SIGNING_KEY = "FENGQIAO_SIGNING_KEY"
HEAD_SECONDS = "FENGQIAO_HEAD_SECONDS"
DEFAULT_HEAD_SECONDS = 60.0


def new_signing_key() -> str:
    """A new Ed25519 key for ``FENGQIAO_SIGNING_KEY``: base64 of a random 32-byte seed (any
    32 bytes are a seed)."""
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def check_signing_key(key: str, where: str = SIGNING_KEY) -> str:
    """``key`` if it is base64 of 32 bytes; else a SettingsError naming ``where``."""
    try:
        raw = base64.b64decode(key, validate=True)
    except ValueError:
        raise SettingsError(
            f"{where}: not base64 (`fengqiao keygen --signing` prints one)"
        ) from None
    if len(raw) != 32:
        raise SettingsError(f"{where}: must be 32 bytes (an Ed25519 seed), base64-encoded")
    return key


def signing_key(environ: Mapping[str, str]) -> str | None:
    raw = (environ.get(SIGNING_KEY) or "").strip()
    return check_signing_key(raw) if raw else None


def head_seconds(environ: Mapping[str, str]) -> float:
    """How often at most a tree head is signed while the log grows (``FENGQIAO_HEAD_SECONDS``)."""
    raw = (environ.get(HEAD_SECONDS) or str(DEFAULT_HEAD_SECONDS)).strip()
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{HEAD_SECONDS}: {raw!r} is not a number") from None
    if not 1 <= value <= 86400:
        raise SettingsError(f"{HEAD_SECONDS}: must be 1 to 86400 seconds")
    return value


def new_cipher_key() -> str:
    """A new AES-256 key, base64, as the library's cipher reads it."""
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str | None = None
    policy_path: Path | None = None
    sweep_seconds: float = 15.0
    secret: str | None = None
    cipher_key: str | None = None
    attachment_max_mib: int = DEFAULT_ATTACHMENT_MAX_MIB
    document_templates: Path | None = None
    # the notification channels: each on only when configured (in-app always)
    notify: NotifySettings = field(default_factory=NotifySettings)
    oidc: OidcSettings | None = None  # an identity provider's tokens, besides fengqiao's own
    rate_page_limit: int = DEFAULT_RATE_PAGE_LIMIT  # a minute per address, /rate/…
    signing_key: str | None = None  # the tree heads' Ed25519 key: base64 of its 32-byte seed
    head_seconds: float = DEFAULT_HEAD_SECONDS  # a tree head is signed at most this often

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        sweep = environ.get("FENGQIAO_SWEEP_SECONDS", "15")
        try:
            sweep_seconds = float(sweep)
        except ValueError:
            raise SettingsError(f"FENGQIAO_SWEEP_SECONDS: {sweep!r} is not a number") from None
        if sweep_seconds < 1:
            raise SettingsError("FENGQIAO_SWEEP_SECONDS: must be at least 1")
        url = environ.get("FENGQIAO_DATABASE_URL") or None
        if url is not None and urlsplit(url).scheme not in ("postgresql", "postgres"):
            raise SettingsError("FENGQIAO_DATABASE_URL: only postgresql://… URLs are supported")
        policy = environ.get("FENGQIAO_POLICY") or None
        return cls(
            data_dir=Path(environ.get("FENGQIAO_DATA_DIR") or "./fengqiao-data"),
            database_url=url,
            policy_path=Path(policy) if policy else None,
            sweep_seconds=sweep_seconds,
            secret=environ.get("FENGQIAO_SECRET") or None,
            cipher_key=environ.get("FENGQIAO_CIPHER_KEY") or None,
            attachment_max_mib=attachment_max_mib(environ),
            document_templates=document_templates(environ),
            notify=NotifySettings.from_env(environ),
            oidc=oidc_settings(environ),
            rate_page_limit=rate_page_limit(environ),
            signing_key=signing_key(environ),
            head_seconds=head_seconds(environ),
        )

    @property
    def backend(self) -> str:
        return "postgres" if self.database_url else "sqlite"

    def event_store_env(self) -> dict[str, str]:
        """The eventsourcing library's environment for the application's event store.

        Stored events are compressed and encrypted (AES-GCM): parties' personal data never sits
        in plain text in a database file or table."""
        if self.database_url is None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            store = {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.data_dir / "events.sqlite3"),
                "SQLITE_LOCK_TIMEOUT": "10",
            }
        else:
            store = postgres_env(self.database_url)
        # Recently used cases stay decoded in memory; each load still reads newer events
        # ("fast-forward"), so several processes on one store stay correct.
        cache = {"AGGREGATE_CACHE_MAXSIZE": "10000"}
        return {**store, **cache, **encryption_env(self.cipher_key or self._embedded_cipher_key())}

    def application_env(self) -> dict[str, str]:
        """The application's environment: the event store's, the attachment limit and the
        county's document templates, which the HTTP API reads back from the application it
        serves (``attachment_max_mib``, ``api.documents.templates_from``)."""
        templates = {DOCUMENT_TEMPLATES: str(self.document_templates)}
        return {
            **self.event_store_env(),
            ATTACHMENT_MAX_MIB: str(self.attachment_max_mib),
            **(templates if self.document_templates else {}),
        }

    def _embedded_cipher_key(self) -> str:
        """The embedded default's key: generated once into the data directory (mode 0600).
        PostgreSQL deployments must bring their own (FENGQIAO_CIPHER_KEY)."""
        if self.database_url is not None:
            raise SettingsError(
                "FENGQIAO_CIPHER_KEY: required with FENGQIAO_DATABASE_URL (`fengqiao keygen`)"
            )
        path = self.data_dir / CIPHER_KEY_FILE
        if not path.exists():
            write_private(path, new_cipher_key())
        return path.read_text(encoding="utf-8").strip()

    def signing_key_text(self) -> str:
        """The tree heads' signing key (``FENGQIAO_SIGNING_KEY``): on the embedded default
        generated once into the data directory (mode 0600); PostgreSQL deployments must bring
        their own."""
        if self.signing_key is not None:
            return self.signing_key
        if self.database_url is not None:
            raise SettingsError(
                f"{SIGNING_KEY}: required with FENGQIAO_DATABASE_URL (`fengqiao keygen --signing`)"
            )
        path = self.data_dir / SIGNING_KEY_FILE
        if not path.exists():
            write_private(path, new_signing_key())
        return check_signing_key(path.read_text(encoding="utf-8").strip(), str(path))

    def load_policy(self) -> Policy:
        """The default policy, or the operator's file over it."""
        if self.policy_path is None:
            return Policy()
        try:
            document = tomllib.loads(self.policy_path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise SettingsError(
                f"FENGQIAO_POLICY: cannot read {self.policy_path}: {error}"
            ) from None
        try:
            return policy_from_document(document)
        except PolicyError as error:
            raise SettingsError(f"FENGQIAO_POLICY: {error}") from None


CIPHER_KEY_FILE = "cipher.key"


def write_private(path: Path, text: str) -> None:
    """Creates a file only its owner can read (0600); never overwrites one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)


def encryption_env(key: str) -> dict[str, str]:
    try:
        raw = base64.b64decode(key, validate=True)
    except ValueError:
        raise SettingsError(
            "FENGQIAO_CIPHER_KEY: not base64 (`fengqiao keygen` prints one)"
        ) from None
    if len(raw) not in (16, 24, 32):
        raise SettingsError("FENGQIAO_CIPHER_KEY: must be 16, 24 or 32 bytes, base64-encoded")
    return {
        "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
        "CIPHER_KEY": key,
        "COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor",
    }


def postgres_env(url: str) -> dict[str, str]:
    """``postgresql://user:password@host:port/dbname?schema=name`` as library settings.

    ``POSTGRES_ENABLE_DB_FUNCTIONS`` stays off: its insert skips the table lock that keeps
    insert order equal to commit order, which the projections rely on.
    """
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")) or "fengqiao",
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_LOCK_TIMEOUT": "5",
        # how long a request waits for a pooled connection: past it the pool is exhausted or the
        # server unreachable, and the request is better answered 503 than held
        "POSTGRES_CONNECT_TIMEOUT": "3",
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        # A pooled connection is checked before it is handed out: after a server restart the
        # pool would otherwise give out dead connections one after another (each a 500).
        "POSTGRES_PRE_PING": "y",
    }
    if "schema" in query:
        env["POSTGRES_SCHEMA"] = query["schema"][0]
    return env
