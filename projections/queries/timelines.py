"""Timelines: statements in order of publication, as known at a moment.

Each statement comes with its source's name and its claim's text, in the same query. Neither
ever changes once recorded (no event renames a source or rewords a claim), and both were
recorded before any statement that names them, so an answer as known at a past moment shows
them as they were known then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from claimledger.projections.queries.moment import Moment
from claimledger.store.db import Db


@dataclass(frozen=True, slots=True)
class TimelineFilter:
    """What a timeline may be narrowed to; every filter given must hold."""

    incident_id: UUID | None = None
    claim_id: UUID | None = None
    source_id: UUID | None = None
    stances: Sequence[str] = ()
    published_after: datetime | None = None
    include_withdrawn: bool = True


async def statements(
    db: Db,
    filters: TimelineFilter,
    moment: Moment,
    *,
    after: tuple[datetime, int] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Statements in order of publication (then position), as known at ``moment``."""
    params: list[Any] = [moment.known_at]
    where = ["($1::timestamptz IS NULL OR s.recorded_at <= $1)"]

    def condition(sql: str, value: Any) -> None:
        params.append(value)
        where.append(sql.replace("?", f"${len(params)}"))

    if filters.incident_id is not None:
        condition("s.incident_id = ?", filters.incident_id)
    if filters.claim_id is not None:
        condition("s.claim_id = ?", filters.claim_id)
    if filters.source_id is not None:
        condition("s.source_id = ?", filters.source_id)
    if filters.stances:
        condition("s.stance = ANY(?::text[])", list(filters.stances))
    if moment.published_before is not None:
        condition("s.published_at < ?", moment.published_before)
    if filters.published_after is not None:
        condition("s.published_at >= ?", filters.published_after)
    if not filters.include_withdrawn:
        where.append(
            "(s.withdrawn_at IS NULL OR ($1::timestamptz IS NOT NULL AND s.withdrawn_at > $1))"
        )
    if after is not None:
        params.extend(after)
        where.append(f"(s.published_at, s.position) > (${len(params) - 1}, ${len(params)})")
    params.append(limit)
    sql = (
        "SELECT s.id, s.claim_id, c.text AS claim_text, s.incident_id, s.source_id,"
        " src.name AS source_name, s.stance,"
        " s.published_at, s.quote, s.language, s.url, s.channel, s.via_source_id, s.evidence,"
        " s.credibility, s.recorded_at, s.position,"
        " CASE WHEN $1::timestamptz IS NULL OR s.withdrawn_at <= $1 THEN s.withdrawn_at END"
        "   AS withdrawn_at"
        " FROM views.statements s JOIN views.sources src ON src.id = s.source_id"
        " JOIN views.claims c ON c.id = s.claim_id"
        f" WHERE {' AND '.join(where)} ORDER BY s.published_at, s.position LIMIT ${len(params)}"
    )
    return list(await db.fetch(sql, *params))
