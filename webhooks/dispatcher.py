"""The dispatcher: delivers the feed to each endpoint, in order, with retries.

A worker leases one due endpoint at a time (``FOR UPDATE SKIP LOCKED``, so several dispatchers
share the work) and sends it the entries after its cursor, oldest first. A failed message is
retried on the schedule while later messages to that endpoint wait: an endpoint sees messages in
position order. After the last scheduled attempt the message is given up (logged) and the next
one goes. A 410 answer disables the endpoint, and so does a run of failures longer than
``disable_after``. Every attempt is logged.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import anyio
import httpx
from anyio.abc import TaskStatus

from projections.db import CONNECTION_ERRORS, Connection, Pool, close, connect, create_pool
from projections.projector import PROJECTED_CHANNEL
from webhooks import endpoints
from webhooks.delivery import Attempt, DeliveryOptions, Message, attempt, message_id, new_client

log = logging.getLogger("claimledger.dispatcher")

_random = secrets.SystemRandom()
_MAX_RETRY_AFTER = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class DispatchOptions:
    retry_schedule: Sequence[float] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
    disable_after: timedelta = timedelta(days=5)
    delivery: DeliveryOptions = field(default_factory=DeliveryOptions)
    workers: int = 4
    lease_seconds: float = 60.0
    poll_seconds: float = 0.5
    # Messages one lease may deliver before the endpoint goes back in line.
    messages_per_lease: int = 100


def next_delay(
    schedule: Sequence[float], attempts_made: int, retry_after: float | None
) -> float | None:
    """Seconds until the next attempt after ``attempts_made`` failures; None when they are spent."""
    if attempts_made >= len(schedule):
        return None
    delay = schedule[attempts_made] * _random.uniform(0.9, 1.1)
    if retry_after is not None:
        delay = max(delay, min(retry_after, _MAX_RETRY_AFTER))
    return delay


_CLAIM = """
UPDATE webhooks.endpoints e SET leased_by = $1, lease_until = now() + $2::interval
WHERE e.id = (
    SELECT c.id FROM webhooks.endpoints c
    WHERE c.enabled AND c.next_attempt_at <= now()
      AND (c.lease_until IS NULL OR c.lease_until < now())
      AND EXISTS (
          SELECT 1 FROM views.feed f
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

_PENDING = """
SELECT position, seq, type, recorded_at, payload FROM views.feed
WHERE (position, seq) > ($1, $2::int) AND type = ANY($3::text[])
  AND ($4::uuid[] IS NULL OR incident_id = ANY($4::uuid[]))
ORDER BY position, seq LIMIT $5
"""


class Dispatcher:
    """Delivers webhooks until cancelled; any number may run against one database."""

    def __init__(
        self, url: str, options: DispatchOptions, client: httpx.AsyncClient | None = None
    ) -> None:
        self.url = url
        self.options = options
        self._client = client
        self._wake = anyio.Event()
        self._endpoints_seen = True

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        client = self._client or new_client(self.options.delivery)
        pool = await create_pool(self.url, size=self.options.workers + 1)
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(self._listen)
                for _ in range(self.options.workers):
                    group.start_soon(self._work, pool, client)
                task_status.started()
        finally:
            with anyio.CancelScope(shield=True):
                await pool.close()
                if self._client is None:
                    await client.aclose()

    def wake(self) -> None:
        """New entries in the feed: look for due endpoints now, if there are any endpoints."""
        if not self._endpoints_seen:
            return
        self._wake.set()
        self._wake = anyio.Event()

    async def _listen(self) -> None:
        while True:
            connection: Connection | None = None
            try:
                connection = await connect(self.url)
                await connection.add_listener(PROJECTED_CHANNEL, lambda *_: self.wake())
                while True:
                    await anyio.sleep(10)
                    await connection.fetchval("SELECT 1", timeout=5)
            except CONNECTION_ERRORS as error:
                log.warning("dispatcher lost its LISTEN connection (%s); polling meanwhile", error)
            finally:
                if connection is not None:
                    await close(connection)
            await anyio.sleep(1)

    async def _work(self, pool: Pool, client: httpx.AsyncClient) -> None:
        while True:
            try:
                busy = await self.dispatch_once(pool, client)
            except CONNECTION_ERRORS as error:
                log.warning("dispatcher database error (%s); retrying", error)
                busy = False
                await anyio.sleep(1)
            except Exception:
                # A bug must not stop every other endpoint's deliveries; it is logged loudly.
                log.exception("dispatcher worker failed; retrying in a second")
                busy = False
                await anyio.sleep(1)
            if not busy:
                wake = self._wake
                with anyio.move_on_after(await self._idle_seconds(pool)):
                    await wake.wait()

    async def _idle_seconds(self, pool: Pool) -> float:
        due = await pool.fetchval(
            "SELECT extract(epoch FROM min(next_attempt_at) - now()) FROM webhooks.endpoints"
            " WHERE enabled AND (lease_until IS NULL OR lease_until < now())"
        )
        # Without endpoints, waking the workers on every projected event would be wasted work.
        self._endpoints_seen = due is not None
        if due is None:
            return self.options.poll_seconds
        return max(0.001, min(float(due), self.options.poll_seconds))

    async def dispatch_once(self, pool: Pool, client: httpx.AsyncClient) -> bool:
        """Lease one due endpoint and work on it; False when none was due."""
        # Each lease has its own token, not the dispatcher's id: a worker whose lease was taken
        # back (by a replay or a change) must not move the cursor under a later lease of a
        # sibling worker.
        token = uuid4()
        row = await pool.fetchrow(_CLAIM, token, timedelta(seconds=self.options.lease_seconds))
        if row is None:
            return False
        try:
            await self._deliver_in_order(pool, client, dict(row), token)
        finally:
            # Released even when the dispatcher is being stopped, so another takes over at once.
            with anyio.CancelScope(shield=True), anyio.move_on_after(5):
                # (leased_by IS NULL: the endpoint was taken back from this lease, which still
                # kept others away until now.)
                await pool.execute(
                    "UPDATE webhooks.endpoints SET leased_by = NULL, lease_until = NULL"
                    " WHERE id = $1 AND (leased_by = $2 OR leased_by IS NULL)",
                    row["id"],
                    token,
                )
        return True

    async def _deliver_in_order(
        self, pool: Pool, client: httpx.AsyncClient, endpoint: dict[str, Any], token: UUID
    ) -> None:
        signing = [endpoint["secret"], *filter(None, [endpoint["previous_secret"]])]
        pending = await pool.fetch(
            _PENDING,
            endpoint["cursor_position"],
            endpoint["cursor_seq"],
            endpoint["event_types"],
            endpoint["incident_ids"],
            self.options.messages_per_lease,
        )
        attempts_made = endpoint["attempt"]
        for row in pending:
            message = Message(
                id=message_id(row["position"], row["seq"]),
                type=row["type"],
                timestamp=row["recorded_at"],
                data=row["payload"],
                position=row["position"],
                seq=row["seq"],
            )
            result = await attempt(client, self.options.delivery, endpoint["url"], message, signing)
            attempts_made += 1
            await endpoints.log(
                pool,
                endpoint["id"],
                message.id,
                message.type,
                message.position,
                message.seq,
                attempts_made,
                result,
            )
            if result.outcome == "delivered":
                if not await self._advance(pool, endpoint["id"], token, message):
                    return
                attempts_made = 0
                continue
            await self._failed(pool, endpoint, token, message, result, attempts_made)
            return

    async def _advance(self, pool: Pool, endpoint_id: UUID, token: UUID, message: Message) -> bool:
        """Move the cursor past a delivered (or given up) message; False if the lease was lost."""
        status = await pool.execute(
            "UPDATE webhooks.endpoints SET cursor_position = $3, cursor_seq = $4, attempt = 0,"
            " failing_since = NULL, next_attempt_at = now(), lease_until = now() + $5::interval"
            " WHERE id = $1 AND leased_by = $2",
            endpoint_id,
            token,
            message.position,
            message.seq,
            timedelta(seconds=self.options.lease_seconds),
        )
        return bool(status.endswith(" 1"))

    async def _failed(
        self,
        pool: Pool,
        endpoint: dict[str, Any],
        token: UUID,
        message: Message,
        result: Attempt,
        attempts_made: int,
    ) -> None:
        now = datetime.now(UTC)
        failing_since: datetime = endpoint["failing_since"] or result.attempted_at
        if result.gone:
            await self._disable(pool, endpoint["id"], token, "the endpoint answered 410 Gone")
            return
        if now - failing_since > self.options.disable_after:
            await self._disable(
                pool, endpoint["id"], token, f"failing since {failing_since.isoformat()}"
            )
            return
        delay = next_delay(self.options.retry_schedule, attempts_made, result.retry_after)
        if delay is None:
            gave_up = Attempt(
                "gave_up", now, error=f"no answer in 2xx after {attempts_made} attempts"
            )
            await endpoints.log(
                pool,
                endpoint["id"],
                message.id,
                message.type,
                message.position,
                message.seq,
                attempts_made,
                gave_up,
            )
            await pool.execute(
                "UPDATE webhooks.endpoints SET cursor_position = $3, cursor_seq = $4,"
                " attempt = 0, failing_since = $5, next_attempt_at = now()"
                " WHERE id = $1 AND leased_by = $2",
                endpoint["id"],
                token,
                message.position,
                message.seq,
                failing_since,
            )
            return
        await pool.execute(
            "UPDATE webhooks.endpoints SET attempt = $3, failing_since = $4,"
            " next_attempt_at = now() + $5::interval WHERE id = $1 AND leased_by = $2",
            endpoint["id"],
            token,
            attempts_made,
            failing_since,
            timedelta(seconds=delay),
        )

    async def _disable(self, pool: Pool, endpoint_id: UUID, token: UUID, reason: str) -> None:
        log.warning("webhook endpoint %s disabled: %s", endpoint_id, reason)
        await pool.execute(
            "UPDATE webhooks.endpoints SET enabled = false, disabled_reason = $3,"
            " updated_at = now() WHERE id = $1 AND leased_by = $2",
            endpoint_id,
            token,
            reason,
        )
