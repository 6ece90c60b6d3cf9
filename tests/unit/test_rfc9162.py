"""The Merkle tree's hashes and proofs against RFC 9162 §2.1 written out as the RFC defines them.

The reference below is the RFC's recursive text (MTH, PATH, SUBPROOF) over the leaves' data,
sharing nothing with ``projections.rfc9162`` but SHA-256; the module under test computes from
perfect subtrees instead, and its verifications must accept the reference's proofs and refuse
altered ones.
"""

from __future__ import annotations

import hashlib
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projections import rfc9162
from projections.rfc9162 import MemoryTree, TreeRangeError

# --- RFC 9162 §2.1, as written ----------------------------------------------------------


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def largest_power_of_two_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: list[bytes]) -> bytes:
    """MTH(D[n]) (§2.1.1)."""
    n = len(d)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return sha256(b"\x00" + d[0])
    k = largest_power_of_two_below(n)
    return sha256(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m: int, d: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) (§2.1.3.1)."""
    n = len(d)
    if n == 1:
        return []
    k = largest_power_of_two_below(n)
    if m < k:
        return [*path(m, d[:k]), mth(d[k:])]
    return [*path(m - k, d[k:]), mth(d[:k])]


def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) (§2.1.4.1)."""
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = largest_power_of_two_below(n)
    if m <= k:
        return [*subproof(m, d[:k], b), mth(d[k:])]
    return [*subproof(m - k, d[k:], False), mth(d[:k])]


def proof(m: int, d: list[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true) (§2.1.4.1)."""
    return subproof(m, d, True)


def entries(n: int, salt: int = 0) -> list[bytes]:
    return [f"entry {salt}-{i}".encode() for i in range(n)]


def tree_of(data: list[bytes]) -> MemoryTree:
    return MemoryTree([rfc9162.leaf_hash(item) for item in data])


# --- the tests ---------------------------------------------------------------------------


def test_leaf_and_node_hashes_carry_the_rfcs_prefixes() -> None:
    assert rfc9162.leaf_hash(b"a") == sha256(b"\x00a")
    assert rfc9162.node_hash(b"l" * 32, b"r" * 32) == sha256(b"\x01" + b"l" * 32 + b"r" * 32)
    assert mth([]) == rfc9162.EMPTY_ROOT


def test_known_roots_of_small_trees() -> None:
    """Hand-folded roots of 1, 2 and 3 leaves (a 3-leaf tree's right side is a lone leaf)."""
    a, b, c = (sha256(b"\x00" + x) for x in (b"a", b"b", b"c"))
    ab = sha256(b"\x01" + a + b)
    assert tree_of([b"a"]).root() == a
    assert tree_of([b"a", b"b"]).root() == ab
    assert tree_of([b"a", b"b", b"c"]).root() == sha256(b"\x01" + ab + c)


@pytest.mark.parametrize("size", [*range(1, 40), 63, 64, 65, 127, 128, 129, 255, 256, 257])
def test_roots_and_every_proof_of_small_trees_equal_the_reference(size: int) -> None:
    data = entries(size)
    tree = tree_of(data)
    for n in range(1, size + 1):
        assert tree.root(n) == mth(data[:n])
    for m in range(size):
        assert tree.inclusion_proof(m) == path(m, data)
        assert rfc9162.verify_inclusion(
            rfc9162.leaf_hash(data[m]), m, size, path(m, data), mth(data)
        )
    for m in range(1, size):
        assert tree.consistency_proof(m) == proof(m, data)
        assert rfc9162.verify_consistency(m, size, mth(data[:m]), mth(data), proof(m, data))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 3000), st.data())
def test_random_sizes_and_positions_match_the_reference(size: int, data: st.DataObject) -> None:
    items = entries(size, salt=size)
    tree = tree_of(items)
    n = data.draw(st.integers(1, size), label="tree size")
    m = data.draw(st.integers(0, n - 1), label="leaf")
    old = data.draw(st.integers(1, n), label="older size")

    assert tree.root(n) == mth(items[:n])
    inclusion = tree.inclusion_proof(m, n)
    assert inclusion == path(m, items[:n])
    assert rfc9162.verify_inclusion(rfc9162.leaf_hash(items[m]), m, n, inclusion, tree.root(n))
    consistency = tree.consistency_proof(old, n)
    assert consistency == (proof(old, items[:n]) if old < n else [])
    assert rfc9162.verify_consistency(old, n, tree.root(old), tree.root(n), consistency)


