"""The tree heads' signing key (docs/audit-format.md, "Signed tree heads"): generated once into
the data directory (0600) on the embedded default, required on PostgreSQL; a head's signature
verifies with the published key and with nothing else, and with ``openssl`` as documented."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.cli.main import main
from api.wiring.settings import SIGNING_KEY_FILE, Settings, SettingsError, new_signing_key
from domain.errors import InvalidInputError
from domain.tree_head import Head, head_id, signed_bytes
from scheduler.signing import (
    SigningKey,
    describe_public,
    head_problem,
    key_id,
    load_public_key,
)

ROOT = "ab" * 32
AT = datetime(2026, 9, 28, 2, 0, 0, 123456, tzinfo=UTC)


def test_the_embedded_default_generates_its_key_once_readable_by_its_owner_only(
    tmp_path: Path,
) -> None:
    settings = Settings.from_env({"FENGQIAO_DATA_DIR": str(tmp_path)})
    first = settings.signing_key_text()
    path = tmp_path / SIGNING_KEY_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    assert settings.signing_key_text() == first, "generated once, then read back"
    assert len(base64.b64decode(first)) == 32
    SigningKey.from_text(first)


def test_postgresql_refuses_to_start_without_a_signing_key(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"FENGQIAO_DATA_DIR": str(tmp_path), "FENGQIAO_DATABASE_URL": "postgresql://x@h/db"}
    )
    with pytest.raises(SettingsError, match="FENGQIAO_SIGNING_KEY: required"):
        settings.signing_key_text()
    assert not (tmp_path / SIGNING_KEY_FILE).exists()
    key = new_signing_key()
    given = Settings.from_env(
        {"FENGQIAO_DATABASE_URL": "postgresql://x@h/db", "FENGQIAO_SIGNING_KEY": key}
    )
    assert given.signing_key_text() == key


@pytest.mark.parametrize("bad", ["not base64!", base64.b64encode(b"short").decode()])
def test_a_malformed_signing_key_is_refused_by_name(bad: str) -> None:
    with pytest.raises(SettingsError, match="FENGQIAO_SIGNING_KEY"):
        Settings.from_env({"FENGQIAO_SIGNING_KEY": bad})


@pytest.mark.parametrize("bad", ["0", "abc", "90000"])
def test_head_seconds_must_be_a_sensible_number(bad: str) -> None:
    with pytest.raises(SettingsError, match="FENGQIAO_HEAD_SECONDS"):
        Settings.from_env({"FENGQIAO_HEAD_SECONDS": bad})
    assert Settings.from_env({}).head_seconds == 60
    assert Settings.from_env({"FENGQIAO_HEAD_SECONDS": "5"}).head_seconds == 5


def test_keygen_signing_prints_a_usable_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keygen", "--signing"], environ={}) == 0
    printed = capsys.readouterr().out.strip()
    assert SigningKey.from_text(printed).key_id
    assert main(["keygen"], environ={}) == 0  # the cipher key, as before: 32 bytes too
    assert len(base64.b64decode(capsys.readouterr().out.strip())) == 32


def test_a_head_verifies_with_its_key_and_fails_with_another_or_when_changed() -> None:
    key = SigningKey.from_text(new_signing_key())
    head = key.sign(12, ROOT, AT)
    assert head.signed_at == "2026-09-28T02:00:00.123456Z"
    assert head.key_id == key_id(key.public)
    assert head_problem(head, key.public) is None
    other = SigningKey.from_text(new_signing_key())
    assert "not this key" in (head_problem(head, other.public) or "")
    # another key that claims this key's id: the signature itself fails
    forged = Head(head.size, head.root, head.signed_at, other.key_id, head.signature)
    assert (
        head_problem(forged, other.public) == "the head's signature does not verify with this key"
    )
    for changed in (
        Head(head.size, "cd" * 32, head.signed_at, head.key_id, head.signature),
        Head(head.size + 1, head.root, head.signed_at, head.key_id, head.signature),
        Head(head.size, head.root, "2026-09-28T02:00:01.123456Z", head.key_id, head.signature),
    ):
        assert head_problem(changed, key.public) is not None


def test_the_public_key_reads_back_from_each_published_form() -> None:
    key = SigningKey.from_text(new_signing_key())
    published = describe_public(key.public)
    assert published["key_id"] == key.key_id
    for text in (published["pem"], published["public_key"], json.dumps(published)):
        assert key_id(load_public_key(text)) == key.key_id


def test_the_signed_bytes_are_the_documented_lines() -> None:
    assert signed_bytes(3, ROOT, "2026-09-28T02:00:00.000000Z", "cd" * 32) == (
        b"fengqiao tree head v1\nsize=3\nroot=" + ROOT.encode() + b"\n"
        b"signed_at=2026-09-28T02:00:00.000000Z\nkey_id=" + b"cd" * 32 + b"\n"
    )
    assert head_id(3, ROOT) == head_id(3, ROOT) != head_id(4, ROOT)


def test_a_saved_head_reads_back_and_a_malformed_one_is_refused() -> None:
    head = SigningKey.from_text(new_signing_key()).sign(5, ROOT, AT)
    assert Head.of(json.loads(json.dumps(head.as_json()))) == head
    for broken in ({**head.as_json(), "size": -1}, {**head.as_json(), "root": "xy"}, []):
        with pytest.raises(InvalidInputError):
            Head.of(broken)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl here")
def test_openssl_verifies_a_head_as_docs_say(tmp_path: Path) -> None:
    private = Ed25519PrivateKey.generate()
    key = SigningKey(private)
    head = key.sign(7, ROOT, AT)
    (tmp_path / "key.pem").write_text(describe_public(key.public)["pem"])
    (tmp_path / "head.bin").write_bytes(head.signed_bytes())
    (tmp_path / "head.sig").write_bytes(base64.b64decode(head.signature))
    command = [
        "openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "key.pem", "-rawin",
        "-in", "head.bin", "-sigfile", "head.sig",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    (tmp_path / "head.bin").write_bytes(head.signed_bytes().replace(b"size=7", b"size=8"))
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode != 0
