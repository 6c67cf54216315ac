"""The view tables the projector writes and the API reads, in schema ``views``.

Every table here is derived from the event store and can be dropped and rebuilt from position 0.
"""

from __future__ import annotations

from collections.abc import Sequence

VIEWS = "views"

VIEW_TABLES = """
CREATE SCHEMA IF NOT EXISTS views;

-- How far the projector has applied the event store, and when it last found nothing new.
CREATE TABLE IF NOT EXISTS views.tracking (
    projection text PRIMARY KEY,
    position bigint NOT NULL DEFAULT 0,
    caught_up_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO views.tracking (projection) VALUES ('views') ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS views.sources (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    kind text NOT NULL,
    affiliation text,
    channels text[] NOT NULL DEFAULT '{}',
    url text,
    reliability text NOT NULL DEFAULT 'F',
    recorded_at timestamptz NOT NULL,
    position bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS sources_position ON views.sources (position);

CREATE TABLE IF NOT EXISTS views.source_ratings (
    source_id uuid NOT NULL,
    position bigint NOT NULL,
    reliability text NOT NULL,
    rationale text,
    recorded_at timestamptz NOT NULL,
    recorded_by uuid,
    PRIMARY KEY (source_id, position)
);

CREATE TABLE IF NOT EXISTS views.incidents (
    id uuid PRIMARY KEY,
    title text NOT NULL,
    summary text,
    place jsonb,
    country text,
    lat double precision,
    lon double precision,
    occurred_from timestamptz,
    occurred_to timestamptz,
    occurred_precision text,
    tags text[] NOT NULL DEFAULT '{}',
    recorded_at timestamptz NOT NULL,
    revised_at timestamptz,
    position bigint NOT NULL,
    claim_count integer NOT NULL DEFAULT 0,
    headline_status text NOT NULL DEFAULT 'unverified',
    status_counts jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS incidents_position ON views.incidents (position);
CREATE INDEX IF NOT EXISTS incidents_country ON views.incidents (country, position);
CREATE INDEX IF NOT EXISTS incidents_tags ON views.incidents USING gin (tags);
CREATE INDEX IF NOT EXISTS incidents_status ON views.incidents (headline_status, position);

-- Each description an incident had, so reads as known at T show the one current then.
CREATE TABLE IF NOT EXISTS views.incident_revisions (
    incident_id uuid NOT NULL,
    position bigint NOT NULL,
    recorded_at timestamptz NOT NULL,
    title text NOT NULL,
    summary text,
    place jsonb,
    country text,
    lat double precision,
    lon double precision,
    occurred_from timestamptz,
    occurred_to timestamptz,
    occurred_precision text,
    tags text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (incident_id, position)
);

CREATE TABLE IF NOT EXISTS views.claims (
    id uuid PRIMARY KEY,
    incident_id uuid NOT NULL,
    text text NOT NULL,
    recorded_at timestamptz NOT NULL,
    position bigint NOT NULL,
    status text NOT NULL DEFAULT 'unverified',
    reason text NOT NULL,
    deciding_statement_ids uuid[] NOT NULL DEFAULT '{}',
    status_since timestamptz NOT NULL,
    verdict text,
    verdict_rationale text,
    verdict_at timestamptz
);
CREATE INDEX IF NOT EXISTS claims_incident ON views.claims (incident_id, position);

CREATE TABLE IF NOT EXISTS views.claim_verdicts (
    claim_id uuid NOT NULL,
    position bigint NOT NULL,
    verdict text NOT NULL,
    rationale text,
    recorded_at timestamptz NOT NULL,
    recorded_by uuid,
    PRIMARY KEY (claim_id, position)
);

CREATE TABLE IF NOT EXISTS views.statements (
    id uuid PRIMARY KEY,
    claim_id uuid NOT NULL,
    incident_id uuid NOT NULL,
    source_id uuid NOT NULL,
    stance text NOT NULL,
    published_at timestamptz NOT NULL,
    quote text,
    language text,
    url text,
    channel text,
    via_source_id uuid,
    evidence jsonb NOT NULL DEFAULT '[]',
    credibility smallint,
    recorded_at timestamptz NOT NULL,
    recorded_by uuid,
    position bigint NOT NULL,
    withdrawn_at timestamptz,
    withdrawal_reason text,
    withdrawal_position bigint
);
CREATE INDEX IF NOT EXISTS statements_claim ON views.statements (claim_id);
CREATE INDEX IF NOT EXISTS statements_incident_timeline
    ON views.statements (incident_id, published_at, position);
CREATE INDEX IF NOT EXISTS statements_timeline ON views.statements (published_at, position);
CREATE INDEX IF NOT EXISTS statements_source ON views.statements (source_id, published_at);

-- A claim's status over recorded time: one row per interval, [recorded_from, recorded_to).
CREATE TABLE IF NOT EXISTS views.claim_history (
    claim_id uuid NOT NULL,
    seq integer NOT NULL,
    incident_id uuid NOT NULL,
    status text NOT NULL,
    reason text NOT NULL,
    deciding_statement_ids uuid[] NOT NULL DEFAULT '{}',
    statement_id uuid,
    recorded_from timestamptz NOT NULL,
    recorded_to timestamptz,
    PRIMARY KEY (claim_id, seq)
);
CREATE INDEX IF NOT EXISTS claim_history_status
    ON views.claim_history (status, recorded_from) INCLUDE (incident_id, recorded_to);
CREATE INDEX IF NOT EXISTS claim_history_incident ON views.claim_history (incident_id);

-- What changed, event by event, written with the view change that caused it: the source of the
-- live stream and of webhook deliveries. (position, seq) orders it; seq > 0 when one event
-- caused several announcements.
CREATE TABLE IF NOT EXISTS views.feed (
    position bigint NOT NULL,
    seq smallint NOT NULL,
    type text NOT NULL,
    incident_id uuid,
    recorded_at timestamptz NOT NULL,
    payload jsonb NOT NULL,
    PRIMARY KEY (position, seq)
);
CREATE INDEX IF NOT EXISTS feed_type ON views.feed (type, position);
"""

