"""How the incidents list finds the incidents with a claim in a status: newest first, or from
that status's rows.

Reading incidents newest first and asking of each whether one of its claims has the status (now,
or at the moment asked) stops at the page's last incident: cheap while many incidents have such
a claim. For a rare status (sixty retracted claims among twenty thousand incidents) it asks of
nearly every incident: about 50 ms on the bench ledger. Reading that status's rows of the claims'
history through its index instead, then fetching their incidents and ordering them, costs what
those rows cost: about 1 ms there. PostgreSQL cannot tell the two cases apart by itself (it
takes the matching incidents to be spread evenly), so the choice is made here, from how many
history rows hold the statuses as its statistics last counted them. Either way the rows are the
same: the choice changes what a listing costs, never what it lists.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from claimledger.store.db import Db

# The status's rows are read instead when they are at most this share of the incidents' count.
_SHARE = 0.1
# Statistics are read again after this long (PostgreSQL's autovacuum refreshes them).
_STATS_SECONDS = 60.0


@dataclass(slots=True)
class _Counts:
    read_at: float = -math.inf
    incidents: float = 0.0
    rows: dict[str, float] = field(default_factory=dict)


_counts = _Counts()

# The rows of each status, as ANALYZE last counted them (the share of the sampled rows times
# the table's rows); the incidents as the statistics collector counts them.
_STATS = """
SELECT (SELECT greatest(c.reltuples, t.n_live_tup) FROM pg_class c
        JOIN pg_stat_user_tables t ON t.relid = c.oid
        WHERE t.schemaname = 'views' AND t.relname = 'incidents') AS incidents,
       (SELECT greatest(c.reltuples, t.n_live_tup) FROM pg_class c
        JOIN pg_stat_user_tables t ON t.relid = c.oid
        WHERE t.schemaname = 'views' AND t.relname = 'claim_history') AS rows,
       s.most_common_vals::text::text[] AS statuses, s.most_common_freqs AS shares
FROM pg_stats s
WHERE s.schemaname = 'views' AND s.tablename = 'claim_history' AND s.attname = 'status'
"""


async def _status_rows(db: Db) -> _Counts:
    now = time.monotonic()
    if now - _counts.read_at < _STATS_SECONDS:
        return _counts
    row = await db.fetchrow(_STATS)
    rows: dict[str, float] = {}
    incidents = 0.0
    if row is not None and row["incidents"] is not None and row["rows"] is not None:
        incidents = max(0.0, float(row["incidents"]))
        total = max(0.0, float(row["rows"]))
        shares = zip(row["statuses"] or [], row["shares"] or [], strict=False)
        rows = {status: share * total for status, share in shares}
    _counts.read_at, _counts.incidents, _counts.rows = now, incidents, rows
    return _counts


async def rare(db: Db, statuses: Sequence[str]) -> bool:
    """Whether the incidents with a claim in one of ``statuses`` are best found from those
    statuses' rows: when there are statistics, and the rows are few beside the incidents."""
    counts = await _status_rows(db)
    if not counts.rows or counts.incidents <= 0:
        return False
    # A status the statistics did not list is taken as rare: reading its rows costs time if it
    # has become common since, never rows.
    rows = sum(counts.rows.get(status, 0.0) for status in statuses)
    return rows <= _SHARE * counts.incidents


def forget() -> None:
    """Read the statistics again at the next listing (after an ``ANALYZE``)."""
    _counts.read_at = -math.inf
