"""The schema, created by our own migration step (the event store never creates tables itself).

Each package owns its DDL as an ordered list of ``(id, sql)``; this module applies what a database
has not seen yet, under an advisory lock so that several processes may start at once.
"""

from __future__ import annotations

from collections.abc import Sequence

from claimledger.domain.ledger import EVENT_SCHEMA, EVENT_TABLE
from claimledger.projections.schema import MIGRATIONS as VIEW_MIGRATIONS
from claimledger.store.eventstore import connect
from claimledger.webhooks.schema import MIGRATIONS as WEBHOOK_MIGRATIONS

SYSTEM_KEY_ID = "00000000-0000-0000-0000-000000000000"

# The layout the eventsourcing library (9.5) expects of an application's event table.
EVENT_STORE = f"""
CREATE SCHEMA IF NOT EXISTS {EVENT_SCHEMA};
DO $$ BEGIN
    CREATE TYPE {EVENT_SCHEMA}.stored_event_uuid AS (
        originator_id uuid, originator_version bigint, topic text, state bytea);
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
CREATE TABLE IF NOT EXISTS {EVENT_SCHEMA}.{EVENT_TABLE} (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text,
    state bytea,
    notification_id bigserial,
    PRIMARY KEY (originator_id, originator_version)
) WITH (
    autovacuum_enabled = true,
    autovacuum_vacuum_threshold = 100000000,
    autovacuum_vacuum_scale_factor = 0.5,
    autovacuum_analyze_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.01
);
CREATE UNIQUE INDEX IF NOT EXISTS {EVENT_TABLE}_notification_id_idx
    ON {EVENT_SCHEMA}.{EVENT_TABLE} (notification_id ASC);
-- The same events as JSON, for people reading the ledger with psql.
CREATE OR REPLACE VIEW {EVENT_SCHEMA}.events AS
SELECT notification_id AS position,
       originator_id,
       originator_version,
       topic,
       convert_from(state, 'UTF8')::jsonb AS state,
       (convert_from(state, 'UTF8')::jsonb ->> 'recorded_by')::uuid AS recorded_by,
       (convert_from(state, 'UTF8')::jsonb ->> 'timestamp')::timestamptz AS recorded_at
FROM {EVENT_SCHEMA}.{EVENT_TABLE};
"""

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
    ("0001_event_store", EVENT_STORE),
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
