"""What the exports read besides the lists they share with JSON: the statements asserting a
claim (for its review), the status of many claims and the description of many incidents, each as
seen from a moment."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any
from uuid import UUID

from claimledger.projections.history import status_seen
from claimledger.projections.queries.facts import load_facts
from claimledger.projections.queries.moment import Moment
from claimledger.store.db import Db

_ASSERTIONS = (
    "SELECT s.id, s.published_at, s.url, s.source_id, src.name AS source_name,"
    " src.kind AS source_kind, src.url AS source_url"
    " FROM views.statements s JOIN views.sources src ON src.id = s.source_id"
    " WHERE s.claim_id = $1 AND s.stance = 'asserts'"
    " AND ($2::timestamptz IS NULL OR s.recorded_at <= $2)"
    " AND (s.withdrawn_at IS NULL OR ($2::timestamptz IS NOT NULL AND s.withdrawn_at > $2))"
    " ORDER BY s.published_at, s.position"
)

_INCIDENTS_NOW = (
    "SELECT id, title, summary, place, occurred_from, occurred_to, occurred_precision, tags"
    " FROM views.incidents WHERE id = ANY($1::uuid[])"
)
_INCIDENTS_AT = (
    "SELECT DISTINCT ON (incident_id) incident_id AS id, title, summary, place, occurred_from,"
    " occurred_to, occurred_precision, tags FROM views.incident_revisions"
    " WHERE incident_id = ANY($1::uuid[]) AND recorded_at <= $2"
    " ORDER BY incident_id, position DESC"
)


async def assertions(db: Db, claim_id: UUID, known_at: datetime | None) -> list[dict[str, Any]]:
    """The statements asserting the claim, in order of publication, as known at ``known_at``
    (withdrawn ones left out), each with its source's name, kind and URL."""
    return [dict(row) for row in await db.fetch(_ASSERTIONS, claim_id, known_at)]


async def claim_statuses(db: Db, claim_ids: Collection[UUID], moment: Moment) -> dict[UUID, str]:
    """The status of each claim as seen from ``moment`` (as ``GET /v1/claims/{id}`` has it)."""
    if not claim_ids:
        return {}
    if moment.is_now:
        rows = await db.fetch(
            "SELECT id, status FROM views.claims WHERE id = ANY($1::uuid[])", list(claim_ids)
        )
        return {row["id"]: row["status"] for row in rows}
    facts = await load_facts(db, claim_ids, recorded_by=moment.known_at)
    return {
        claim_id: status_seen(
            facts.get(claim_id, []),
            known_at=moment.known_at,
            published_before=moment.published_before,
        ).status.value
        for claim_id in claim_ids
    }


async def incidents(
    db: Db, incident_ids: Collection[UUID], known_at: datetime | None
) -> dict[UUID, dict[str, Any]]:
    """Each incident's description as it was at ``known_at`` (or is now), by id."""
    if not incident_ids:
        return {}
    if known_at is None:
        rows = await db.fetch(_INCIDENTS_NOW, list(incident_ids))
    else:
        rows = await db.fetch(_INCIDENTS_AT, list(incident_ids), known_at)
    return {row["id"]: dict(row) for row in rows}