# The incident filters ask which claims of an incident held a status at a moment: answered from
# the index alone.
HISTORY_BY_INCIDENT = """
CREATE INDEX IF NOT EXISTS claim_history_incident_status
    ON views.claim_history (incident_id, status, recorded_from) INCLUDE (recorded_to);
DROP INDEX IF EXISTS views.claim_history_incident;
"""

# Why the projector is not advancing (while it is not), and the events it had to set aside.
PROJECTOR_ERRORS = """
ALTER TABLE views.tracking
    ADD COLUMN IF NOT EXISTS last_error text,
    ADD COLUMN IF NOT EXISTS last_error_at timestamptz;
CREATE TABLE IF NOT EXISTS views.skipped_events (
    position bigint PRIMARY KEY,
    topic text NOT NULL,
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    error text NOT NULL,
    skipped_at timestamptz NOT NULL DEFAULT now()
);
"""

# The table of what changed, event by event, is the outbox of webhooks and the stream: named so.
OUTBOX = """
ALTER TABLE IF EXISTS views.feed RENAME TO outbox;
ALTER INDEX IF EXISTS views.feed_pkey RENAME TO outbox_pkey;
ALTER INDEX IF EXISTS views.feed_type RENAME TO outbox_type;
"""

# Outbox entries are written once and passed on as they are: kept as the JSON text written, which
# costs PostgreSQL no parsing (about a third of writing the outbox).
OUTBOX_AS_TEXT = """
ALTER TABLE views.outbox ALTER COLUMN payload TYPE json;
"""

# A reason names the statements against the deciding ones too, and the claims and their history
# keep their ids. Every stored reason is derived again: the views are emptied and the projector
# replays the ledger into them from position 0, as ``claimledger rebuild`` does. (The tables are
# named as they are at this step, not taken from ``REBUILT_TABLES``, which may grow.)
OPPOSING_REASONS = """
ALTER TABLE views.claims
    ADD COLUMN IF NOT EXISTS opposing_statement_ids uuid[] NOT NULL DEFAULT '{}';
ALTER TABLE views.claim_history
    ADD COLUMN IF NOT EXISTS opposing_statement_ids uuid[] NOT NULL DEFAULT '{}';
TRUNCATE views.sources, views.source_ratings, views.incidents, views.incident_revisions,
    views.claims, views.claim_verdicts, views.statements, views.claim_history, views.outbox,
    views.skipped_events;
UPDATE views.tracking SET position = 0, caught_up_at = NULL, updated_at = now()
    WHERE projection = 'views';
SELECT pg_notify('claimledger_projected', '0');
"""

# What an incident learned between two moments is found by when it was recorded (or withdrawn).
CHANGES_BY_RECORDED_TIME = """
CREATE INDEX IF NOT EXISTS statements_incident_recorded
    ON views.statements (incident_id, recorded_at);
CREATE INDEX IF NOT EXISTS statements_incident_withdrawn
    ON views.statements (incident_id, withdrawn_at) WHERE withdrawn_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS claim_history_incident_recorded
    ON views.claim_history (incident_id, recorded_from);
"""


# Full-text search (``queries.search``): each searchable text's words, stemmed by PostgreSQL's
# 'russian' configuration (the Russian stemmer for Cyrillic words, the English one for
# Latin-script words), as the query is. Ukrainian, which PostgreSQL has no stemmer for, and any
# other language are stemmed the same way on both sides, so a word always finds itself. One
# configuration, not one a language: parsing a text costs the projector about as much as writing
# its row. Kept by PostgreSQL itself (generated columns), so the projector's COPY is unchanged.
# Incidents are found by their revisions (the latest is the current description): the projector
# only ever adds those, while it rewrites an incident's row with every batch that touches it.
def _words(text: str, weight: str = "A") -> str:
    return f"setweight(to_tsvector('russian'::regconfig, coalesce({text}, '')), '{weight}')"


