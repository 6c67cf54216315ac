"""The dispatcher: delivers the outbox to each endpoint, in order, with retries.

A worker leases one due endpoint at a time (``FOR UPDATE SKIP LOCKED``, so several dispatchers
share the work) and sends it the entries after its cursor, oldest first. A lease is short and
renewed while the worker holds it; a worker that cannot renew stops sending before its lease runs
out, so a message is never sent twice at once, and a dead dispatcher's endpoints are taken over
within one lease. A failed message is
retried on the schedule while later messages to that endpoint wait: an endpoint sees messages in
position order. After the last scheduled attempt the message is given up (logged) and the next
one goes. A 410 answer disables the endpoint, and so does a run of failures longer than
``disable_after``. Every attempt is logged.
"""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import anyio
import httpx
from anyio.abc import TaskStatus

from claimledger.projections.projector import PROJECTED_CHANNEL, RECONNECT_SECONDS
from claimledger.store.db import CONNECTION_ERRORS, Pool, close, connect, create_pool
from claimledger.webhooks import subscriptions
from claimledger.webhooks.delivery import (
    Attempt,
    DeliveryOptions,
    Message,
    attempt,
    message_id,
    new_client,
)

log = logging.getLogger("claimledger.dispatcher")

_random = secrets.SystemRandom()
_MAX_RETRY_AFTER = 24 * 3600.0


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

    @property
    def renew_seconds(self) -> float:
        return self.lease_seconds / 3


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

_PENDING = """
SELECT position, seq, type, recorded_at, payload FROM views.outbox
WHERE (position, seq) > ($1, $2::int) AND type = ANY($3::text[])
  AND ($4::uuid[] IS NULL OR incident_id = ANY($4::uuid[]))
ORDER BY position, seq LIMIT $5
"""


@dataclass
class _Lease:
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
        # The tokens of leases done with but not yet released (the database was away): released
        # as soon as it answers again, so that their endpoints need not wait for them to expire.
        self._letting_go: set[UUID] = set()

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        client = self._client or new_client(self.options.delivery)
        try:
            pool = await create_pool(self.url, size=self.options.workers + 1)
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
                await anyio.sleep(1)

    def _not_working(self, error: Exception) -> None:
        self.error = f"{type(error).__name__}: {error}"
        if self.failing_since is None:
            self.failing_since = anyio.current_time()

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
        if self._letting_go:
            await self._let_go(pool)
        # Each lease has its own token, not the dispatcher's id: a worker whose lease was taken
        # back (by a replay or a change) must not move the cursor under a later lease of a
        # sibling worker.
        token = uuid4()
        asked = anyio.current_time()
        row = await pool.fetchrow(_LEASE, token, timedelta(seconds=self.options.lease_seconds))
        self.failing_since, self.error = None, None
        if row is None:
            return False
        lease = _Lease(row["id"], token, asked + self._held_for)
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(self._renew, pool, lease)
                await self._deliver_in_order(pool, client, dict(row), lease)
                group.cancel_scope.cancel()
        except ExceptionGroup as failed:
            # Only the delivery can fail (renewing never raises): pass its error on as it is.
            raise failed.exceptions[0] from None
        finally:
            # Released even when the dispatcher is being stopped, so another takes over at once.
            self._letting_go.add(token)
            with anyio.CancelScope(shield=True), anyio.move_on_after(5):
                await self._let_go(pool)
        return True

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

    @property
    def _held_for(self) -> float:
        """How long after asking for (or renewing) a lease its worker may still send: a third of
        a lease less than the lease itself, so a worker that cannot renew stops in time."""
        return self.options.lease_seconds - self.options.renew_seconds

    async def _renew(self, pool: Pool, lease: _Lease) -> None:
        duration = timedelta(seconds=self.options.lease_seconds)
        while True:
            await anyio.sleep(self.options.renew_seconds)
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

    async def _deliver_in_order(
        self, pool: Pool, client: httpx.AsyncClient, endpoint: dict[str, Any], lease: _Lease
    ) -> None:
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
        lease: _Lease,
        message: Message,
        attempts_made: int,
    ) -> bool:
        """One attempt at one message, logged; whether it is done with (delivered, the cursor
        moved past it) so that the worker may go on to the next."""
        signing = [endpoint["secret"], *filter(None, [endpoint["previous_secret"]])]
        result = await attempt(client, self.options.delivery, endpoint["url"], message, signing)
        attempts_made += 1
        await subscriptions.log(
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
            await subscriptions.log(
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
