"""Idempotency-Keys of writes that add an event to an aggregate that exists already.

A rating, a verdict or a withdrawal has no id of its own that a key could name, so its key is
kept here with a digest of the request and what the first attempt answered. Requests with one
key take turns (a transaction-scoped advisory lock), so concurrent retries write once: the first
writes and remembers, the others find what it remembered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from claimledger.store.db import Pool

IDEMPOTENCY_KEYS = """
CREATE SCHEMA IF NOT EXISTS ledger;
CREATE TABLE IF NOT EXISTS ledger.idempotency_keys (
    key text PRIMARY KEY,
    -- A digest of the operation, its target and its body: a retry has the same one.
    digest text NOT NULL,
    id uuid NOT NULL,
    position bigint NOT NULL,
    recorded_at timestamptz NOT NULL,
    location text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
"""
MIGRATIONS: Sequence[tuple[str, str]] = (("0003_idempotency_keys", IDEMPOTENCY_KEYS),)

# The first of the two 32-bit keys of the advisory lock: ours (the other is the key's hash).
_LOCK_CLASS = 0x69646B79  # "idky"


@dataclass(frozen=True, slots=True)
class Remembered:
    """What the first request with a key was, and what it answered."""

    digest: str
    id: UUID
    position: int
    recorded_at: datetime
    location: str


class KeyTurn:
    """A key's turn: what was remembered of it before, and a way to remember the answer."""

    def __init__(self, connection: Any, key: str, found: Remembered | None) -> None:
        self._connection = connection
        self.key = key
        self.found = found

    async def remember(self, digest: str, answer: Remembered) -> None:
        await self._connection.execute(
            "INSERT INTO ledger.idempotency_keys (key, digest, id, position, recorded_at,"
            " location) VALUES ($1, $2, $3, $4, $5, $6)",
            self.key,
            digest,
            answer.id,
            answer.position,
            answer.recorded_at,
            answer.location,
        )


@asynccontextmanager
async def turn(db: Pool, key: str) -> AsyncIterator[KeyTurn]:
    """Wait for ``key``'s turn; what is remembered is written when the block ends without error.

    The event is saved (by the ledger, on its own connection) before its key is remembered: a
    process that dies between the two leaves the event without its key.
    """
    async with db.acquire() as connection, connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", _LOCK_CLASS, key)
        row = await connection.fetchrow(
            "SELECT digest, id, position, recorded_at, location FROM ledger.idempotency_keys"
            " WHERE key = $1",
            key,
        )
        yield KeyTurn(connection, key, None if row is None else Remembered(**dict(row)))
