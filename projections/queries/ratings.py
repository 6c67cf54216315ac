"""A source's reliability over recorded time: every rating it was given, with its rationale."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from claimledger.store.db import Db


async def of_source(
    db: Db, source_id: UUID, *, known_at: datetime | None, limit: int
) -> list[asyncpg.Record]:
    """The source's ratings in the order they were recorded, as known at ``known_at``."""
    return list(
        await db.fetch(
            "SELECT reliability, rationale, recorded_at, position FROM views.source_ratings"
            " WHERE source_id = $1 AND ($2::timestamptz IS NULL OR recorded_at <= $2)"
            " ORDER BY position LIMIT $3",
            source_id,
            known_at,
            limit,
        )
    )
