"""The signer's audit: is the event table still what the tree says it was?

Every leaf keeps the version (``xmin``) of the event row it was hashed from. PostgreSQL gives a
row a new version whenever it is updated, so the audit reads the whole table but hashes again
only the rows whose version changed (a restore from a dump changes them all: their hashes then
match, and the new versions are kept). A deleted row, a row added below the tree's position, or a
row whose bytes no longer hash to its leaf is a rewritten past. ``claimledger verify`` hashes
every row again instead of trusting row versions.
"""

from __future__ import annotations

from dataclasses import dataclass

from claimledger.store.db import Connection
from claimledger.store.events import EVENTS
from claimledger.transparency import merkle
from claimledger.transparency.leaves import encode_leaf
from claimledger.transparency.tree import TreeHead

_PAGE = 1000

_CHANGED = (
    "SELECT l.idx, l.position, l.hash, e.notification_id, e.originator_id,"
    " e.originator_version, e.topic, e.state, e.xmin::text::bigint AS row_version"
    f" FROM transparency.leaves l LEFT JOIN {EVENTS} e ON e.notification_id = l.position"
    " WHERE l.idx >= $1 AND l.idx < $2"
    " AND (e.notification_id IS NULL OR e.xmin::text::bigint <> l.row_version)"
    " ORDER BY l.idx LIMIT $3"
)

_ADDED = (
    f"SELECT e.notification_id FROM {EVENTS} e WHERE e.notification_id <= $1"
    " AND NOT EXISTS (SELECT 1 FROM transparency.leaves l WHERE l.position = e.notification_id)"
    " ORDER BY e.notification_id LIMIT 1"
)


@dataclass(frozen=True)
class Rewrite:
    """The first leaf whose event is no longer what it was when it entered the log."""

    leaf: int
    position: int
    how: str  # "changed", "deleted" or "added"

    def describe(self) -> str:
        if self.how == "added":
            return (
                f"an event was added at position {self.position}, inside the log"
                f" (before leaf {self.leaf})"
            )
        return f"leaf {self.leaf} (position {self.position}) was {self.how} after it was logged"


async def audit(connection: Connection, head: TreeHead) -> Rewrite | None:
    """The first rewrite of the tree's first ``head.size`` events, or None."""
    start = 0
    while True:
        rows = await connection.fetch(_CHANGED, start, head.size, _PAGE)
        kept: list[tuple[int, int]] = []
        for row in rows:
            if row["notification_id"] is None:
                return Rewrite(row["idx"], row["position"], "deleted")
            leaf = encode_leaf(
                row["notification_id"],
                row["originator_id"],
                row["originator_version"],
                row["topic"],
                row["state"],
            )
            if merkle.leaf_hash(leaf) != row["hash"]:
                return Rewrite(row["idx"], row["position"], "changed")
            kept.append((row["idx"], row["row_version"]))
        if kept:
            await connection.execute(
                "UPDATE transparency.leaves l SET row_version = k.row_version"
                " FROM unnest($1::bigint[], $2::bigint[]) AS k(idx, row_version)"
                " WHERE l.idx = k.idx",
                [idx for idx, _ in kept],
                [version for _, version in kept],
            )
        if len(rows) < _PAGE:
            break
        start = rows[-1]["idx"] + 1
    added = await connection.fetchval(_ADDED, head.position)
    if added is not None:
        leaf = await connection.fetchval(
            "SELECT count(*) FROM transparency.leaves WHERE position < $1", added
        )
        return Rewrite(int(leaf), int(added), "added")
    return None
