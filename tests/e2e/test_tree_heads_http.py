"""Signed tree heads and proofs over HTTP (docs/audit-format.md, "Signed tree heads"), on SQLite and
PostgreSQL: a head is signed at most every N seconds and only while the log grows (an injected
clock), is recorded and listed latest first, and verifies with the published key and no other;
inclusion and consistency proofs verify with the RFC 9162 checks and match a reference tree
computed here from the store's own records; bad sizes and positions are 422 in Chinese.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime

import pytest

from api.http.runtime import Runtime
from api.wiring.settings import new_signing_key
from domain.tree_head import Head
from projections import rfc9162
from projections.merkle import notification_leaf
from projections.plain_events import PlainDecoder
from scheduler.lock import ProcessLock
from scheduler.service import SweepService
from scheduler.signing import SigningKey, head_problem, load_public_key
from scheduler.tree_heads import HeadSigner, signer_over
from tests.support.api import API, PROBLEM, Client, auth, register
from tests.support.world import Clock

EVERY = 60.0
AUDITOR = auth("auditor", "511123")


@pytest.fixture
def signed(client: tuple[Client, Runtime], clock: Clock) -> tuple[Client, HeadSigner]:
    http, runtime = client
    key = SigningKey.from_text(new_signing_key())
    runtime.head_signer = signer_over(runtime.app, runtime.views, key, clock, EVERY)
    return http, runtime.head_signer


def reference_root(leaves: list[bytes]) -> bytes:
    """MTH (RFC 9162 §2.1.1) by its recursive definition, independent of projections.rfc9162."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    left, right = reference_root(leaves[:k]), reference_root(leaves[k:])
    return hashlib.sha256(b"\x01" + left + right).digest()


def store_leaves(signer: HeadSigner) -> list[bytes]:
    """Every record's leaf hash, read from the event store itself."""
    recorder = signer.app.recorder
    top = recorder.max_notification_id() or 0
    found = recorder.select_notifications(start=1, limit=top + 1)
    decoder = PlainDecoder(signer.app.mapper)
    return [notification_leaf(notification, decoder) for notification in found]


def grow(http: Client, cases: int = 1) -> None:
    for _ in range(cases):
        register(http)


def test_a_head_is_signed_at_most_every_n_seconds_and_only_while_the_log_grows(
    signed: tuple[Client, HeadSigner], clock: Clock
) -> None:
    http, signer = signed
    first = signer.tick()
    assert first is not None, "the log holds the sample units and staff: a first head"
    assert signer.tick() is None, "nothing new"
    clock.advance(seconds=EVERY * 3)
    assert signer.tick() is None, "only the head's own record since: the log did not grow"
    grow(http)
    clock.advance(seconds=EVERY * 3)
    second = signer.tick()
    assert second is not None
    assert second.size > first.size + 1
    grow(http)
    clock.advance(seconds=EVERY - 1)
    assert signer.tick() is None, "grown, but the last head is younger than N seconds"
    clock.advance(seconds=1)
    third = signer.tick()
    assert third is not None
    listed = http.get(f"{API}/ledger/heads", headers=AUDITOR)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["total"] == 3
    assert [h["size"] for h in body["heads"]] == [third.size, second.size, first.size]
    assert body["heads"][0]["root"] == third.root
    page = http.get(f"{API}/ledger/heads?limit=1&offset=1", headers=AUDITOR).json()
    assert [h["size"] for h in page["heads"]] == [second.size]


def test_the_scheduler_signs_heads_only_while_it_holds_the_lock(
    signed: tuple[Client, HeadSigner], clock: Clock
) -> None:
    _, signer = signed
    calls: list[object] = []
    lock = ProcessLock()
    service = SweepService(
        sweeper=None,  # type: ignore[arg-type]  # the sweeps are not run here
        lock=lock,
        interval=15,
        heads=lambda: calls.append(signer.tick()),
        head_seconds=EVERY,
    )
    assert service.sign_heads()
    assert isinstance(calls[0], Head)
    assert SweepService(None, _Refusing(), 15, heads=calls.append).sign_heads() is False  # type: ignore[arg-type]
    lock.release()


class _Refusing:
    def acquire(self) -> bool:
        return False

    def release(self) -> None:
        return None


def test_a_head_verifies_with_the_published_key_and_no_other(
    signed: tuple[Client, HeadSigner],
) -> None:
    http, signer = signed
    head, position = signer.sign_now()
    assert position is not None
    assert http.get(f"{API}/ledger/key").status_code == 401
    published = http.get(f"{API}/ledger/key", headers=auth("reporter", "511123001001"))
    assert published.status_code == 200, published.text
    key = published.json()
    assert key["key_id"] == head.key_id == signer.key.key_id
    public = load_public_key(key["pem"])
    assert head_problem(head, public) is None
    assert head_problem(head, SigningKey.from_text(new_signing_key()).public) is not None
    changed = Head(head.size, "00" * 32, head.signed_at, head.key_id, head.signature)
    assert head_problem(changed, public) is not None
    assert len(base64.b64decode(key["public_key"])) == 32
    again, repeated = signer.app.record_tree_head(head, datetime.now(UTC))
    assert (again, repeated) == (head, None), "one head per size and root"


