"""What the ledger learned about an incident between two moments of recorded time.

One query over the views: the incident's revisions, claims added, statements recorded and
withdrawn, verdicts, and the status changes of its claims (the stored history's intervals after
the first), each recorded in the window ``(after, until]``, in order of position. A status change
has the position of the event that caused it (a statement's recording or its withdrawal) and
comes right after that event; ``rank`` tells them apart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from claimledger.store.db import Db

# Parameters: $1 incident, $2 after (exclusive), $3 until (inclusive, or NULL for now),
# $4 and $5 the (position, rank) to resume after, $6 how many.
_IN_WINDOW = "{col} > $2 AND ($3::timestamptz IS NULL OR {col} <= $3)"

_REVISIONS = f"""
SELECT CASE WHEN r.position = i.position THEN 'incident_opened' ELSE 'incident_revised' END,
    r.position, 0, r.recorded_at, NULL::uuid, NULL::uuid,
    jsonb_build_object('title', r.title, 'summary', r.summary, 'changed',
        CASE WHEN r.position = i.position THEN '[]'::jsonb ELSE to_jsonb(array_remove(ARRAY[
            CASE WHEN r.title IS DISTINCT FROM r.p_title THEN 'title' END,
            CASE WHEN r.summary IS DISTINCT FROM r.p_summary THEN 'summary' END,
            CASE WHEN r.place IS DISTINCT FROM r.p_place THEN 'place' END,
            CASE WHEN r.occurred_from IS DISTINCT FROM r.p_from THEN 'occurred_from' END,
            CASE WHEN r.occurred_to IS DISTINCT FROM r.p_to THEN 'occurred_to' END,
            CASE WHEN r.occurred_precision IS DISTINCT FROM r.p_precision
                THEN 'occurred_precision' END,
            CASE WHEN r.tags IS DISTINCT FROM r.p_tags THEN 'tags' END], NULL)) END)
FROM views.incidents i JOIN LATERAL (
    SELECT r.*, lag(r.title) OVER w AS p_title, lag(r.summary) OVER w AS p_summary,
        lag(r.place) OVER w AS p_place, lag(r.occurred_from) OVER w AS p_from,
        lag(r.occurred_to) OVER w AS p_to, lag(r.occurred_precision) OVER w AS p_precision,
        lag(r.tags) OVER w AS p_tags
    FROM views.incident_revisions r WHERE r.incident_id = i.id WINDOW w AS (ORDER BY r.position)
) r ON {_IN_WINDOW.format(col="r.recorded_at")}
WHERE i.id = $1"""

_CLAIMS = f"""
SELECT 'claim_added', c.position, 0, c.recorded_at, c.id, NULL::uuid,
    jsonb_build_object('claim_text', c.text)
FROM views.claims c WHERE c.incident_id = $1 AND {_IN_WINDOW.format(col="c.recorded_at")}"""

_STATEMENTS = f"""
SELECT 'statement_recorded', s.position, 0, s.recorded_at, s.claim_id, s.id,
    jsonb_build_object('claim_text', c.text, 'source_id', s.source_id, 'source_name', src.name,
        'stance', s.stance, 'published_at', s.published_at, 'quote', s.quote,
        'language', s.language, 'url', s.url, 'via_source_id', s.via_source_id,
        'credibility', s.credibility)
FROM views.statements s JOIN views.sources src ON src.id = s.source_id
JOIN views.claims c ON c.id = s.claim_id AND c.incident_id = $1
WHERE s.incident_id = $1 AND {_IN_WINDOW.format(col="s.recorded_at")}"""

_WITHDRAWALS = f"""
SELECT 'statement_withdrawn', s.withdrawal_position, 0, s.withdrawn_at, s.claim_id, s.id,
    jsonb_build_object('claim_text', c.text, 'source_id', s.source_id, 'source_name', src.name,
        'stance', s.stance, 'published_at', s.published_at, 'reason', s.withdrawal_reason)
FROM views.statements s JOIN views.sources src ON src.id = s.source_id
JOIN views.claims c ON c.id = s.claim_id AND c.incident_id = $1
WHERE s.incident_id = $1 AND s.withdrawn_at IS NOT NULL
    AND {_IN_WINDOW.format(col="s.withdrawn_at")}"""

_VERDICTS = f"""
SELECT 'verdict_given', v.position, 0, v.recorded_at, c.id, NULL::uuid,
    jsonb_build_object('claim_text', c.text, 'verdict', v.verdict,
        'previous_verdict', v.previous, 'reason', v.rationale)
FROM views.claims c JOIN LATERAL (
    SELECT v.*, lag(v.verdict) OVER (ORDER BY v.position) AS previous
    FROM views.claim_verdicts v WHERE v.claim_id = c.id
) v ON {_IN_WINDOW.format(col="v.recorded_at")}
WHERE c.incident_id = $1"""

# The statement an interval names caused it by its recording, or by its withdrawal when the
# interval begins at that moment.
_STATUS_CHANGES = f"""
SELECT 'status_changed',
    CASE WHEN s.withdrawn_at = h.recorded_from AND s.withdrawal_position IS NOT NULL
        THEN s.withdrawal_position ELSE s.position END,
    1, h.recorded_from, h.claim_id, h.statement_id,
    jsonb_build_object('claim_text', c.text, 'from', p.status, 'to', h.status,
        'reason', h.reason, 'deciding_statement_ids', to_jsonb(h.deciding_statement_ids),
        'opposing_statement_ids', to_jsonb(h.opposing_statement_ids))
FROM views.claim_history h
JOIN views.claim_history p ON p.claim_id = h.claim_id AND p.seq = h.seq - 1
JOIN views.statements s ON s.id = h.statement_id
JOIN views.claims c ON c.id = h.claim_id
WHERE h.incident_id = $1 AND h.seq > 0 AND {_IN_WINDOW.format(col="h.recorded_from")}"""

_CHANGES = (
    "SELECT kind, position, rank, recorded_at, claim_id, statement_id, detail FROM ("
    + " UNION ALL ".join(
        f"({arm})"
        for arm in (_REVISIONS, _CLAIMS, _STATEMENTS, _WITHDRAWALS, _VERDICTS, _STATUS_CHANGES)
    )
    + ") AS changes (kind, position, rank, recorded_at, claim_id, statement_id, detail)"
    " WHERE (position, rank) > ($4::bigint, $5::bigint) ORDER BY position, rank LIMIT $6"
)


async def between(
    db: Db,
    incident_id: UUID,
    *,
    after: datetime,
    until: datetime | None,
    resume_after: tuple[int, int] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """The incident's changes recorded after ``after`` and at or before ``until`` (None: now),
    in order of position, after the ``(position, rank)`` ``resume_after``; each a row of the
    common columns and the ``detail`` of its kind, merged."""
    position, rank = resume_after or (-1, -1)
    rows = await db.fetch(_CHANGES, incident_id, after, until, position, rank, limit)
    return [{**row["detail"], **{k: v for k, v in row.items() if k != "detail"}} for row in rows]
