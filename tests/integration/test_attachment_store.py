"""The attachment store beside each event store: content kept once by its hash, encrypted with
the event store's cipher, checked when read back, shared by every process on one database.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from eventsourcing.cryptography import AESCipher
from eventsourcing.utils import Environment

from api.http.attachment_store import (
    TABLE,
    AttachmentStore,
    DamagedAttachmentError,
    FileContents,
    MemoryContents,
    PostgresContents,
    attachment_store,
    contents_for,
)
from api.wiring.settings import ATTACHMENT_MAX_MIB, encryption_env, new_cipher_key
from domain.application import FengqiaoApplication
from tests.support import backends
from tests.support.backends import store_env
from tests.unit.test_media_types import MARKER, sample

CONTENTS = {"memory": MemoryContents, "sqlite": FileContents, "postgres": PostgresContents}


def other_key_env() -> dict[str, str]:
    return {"CIPHER_KEY": new_cipher_key()}


@pytest.fixture
def secured(env: dict[str, str]) -> dict[str, str]:
    return {**env, **encryption_env(new_cipher_key())}


@pytest.fixture
def application(secured: dict[str, str]) -> Iterator[FengqiaoApplication]:
    app = FengqiaoApplication(env=secured)
    try:
        yield app
    finally:
        app.close()


def test_the_store_follows_the_event_store(
    application: FengqiaoApplication, backend: str, tmp_path: Path
) -> None:
    store = attachment_store(application)

    assert isinstance(store.contents, CONTENTS[backend])
    assert attachment_store(application) is store  # one per application
    assert store.max_bytes == 20 * 1024 * 1024  # the default
    if backend == "sqlite":
        assert isinstance(store.contents, FileContents)
        assert store.contents.root == tmp_path / "attachments"


def test_content_goes_in_once_encrypted_and_comes_back_checked(
    application: FengqiaoApplication,
) -> None:
    store = attachment_store(application)
    photo = sample("jpeg")

    sha256, new = store.put(photo)
    again = store.put(photo)

    assert sha256 == hashlib.sha256(photo).hexdigest()
    assert (new, again) == (True, (sha256, False))
    kept = store.contents.get(sha256)
    assert kept is not None
    assert MARKER not in kept
    assert kept != photo
    assert store.get(sha256) == photo
    assert store.get("0" * 64) is None


def test_damaged_or_swapped_content_is_an_error_not_an_answer(
    application: FengqiaoApplication,
) -> None:
    store = attachment_store(application)
    pdf_sha, _ = store.put(sample("pdf"))
    png_sha, _ = store.put(sample("png"))
    other_key = AttachmentStore(store.contents, AESCipher(Environment("", other_key_env())), 1)
    kept = store.contents.get(png_sha)
    assert kept is not None
    # stored under the PDF's address: decrypts, but to the wrong bytes
    swapped = AttachmentStore(MemoryContents(), application.mapper.cipher, 1)
    swapped.contents.put(pdf_sha, kept)
    damaged = AttachmentStore(MemoryContents(), application.mapper.cipher, 1)
    damaged.contents.put(pdf_sha, kept[:-1] + bytes([kept[-1] ^ 1]))

    with pytest.raises(DamagedAttachmentError, match="does not decrypt"):
        other_key.get(pdf_sha)
    with pytest.raises(DamagedAttachmentError, match="does not match"):
        swapped.get(pdf_sha)
    with pytest.raises(DamagedAttachmentError, match="does not decrypt"):
        damaged.get(pdf_sha)


def test_without_a_cipher_content_is_kept_as_it_is(env: dict[str, str]) -> None:
    """Only test stores lack a key; the embedded default makes one, PostgreSQL requires one."""
    app = FengqiaoApplication(env=env)
    try:
        store = attachment_store(app)
        sha256, _ = store.put(sample("mp3"))
        assert store.contents.get(sha256) == sample("mp3")
    finally:
        app.close()


def test_the_limit_comes_with_the_application(secured: dict[str, str]) -> None:
    app = FengqiaoApplication(env={**secured, ATTACHMENT_MAX_MIB: "3"})
    try:
        assert attachment_store(app).max_bytes == 3 * 1024 * 1024
    finally:
        app.close()


def test_every_host_on_one_postgresql_schema_sees_every_attachment(tmp_path: Path) -> None:
    with store_env("postgres", tmp_path) as env:
        secured = {**env, **encryption_env(new_cipher_key())}
        hosts = [FengqiaoApplication(env=secured) for _ in range(2)]
        try:
            stores = [attachment_store(host) for host in hosts]
            results: list[tuple[str, bool]] = []

            def put() -> None:
                results.append(stores[len(results) % 2].put(sample("m4a")))

            threads = [threading.Thread(target=put) for _ in range(6)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

            assert sum(new for _, new in results) == 1  # once, whoever came first
            [sha256] = {sha for sha, _ in results}
            assert [store.get(sha256) for store in stores] == [sample("m4a")] * 2
            schema = env["POSTGRES_SCHEMA"]
            with psycopg.connect(backends.test_database_url()) as conn:
                found = conn.execute(
                    "SELECT table_schema FROM information_schema.tables WHERE table_name = %s",
                    (TABLE,),
                ).fetchall()
                storage = conn.execute(
                    "SELECT attstorage FROM pg_attribute WHERE attname = 'content'"
                    " AND attrelid = to_regclass(%s)",
                    (f'"{schema}".{TABLE}',),
                ).fetchone()
            assert (schema,) in found  # the deployment's schema, where its events are
            assert storage == ("e",)  # ciphertext is not compressed again
        finally:
            for host in hosts:
                host.close()


def test_a_file_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    contents = FileContents(tmp_path / "attachments")
    sha256 = hashlib.sha256(b"x").hexdigest()

    assert contents.put(sha256, b"ciphertext") is True
    assert contents.put(sha256, b"other") is False

    path = contents.path(sha256)
    assert path == tmp_path / "attachments" / sha256[:2] / sha256[2:]
    assert path.read_bytes() == b"ciphertext"
    assert [p.name for p in path.parent.iterdir()] == [sha256[2:]]  # no .part left
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)
    assert oct(path.parent.stat().st_mode & 0o777) == oct(0o700)


def test_contents_for_an_in_memory_store_stay_in_memory() -> None:
    app = FengqiaoApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    try:
        assert isinstance(contents_for(app), MemoryContents)
    finally:
        app.close()