def test_inclusion_and_consistency_proofs_verify_and_match_a_reference_tree(
    signed: tuple[Client, HeadSigner],
) -> None:
    http, signer = signed
    grow(http, 4)
    head, _ = signer.sign_now()
    leaves = store_leaves(signer)
    assert len(leaves) >= head.size
    assert reference_root(leaves[: head.size]).hex() == head.root
    positions = [n.id for n in signer.app.recorder.select_notifications(start=1, limit=10_000)]
    size = head.size
    for index in sorted({0, 1, 2, size // 3, size // 2, size - 2, size - 1}):
        position = positions[index]
        for chosen in sorted({index + 1, (index + size) // 2 + 1, size}):
            proof = http.get(
                f"{API}/ledger/inclusion?position={position}&size={chosen}", headers=AUDITOR
            )
            assert proof.status_code == 200, proof.text
            body = proof.json()
            assert body["index"] == index
            assert body["leaf"] == leaves[index].hex()
            assert body["root"] == reference_root(leaves[:chosen]).hex()
            path = [bytes.fromhex(node) for node in body["path"]]
            root = bytes.fromhex(body["root"])
            assert rfc9162.verify_inclusion(leaves[index], index, chosen, path, root)
            assert not rfc9162.verify_inclusion(leaves[index], index, chosen, path, bytes(32))
            if chosen == size:
                assert body["head"]["signature"] == head.signature
    whole = http.get(f"{API}/ledger/inclusion?position={positions[0]}", headers=AUDITOR).json()
    assert whole["size"] >= size
    for old, new in [(0, size), (1, size), (3, 7), (size // 2, size - 1), (size, size)]:
        answer = http.get(f"{API}/ledger/consistency?from={old}&to={new}", headers=AUDITOR)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        old_root, new_root = bytes.fromhex(body["from_root"]), bytes.fromhex(body["to_root"])
        assert old_root == reference_root(leaves[:old])
        assert new_root == reference_root(leaves[:new])
        path = [bytes.fromhex(node) for node in body["path"]]
        assert rfc9162.verify_consistency(old, new, old_root, new_root, path)
        if 0 < old < new:
            assert not rfc9162.verify_consistency(old, new, bytes(32), new_root, path)


def test_only_auditors_supervisors_and_admins_read_heads_and_proofs(
    signed: tuple[Client, HeadSigner],
) -> None:
    http, signer = signed
    signer.sign_now()
    for role in ("auditor", "supervisor", "admin"):
        answer = http.get(f"{API}/ledger/heads", headers=auth(role, "511123001001"))
        assert answer.status_code == 200, (role, answer.text)
    for role in ("reporter", "mediator"):
        for path in ("heads", "inclusion?position=1", "consistency?from=0"):
            refused = http.get(f"{API}/ledger/{path}", headers=auth(role, "511123001001"))
            assert refused.status_code == 403, (role, path)
    assert http.get(f"{API}/ledger/heads").status_code == 401


def test_bad_sizes_and_positions_are_refused_in_chinese(
    signed: tuple[Client, HeadSigner],
) -> None:
    http, signer = signed
    signer.sign_now()
    size = len(store_leaves(signer))  # the head's own record included: the proofs wait for it
    cases = {
        f"inclusion?position=1&size={size + 5}": ("size", "树大小（记录数）", f"现有 {size} 条"),
        "inclusion?position=999999": ("position", "日志位置", "没有这个位置"),
        f"inclusion?position={size}&size=1": ("size", "树大小", "至少应为"),
        "consistency?from=5&to=3": ("from", "起始树大小", "不能大于终止树大小（3）"),
        f"consistency?from=0&to={size + 1}": ("to", "终止树大小", f"现有 {size} 条"),
        f"consistency?from={size + 1}": ("from", "起始树大小", f"现有 {size} 条"),
    }
    for query, (field, label, words) in cases.items():
        answer = http.get(f"{API}/ledger/{query}", headers=AUDITOR)
        assert answer.status_code == 422, (query, answer.text)
        assert answer.headers["content-type"].startswith(PROBLEM)
        body = answer.json()
        assert body["field"] == field, query
        assert label in body["detail"], (query, body["detail"])
        assert words in body["detail"], (query, body["detail"])
    english = http.get(
        f"{API}/ledger/consistency?from=5&to=3", headers={**AUDITOR, "Accept-Language": "en"}
    )
    assert "must not be more than to" in english.json()["detail"]
