"""A rebuild drops the views' secondary indexes for its replay and builds them again after it;
one that dies leaves them to the next start."""

from __future__ import annotations

import anyio

from claimledger.domain.ledger import Ledger
from claimledger.projections.deferred_indexes import KEPT_FOR_REPLAY, set_aside
from claimledger.projections.queries.search_window import STATEMENT_WORDS
from claimledger.projections.rebuild import rebuild
from claimledger.runtime.migrations import migrate
from claimledger.store.db import Connection
from tests.ledger_data import populate_for_rebuilds

_INDEXES = """
SELECT format('%I.%I', n.nspname, c.relname) AS name, c.oid, i.indisunique,
       pg_get_indexdef(i.indexrelid) AS definition
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'views'
"""


async def indexes(db: Connection) -> dict[str, tuple[int, bool, str]]:
    """Every index of the views: its object id, whether unique, and its definition."""
    return {
        row["name"]: (row["oid"], row["indisunique"], row["definition"])
        for row in await db.fetch(_INDEXES)
    }


def definitions(found: dict[str, tuple[int, bool, str]]) -> dict[str, str]:
    return {name: definition for name, (_, _, definition) in found.items()}


async def test_a_rebuild_builds_again_every_index_it_dropped(
    ledger: Ledger, db: Connection, database_url: str
) -> None:
    await anyio.to_thread.run_sync(populate_for_rebuilds, ledger)
    before = await indexes(db)
    secondary = {n for n, (_, unique, _) in before.items() if not unique} - set(KEPT_FOR_REPLAY)
    assert {"views.statements_words", "views.statements_incident_timeline"} <= secondary
    for workers in (1, 2):
        await rebuild(database_url, batch_size=50, workers=workers)
        after = await indexes(db)
        assert definitions(after) == definitions(before)
        # Built anew (a new object) exactly when the replay does not read them.
        renewed = {name for name in after if after[name][0] != before[name][0]}
        assert renewed == secondary, f"{workers} workers"
        assert await db.fetchval("SELECT count(*) FROM views.deferred_indexes") == 0
        before = after
    # The words index answers again (the planner is not left without it), asked as search asks.
    await db.execute("SET enable_seqscan = off")
    asked = f"{STATEMENT_WORDS} @@ 'drone'::tsquery"
    explained = await db.fetch(
        f"EXPLAIN SELECT id FROM views.statements s WHERE {asked}"  # noqa: S608 - no input in it
    )
    plan = "\n".join(row[0] for row in explained)
    assert "statements_words" in plan


async def test_the_indexes_of_a_rebuild_that_died_are_built_by_the_next_start(
    db: Connection, database_url: str
) -> None:
    before = definitions(await indexes(db))
    dropped = await set_aside(db)
    left = definitions(await indexes(db))
    assert len(left) == len(before) - dropped
    assert "views.statements_words" not in left
    assert set(KEPT_FOR_REPLAY) <= set(left)
    # The rebuild's process is gone: what it kept is all that says what to build.
    assert await db.fetchval("SELECT count(*) FROM views.deferred_indexes") == dropped
    assert await migrate(database_url) == []
    assert definitions(await indexes(db)) == before
    assert await db.fetchval("SELECT count(*) FROM views.deferred_indexes") == 0
