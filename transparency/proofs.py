"""What the log answers: entries, checkpoints, and inclusion and consistency proofs, each a few
indexed reads of the stored tree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from asyncpg import Record

from claimledger.store.db import Connection
from claimledger.store.events import EVENTS
from claimledger.transparency import merkle
from claimledger.transparency.leaves import encode_leaf
from claimledger.transparency.tree import read_nodes, tree_head

MAX_ENTRIES = 1000


class ProofRefused(ValueError):
    """A request the log cannot answer as asked: ``field`` names the parameter at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class InclusionProof:
    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    path: list[bytes]
    root: bytes
    checkpoint: StoredCheckpoint | None = None


@dataclass(frozen=True)
class ConsistencyProof:
    first: int
    second: int
    path: list[bytes]
    first_root: bytes
    second_root: bytes


@dataclass(frozen=True)
class Entry:
    index: int
    position: int
    leaf: bytes
    leaf_hash: bytes


@dataclass(frozen=True)
class StoredCheckpoint:
    size: int
    root: bytes
    origin: str
    note: str
    verifier_key: str | None
    signed_at: datetime


async def verifier_key(connection: Connection) -> str | None:
    """The key the active log worker signs with, as it published it (None: unsigned)."""
    key = await connection.fetchval("SELECT verifier_key FROM transparency.tree")
    return key if isinstance(key, str) else None


async def tree_size(connection: Connection) -> int:
    return (await tree_head(connection)).size


async def _within(connection: Connection, field: str, size: int) -> None:
    grown = await tree_size(connection)
    if size > grown:
        raise ProofRefused(field, f"the tree has {grown} leaves, not {size}")


_INCLUSION = """
SELECT t.size AS tree_size, c.root, c.origin, c.note, c.verifier_key, c.signed_at,
       (SELECT array_agg(l.hash ORDER BY w.at)
          FROM unnest($1::bigint[]) WITH ORDINALITY AS w(idx, at)
          JOIN transparency.leaves l ON l.idx = w.idx) AS leaves,
       (SELECT array_agg(n.hash ORDER BY w.at)
          FROM unnest($2::smallint[], $3::bigint[]) WITH ORDINALITY AS w(level, idx, at)
          JOIN transparency.nodes n ON n.level = w.level AND n.idx = w.idx) AS nodes
FROM transparency.tree t LEFT JOIN transparency.checkpoints c ON c.size = $4
"""


async def inclusion_proof(connection: Connection, index: int, size: int) -> InclusionProof:
    """Leaf ``index``'s proof of inclusion in the tree of ``size`` leaves, with the checkpoint
    of that size when there is one: one query (the nodes it reads never change)."""
    if size < 1:
        raise ProofRefused("tree_size", "a tree with a leaf has at least 1 leaf")
    if not 0 <= index < size:
        raise ProofRefused("index", f"leaf {index} is not in a tree of {size} leaves")
    ranges = merkle.inclusion_ranges(index, size)
    wanted = merkle.nodes_for(ranges) | {(0, index)} | set(merkle.perfect_subtrees(size))
    leaves = [node for node in wanted if node[0] == 0]
    above = [node for node in wanted if node[0] > 0]
    row = await connection.fetchrow(
        _INCLUSION,
        [idx for _, idx in leaves],
        [level for level, _ in above],
        [idx for _, idx in above],
        size,
    )
    assert row is not None  # the tree's row is made by the migrations
    if size > row["tree_size"]:
        raise ProofRefused("tree_size", f"the tree has {row['tree_size']} leaves, not {size}")
    nodes = dict(zip(leaves, row["leaves"], strict=True))
    nodes.update(zip(above, row["nodes"] or (), strict=True))
    checkpoint = (
        None
        if row["note"] is None
        else StoredCheckpoint(
            size, row["root"], row["origin"], row["note"], row["verifier_key"], row["signed_at"]
        )
    )
    return InclusionProof(
        index,
        size,
        nodes[0, index],
        merkle.proof_hashes(ranges, nodes),
        merkle.root_from(size, nodes),
        checkpoint,
    )


