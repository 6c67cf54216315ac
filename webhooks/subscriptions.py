"""Subscriptions: the webhook endpoints, made, read, changed, replayed and deleted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from claimledger.domain.errors import IdempotencyConflict
from claimledger.projections.schema import LAST_SEQ
from claimledger.store.db import Pool
from claimledger.webhooks.signing import new_secret

# A change of cursor, target, filter or secret takes the endpoint back from the dispatcher
# holding it: that dispatcher's next cursor move fails, so it stops after the message in flight
# and lets go, and the next lease starts from the new state instead of overwriting it. The lease
# time stays, so nobody else sends to the endpoint while that message is still under way.
_TAKE_BACK = "leased_by = NULL"
# What changes how or what is delivered; a new description does not.
_DELIVERY_FIELDS = frozenset({"url", "event_types", "incident_ids", "enabled"})

# What an admin sees of an endpoint: everything but its secrets.
_COLUMNS_SHOWN = (
    "id, url, description, event_types, incident_ids, enabled, disabled_reason, created_at,"
    " updated_at, cursor_position, cursor_seq, attempt, next_attempt_at, failing_since,"
    " previous_secret_until"
)


@dataclass(frozen=True, slots=True)
class Subscription:
    url: str
    event_types: list[str]
    description: str | None = None
    incident_ids: list[UUID] | None = None


async def outbox_head(db: Pool) -> tuple[int, int]:
    row = await db.fetchrow(
        "SELECT position, seq FROM views.outbox ORDER BY position DESC, seq DESC LIMIT 1"
    )
    if row is None:
        position = await db.fetchval("SELECT position FROM views.tracking LIMIT 1")
        return (int(position or 0), LAST_SEQ)
    return (row["position"], row["seq"])


async def create(
    db: Pool,
    subscription: Subscription,
    *,
    idempotency_key: str | None = None,
    digest: str | None = None,
) -> tuple[dict[str, Any], str, bool]:
    """A new endpoint that receives what happens from now on: its row, its secret, and whether
    it was made before by a request with the same ``idempotency_key`` (then nothing is made, and
    ``IdempotencyConflict`` if that request's ``digest`` was another)."""
    secret = new_secret()
    position, seq = await outbox_head(db)
    row = await db.fetchrow(
        "INSERT INTO webhooks.endpoints (id, url, description, event_types, incident_ids,"  # noqa: S608
        " secret, cursor_position, cursor_seq, idempotency_key, request_digest)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        " ON CONFLICT (idempotency_key) DO NOTHING"
        f" RETURNING {_COLUMNS_SHOWN}",
        uuid4(),
        subscription.url,
        subscription.description,
        subscription.event_types,
        subscription.incident_ids,
        secret,
        position,
        seq,
        idempotency_key,
        digest,
    )
    if row is not None:
        return dict(row), secret, False
    first = await db.fetchrow(
        f"SELECT {_COLUMNS_SHOWN}, secret, request_digest FROM webhooks.endpoints"  # noqa: S608
        " WHERE idempotency_key = $1",
        idempotency_key,
    )
    if first is None:  # deleted in the meantime: this request makes it anew
        return await create(db, subscription, idempotency_key=idempotency_key, digest=digest)
    if first["request_digest"] != digest:
        raise IdempotencyConflict(
            "this Idempotency-Key was used before for a different request",
            field="Idempotency-Key",
        )
    shown = dict(first)
    del shown["request_digest"]
    return shown, shown.pop("secret"), True


async def get(db: Pool, endpoint_id: UUID) -> dict[str, Any] | None:
    row = await db.fetchrow(
        f"SELECT {_COLUMNS_SHOWN} FROM webhooks.endpoints WHERE id = $1",  # noqa: S608
        endpoint_id,
    )
    return None if row is None else dict(row)


async def listing(db: Pool, *, after: datetime | None, limit: int) -> list[dict[str, Any]]:
    rows = await db.fetch(
        f"SELECT {_COLUMNS_SHOWN} FROM webhooks.endpoints"  # noqa: S608
        " WHERE ($1::timestamptz IS NULL OR created_at > $1) ORDER BY created_at LIMIT $2",
        after,
        limit,
    )
    return [dict(row) for row in rows]


async def update(
    db: Pool,
    endpoint_id: UUID,
    changes: dict[str, Any],
    *,
    rotate: bool,
    overlap: timedelta,
) -> tuple[dict[str, Any], str | None] | None:
    """Apply ``changes`` (url, description, event_types, incident_ids, enabled); on ``rotate``
    a new secret, with the old one still signing for ``overlap``."""
    sets = [f"{name} = ${n}" for n, name in enumerate(changes, start=2)]
    params: list[Any] = [endpoint_id, *changes.values()]
    if changes.get("enabled") is True:
        sets += [
            "disabled_reason = NULL",
            "failing_since = NULL",
            "attempt = 0",
            "next_attempt_at = now()",
        ]
    secret = None
    if rotate:
        secret = new_secret()
        params += [secret, overlap]
        n = len(params)
        sets += [
            "previous_secret = secret",
            f"secret = ${n - 1}",
            f"previous_secret_until = now() + ${n}::interval",
        ]
    if rotate or not _DELIVERY_FIELDS.isdisjoint(changes):
        sets.append(_TAKE_BACK)
    sets.append("updated_at = now()")
    row = await db.fetchrow(
        f"UPDATE webhooks.endpoints SET {', '.join(sets)} WHERE id = $1"  # noqa: S608
        f" RETURNING {_COLUMNS_SHOWN}",
        *params,
    )
    return None if row is None else (dict(row), secret)


async def delete(db: Pool, endpoint_id: UUID) -> bool:
    status = await db.execute("DELETE FROM webhooks.endpoints WHERE id = $1", endpoint_id)
    return bool(status.endswith(" 1"))


async def replay(db: Pool, endpoint_id: UUID, from_position: int) -> int | None:
    """Send again everything from ``from_position`` on; how many messages that is."""
    async with db.acquire() as connection, connection.transaction():
        endpoint = await connection.fetchrow(
            "UPDATE webhooks.endpoints SET cursor_position = $2, cursor_seq = -1, attempt = 0,"  # noqa: S608
            f" next_attempt_at = now(), failing_since = NULL, {_TAKE_BACK}, updated_at = now()"
            " WHERE id = $1"
            " RETURNING event_types, incident_ids",
            endpoint_id,
            from_position,
        )
        if endpoint is None:
            return None
        count = await connection.fetchval(
            "SELECT count(*) FROM views.outbox WHERE position >= $1 AND type = ANY($2::text[])"
            " AND ($3::uuid[] IS NULL OR incident_id = ANY($3::uuid[]))",
            from_position,
            endpoint["event_types"],
            endpoint["incident_ids"],
        )
    return int(count)


async def secrets_of(db: Pool, endpoint_id: UUID) -> tuple[str, list[str]] | None:
    """The endpoint's URL and the secrets that sign for it now."""
    row = await db.fetchrow(
        "SELECT url, secret, CASE WHEN previous_secret_until > now() THEN previous_secret END"
        " AS previous FROM webhooks.endpoints WHERE id = $1",
        endpoint_id,
    )
    if row is None:
        return None
    return row["url"], [row["secret"], *([row["previous"]] if row["previous"] else [])]
