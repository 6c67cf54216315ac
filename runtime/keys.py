"""API keys: roles, and the store that keeps keys hashed and looks them up.

Keys are 256 random bits shown once; only their SHA-256 is stored. Every event records which key
wrote it; the command line writes as the system key, which has no secret.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from enum import IntEnum
from typing import Any
from uuid import UUID, uuid4

from claimledger.store.db import Pool

KEY_PREFIX = "clk_"
# The command line writes as this key; it has no secret, so nobody can present it over HTTP.
SYSTEM_KEY_ID = UUID(int=0)

API_KEYS = f"""
CREATE SCHEMA IF NOT EXISTS ledger;
CREATE TABLE IF NOT EXISTS ledger.api_keys (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    role text NOT NULL CHECK (role IN ('reader', 'editor', 'admin')),
    key_hash text UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
INSERT INTO ledger.api_keys (id, name, role, key_hash)
VALUES ('{SYSTEM_KEY_ID}', 'command line', 'admin', NULL)
ON CONFLICT (id) DO NOTHING;
"""
MIGRATIONS = (("0002_api_keys", API_KEYS),)


class Role(IntEnum):
    """Roles in increasing power: each can do what the ones below it can."""

    READER = 1
    EDITOR = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, label: str) -> Role:
        return cls[label.upper()]


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: UUID
    name: str
    role: Role


@dataclass(frozen=True, slots=True)
class NewKey:
    id: UUID
    name: str
    role: Role
    secret: str


def hash_key(secret: str) -> str:
    # Keys are 256 random bits, so a fast hash is enough; it only has to be one-way.
    return hashlib.sha256(secret.encode()).hexdigest()


class KeyStore:
    """Keys live hashed in ``ledger.api_keys``; lookups are cached briefly per process."""

    def __init__(self, pool: Pool, *, cache_seconds: float) -> None:
        self._pool = pool
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    async def create(self, *, name: str, role: Role) -> NewKey:
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        key = NewKey(id=uuid4(), name=name, role=role, secret=secret)
        await self._pool.execute(
            "INSERT INTO ledger.api_keys (id, name, role, key_hash) VALUES ($1, $2, $3, $4)",
            key.id,
            name,
            role.label,
            hash_key(secret),
        )
        return key

    async def revoke(self, key_id: UUID) -> bool:
        status = await self._pool.execute(
            "UPDATE ledger.api_keys SET revoked_at = now()"
            " WHERE id = $1 AND revoked_at IS NULL AND key_hash IS NOT NULL",
            key_id,
        )
        self._cache.clear()
        return status.endswith(" 1")

    async def list(self) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            "SELECT id, name, role, created_at, revoked_at FROM ledger.api_keys"
            " WHERE key_hash IS NOT NULL ORDER BY created_at"
        )
        return [dict(row) for row in rows]

    async def authenticate(self, secret: str) -> Principal | None:
        now = time.monotonic()
        cached = self._cache.get(secret)
        if cached is not None and cached[0] > now:
            return cached[1]
        row = await self._pool.fetchrow(
            "SELECT id, name, role FROM ledger.api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
            hash_key(secret),
        )
        principal = (
            None
            if row is None
            else Principal(key_id=row["id"], name=row["name"], role=Role.parse(row["role"]))
        )
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[secret] = (now + self._cache_seconds, principal)
        return principal