async def consistency_proof(connection: Connection, first: int, second: int) -> ConsistencyProof:
    """The proof that the tree of ``first`` leaves is a prefix of the tree of ``second``."""
    if first < 1:
        raise ProofRefused("first", "the first tree has at least 1 leaf")
    if second < first:
        raise ProofRefused("second", f"the second tree is smaller than the first ({first})")
    await _within(connection, "second", second)
    ranges = merkle.consistency_ranges(first, second)
    wanted = (
        merkle.nodes_for(ranges)
        | set(merkle.perfect_subtrees(first))
        | set(merkle.perfect_subtrees(second))
    )
    nodes = await read_nodes(connection, wanted)
    return ConsistencyProof(
        first,
        second,
        merkle.proof_hashes(ranges, nodes),
        merkle.root_from(first, nodes),
        merkle.root_from(second, nodes),
    )


async def leaf_index_of(connection: Connection, aggregate_id: UUID) -> int | None:
    """The leaf of the event that created ``aggregate_id`` (a statement's recording), if the
    tree holds it."""
    index = await connection.fetchval(
        "SELECT l.idx FROM transparency.leaves l"
        f" JOIN {EVENTS} e ON e.notification_id = l.position"
        " WHERE e.originator_id = $1 AND e.originator_version = 1",
        aggregate_id,
    )
    return index if isinstance(index, int) else None


async def entries(connection: Connection, start: int, end: int) -> list[Entry]:
    """Leaves ``[start, end)`` with their bytes, as the event table holds the events now;
    fewer when the tree is smaller than ``end``."""
    if start < 0:
        raise ProofRefused("start", "leaves are numbered from 0")
    if end <= start:
        raise ProofRefused("end", f"the range ends at or before its start ({start})")
    if end - start > MAX_ENTRIES:
        raise ProofRefused("end", f"at most {MAX_ENTRIES} entries a request")
    size = await tree_size(connection)
    if start >= size:
        raise ProofRefused("start", f"the tree has {size} leaves")
    rows = await connection.fetch(
        "SELECT l.idx, l.position, l.hash, e.originator_id, e.originator_version, e.topic,"
        " e.state FROM transparency.leaves l"
        f" LEFT JOIN {EVENTS} e ON e.notification_id = l.position"
        " WHERE l.idx >= $1 AND l.idx < $2 ORDER BY l.idx",
        start,
        min(end, size),
    )
    return [
        Entry(
            row["idx"],
            row["position"],
            b""
            if row["state"] is None
            else encode_leaf(
                row["position"],
                row["originator_id"],
                row["originator_version"],
                row["topic"],
                row["state"],
            ),
            row["hash"],
        )
        for row in rows
    ]


_CHECKPOINT = (
    "SELECT size, root, origin, note, verifier_key, signed_at FROM transparency.checkpoints"
)


def _checkpoint(row: Record) -> StoredCheckpoint:
    return StoredCheckpoint(
        row["size"], row["root"], row["origin"], row["note"], row["verifier_key"], row["signed_at"]
    )


async def latest_checkpoint(connection: Connection) -> StoredCheckpoint | None:
    row = await connection.fetchrow(_CHECKPOINT + " ORDER BY size DESC LIMIT 1")
    return None if row is None else _checkpoint(row)


async def checkpoint_at(connection: Connection, size: int) -> StoredCheckpoint | None:
    row = await connection.fetchrow(_CHECKPOINT + " WHERE size = $1", size)
    return None if row is None else _checkpoint(row)


async def checkpoints(
    connection: Connection, *, before: int | None = None, limit: int = 100
) -> list[StoredCheckpoint]:
    """Checkpoints newest first, those smaller than ``before`` when given."""
    rows = await connection.fetch(
        _CHECKPOINT + " WHERE size < coalesce($1, 9223372036854775807) ORDER BY size DESC LIMIT $2",
        before,
        limit,
    )
    return [_checkpoint(row) for row in rows]
