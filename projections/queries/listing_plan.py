"""How the incidents list finds incidents by a filter few of them meet: from the filter's own
rows rather than by reading every incident newest first.

Reading incidents newest first and asking of each whether it meets the filters stops at the
page's last incident: cheap while many incidents do. For a rare value (sixty retracted claims
among twenty thousand incidents; a country or tag no incident had at the moment asked) it asks
of nearly every incident: 45 to 180 ms on the bench ledger. Reading that value's rows through an
index instead (the claims' history by status; the incidents' revisions by country or tag), then
fetching their incidents and ordering them, costs what those rows cost: a few milliseconds.
PostgreSQL cannot tell the two cases apart by itself (it takes the matching incidents to be
spread evenly), so the choice is made here, from how many rows hold the value as its statistics
last counted them. Either way the rows are the same: the choice changes what a listing costs,
never what it lists.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from claimledger.store.db import Db

# A status is read from its rows when they are at most this share of the incidents' count...
_STATUS_SHARE = 0.1
# ... a country or a tag when at most this share of the incidents have it.
_DESCRIBED_SHARE = 0.02
# Statistics are read again after this long (PostgreSQL's autovacuum refreshes them).
_STATS_SECONDS = 60.0


@dataclass(slots=True)
class _Counts:
    read_at: float = -math.inf
    incidents: float = 0.0
    history: float = 0.0
    # Of each column, the share of its table's rows holding each common value.
    shares: dict[str, dict[str, float]] = field(default_factory=dict)


_counts = _Counts()

# The rows of the incidents and of the claims' history (as the statistics collector or ANALYZE
# counted them), and the common values' shares of the columns the filters read.
_STATS = """
SELECT t.relname, greatest(c.reltuples, t.n_live_tup) AS rows, s.attname,
       CASE WHEN s.attname = 'tags' THEN s.most_common_elems::text::text[]
            ELSE s.most_common_vals::text::text[] END AS vals,
       CASE WHEN s.attname = 'tags' THEN s.most_common_elem_freqs
            ELSE s.most_common_freqs END AS freqs
FROM pg_stat_user_tables t
JOIN pg_class c ON c.oid = t.relid
LEFT JOIN pg_stats s ON s.schemaname = t.schemaname AND s.tablename = t.relname
    AND (t.relname, s.attname) IN
        (('claim_history', 'status'), ('incidents', 'country'), ('incidents', 'tags'))
WHERE t.schemaname = 'views' AND t.relname IN ('incidents', 'claim_history')
"""


async def _read(db: Db) -> _Counts:
    now = time.monotonic()
    if now - _counts.read_at < _STATS_SECONDS:
        return _counts
    incidents = history = 0.0
    shares: dict[str, dict[str, float]] = {}
    for row in await db.fetch(_STATS):
        rows = max(0.0, float(row["rows"] or 0))
        if row["relname"] == "incidents":
            incidents = rows
        else:
            history = rows
        if row["attname"] is not None:
            pairs = zip(row["vals"] or [], row["freqs"] or [], strict=False)
            shares[row["attname"]] = dict(pairs)
    _counts.read_at, _counts.incidents, _counts.history = now, incidents, history
    _counts.shares = shares
    return _counts


async def rare_status(db: Db, statuses: Sequence[str]) -> bool:
    """Whether the incidents with a claim in one of ``statuses`` are best found from those
    statuses' rows of the history: when there are statistics, and the rows are few beside the
    incidents. A status the statistics did not list is taken as rare: reading its rows costs
    time if it has become common since, never rows."""
    counts = await _read(db)
    listed = counts.shares.get("status")
    if not listed or counts.incidents <= 0:
        return False
    rows = sum(listed.get(status, 0.0) for status in statuses) * counts.history
    return rows <= _STATUS_SHARE * counts.incidents


async def rare_description(db: Db, column: str, values: Sequence[str]) -> bool:
    """Whether few incidents have ``values`` in ``column`` (``country``; ``tags``: each of them,
    so the rarest counts), as their descriptions stand now: then the incidents described so at a
    moment are best found from the revisions that say so."""
    counts = await _read(db)
    listed = counts.shares.get(column)
    if listed is None or counts.incidents <= 0:
        return False
    return min(listed.get(value, 0.0) for value in values) <= _DESCRIBED_SHARE


def forget() -> None:
    """Read the statistics again at the next listing (after an ``ANALYZE``)."""
    _counts.read_at = -math.inf
