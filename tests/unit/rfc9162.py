"""RFC 9162's Merkle tree, written straight from its definitions, to check the log's own against.

Section 2.1.1 defines the Merkle Tree Hash (MTH) of a list of leaves, 2.1.3.1 the inclusion path
PATH(m, D[n]) and 2.1.4.1 the consistency proof PROOF(m, D[n]) through SUBPROOF(m, D[n], b). Each
function here is one of those definitions, recursive over the leaves themselves, slow and plain
on purpose: it shares nothing with ``transparency.merkle``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def split(n: int) -> int:
    """k: the largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) (2.1.1)."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = split(n)
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]): leaf m's inclusion proof, nearest the leaf first (2.1.3.1)."""
    n = len(leaves)
    if n == 1:
        return []
    k = split(n)
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def proof(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]): the consistency proof from the first m leaves to all n (2.1.4.1)."""
    return subproof(m, leaves, True)


def subproof(m: int, leaves: Sequence[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) (2.1.4.1); b says whether D[0:m] is a subtree the client knows."""
    n = len(leaves)
    if m == n:
        return [] if b else [mth(leaves)]
    k = split(n)
    if m <= k:
        return [*subproof(m, leaves[:k], b), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], False), mth(leaves[:k])]
