"""The schema, created by our own migration step (the event store never creates tables itself).

Each package owns its DDL as an ordered list of ``(id, sql)``; this module applies what a database
has not seen yet, under an advisory lock so that several processes may start at once.
"""

from __future__ import annotations

from collections.abc import Sequence

from claimledger.projections.schema import MIGRATIONS as VIEW_MIGRATIONS
from claimledger.store.db import connect
from claimledger.store.events import MIGRATIONS as EVENT_STORE_MIGRATIONS
from claimledger.webhooks.schema import MIGRATIONS as WEBHOOK_MIGRATIONS

SYSTEM_KEY_ID = "00000000-0000-0000-0000-000000000000"

API_KEYS = f"""
CREATE SCHEMA IF NOT EXISTS ledger;
CREATE TABLE IF NOT EXISTS ledger.api_keys (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    role text NOT NULL CHECK (role IN ('reader', 'editor', 'admin')),
    key_hash text UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
-- The command line writes as this key; it has no secret, so nobody can present it over HTTP.
INSERT INTO ledger.api_keys (id, name, role, key_hash)
VALUES ('{SYSTEM_KEY_ID}', 'command line', 'admin', NULL)
ON CONFLICT (id) DO NOTHING;
"""

MIGRATIONS: Sequence[tuple[str, str]] = (
    *EVENT_STORE_MIGRATIONS,
    ("0002_api_keys", API_KEYS),
    *VIEW_MIGRATIONS,
    *WEBHOOK_MIGRATIONS,
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
