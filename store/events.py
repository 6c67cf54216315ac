"""The event table: its layout (the eventsourcing library's), its DDL, and the lookups we make.

Events live in ``es.claimledger_events``: one row per event, ``notification_id`` its position
(increasing, not gap-free), ``state`` the event's JSON. The library writes it and NOTIFYs on a
channel named after the table; everything else that reads it goes through here.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from uuid import UUID

from claimledger.domain.claim import ClaimAdded
from claimledger.domain.incident import IncidentOpened
from claimledger.domain.source import SourceRegistered
from claimledger.store.codec import stored_topic
from claimledger.store.db import Db

EVENT_SCHEMA = "es"
EVENT_TABLE = "claimledger_events"
EVENTS = f"{EVENT_SCHEMA}.{EVENT_TABLE}"
# The library NOTIFYs on a channel named after the event table.
EVENTS_CHANNEL = EVENT_TABLE

CLAIM_ADDED = stored_topic(ClaimAdded)
INCIDENT_OPENED = stored_topic(IncidentOpened)
SOURCE_REGISTERED = stored_topic(SourceRegistered)

# The layout the eventsourcing library (9.5) expects of an application's event table.
EVENT_STORE = f"""
CREATE SCHEMA IF NOT EXISTS {EVENT_SCHEMA};
DO $$ BEGIN
    CREATE TYPE {EVENT_SCHEMA}.stored_event_uuid AS (
        originator_id uuid, originator_version bigint, topic text, state bytea);
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
CREATE TABLE IF NOT EXISTS {EVENTS} (
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
    ON {EVENTS} (notification_id ASC);
-- The same events as JSON, for people reading the ledger with psql.
CREATE OR REPLACE VIEW {EVENT_SCHEMA}.events AS
SELECT notification_id AS position,
       originator_id,
       originator_version,
       topic,
       convert_from(state, 'UTF8')::jsonb AS state,
       (convert_from(state, 'UTF8')::jsonb ->> 'recorded_by')::uuid AS recorded_by,
       (convert_from(state, 'UTF8')::jsonb ->> 'timestamp')::timestamptz AS recorded_at
FROM {EVENTS};
"""

MIGRATIONS: Sequence[tuple[str, str]] = (("0001_event_store", EVENT_STORE),)

# The events after a position, oldest first, as the projector reads them.
EVENTS_AFTER = (
    "SELECT notification_id, originator_id, originator_version, topic, state"
    f" FROM {EVENTS} WHERE notification_id > $1 ORDER BY notification_id LIMIT $2"
)

# The same, up to a position: what a part of a parallel rebuild reads.
EVENTS_BETWEEN = (
    "SELECT notification_id, originator_id, originator_version, topic, state"
    f" FROM {EVENTS} WHERE notification_id > $1 AND notification_id <= $2"
    " ORDER BY notification_id LIMIT $3"
)


async def head_position(db: Db) -> int:
    """The position of the newest event (0 when there is none)."""
    head = await db.fetchval(f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS}")
    assert isinstance(head, int)
    return head


async def position_of(db: Db, aggregate_id: UUID, version: int = 1) -> int:
    """The position of one version of an aggregate (its first, by default)."""
    position = await db.fetchval(
        f"SELECT notification_id FROM {EVENTS}"
        " WHERE originator_id = $1 AND originator_version = $2",
        aggregate_id,
        version,
    )
    assert isinstance(position, int)
    return position


async def claims_and_sources(db: Db, ids: Collection[UUID]) -> tuple[dict[UUID, UUID], set[UUID]]:
    """Of these ids, the claims (with their incidents) and the sources that exist."""
    claims: dict[UUID, UUID] = {}
    sources: set[UUID] = set()
    for row in await db.fetch(
        "SELECT originator_id, topic,"
        " (convert_from(state, 'UTF8')::jsonb ->> 'incident_id')::uuid AS incident_id"
        f" FROM {EVENTS} WHERE originator_id = ANY($1::uuid[]) AND originator_version = 1",
        list(ids),
    ):
        if row["topic"] == CLAIM_ADDED:
            claims[row["originator_id"]] = row["incident_id"]
        elif row["topic"] == SOURCE_REGISTERED:
            sources.add(row["originator_id"])
    return claims, sources


async def existing(db: Db, ids: Collection[UUID], *, topic: str | None = None) -> set[UUID]:
    """Which of these aggregates exist (created by an event of ``topic``, if given)."""
    if not ids:
        return set()
    rows = await db.fetch(
        f"SELECT originator_id FROM {EVENTS}"
        " WHERE originator_id = ANY($1::uuid[]) AND originator_version = 1"
        " AND ($2::text IS NULL OR topic = $2)",
        list(ids),
        topic,
    )
    return {row["originator_id"] for row in rows}


async def is_empty(db: Db) -> bool:
    first = await db.fetchval(f"SELECT notification_id FROM {EVENTS} LIMIT 1")
    return first is None


async def first_events(db: Db, ids: Collection[UUID]) -> list[tuple[UUID, str, bytes]]:
    """The first event (id, topic, state) of each of these aggregates that exists."""
    if not ids:
        return []
    rows = await db.fetch(
        f"SELECT originator_id, topic, state FROM {EVENTS}"
        " WHERE originator_id = ANY($1::uuid[]) AND originator_version = 1",
        list(ids),
    )
    return [(row["originator_id"], row["topic"], row["state"]) for row in rows]
