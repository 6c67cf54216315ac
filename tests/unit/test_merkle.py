"""The log's Merkle tree against RFC 9162's own definitions (tests/unit/rfc9162.py): the roots and
every inclusion and consistency proof of every tree of 1 to 70 leaves, altered proofs refused, and
a frontier read back from stored nodes that carries on as if it had never stopped."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Mapping, Sequence
from functools import cache

import pytest

from claimledger.transparency import merkle
from claimledger.transparency.merkle import Frontier, Node
from tests.unit import rfc9162

SIZES = range(1, 71)
# Distinct leaves of every length from 0 bytes (the first one is empty) to 69.
LEAVES = [bytes([i]) * i for i in range(SIZES[-1])]
HASHES = [merkle.leaf_hash(leaf) for leaf in LEAVES]
PAIRS = 300


@cache
def nodes(size: int) -> dict[Node, bytes]:
    """Every perfect subtree of the tree of the first ``size`` leaves: all a proof may read."""
    return merkle.tree_of(HASHES[:size])[1]


@cache
def root(size: int) -> bytes:
    return rfc9162.mth(LEAVES[:size])


def flipped(digest: bytes, rng: random.Random) -> bytes:
    """``digest`` with one bit of one byte changed."""
    changed = bytearray(digest)
    changed[rng.randrange(len(changed))] ^= 1 << rng.randrange(8)
    return bytes(changed)


def altered(path: Sequence[bytes], rng: random.Random) -> dict[str, list[bytes]]:
    """``path`` with one thing wrong, each way that applies to a path of its length."""
    hashes = list(path)
    at = rng.randrange(len(hashes) + 1)
    ways = {"added": [*hashes[:at], rng.randbytes(32), *hashes[at:]]}
    if hashes:
        at = rng.randrange(len(hashes))
        ways["flipped"] = [*hashes[:at], flipped(hashes[at], rng), *hashes[at + 1 :]]
        ways["dropped"] = hashes[:at] + hashes[at + 1 :]
    if len(hashes) > 1:
        a, b = rng.sample(range(len(hashes)), 2)
        hashes[a], hashes[b] = hashes[b], hashes[a]
        ways["swapped"] = hashes
    return ways


def other(choices: Sequence[int], but: int, rng: random.Random) -> int:
    return rng.choice([choice for choice in choices if choice != but])


def reading(
    store: Mapping[Node, bytes], wanted: list[Node]
) -> Callable[[Sequence[Node]], dict[Node, bytes]]:
    """A lookup of stored nodes that notes which were wanted; a node not stored is a KeyError."""

    def lookup(nodes: Sequence[Node]) -> dict[Node, bytes]:
        wanted.extend(nodes)
        return {node: store[node] for node in nodes}

    return lookup


def test_the_empty_tree() -> None:
    empty = hashlib.sha256(b"").digest()
    assert merkle.EMPTY_ROOT == empty == rfc9162.mth([])
    assert merkle.tree_of([])[0].root() == empty
    assert merkle.root_from(0, {}) == empty


@pytest.mark.parametrize("size", SIZES)
def test_roots(size: int) -> None:
    frontier, stored = merkle.tree_of(HASHES[:size])
    assert frontier.size == size
    assert frontier.root() == root(size)
    assert merkle.root_from(size, stored) == root(size)


@pytest.mark.parametrize("size", SIZES)
def test_inclusion_proofs(size: int) -> None:
    for index in range(size):
        ranges = merkle.inclusion_ranges(index, size)
        assert merkle.nodes_for(ranges) <= nodes(size).keys()
        path = merkle.proof_hashes(ranges, nodes(size))
        assert path == rfc9162.path(index, LEAVES[:size]), (index, size)
        assert merkle.verify_inclusion(HASHES[index], index, size, path, root(size)), (index, size)


@pytest.mark.parametrize("second", SIZES)
def test_consistency_proofs(second: int) -> None:
    for first in range(1, second + 1):
        ranges = merkle.consistency_ranges(first, second)
        assert merkle.nodes_for(ranges) <= nodes(second).keys()
        path = merkle.proof_hashes(ranges, nodes(second))
        assert path == rfc9162.proof(first, LEAVES[:second]), (first, second)
        assert merkle.verify_consistency(first, second, path, root(first), root(second))


def test_altered_inclusion_proofs_fail() -> None:
    rng = random.Random(9162)
    for _ in range(PAIRS):
        size = rng.choice(SIZES)
        index = rng.randrange(size)
        leaf, good = HASHES[index], rfc9162.path(index, LEAVES[:size])
        assert merkle.verify_inclusion(leaf, index, size, good, root(size))

        for way, path in altered(good, rng).items():
            assert not merkle.verify_inclusion(leaf, index, size, path, root(size)), (way, index)
        if size > 1:
            elsewhere = other(range(size), index, rng)
            assert not merkle.verify_inclusion(leaf, elsewhere, size, good, root(size))
            assert not merkle.verify_inclusion(HASHES[elsewhere], index, size, good, root(size))
        # A size comes with its root (a checkpoint signs both), so a wrong size is checked against
        # the root of a tree of that size: the path of one tree must not prove a leaf in another.
        larger = other(range(index + 1, SIZES[-1] + 1), size, rng)
        assert not merkle.verify_inclusion(leaf, index, larger, good, root(larger)), (size, larger)
        assert not merkle.verify_inclusion(leaf, index, size, good, root(larger))
        assert not merkle.verify_inclusion(leaf, index, size, good, flipped(root(size), rng))


def test_altered_consistency_proofs_fail() -> None:
    rng = random.Random(6962)
    for _ in range(PAIRS):
        second = rng.choice(SIZES)
        first = rng.randint(1, second)
        good = rfc9162.proof(first, LEAVES[:second])
        roots = root(first), root(second)
        assert merkle.verify_consistency(first, second, good, *roots)

        for way, path in altered(good, rng).items():
            assert not merkle.verify_consistency(first, second, path, *roots), (way, first, second)
        if second > 1:
            smaller = other(range(1, second + 1), first, rng)
            assert not merkle.verify_consistency(smaller, second, good, root(smaller), roots[1])
        larger = other(range(first, SIZES[-1] + 1), second, rng)
        assert not merkle.verify_consistency(first, larger, good, roots[0], root(larger))
        assert not merkle.verify_consistency(first, second, good, flipped(roots[0], rng), roots[1])
        assert not merkle.verify_consistency(first, second, good, roots[0], flipped(roots[1], rng))
        assert not merkle.verify_consistency(first, second, good, roots[0], root(larger))
        if first < second:
            assert not merkle.verify_consistency(first, second, good, roots[1], roots[0])
            assert not merkle.verify_consistency(first, second, good, roots[1], roots[1])


@pytest.mark.parametrize("half", [2, 4, 8, 16, 32])
def test_a_proof_past_the_top_of_its_tree_is_refused(half: int) -> None:
    """A proof in the right half of a tree of ``2 * half`` leaves, carried on to the whole tree's
    root, says something of the whole tree, never of a tree of ``half`` leaves."""
    right, top = LEAVES[half : 2 * half], rfc9162.mth(LEAVES[:half])
    for index in range(half):
        path = [*rfc9162.path(index, right), top]
        leaf = HASHES[half + index]
        assert merkle.verify_inclusion(leaf, half + index, 2 * half, path, root(2 * half))
        assert not merkle.verify_inclusion(leaf, index, half, path, root(2 * half))
    for first in range(1, half):
        path = [*rfc9162.proof(first, right), top]
        assert not merkle.verify_consistency(first, half, path, root(half + first), root(2 * half))


@pytest.mark.parametrize(("at", "size", "claimed"), [(0, 2, 3), (0, 3, 5), (1, 3, 8), (2, 4, 5)])
def test_a_proof_short_of_the_top_of_its_tree_is_refused(at: int, size: int, claimed: int) -> None:
    """The proof and root of a tree of ``size`` leaves, for a tree of ``claimed`` leaves whose top
    the proof does not reach. (A size is otherwise checked only through its root, which a
    checkpoint signs together with it: a proof that reaches the top is taken at its word.)"""
    path = rfc9162.path(at, LEAVES[:size])
    assert not merkle.verify_inclusion(HASHES[at], at, claimed, path, root(size))
    path = rfc9162.proof(at + 1, LEAVES[:size])
    assert not merkle.verify_consistency(at + 1, claimed, path, root(at + 1), root(size))


# Each bad leaf index or tree size comes with a real proof: that of a leaf and tree next to it.
@pytest.mark.parametrize(
    ("index", "size", "leaf", "whole"),
    [(-1, 8, 7, 8), (-1, 6, 5, 6), (8, 8, 8, 9), (9, 8, 9, 10), (0, 0, 0, 1), (0, -1, 0, 1)],
)
def test_leaves_outside_the_tree_are_refused(index: int, size: int, leaf: int, whole: int) -> None:
    with pytest.raises(ValueError, match="not in a tree"):
        merkle.inclusion_ranges(index, size)
    path = rfc9162.path(leaf, LEAVES[:whole])
    assert not merkle.verify_inclusion(HASHES[leaf], index, size, path, root(whole))
    assert not merkle.verify_inclusion(HASHES[leaf], index, size, path, root(max(size, 0)))


@pytest.mark.parametrize(
    ("first", "second", "low", "high"),
    [(0, 5, 1, 5), (0, 0, 1, 1), (-1, 5, 1, 5), (6, 5, 5, 6), (8, 4, 4, 8), (1, 0, 1, 1)],
)
def test_sizes_out_of_order_are_refused(first: int, second: int, low: int, high: int) -> None:
    with pytest.raises(ValueError, match="no consistency proof"):
        merkle.consistency_ranges(first, second)
    path = rfc9162.proof(low, LEAVES[:high])
    assert not merkle.verify_consistency(first, second, path, root(low), root(high))
    assert not merkle.verify_consistency(first, second, path, root(high), root(low))
    same = root(max(first, 0))
    assert not merkle.verify_consistency(first, second, [], same, same)


def test_a_frontier_needs_one_hash_per_perfect_subtree() -> None:
    with pytest.raises(ValueError, match="perfect subtrees"):
        Frontier(5, [HASHES[0]])
    assert Frontier(5, [root(4), HASHES[4]]).root() == root(5)


def test_a_frontier_restarted_from_stored_nodes_carries_on() -> None:
    """Stop after every size, read the frontier back from the nodes stored so far, and append the
    rest: the same roots, and the same nodes completed, as one frontier that never stopped."""
    whole = Frontier()
    completed: list[tuple[int, int, bytes]] = []
    roots, stored_by_size = [whole.root()], [0]
    for leaf in HASHES:
        whole.append(leaf, completed)
        roots.append(whole.root())
        stored_by_size.append(len(completed))
    assert roots == [root(size) for size in range(len(HASHES) + 1)]
    everything = {(level, index): digest for level, index, digest in completed}

    for size in range(len(HASHES) + 1):
        store = {
            (level, index): digest for level, index, digest in completed[: stored_by_size[size]]
        }
        wanted: list[Node] = []
        restarted = Frontier.of(size, reading(store, wanted))
        assert len(wanted) == size.bit_count()
        assert (restarted.size, restarted.root()) == (size, roots[size])
        more: list[tuple[int, int, bytes]] = []
        for later, leaf in enumerate(HASHES[size:], size + 1):
            restarted.append(leaf, more)
            assert restarted.root() == roots[later], (size, later)
        assert {(level, index): digest for level, index, digest in more} | store == everything
        assert len(more) + len(store) == len(everything)
