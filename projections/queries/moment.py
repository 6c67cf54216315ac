"""The moment a read is asked about, on both time axes, and whether a row had been recorded by
then."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

from claimledger.store.db import Db


@dataclass(frozen=True, slots=True)
class Moment:
    """The two time filters of a read; both None means the current state."""

    known_at: datetime | None = None
    published_before: datetime | None = None

    @property
    def is_now(self) -> bool:
        return self.known_at is None and self.published_before is None


async def recorded_by(
    db: Db, view: Literal["claims", "incidents"], row_id: UUID, known_at: datetime | None
) -> bool:
    """Whether the view holds the row ``row_id``, recorded by ``known_at`` (None: now)."""
    found = await db.fetchval(
        f"SELECT true FROM views.{view} WHERE id = $1"
        " AND ($2::timestamptz IS NULL OR recorded_at <= $2)",
        row_id,
        known_at,
    )
    return bool(found)
