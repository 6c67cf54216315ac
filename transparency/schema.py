"""The log's tables, in schema ``transparency``.

Unlike the views, nothing here is rebuilt: the tree remembers each event as it first saw it, which
is what lets the signer notice a past rewritten under it.
"""

from __future__ import annotations

from collections.abc import Sequence

LOG_TABLES = """
CREATE SCHEMA IF NOT EXISTS transparency;

-- How far the tree has grown, and why the signer refuses to sign, while it does.
CREATE TABLE IF NOT EXISTS transparency.tree (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    size bigint NOT NULL DEFAULT 0,
    position bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    refused_at timestamptz,
    refusal text
);
INSERT INTO transparency.tree (only_row) VALUES (true) ON CONFLICT DO NOTHING;

-- Leaf idx is the event at position; row_version is the event row's xmin when it was hashed:
-- the signer hashes again only the rows whose version changed since.
CREATE TABLE IF NOT EXISTS transparency.leaves (
    idx bigint PRIMARY KEY,
    position bigint NOT NULL UNIQUE,
    row_version bigint NOT NULL,
    hash bytea NOT NULL
);

-- The perfect subtrees above the leaves:
-- (level, idx) covers leaves [idx * 2^level, (idx + 1) * 2^level).
CREATE TABLE IF NOT EXISTS transparency.nodes (
    level smallint NOT NULL CHECK (level > 0),
    idx bigint NOT NULL,
    hash bytea NOT NULL,
    PRIMARY KEY (level, idx)
);

-- Every checkpoint: its note (signed, or the checkpoint alone when the log has no key).
CREATE TABLE IF NOT EXISTS transparency.checkpoints (
    size bigint PRIMARY KEY,
    root bytea NOT NULL,
    origin text NOT NULL,
    note text NOT NULL,
    verifier_key text,
    signed_at timestamptz NOT NULL DEFAULT now()
);
"""

# The active log worker says which log it is and the key it signs with, so that the API's
# processes answer /v1/log/key without ever reading the private key.
LOG_IDENTITY = """
ALTER TABLE transparency.tree ADD COLUMN IF NOT EXISTS origin text;
ALTER TABLE transparency.tree ADD COLUMN IF NOT EXISTS verifier_key text;
"""

MIGRATIONS: Sequence[tuple[str, str]] = (
    ("0301_transparency_log", LOG_TABLES),
    ("0302_log_identity", LOG_IDENTITY),
)
