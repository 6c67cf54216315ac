"""The dispatcher: delivers the outbox to each endpoint, in order, with retries.

A worker leases one due endpoint at a time (see ``leases``) and sends it the entries after its
cursor, oldest first. A failed message is retried on the schedule (see ``retries``) while later
messages to that endpoint wait: an endpoint sees messages in position order. After the last
scheduled attempt the message is given up (logged) and the next one goes. A 410 answer disables
the endpoint, and so does a run of failures longer than ``disable_after``. Every attempt is
logged (see ``deliveries``).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import anyio
import httpx
from anyio.abc import TaskStatus

from claimledger.projections.projector import RECONNECT_SECONDS
from claimledger.projections.tracking import PROJECTED_CHANNEL
from claimledger.store.db import CONNECTION_ERRORS, Pool, close, connect, create_pool
from claimledger.webhooks import deliveries
from claimledger.webhooks.delivery import (
    Attempt,
    DeliveryOptions,
    Message,
    attempt,
    message_id,
    new_client,
)
from claimledger.webhooks.leases import Lease, Leases
from claimledger.webhooks.retries import next_delay

log = logging.getLogger("claimledger.dispatcher")


@dataclass(frozen=True, slots=True)
class DispatchOptions:
    retry_schedule: Sequence[float] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
    disable_after: timedelta = timedelta(days=5)
    delivery: DeliveryOptions = field(default_factory=DeliveryOptions)
    workers: int = 4
    # A lease is renewed every third of this while its worker works.
    lease_seconds: float = 15.0
    poll_seconds: float = 0.5
    # Messages one lease may deliver before the endpoint goes back in line.
    messages_per_lease: int = 100


# A failing dispatcher writes its row in webhooks.dispatcher_failures at most this often.
_REPORT_SECONDS = 5.0

_MESSAGES_AFTER_CURSOR = """
SELECT position, seq, type, recorded_at, payload FROM views.outbox
WHERE (position, seq) > ($1, $2::int) AND type = ANY($3::text[])
  AND ($4::uuid[] IS NULL OR incident_id = ANY($4::uuid[]))
