"""The stored tree: growing it from the event table, and reading its nodes back.

The tree is a projection of its own: ``transparency.tree`` holds how many leaves it has and the
last position they cover, moved in the same transaction that writes the leaves and the nodes they
complete, so every event becomes exactly one leaf.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from claimledger.store.db import Connection
from claimledger.store.events import EVENTS
from claimledger.transparency.leaves import encode_leaf
from claimledger.transparency.merkle import Frontier, Node, leaf_hash, perfect_subtrees, root_from

_SCHEMA = "transparency"
# xmin changes whenever a row is updated: what the signer's audit compares.
EVENTS_FOR_LEAVES = (
    "SELECT notification_id, originator_id, originator_version, topic, state,"
    f" xmin::text::bigint AS row_version FROM {EVENTS}"
    " WHERE notification_id > $1 ORDER BY notification_id LIMIT $2"
)


@dataclass(frozen=True)
class TreeHead:
    """How far the tree has grown."""

    size: int
    position: int
    refusal: str | None


async def tree_head(connection: Connection, *, lock: bool = False) -> TreeHead:
    row = await connection.fetchrow(
        "SELECT size, position, refusal FROM transparency.tree" + (" FOR UPDATE" if lock else "")
    )
    assert row is not None
    return TreeHead(row["size"], row["position"], row["refusal"])


async def read_nodes(connection: Connection, wanted: Collection[Node]) -> dict[Node, bytes]:
    """The hashes of the perfect subtrees ``wanted`` (leaves are level 0), in one query."""
    if not wanted:
        return {}
    levels = [level for level, _ in wanted]
    indexes = [index for _, index in wanted]
    rows = await connection.fetch(
        "SELECT w.level, w.idx, coalesce(l.hash, n.hash) AS hash"
        " FROM unnest($1::smallint[], $2::bigint[]) AS w(level, idx)"
        " LEFT JOIN transparency.leaves l ON w.level = 0 AND l.idx = w.idx"
        " LEFT JOIN transparency.nodes n ON w.level > 0 AND n.level = w.level AND n.idx = w.idx",
        levels,
        indexes,
    )
    found = {(row["level"], row["idx"]): row["hash"] for row in rows if row["hash"] is not None}
    missing = set(wanted) - found.keys()
    if missing:
        msg = f"the stored tree lacks nodes {sorted(missing)[:5]}"
        raise LookupError(msg)
    return found


async def stored_root(connection: Connection, size: int) -> bytes:
    """The root of the stored tree's first ``size`` leaves."""
    return root_from(size, await read_nodes(connection, perfect_subtrees(size)))


class TreeBuilder:
    """Adds the events after the tree's position as leaves, a batch per transaction."""

    def __init__(self, *, batch_size: int = 2_000) -> None:
        self.batch_size = batch_size
        self._frontier: Frontier | None = None

    async def extend(self, connection: Connection) -> int:
        """Add one batch of new events; the number of leaves added."""
        try:
            async with connection.transaction():
                return await self._extend(connection)
        except BaseException:
            self._frontier = None  # it may hold leaves that were not committed
            raise

    async def catch_up(self, connection: Connection) -> int:
        """Add batches until the event table has nothing new; the number of leaves added."""
        added = 0
        while True:
            count = await self.extend(connection)
            added += count
            if count < self.batch_size:
                return added

    async def _extend(self, connection: Connection) -> int:
        head = await tree_head(connection, lock=True)
        rows = await connection.fetch(EVENTS_FOR_LEAVES, head.position, self.batch_size)
        if not rows:
            return 0
        frontier = self._frontier
        if frontier is None or frontier.size != head.size:
            frontier = Frontier(head.size, await self._frontier_hashes(connection, head.size))
        leaves = []
        completed: list[tuple[int, int, bytes]] = []
        for row in rows:
            digest = leaf_hash(
                encode_leaf(
                    row["notification_id"],
                    row["originator_id"],
                    row["originator_version"],
                    row["topic"],
                    row["state"],
                )
            )
            leaves.append((frontier.size, row["notification_id"], row["row_version"], digest))
            frontier.append(digest, completed)
        await connection.copy_records_to_table(
            "leaves",
            schema_name=_SCHEMA,
            records=leaves,
            columns=("idx", "position", "row_version", "hash"),
        )
        await connection.copy_records_to_table(
            "nodes",
            schema_name=_SCHEMA,
            records=[node for node in completed if node[0] > 0],
            columns=("level", "idx", "hash"),
        )
        await connection.execute(
            "UPDATE transparency.tree SET size = $1, position = $2, updated_at = now()",
            frontier.size,
            rows[-1]["notification_id"],
        )
        self._frontier = frontier
        return len(rows)

    @staticmethod
    async def _frontier_hashes(connection: Connection, size: int) -> list[bytes]:
        wanted = perfect_subtrees(size)
        found: Mapping[Node, bytes] = await read_nodes(connection, wanted)
        return [found[node] for node in wanted]
