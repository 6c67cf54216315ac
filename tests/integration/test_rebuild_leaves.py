"""A rebuild leaves its views ready to read: their statistics taken, every page all-visible."""

from __future__ import annotations

import anyio

from claimledger.domain.ledger import Ledger
from claimledger.projections.rebuild import rebuild
from claimledger.store.db import Connection
from tests.ledger_data import populate_for_rebuilds

_PAGES = """
SELECT c.relname, c.relpages, c.relallvisible, c.reltuples
FROM pg_class c WHERE c.relnamespace = 'views'::regnamespace
  AND c.relname = ANY('{statements,claims,claim_history,incidents}'::text[])
"""


async def test_a_rebuild_leaves_every_page_of_its_views_all_visible(
    ledger: Ledger, db: Connection, database_url: str
) -> None:
    await anyio.to_thread.run_sync(populate_for_rebuilds, ledger)
    await rebuild(database_url, batch_size=50, workers=2)
    rows = await db.fetch(_PAGES)
    assert {row["relname"] for row in rows} == {
        "statements",
        "claims",
        "claim_history",
        "incidents",
    }
    for row in rows:
        # Index-only scans need no heap, and no first read writes hint bits.
        assert row["relpages"] > 0, row["relname"]
        assert row["relallvisible"] == row["relpages"], row["relname"]
        assert row["reltuples"] > 0, row["relname"]
