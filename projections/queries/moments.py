"""The moments the record changed: what an "as known at" control can step through."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from claimledger.store.db import Db

# Every recorded change of one incident: its revisions, its claims, their statements,
# withdrawals and verdicts (each table read by its incident index).
_OF_INCIDENT = """
SELECT t FROM (
    SELECT recorded_at AS t FROM views.incident_revisions WHERE incident_id = $1
    UNION SELECT recorded_at FROM views.claims WHERE incident_id = $1
    UNION SELECT recorded_at FROM views.statements WHERE incident_id = $1
    UNION SELECT withdrawn_at FROM views.statements
        WHERE incident_id = $1 AND withdrawn_at IS NOT NULL
    UNION SELECT v.recorded_at FROM views.claim_verdicts v
        JOIN views.claims c ON c.id = v.claim_id WHERE c.incident_id = $1
) m ORDER BY t DESC LIMIT $2
"""

# The latest changes of the whole ledger, from the outbox's newest entries.
_LATEST = """
SELECT DISTINCT recorded_at AS t FROM (
    SELECT recorded_at FROM views.outbox ORDER BY position DESC, seq DESC LIMIT $1
) o ORDER BY t DESC
"""


async def changes(db: Db, incident_id: UUID | None, *, limit: int) -> list[datetime]:
    """Up to ``limit`` latest moments at which the incident's record changed (any incident's
    when ``incident_id`` is None), oldest first."""
    if incident_id is None:
        rows = await db.fetch(_LATEST, limit)
        found = [row["t"] for row in rows][:limit]
    else:
        found = [row["t"] for row in await db.fetch(_OF_INCIDENT, incident_id, limit)]
    return sorted(found)
