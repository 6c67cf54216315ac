"""The deliveries log: every attempt at a message, recorded and listed newest first."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from claimledger.store.db import Db, Pool
from claimledger.store.metrics import delivery_attempted
from claimledger.webhooks.delivery import Attempt, Message


async def record(
    db: Db, endpoint_id: UUID, message: Message, attempt: int, result: Attempt
) -> None:
    """Log attempt number ``attempt`` at ``message`` and how it went (and count it)."""
    await db.execute(
        "INSERT INTO webhooks.deliveries (endpoint_id, webhook_id, type, position, seq, attempt,"
        " attempted_at, outcome, status_code, latency_ms, error)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        endpoint_id,
        message.id,
        message.type,
        message.position,
        message.seq,
        attempt,
        result.attempted_at,
        result.outcome,
        result.status_code,
        result.latency_ms,
        result.error,
    )
    delivery_attempted(result.outcome, result.latency_ms)


async def listing(
    db: Pool, endpoint_id: UUID, *, before: int | None, limit: int
) -> list[dict[str, Any]]:
    """Attempts, newest first."""
    rows = await db.fetch(
        "SELECT id, webhook_id, type, position, attempt, attempted_at, outcome, status_code,"
        " latency_ms, error FROM webhooks.deliveries WHERE endpoint_id = $1"
        " AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
        endpoint_id,
        before,
        limit,
    )
    return [dict(row) for row in rows]
