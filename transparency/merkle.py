"""The Merkle tree of RFC 9162, section 2.1: hashes, roots, and inclusion and consistency proofs.

A tree of ``size`` leaves is stored as its *perfect subtrees*: the node ``(level, index)`` is the
hash of the ``2**level`` leaves from ``index * 2**level`` on, known once all of them exist. Every
hash RFC 9162 asks for (a root, a proof's sibling) is the hash of a range of leaves that its
split rule makes up from a few such nodes, so a proof is one read of ``O(log size)`` nodes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

Node = tuple[int, int]  # (level, index)
Range = tuple[int, int]  # leaves [start, end)

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(leaf: bytes) -> bytes:
    """``SHA-256(0x00 || leaf)``."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(width: int) -> int:
    """The largest power of two smaller than ``width`` (which is at least 2)."""
    return 1 << ((width - 1).bit_length() - 1)


def _is_power_of_two(width: int) -> bool:
    return width > 0 and width & (width - 1) == 0


def perfect_subtrees(size: int) -> list[Node]:
    """The perfect subtrees a tree of ``size`` leaves is made of, largest (leftmost) first."""
    nodes: list[Node] = []
    start = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            nodes.append((level, start >> level))
            start += 1 << level
    return nodes


def subtrees_of(start: int, end: int) -> list[Node]:
    """The perfect subtrees whose hashes make up the hash of leaves ``[start, end)``.

    Holds for the ranges the split rule produces from ``[0, size)``: each starts at a multiple of
    a power of two at least as wide as itself.
    """
    nodes: list[Node] = []
    while end - start > 0:
        width = end - start
        if _is_power_of_two(width):
            level = width.bit_length() - 1
            nodes.append((level, start >> level))
            break
        half = _split(width)
        level = half.bit_length() - 1
        nodes.append((level, start >> level))
        start += half
    return nodes


def range_hash(start: int, end: int, nodes: Mapping[Node, bytes]) -> bytes:
    """The hash of leaves ``[start, end)`` (its MTH) from the perfect subtrees it is made of."""
    hashes = [nodes[node] for node in subtrees_of(start, end)]
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def root_from(size: int, nodes: Mapping[Node, bytes]) -> bytes:
    """The root of the tree of ``size`` leaves."""
    return EMPTY_ROOT if size == 0 else range_hash(0, size, nodes)


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges of leaves whose hashes are leaf ``index``'s inclusion proof in a tree of
    ``size`` leaves, in the proof's order (nearest the leaf first)."""
    if not 0 <= index < size:
        msg = f"leaf {index} is not in a tree of {size} leaves"
        raise ValueError(msg)
    siblings: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        middle = start + _split(end - start)
        if index < middle:
            siblings.append((middle, end))
            end = middle
        else:
            siblings.append((start, middle))
            start = middle
    siblings.reverse()
    return siblings


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The ranges of leaves whose hashes prove that the tree of ``first`` leaves is a prefix of
    the tree of ``second`` leaves, in the proof's order (RFC 9162, 2.1.4.1)."""
    if not 0 < first <= second:
        msg = f"no consistency proof from {first} to {second} leaves"
        raise ValueError(msg)
    proof: list[Range] = []
    start, end, known = 0, second, True
    while end - start != first - start or not known:
        if end - start == first - start:
            proof.append((start, end))
            break
        middle = start + _split(end - start)
        if first <= middle:
            proof.append((middle, end))
            end = middle
        else:
            proof.append((start, middle))
            start = middle
            known = False
    proof.reverse()
    return proof


def nodes_for(ranges: Iterable[Range]) -> set[Node]:
    """Every perfect subtree the hashes of ``ranges`` need."""
    return {node for start, end in ranges for node in subtrees_of(start, end)}


def proof_hashes(ranges: Sequence[Range], nodes: Mapping[Node, bytes]) -> list[bytes]:
    return [range_hash(start, end, nodes) for start, end in ranges]


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``path`` proves that the leaf hash ``leaf`` is leaf ``index`` of the tree of
    ``size`` leaves whose root is ``root`` (RFC 9162, 2.1.3.2)."""
    if not 0 <= index < size:
        return False
    fn, sn, result = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and result == root


def verify_consistency(
    first: int, second: int, path: Sequence[bytes], first_root: bytes, second_root: bytes
) -> bool:
    """Whether ``path`` proves that the tree of ``first`` leaves with root ``first_root`` is a
    prefix of the tree of ``second`` leaves with root ``second_root`` (RFC 9162, 2.1.4.2)."""
    if not 0 < first <= second:
        return False
    if first == second:
        return not path and first_root == second_root
    if not path:
        return False
    hashes = [first_root, *path] if _is_power_of_two(first) else list(path)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = hashes[0]
    for sibling in hashes[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(sibling, fr)
            sr = node_hash(sibling, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


class Frontier:
    """The perfect subtrees of a growing tree (at most one per level): what appending needs."""

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        nodes = perfect_subtrees(size)
        if len(nodes) != len(hashes):
            msg = f"a tree of {size} leaves has {len(nodes)} perfect subtrees, not {len(hashes)}"
            raise ValueError(msg)
        self.size = size
        self._stack = [
            (level, index, digest) for (level, index), digest in zip(nodes, hashes, strict=True)
        ]

    @classmethod
    def of(cls, size: int, lookup: Callable[[Sequence[Node]], Mapping[Node, bytes]]) -> Frontier:
        """The frontier of a stored tree, reading its perfect subtrees through ``lookup``."""
        wanted = perfect_subtrees(size)
        found = lookup(wanted)
        return cls(size, [found[node] for node in wanted])

    def append(self, leaf: bytes, completed: list[tuple[int, int, bytes]]) -> None:
        """Add the leaf hash ``leaf``; add every node it completes (itself included, at level 0)
        to ``completed``."""
        node = (0, self.size, leaf)
        completed.append(node)
        stack = self._stack
        while stack and stack[-1][0] == node[0]:
            level, index, left = stack.pop()
            node = (level + 1, index >> 1, node_hash(left, node[2]))
            completed.append(node)
        stack.append(node)
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        result = self._stack[-1][2]
        for _, _, left in reversed(self._stack[:-1]):
            result = node_hash(left, result)
        return result


def tree_of(leaves: Iterable[bytes]) -> tuple[Frontier, dict[Node, bytes]]:
    """Every perfect subtree of the tree of the leaf hashes ``leaves`` (for small trees)."""
    frontier = Frontier()
    completed: list[tuple[int, int, bytes]] = []
    for leaf in leaves:
        frontier.append(leaf, completed)
    return frontier, {(level, index): digest for level, index, digest in completed}