ORDER BY position, seq LIMIT $5
"""


class Dispatcher:
    """Delivers webhooks until cancelled; any number may run against one database.

    Nothing a worker meets stops it: database errors are retried after a pause, and so is
    anything else (logged). ``failing_since`` and ``error`` tell ``/ready`` when it cannot lease.
    """

    def __init__(
        self, url: str, options: DispatchOptions, client: httpx.AsyncClient | None = None
    ) -> None:
        self.url = url
        self.options = options
        self._client = client
        self._wake = anyio.Event()
        self._endpoints_seen = True
        # Since when asking for work has failed (monotonic), and why; None while it works.
        self.failing_since: float | None = None
        self.error: str | None = None
        self._leases = Leases(options.lease_seconds)
        # This dispatcher's row in webhooks.dispatcher_failures, and when it was last written.
        self.name = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._reported_at: float | None = None

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        client = self._client or new_client(self.options.delivery)
        try:
            pool = await create_pool(self.url, size=self.options.workers + 1, name="dispatcher")
        except BaseException:
            if self._client is None:
                with anyio.CancelScope(shield=True):
                    await client.aclose()
            raise
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
        """New entries in the outbox: look for due endpoints now, if there are any endpoints."""
        if not self._endpoints_seen:
            return
        self._wake.set()
        self._wake = anyio.Event()

    async def _listen(self) -> None:
        while True:
            try:
                await self._listen_once()
            except CONNECTION_ERRORS as error:
                log.warning("dispatcher lost its LISTEN connection (%s); polling meanwhile", error)
            except Exception:
                log.exception("dispatcher's LISTEN failed; polling meanwhile")
            await anyio.sleep(RECONNECT_SECONDS)

    async def _listen_once(self) -> None:
        """Wake the workers on every NOTIFY until the connection is lost."""
        connection = await connect(self.url)
        try:
            lost = anyio.Event()
            connection.add_termination_listener(lambda _: lost.set())
            await connection.add_listener(PROJECTED_CHANNEL, lambda *_: self.wake())
            while True:
                # A connection the server closed says so at once; a silent one is pinged.
                with anyio.move_on_after(10):
                    await lost.wait()
                await connection.fetchval("SELECT 1", timeout=5)
        finally:
            await close(connection)

    async def _work(self, pool: Pool, client: httpx.AsyncClient) -> None:
        while True:
            try:
                busy = await self.dispatch_once(pool, client)
                if not busy:
                    wake = self._wake
                    with anyio.move_on_after(await self._idle_seconds(pool)):
                        await wake.wait()
            except CONNECTION_ERRORS as error:
                log.warning("dispatcher database error (%s); retrying", error)
                self._not_working(error)
                # Connections of a restarted server are dead: make new ones.
                with anyio.move_on_after(2):
                    await pool.expire_connections()
                await anyio.sleep(RECONNECT_SECONDS)
            except Exception as error:
                # A bug must not stop every other endpoint's deliveries; it is logged loudly.
                log.exception("dispatcher worker failed; retrying in a second")
                self._not_working(error)
                await self._report(pool)
                await anyio.sleep(1)

    def _not_working(self, error: Exception) -> None:
        self.error = f"{type(error).__name__}: {error}"
        if self.failing_since is None:
            self.failing_since = anyio.current_time()

    async def _report(self, pool: Pool) -> None:
        """Say in the database, every few seconds while it lasts, that this dispatcher fails."""
        now = anyio.current_time()
        if self._reported_at is not None and now - self._reported_at < _REPORT_SECONDS:
            return
        try:
            await pool.execute(
                "INSERT INTO webhooks.dispatcher_failures"
                " (dispatcher, failing_since, error, seen_at) VALUES ($1, now(), $2, now())"
                " ON CONFLICT (dispatcher) DO UPDATE SET error = $2, seen_at = now()",
                self.name,
                self.error,
            )
            self._reported_at = now
        except Exception as error:  # only a report: the worker retries regardless
            log.warning("could not record the dispatcher's error (%s)", error)

    async def _recovered(self, pool: Pool) -> None:
        self.failing_since, self.error = None, None
        if self._reported_at is not None:
            await pool.execute(
                "DELETE FROM webhooks.dispatcher_failures WHERE dispatcher = $1", self.name
            )
            self._reported_at = None

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
        taken = await self._leases.take(pool)
        if self.failing_since is not None:
            await self._recovered(pool)
        if taken is None:
            return False
        lease, endpoint = taken
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(self._leases.renew, pool, lease)
                await self._deliver_in_order(pool, client, endpoint, lease)
                group.cancel_scope.cancel()
        except ExceptionGroup as failed:
            # Only the delivery can fail (renewing never raises): pass its error on as it is.
            raise failed.exceptions[0] from None
        finally:
            await self._leases.release(pool, lease)
        return True

    async def _deliver_in_order(
        self, pool: Pool, client: httpx.AsyncClient, endpoint: dict[str, Any], lease: Lease
    ) -> None:
        pending = await pool.fetch(
            _MESSAGES_AFTER_CURSOR,
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
            # A message under way is finished (sent, logged, the cursor moved) even while the
            # dispatcher is being stopped, so that a stop sends nothing twice; only the lease's
            # deadline cuts it short. A stop takes effect between messages.
            with anyio.CancelScope(shield=True), lease.holding() as held:
                done = await self._send(pool, client, endpoint, lease, message, attempts_made)
            if held.cancelled_caught:
                log.warning("webhook endpoint %s: the lease ran out; let go", lease)
                return
            if not done:
                return
            attempts_made = 0
            await anyio.lowlevel.checkpoint()

    async def _send(
        self,
        pool: Pool,
        client: httpx.AsyncClient,
        endpoint: dict[str, Any],
        lease: Lease,
        message: Message,
        attempts_made: int,
    ) -> bool:
        """One attempt at one message, logged; whether it is done with (delivered, the cursor
        moved past it) so that the worker may go on to the next."""
        signing = [endpoint["secret"], *filter(None, [endpoint["previous_secret"]])]
        result = await attempt(client, self.options.delivery, endpoint["url"], message, signing)
        attempts_made += 1
        await deliveries.record(pool, endpoint["id"], message, attempts_made, result)
        if result.outcome == "delivered":
            return await self._advance(pool, endpoint["id"], lease.token, message)
        await self._failed(pool, endpoint, lease.token, message, result, attempts_made)
        return False

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
            await deliveries.record(pool, endpoint["id"], message, attempts_made, gave_up)
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
