"""Sources with their reliability grade, as it is now or was at a past moment."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg

from claimledger.store.db import Db

# The grade is the one rated last by $1 (F, the starting grade, before any rating).
_COLUMNS = (
    "s.id, s.name, s.kind, s.affiliation, s.channels, s.url, s.recorded_at, s.position,"
    " CASE WHEN $1::timestamptz IS NULL THEN s.reliability ELSE coalesce(("
    "   SELECT r.reliability FROM views.source_ratings r WHERE r.source_id = s.id"
    "   AND r.recorded_at <= $1 ORDER BY r.position DESC LIMIT 1), 'F') END AS reliability"
)


async def listing(
    db: Db,
    *,
    known_at: datetime | None,
    kind: str | None,
    after: tuple[str, UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Sources by name, then id, after the cursor ``(name, id)``."""
    return list(
        await db.fetch(
            f"SELECT {_COLUMNS} FROM views.sources s"
            " WHERE ($1::timestamptz IS NULL OR s.recorded_at <= $1)"
            " AND ($2::text IS NULL OR s.kind = $2)"
            " AND ($3::text IS NULL OR (s.name, s.id) > ($3, $4::uuid))"
            " ORDER BY s.name, s.id LIMIT $5",
            known_at,
            kind,
            after[0] if after else None,
            after[1] if after else None,
            limit,
        )
    )


async def get(db: Db, source_id: UUID, *, known_at: datetime | None) -> asyncpg.Record | None:
    """One source, if the ledger had it by ``known_at``."""
    return await db.fetchrow(
        f"SELECT {_COLUMNS} FROM views.sources s"
        " WHERE s.id = $2 AND ($1::timestamptz IS NULL OR s.recorded_at <= $1)",
        known_at,
        source_id,
    )


async def of_ids(
    db: Db, source_ids: Sequence[UUID], *, known_at: datetime | None
) -> list[asyncpg.Record]:
    """These sources (those the ledger had by ``known_at``), in one query."""
    return list(
        await db.fetch(
            f"SELECT {_COLUMNS} FROM views.sources s"
            " WHERE s.id = ANY($2::uuid[]) AND ($1::timestamptz IS NULL OR s.recorded_at <= $1)",
            known_at,
            list(source_ids),
        )
    )
