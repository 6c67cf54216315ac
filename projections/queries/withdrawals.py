"""Why statements were withdrawn: the reason given with each withdrawal, as known at a moment."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from claimledger.store.db import Db


async def reasons(
    db: Db, statement_ids: Iterable[UUID], *, known_at: datetime | None
) -> dict[UUID, str]:
    """The withdrawal reason of each of these statements withdrawn by ``known_at`` (or now)."""
    rows = await db.fetch(
        "SELECT id, withdrawal_reason FROM views.statements WHERE id = ANY($1::uuid[])"
        " AND withdrawn_at IS NOT NULL AND ($2::timestamptz IS NULL OR withdrawn_at <= $2)",
        list(statement_ids),
        known_at,
    )
    return {row["id"]: row["withdrawal_reason"] or "" for row in rows}