def test_altered_inclusion_proofs_fail() -> None:
    rng = random.Random(16)
    data = entries(1000)
    tree = tree_of(data)
    top = tree.root()
    for _ in range(200):
        m = rng.randrange(1000)
        leaf = rfc9162.leaf_hash(data[m])
        good = tree.inclusion_proof(m)
        assert rfc9162.verify_inclusion(leaf, m, 1000, good, top)
        assert not rfc9162.verify_inclusion(rfc9162.leaf_hash(b"forged"), m, 1000, good, top)
        assert not rfc9162.verify_inclusion(leaf, (m + 1) % 1000, 1000, good, top)
        assert not rfc9162.verify_inclusion(leaf, m, 1000, good[:-1], top)
        assert not rfc9162.verify_inclusion(leaf, m, 1000, [*good, good[0]], top)
        bent = list(good)
        i = rng.randrange(len(bent))
        bent[i] = sha256(bent[i])
        assert not rfc9162.verify_inclusion(leaf, m, 1000, bent, top)
    assert not rfc9162.verify_inclusion(rfc9162.leaf_hash(data[0]), 1000, 1000, [], top)


def test_a_rewritten_log_fails_consistency_with_its_old_head() -> None:
    """Yesterday's head (size, root) against today's log: appended to passes; an entry
    changed, removed or reordered below yesterday's size fails, whatever proof is offered."""
    rng = random.Random(9162)
    data = entries(700)
    yesterday = 500
    old_root = tree_of(data[:yesterday]).root()
    honest = tree_of(data)
    assert rfc9162.verify_consistency(
        yesterday, 700, old_root, honest.root(), honest.consistency_proof(yesterday)
    )
    for _ in range(30):
        forged = list(data)
        i = rng.randrange(yesterday)
        match rng.randrange(3):
            case 0:
                forged[i] = b"edited"
            case 1:
                del forged[i]
                forged.append(b"padding")
            case _:
                j = (i + 1) % yesterday
                forged[i], forged[j] = forged[j], forged[i]
        rewritten = tree_of(forged)
        offered = rewritten.consistency_proof(yesterday)
        assert not rfc9162.verify_consistency(yesterday, 700, old_root, rewritten.root(), offered)
    rolled_back = tree_of(data[:400])  # a store restored from an older backup
    with pytest.raises(TreeRangeError):
        rolled_back.consistency_proof(yesterday)
    assert not rfc9162.verify_consistency(yesterday, 400, old_root, rolled_back.root(), [])


@pytest.mark.parametrize("size", [1, 2, 3, 7, 8, 9, 100, 255, 256, 257, 1000])
def test_many_paths_at_once_equal_the_reference_path_of_each(size: int) -> None:
    """The batched walk an export uses: every leaf, a run side by side, a scattered few."""
    data = entries(size)
    tree = tree_of(data)
    rng = random.Random(size)
    run = range(rng.randrange(size), size)[:300]
    scattered = rng.sample(range(size), min(size, 9))
    for chosen in (range(size), run, scattered, [*scattered, *scattered]):
        found = rfc9162.inclusion_proofs(chosen, size, tree.subtree)
        assert found == {m: path(m, data) for m in chosen}
    assert rfc9162.inclusion_proofs([], size, tree.subtree) == {}
    for bad in ([size], [-1, 0]):
        with pytest.raises(TreeRangeError):
            rfc9162.inclusion_proofs(bad, size, tree.subtree)


def test_degenerate_sizes() -> None:
    tree = tree_of(entries(5))
    assert tree_of([]).root() == rfc9162.EMPTY_ROOT
    assert tree.consistency_proof(0) == []
    assert tree.consistency_proof(5) == []
    assert rfc9162.verify_consistency(0, 5, rfc9162.EMPTY_ROOT, tree.root(), [])
    assert rfc9162.verify_consistency(5, 5, tree.root(), tree.root(), [])
    assert not rfc9162.verify_consistency(5, 5, tree.root(), tree.root(4), [])
    assert not rfc9162.verify_consistency(3, 5, tree.root(3), tree.root(), [])
    for bad in ((5, 5), (-1, 5), (0, 0)):
        with pytest.raises(TreeRangeError):
            tree.inclusion_proof(*bad)
    with pytest.raises(TreeRangeError):
        tree.consistency_proof(4, 6)
    with pytest.raises(TreeRangeError):
        rfc9162.consistency_proof(4, 3, tree.subtree)
