"""Leases: a worker's short hold on one endpoint, renewed while it works and released after.

A due endpoint is leased with ``FOR UPDATE SKIP LOCKED``, so several dispatchers share the work.
A lease is renewed every third of its length; a worker that cannot renew stops sending before its
lease runs out, so a message is never sent twice at once, and a dead dispatcher's endpoints are
taken over within one lease.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import anyio

from claimledger.store.db import Pool

log = logging.getLogger("claimledger.dispatcher")

_LEASE = """
UPDATE webhooks.endpoints e
SET leased_by = $1, lease_token = $1, lease_until = now() + $2::interval
WHERE e.id = (
    SELECT c.id FROM webhooks.endpoints c
    WHERE c.enabled AND c.next_attempt_at <= now()
      AND (c.lease_until IS NULL OR c.lease_until < now())
      AND EXISTS (
          SELECT 1 FROM views.outbox f
          WHERE (f.position, f.seq) > (c.cursor_position, c.cursor_seq)
            AND f.type = ANY(c.event_types)
            AND (c.incident_ids IS NULL OR f.incident_id = ANY(c.incident_ids)))
    ORDER BY c.next_attempt_at
    FOR UPDATE SKIP LOCKED
    LIMIT 1)
RETURNING e.id, e.url, e.event_types, e.incident_ids, e.cursor_position, e.cursor_seq,
          e.attempt, e.failing_since, e.secret,
          CASE WHEN e.previous_secret_until > now() THEN e.previous_secret END AS previous_secret
"""


@dataclass
class Lease:
    """A worker's hold on one endpoint: its token, and until when (monotonic) it may send."""

    endpoint_id: UUID
    token: UUID
    until: float
    _scope: anyio.CancelScope | None = None

    def extend(self, until: float) -> None:
        self.until = until
        if self._scope is not None:
            self._scope.deadline = until

    @contextmanager
    def holding(self) -> Iterator[anyio.CancelScope]:
        """A scope cancelled when the lease runs out (moved on by every renewal)."""
        with anyio.CancelScope(deadline=self.until) as scope:
            self._scope = scope
            try:
                yield scope
            finally:
                self._scope = None

    def __str__(self) -> str:
        return str(self.endpoint_id)


class Leases:
    """One dispatcher's leases, each ``seconds`` long: taken, renewed and let go."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        # The tokens of leases done with but not yet released (the database was away): released
        # as soon as it answers again, so that their endpoints need not wait for them to expire.
        self._letting_go: set[UUID] = set()

    @property
    def renew_seconds(self) -> float:
        return self.seconds / 3

    @property
    def _held_for(self) -> float:
        """How long after asking for (or renewing) a lease its worker may still send: a third of
        a lease less than the lease itself, so a worker that cannot renew stops in time."""
        return self.seconds - self.renew_seconds

    async def take(self, pool: Pool) -> tuple[Lease, dict[str, Any]] | None:
        """Lease the endpoint due first; the lease and the endpoint, or None when none is due."""
        if self._letting_go:
            await self._let_go(pool)
        # Each lease has its own token, not the dispatcher's id: a worker whose lease was taken
        # back (by a replay or a change) must not move the cursor under a later lease of a
        # sibling worker.
        token = uuid4()
        asked = anyio.current_time()
        row = await pool.fetchrow(_LEASE, token, timedelta(seconds=self.seconds))
        if row is None:
            return None
        return Lease(row["id"], token, asked + self._held_for), dict(row)

    async def renew(self, pool: Pool, lease: Lease) -> None:
        """Renew ``lease`` until cancelled or taken back; never raises."""
        duration = timedelta(seconds=self.seconds)
        while True:
            await anyio.sleep(self.renew_seconds)
            asked = anyio.current_time()
            try:
                status = await pool.execute(
                    "UPDATE webhooks.endpoints SET lease_until = now() + $3::interval"
                    " WHERE id = $1 AND lease_token = $2",
                    lease.endpoint_id,
                    lease.token,
                    duration,
                )
            except Exception as error:  # the lease's own deadline answers this
                log.warning("could not renew a lease on webhook endpoint %s: %s", lease, error)
                continue
            if not status.endswith(" 1"):
                lease.extend(-math.inf)
                return
            lease.extend(asked + self._held_for)

    async def release(self, pool: Pool, lease: Lease) -> None:
        """Let go of ``lease`` even while the dispatcher is being stopped, so another takes over
        at once; kept to be let go later when the database does not answer."""
        self._letting_go.add(lease.token)
        with anyio.CancelScope(shield=True), anyio.move_on_after(5):
            await self._let_go(pool)

    async def _let_go(self, pool: Pool) -> None:
        """Release every lease this dispatcher is done with (those it could not release before,
        too); they stay to be released next time when the database does not answer."""
        tokens = list(self._letting_go)
        await pool.execute(
            "UPDATE webhooks.endpoints SET leased_by = NULL, lease_token = NULL,"
            " lease_until = NULL WHERE lease_token = ANY($1::uuid[])",
            tokens,
        )
        self._letting_go.difference_update(tokens)
