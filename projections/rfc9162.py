"""RFC 9162 (Certificate Transparency 2.0) Merkle trees: hashes, roots, proofs; no I/O.

Everything is computed from a function giving the hash of any *perfect aligned subtree*: level
``k``, index ``i``, covering leaves ``[i * 2**k, (i + 1) * 2**k)`` (level 0 is a leaf's hash). A
tree that stores those (``projections.merkle``) answers a root or a proof in O(log n) reads.

The recursions of §2.1 split a range at the largest power of two below its size, so every range
they ask for starts at a multiple of a power of two at least its size; its hash is the fold, right
to left, of the perfect subtrees its size's binary digits name (``range_hash``). The proofs are
the RFC's PATH (§2.1.3.1) and SUBPROOF (§2.1.4.1) walked from the root down; the verifications are
§2.1.3.2 and §2.1.4.2 word for word. The tests check all of it against the recursive definitions.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Callable, Sequence

Subtree = Callable[[int, int], bytes]  # (level, index) -> hash of that perfect subtree

EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) = SHA-256 of the empty string
HASH_SIZE = 32


class TreeRangeError(ValueError):
    """A size, index or pair of sizes the tree cannot answer (past its end, or reversed)."""


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def range_hash(start: int, end: int, subtree: Subtree) -> bytes:
    """MTH(D[start:end]) for a range whose start is a multiple of a power of two at least its
    size (every range the RFC's recursions ask for), from its perfect subtrees."""
    size = end - start
    if size <= 0:
        if size == 0 and start == 0:
            return EMPTY_ROOT
        raise TreeRangeError(f"empty or reversed range [{start}, {end})")
    if size & (size - 1) == 0 and start % size == 0:  # one perfect subtree (most of a path)
        return subtree(size.bit_length() - 1, start // size)
    parts: list[bytes] = []
    offset = start
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            width = 1 << level
            if offset % width:
                raise TreeRangeError(f"[{start}, {end}) is not a range of the tree's recursion")
            parts.append(subtree(level, offset >> level))
            offset += width
    result = parts[-1]
    for part in reversed(parts[:-1]):
        result = node_hash(part, result)
    return result


def root(size: int, subtree: Subtree) -> bytes:
    """The Merkle Tree Hash of the first ``size`` leaves."""
    return range_hash(0, size, subtree)


def inclusion_proof(index: int, size: int, subtree: Subtree) -> list[bytes]:
    """PATH(index, D[size]) (§2.1.3.1): the audit path of leaf ``index`` (0-based)."""
    if not 0 <= index < size:
        raise TreeRangeError(f"leaf {index} is not in a tree of {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split(end - start)
        if index - start < k:
            path.append(range_hash(start + k, end, subtree))
            end = start + k
        else:
            path.append(range_hash(start, start + k, subtree))
            start += k
    path.reverse()  # the RFC lists the deepest sibling first
    return path


def inclusion_proofs(indexes: Sequence[int], size: int, subtree: Subtree) -> dict[int, list[bytes]]:
    """PATH(index, D[size]) for many leaves at once, by index: the walk of ``inclusion_proof``
    taken once for all of them, so a sibling shared by many paths (every upper one, for leaves
    side by side) is asked for once, not once per path."""
    chosen = sorted(set(indexes))
    if chosen and (chosen[0] < 0 or chosen[-1] >= size):
        raise TreeRangeError(f"leaves {chosen[0]}..{chosen[-1]} are not in a tree of {size}")
    paths: dict[int, list[bytes]] = {index: [] for index in chosen}
    _walk(0, size, chosen, paths, subtree)
    for path in paths.values():
        path.reverse()  # the RFC lists the deepest sibling first
    return paths


def _walk(
    start: int, end: int, chosen: list[int], paths: dict[int, list[bytes]], subtree: Subtree
) -> None:
    """Appends to the paths of the ``chosen`` leaves (sorted, all in [start, end)) the sibling
    at each split of ``inclusion_proof``'s walk below [start, end)."""
    if end - start <= 1:
        return
    k = split(end - start)
    cut = bisect.bisect_left(chosen, start + k)
    left, right = chosen[:cut], chosen[cut:]
    if left:
        sibling = range_hash(start + k, end, subtree)
        for index in left:
            paths[index].append(sibling)
        _walk(start, start + k, left, paths, subtree)
    if right:
        sibling = range_hash(start, start + k, subtree)
        for index in right:
            paths[index].append(sibling)
        _walk(start + k, end, right, paths, subtree)


def consistency_proof(old: int, new: int, subtree: Subtree) -> list[bytes]:
    """PROOF(old, D[new]) (§2.1.4.1); empty when ``old`` is 0 or equals ``new``."""
    if not 0 <= old <= new:
        raise TreeRangeError(f"no consistency proof from {old} to {new}")
    if old in (0, new):
        return []
    path: list[bytes] = []
    start, end, complete = 0, new, True
    while old != end:
        k = split(end - start)
        if old - start <= k:
            path.append(range_hash(start + k, end, subtree))
            end = start + k
        else:
            path.append(range_hash(start, start + k, subtree))
            start += k
            complete = False
    if not complete:
        path.append(range_hash(start, end, subtree))
    path.reverse()
    return path


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], expected_root: bytes
) -> bool:
    """§2.1.3.2: whether ``path`` proves the leaf hash ``leaf`` at ``index`` in the tree of
    ``size`` leaves whose root is ``expected_root``."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, path: Sequence[bytes]
) -> bool:
    """§2.1.4.2: whether ``path`` proves the tree of ``new`` leaves (root ``new_root``) extends
    the tree of ``old`` leaves (root ``old_root``). Equal sizes need equal roots and an empty
    path; every tree extends the empty one."""
    if not 0 <= old <= new:
        return False
    if old == 0:
        return not path and old_root == EMPTY_ROOT
    if old == new:
        return not path and old_root == new_root
    if not path:
        return False
    proof = list(path)
    if old & (old - 1) == 0:  # an exact power of two: the old root is a node of the new tree
        proof.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


class MemoryTree:
    """A tree of leaf hashes held in memory (every level kept): for checks and offline tools
    that have the leaves at hand."""

    def __init__(self, leaves: Sequence[bytes] = ()) -> None:
        self.levels: list[list[bytes]] = [[]]
        for leaf in leaves:
            self.append(leaf)

    def append(self, leaf: bytes) -> None:
        self.levels[0].append(leaf)
        level, index = 0, len(self.levels[0]) - 1
        while index & 1:
            hashed = node_hash(self.levels[level][index - 1], self.levels[level][index])
            level, index = level + 1, index >> 1
            if len(self.levels) == level:
                self.levels.append([])
            self.levels[level].append(hashed)

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def subtree(self, level: int, index: int) -> bytes:
        return self.levels[level][index]

    def root(self, size: int | None = None) -> bytes:
        return root(self.size if size is None else self._within(size), self.subtree)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(
            index, self.size if size is None else self._within(size), self.subtree
        )

    def consistency_proof(self, old: int, new: int | None = None) -> list[bytes]:
        return consistency_proof(old, self.size if new is None else self._within(new), self.subtree)

    def _within(self, size: int) -> int:
        if not 0 <= size <= self.size:
            raise TreeRangeError(f"the tree has {self.size} leaves, not {size}")
        return size
