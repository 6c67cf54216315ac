"""Subscriptions and the delivery log, in schema ``webhooks``.

There is no per-subscription outbox table: the projector's outbox (``views.outbox``), written in the
same transaction as the view change that caused each entry, is the outbox. Each endpoint keeps
a cursor into it; a message is the outbox entry after the cursor that the endpoint subscribes to.
"""

from __future__ import annotations

from collections.abc import Sequence

WEBHOOK_TABLES = """
CREATE SCHEMA IF NOT EXISTS webhooks;

CREATE TABLE IF NOT EXISTS webhooks.endpoints (
    id uuid PRIMARY KEY,
    url text NOT NULL,
    description text,
    event_types text[] NOT NULL,
    incident_ids uuid[],
    enabled boolean NOT NULL DEFAULT true,
    disabled_reason text,
    -- The current secret, and the one it replaced while both still sign.
    secret text NOT NULL,
    previous_secret text,
    previous_secret_until timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- The last outbox entry this endpoint is done with (delivered, or given up on).
    cursor_position bigint NOT NULL,
    cursor_seq integer NOT NULL,
    -- Attempts made at the entry after the cursor, and when the next one is due.
    attempt integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    failing_since timestamptz,
    -- A dispatcher working on this endpoint holds it until then.
    leased_by uuid,
    lease_until timestamptz
);
CREATE INDEX IF NOT EXISTS endpoints_due ON webhooks.endpoints (next_attempt_at) WHERE enabled;

CREATE TABLE IF NOT EXISTS webhooks.deliveries (
    id bigserial PRIMARY KEY,
    endpoint_id uuid NOT NULL REFERENCES webhooks.endpoints (id) ON DELETE CASCADE,
    webhook_id text NOT NULL,
    type text NOT NULL,
    position bigint,
    seq integer,
    attempt integer NOT NULL,
    attempted_at timestamptz NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('delivered', 'failed', 'refused', 'gave_up')),
    status_code integer,
    latency_ms double precision,
    error text
);
CREATE INDEX IF NOT EXISTS deliveries_endpoint ON webhooks.deliveries (endpoint_id, id DESC);
"""

# A lease's own token, kept while its worker holds the endpoint: it renews and releases the lease
# with it, even after a change took the endpoint back (``leased_by = NULL``: no more cursor moves).
LEASE_TOKENS = """
ALTER TABLE webhooks.endpoints ADD COLUMN IF NOT EXISTS lease_token uuid;
"""

# A dispatcher that cannot ask for work says so here (while the database lets it), so that
# `/ready` of any process tells of it: the dispatcher may run in a process of its own.
DISPATCHER_FAILURES = """
CREATE TABLE IF NOT EXISTS webhooks.dispatcher_failures (
    dispatcher text PRIMARY KEY,
    failing_since timestamptz NOT NULL,
    error text NOT NULL,
    seen_at timestamptz NOT NULL
);
"""

# A subscription made with an Idempotency-Key keeps it, and a digest of its request: a retry
# finds the subscription, a key used again for another request is told apart.
IDEMPOTENCY = """
ALTER TABLE webhooks.endpoints ADD COLUMN IF NOT EXISTS idempotency_key text;
ALTER TABLE webhooks.endpoints ADD COLUMN IF NOT EXISTS request_digest text;
CREATE UNIQUE INDEX IF NOT EXISTS endpoints_idempotency_key
    ON webhooks.endpoints (idempotency_key);
"""

MIGRATIONS: Sequence[tuple[str, str]] = (
    ("0201_webhooks", WEBHOOK_TABLES),
    ("0202_lease_tokens", LEASE_TOKENS),
    ("0203_dispatcher_failures", DISPATCHER_FAILURES),
    ("0204_idempotency", IDEMPOTENCY),
)