# An incident's summary and place name weigh less than its title.
_DESCRIPTION_WORDS = (
    _words("title")
    + " || "
    + _words("coalesce(summary, '') || ' ' || coalesce(place ->> 'name', '')", "B")
)
SEARCH = f"""
ALTER TABLE views.sources ADD COLUMN IF NOT EXISTS words tsvector
    GENERATED ALWAYS AS ({_words("name")}) STORED;
ALTER TABLE views.claims ADD COLUMN IF NOT EXISTS words tsvector
    GENERATED ALWAYS AS ({_words("text")}) STORED;
ALTER TABLE views.statements ADD COLUMN IF NOT EXISTS words tsvector
    GENERATED ALWAYS AS ({_words("quote")}) STORED;
ALTER TABLE views.incident_revisions ADD COLUMN IF NOT EXISTS words tsvector
    GENERATED ALWAYS AS ({_DESCRIPTION_WORDS}) STORED;
CREATE INDEX IF NOT EXISTS sources_words ON views.sources USING gin (words);
CREATE INDEX IF NOT EXISTS claims_words ON views.claims USING gin (words);
CREATE INDEX IF NOT EXISTS statements_words ON views.statements USING gin (words);
CREATE INDEX IF NOT EXISTS incident_revisions_words ON views.incident_revisions USING gin (words);
"""

# A search ranks the newest matches of each kind (``queries.search_plan``): when its words are
# common it reads a table newest first, by these indexes. Words the projector adds wait in a GIN
# index's pending list, which every search reads through until it is merged; a small list is
# merged often, in batches still.
SEARCH_BY_RECENCY = """
CREATE INDEX IF NOT EXISTS statements_recorded ON views.statements (recorded_at, id);
CREATE INDEX IF NOT EXISTS claims_recorded ON views.claims (recorded_at, id);
CREATE INDEX IF NOT EXISTS incident_revisions_recorded
    ON views.incident_revisions (recorded_at, position);
ALTER INDEX views.sources_words SET (gin_pending_list_limit = 128);
ALTER INDEX views.claims_words SET (gin_pending_list_limit = 128);
ALTER INDEX views.statements_words SET (gin_pending_list_limit = 128);
ALTER INDEX views.incident_revisions_words SET (gin_pending_list_limit = 128);
"""

# A claim's statements of one stance (a source's track record asks of each of its claims
# whether another source confirmed or refuted it): the same index, with the stance beside.
STATEMENTS_BY_CLAIM_AND_STANCE = """
DROP INDEX IF EXISTS views.statements_claim;
CREATE INDEX IF NOT EXISTS statements_claim ON views.statements (claim_id, stance);
"""

# The incidents described with a country or a tag at some moment (``queries.listing_plan``).
REVISIONS_BY_COUNTRY_AND_TAG = """
CREATE INDEX IF NOT EXISTS incident_revisions_country ON views.incident_revisions (country);
CREATE INDEX IF NOT EXISTS incident_revisions_tags ON views.incident_revisions USING gin (tags);
"""

# A statement's words with its stance beside them, as a word no query can hold ('§' and the
# stance: the parser splits a query's words at '§'), so that the words index answers a search
# narrowed to a stance by itself (``queries.search_window.STATEMENT_WORDS``).
STATEMENT_WORDS_WITH_STANCE = """
DROP INDEX IF EXISTS views.statements_words;
CREATE INDEX IF NOT EXISTS statements_words ON views.statements
    USING gin ((words || array_to_tsvector(ARRAY['§' || stance])))
    WITH (gin_pending_list_limit = 128);
"""

# The indexes a rebuild dropped and builds again after its replay (``deferred_indexes``).
DEFERRED_INDEXES = """
CREATE TABLE IF NOT EXISTS views.deferred_indexes (
    name text PRIMARY KEY,
    relation text NOT NULL,
    definition text NOT NULL
);
"""

MIGRATIONS: Sequence[tuple[str, str]] = (
    ("0101_views", VIEW_TABLES),
    ("0102_history_by_incident", HISTORY_BY_INCIDENT),
    ("0103_projector_errors", PROJECTOR_ERRORS),
    ("0104_outbox", OUTBOX),
    ("0105_outbox_as_text", OUTBOX_AS_TEXT),
    ("0106_opposing_reasons", OPPOSING_REASONS),
    ("0107_search", SEARCH),
    ("0108_changes_by_recorded_time", CHANGES_BY_RECORDED_TIME),
    ("0109_search_by_recency", SEARCH_BY_RECENCY),
    ("0110_deferred_indexes", DEFERRED_INDEXES),
    ("0111_statements_by_claim_and_stance", STATEMENTS_BY_CLAIM_AND_STANCE),
    ("0112_revisions_by_country_and_tag", REVISIONS_BY_COUNTRY_AND_TAG),
    ("0113_statement_words_with_stance", STATEMENT_WORDS_WITH_STANCE),
)

# An outbox cursor at (position, LAST_SEQ) is past every entry of that position.
LAST_SEQ = 32767

# Tables emptied by a rebuild, in an order that respects nothing but readability (no foreign
# keys between views).
REBUILT_TABLES = (
    "views.sources",
    "views.source_ratings",
    "views.incidents",
    "views.incident_revisions",
    "views.claims",
    "views.claim_verdicts",
    "views.statements",
    "views.claim_history",
    "views.outbox",
    "views.skipped_events",
)
