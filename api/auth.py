"""API keys: roles, hashing, lookup, and the guard every handler declares its role with."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from enum import IntEnum
from typing import Any
from uuid import UUID, uuid4

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from claimledger.store.db import Pool

KEY_PREFIX = "clk_"
# The OpenAPI security of reads: a key, or none (reads are public unless configured otherwise).
KEY_OPTIONAL: list[dict[str, list[str]]] = [{}]


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

    async def revoke_named(self, name: str) -> int:
        status = await self._pool.execute(
            "UPDATE ledger.api_keys SET revoked_at = now()"
            " WHERE name = $1 AND revoked_at IS NULL AND key_hash IS NOT NULL",
            name,
        )
        self._cache.clear()
        return int(status.rsplit(" ", 1)[-1])

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


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def authorize(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """The one guard: checks the role a handler names in ``opt={"role": Role.X}``."""
    needed: Role = handler.opt.get("role", Role.ADMIN)
    state = connection.app.state
    token = bearer_token(connection)
    if token is None:
        if needed is Role.READER and state.settings.public_read:
            return
        raise NotAuthorizedException("an API key is needed: Authorization: Bearer <key>")
    keys: KeyStore = state.key_store
    principal = await keys.authenticate(token)
    if principal is None:
        raise NotAuthorizedException("this API key is unknown or revoked")
    if principal.role < needed:
        raise PermissionDeniedException(
            f"this needs the {needed.label} role;"
            f" the key {principal.name!r} is {principal.role.label}"
        )
    connection.scope["state"]["principal"] = principal


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    principal = connection.scope["state"].get("principal")
    if not isinstance(principal, Principal):
        raise NotAuthorizedException("an API key is needed: Authorization: Bearer <key>")
    return principal
