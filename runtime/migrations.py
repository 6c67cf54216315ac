"""The schema, created by our own migration step (the event store never creates tables itself).

Each package owns its DDL as an ordered list of ``(id, sql)``; this module applies what a database
has not seen yet, under an advisory lock so that several processes may start at once.
"""

from __future__ import annotations

from collections.abc import Sequence

from claimledger.projections.deferred_indexes import restore_one
from claimledger.projections.schema import MIGRATIONS as VIEW_MIGRATIONS
from claimledger.runtime.keys import MIGRATIONS as KEY_MIGRATIONS
from claimledger.store.db import connect
from claimledger.store.events import MIGRATIONS as EVENT_STORE_MIGRATIONS
from claimledger.store.idempotency import MIGRATIONS as IDEMPOTENCY_MIGRATIONS
from claimledger.transparency.schema import MIGRATIONS as LOG_MIGRATIONS
from claimledger.webhooks.schema import MIGRATIONS as WEBHOOK_MIGRATIONS

MIGRATIONS: Sequence[tuple[str, str]] = (
    *EVENT_STORE_MIGRATIONS,
    *KEY_MIGRATIONS,
    *IDEMPOTENCY_MIGRATIONS,
    *VIEW_MIGRATIONS,
    *WEBHOOK_MIGRATIONS,
    *LOG_MIGRATIONS,
)

_LOCK_KEY = 0x636C_6D69  # "clmi": one migrator at a time per database


async def migrate(url: str) -> list[str]:
    """Apply the migrations this database lacks; return the ids applied."""
    connection = await connect(url)
    applied: list[str] = []
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
        await connection.execute(
            "CREATE SCHEMA IF NOT EXISTS ledger;"
            "CREATE TABLE IF NOT EXISTS ledger.migrations ("
            " id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        # What a rebuild that died left unbuilt, before any migration may alter it.
        if await connection.fetchval("SELECT to_regclass('views.deferred_indexes')") is not None:
            while await restore_one(connection):
                pass
        done = {row["id"] for row in await connection.fetch("SELECT id FROM ledger.migrations")}
        for migration_id, sql in MIGRATIONS:
            if migration_id in done:
                continue
            async with connection.transaction():
                await connection.execute(sql)
                await connection.execute(
                    "INSERT INTO ledger.migrations (id) VALUES ($1)", migration_id
                )
            applied.append(migration_id)
    finally:
        await connection.close()
    return applied
