"""The indexes a rebuild builds once after its replay, instead of row by row during it.

The views' secondary indexes (search's words, the timelines' and the lists' orders) serve reads
alone: a replay needs its tables' unique keys (every upsert) and the statements by claim (a
claim's facts read back), nothing else. Keeping eight indexes of the statements up to date for
each of a million rows costs more than building each once, sorted, at the end.

``set_aside`` keeps each such index's definition in ``views.deferred_indexes`` and drops it, in
one transaction; ``restore`` builds every index kept there and forgets it, each in a
transaction of its own. A rebuild that dies leaves them listed: the next rebuild builds them, and
so does ``migrate``, which every start of ``serve`` runs.
"""

from __future__ import annotations

import anyio

from claimledger.projections.schema import REBUILT_TABLES
from claimledger.store.db import Connection, close, connect

# Read by the replay itself (``Memory.recall`` loads a claim's statements by claim).
KEPT_FOR_REPLAY = ("views.statements_claim",)

_SECONDARY = """
SELECT format('%I.%I', n.nspname, c.relname) AS name, i.indrelid::regclass::text AS relation,
       pg_get_indexdef(i.indexrelid) AS definition
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE i.indrelid = ANY($1::regclass[]) AND NOT i.indisunique
  AND format('%I.%I', n.nspname, c.relname) <> ALL($2::text[])
"""

# The largest table's first, a words (GIN) index before the others: the longest builds start
# first, so that the connections finish together.
_NEXT = """
SELECT name, definition FROM views.deferred_indexes
ORDER BY pg_total_relation_size(relation::regclass) DESC, definition LIKE '% USING gin %' DESC,
         name
LIMIT 1 FOR UPDATE SKIP LOCKED
"""

# Sorting a large index's keys in memory rather than in temporary files.
_BUILD_MEMORY = "256MB"


async def set_aside(db: Connection) -> int:
    """Drop the views' secondary indexes the replay does not read, keeping their definitions;
    how many were dropped."""
    async with db.transaction():
        rows = await db.fetch(_SECONDARY, list(REBUILT_TABLES), list(KEPT_FOR_REPLAY))
        await db.executemany(
            "INSERT INTO views.deferred_indexes (name, relation, definition) VALUES ($1, $2, $3)"
            " ON CONFLICT (name) DO NOTHING",
            [(row["name"], row["relation"], row["definition"]) for row in rows],
        )
        for row in rows:
            await db.execute(f"DROP INDEX {row['name']}")
    return len(rows)


async def restore(url: str, *, connections: int = 2) -> None:
    """Build every index set aside, on ``connections`` connections at once."""

    async def build_all() -> None:
        db = await connect(url)
        try:
            await db.execute(f"SET maintenance_work_mem = '{_BUILD_MEMORY}'")
            while await restore_one(db):
                pass
        finally:
            await close(db)

    async with anyio.create_task_group() as group:
        for _ in range(connections):
            group.start_soon(build_all)


async def restore_one(db: Connection) -> bool:
    """Build the next index set aside that no other connection is building; False when none is
    left."""
    async with db.transaction():
        row = await db.fetchrow(_NEXT)
        if row is None:
            return False
        definition: str = row["definition"]
        # pg_get_indexdef writes a non-unique index as "CREATE INDEX name ON …".
        await db.execute(definition.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1))
        await db.execute("DELETE FROM views.deferred_indexes WHERE name = $1", row["name"])
    return True
