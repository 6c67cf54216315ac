"""The projector: tails the event store by position and keeps the views, exactly once.

Each batch is one transaction that locks the tracking row, reads the events after its position,
writes the views and the feed, and moves the position: a batch commits whole or not at all, and
two projectors can never apply the same events (the second waits on the row and then starts from
where the first left off). An advisory lock keeps one projector active per database; others wait
as standbys. The projector wakes on the store's NOTIFY and polls as well, since a LISTEN connection
can die without telling anyone.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import anyio
from anyio.abc import TaskStatus
from eventsourcing.persistence import StoredEvent

from domain.application import EVENT_SCHEMA, EVENT_TABLE
from domain.codec import MsgspecMapper
from projections.apply import BatchApplier, Positioned
from projections.db import CONNECTION_ERRORS, Connection, close, connect
from projections.schema import REBUILT_TABLES

log = logging.getLogger("claimledger.projector")

PROJECTION = "views"
PROJECTED_CHANNEL = "claimledger_projected"
# The eventsourcing library NOTIFYs on a channel named after the event table.
EVENTS_CHANNEL = EVENT_TABLE
_LOCK_KEY = 0x636C_7072  # "clpr": one active projector per database
_LOCK_CHECK_SECONDS = 10.0
# The ranges of the latest batches are kept for inspection; older ones are forgotten.
_BATCHES_KEPT = 10_000

_READ_EVENTS = (
    "SELECT notification_id, originator_id, originator_version, topic, state"  # noqa: S608
    f" FROM {EVENT_SCHEMA}.{EVENT_TABLE} WHERE notification_id > $1"
    " ORDER BY notification_id LIMIT $2"
)

# Called after the views are written and before the commit; tests inject failures here.
Fault = Callable[[int, int], Awaitable[None]]
# Told after each commit: the position reached and, when the batch found nothing left behind it,
# the moment it caught up (what ``views.tracking.caught_up_at`` now says).
OnAdvance = Callable[[int, datetime | None], None]


class Projector:
    """Applies the event store to the views; ``run`` until cancelled."""

    def __init__(
        self,
        url: str,
        *,
        batch_size: int = 500,
        poll_seconds: float = 0.5,
        on_advance: OnAdvance | None = None,
        fault: Fault | None = None,
    ) -> None:
        self.url = url
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.on_advance = on_advance
        self.fault = fault
        self.mapper = MsgspecMapper()
        self.active = False
        self.position = 0
        self.batches: list[tuple[int, int]] = []

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Become the active projector (waiting as standby if another is), then keep up."""
        task_status.started()
        backoff = 1.0
        while True:
            try:
                await self._run_once()
                return
            except CONNECTION_ERRORS as error:
                log.warning("projector lost its database connection (%s); reconnecting", error)
            except Exception:
                # An event the views cannot take stops projection (never skipped), not the API.
                log.exception("projector failed; it retries in %.0f s", backoff)
                backoff = min(backoff * 2, 30.0)
            finally:
                self.active = False
            await anyio.sleep(backoff)

    async def _run_once(self) -> None:
        lock = await connect(self.url)
        work: Connection | None = None
        try:
            await lock.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
            self.active = True
            log.info("projector active")
            work = await connect(self.url)
            wake = anyio.Event()

            def notified(*_: Any) -> None:
                wake.set()

            await lock.add_listener(EVENTS_CHANNEL, notified)
            checked = anyio.current_time()
            while True:
                await self.catch_up(work)
                with anyio.move_on_after(self.poll_seconds):
                    await wake.wait()
                wake = anyio.Event()
                if anyio.current_time() - checked > _LOCK_CHECK_SECONDS:
                    # Holding the lock means holding this connection: make sure it still lives.
                    await lock.fetchval("SELECT 1", timeout=5)
                    checked = anyio.current_time()
        finally:
            if work is not None:
                await close(work)
            await close(lock)

    async def catch_up(self, connection: Connection) -> int:
        """Apply batches until the store has nothing new; the number of events applied."""
        applied = 0
        while True:
            count = await self.apply_batch(connection)
            applied += count
            if count < self.batch_size:
                return applied

    async def apply_batch(self, connection: Connection) -> int:
        """One transaction: the next batch of events, applied to the views."""
        async with connection.transaction():
            start = await connection.fetchval(
                "SELECT position FROM views.tracking WHERE projection = $1 FOR UPDATE", PROJECTION
            )
            rows = await connection.fetch(_READ_EVENTS, start, self.batch_size)
            caught_up_at: datetime | None = None
            if len(rows) < self.batch_size:
                # Nothing committed before this read is left behind: the horizon moves.
                caught_up_at = await connection.fetchval(
                    "UPDATE views.tracking SET caught_up_at = statement_timestamp()"
                    " WHERE projection = $1 RETURNING caught_up_at",
                    PROJECTION,
                )
            if not rows:
                self._advanced(start, caught_up_at)
                return 0
            events = [
                Positioned(
                    row["notification_id"],
                    self.mapper.to_domain_event(
                        StoredEvent(
                            originator_id=row["originator_id"],
                            originator_version=row["originator_version"],
                            topic=row["topic"],
                            state=row["state"],
                        )
                    ),
                )
                for row in rows
            ]
            await BatchApplier(connection, events).apply()
            end = rows[-1]["notification_id"]
            if self.fault is not None:
                await self.fault(start, end)
            await connection.execute(
                "UPDATE views.tracking SET position = $2, updated_at = now() WHERE projection = $1",
                PROJECTION,
                end,
            )
            await connection.execute("SELECT pg_notify($1, $2)", PROJECTED_CHANNEL, str(end))
        self.batches.append((start, end))
        if len(self.batches) > _BATCHES_KEPT:
            del self.batches[: _BATCHES_KEPT // 2]
        self._advanced(end, caught_up_at)
        return len(rows)

    def _advanced(self, position: int, caught_up_at: datetime | None) -> None:
        self.position = position
        if self.on_advance is not None:
            self.on_advance(position, caught_up_at)


async def reset_views(connection: Connection) -> None:
    """Empty every view and move the projection back to position 0, in one transaction.

    A running projector's next batch waits on the tracking row, then starts again from 0.
    """
    async with connection.transaction():
        await connection.execute(
            "SELECT position FROM views.tracking WHERE projection = $1 FOR UPDATE", PROJECTION
        )
        await connection.execute(f"TRUNCATE {', '.join(REBUILT_TABLES)}")
        await connection.execute(
            "UPDATE views.tracking SET position = 0, caught_up_at = NULL, updated_at = now()"
            " WHERE projection = $1",
            PROJECTION,
        )
        # Position 0 tells the API's watchers that the views went back: see PositionWatcher.
        await connection.execute("SELECT pg_notify($1, '0')", PROJECTED_CHANNEL)


async def head_position(connection: Connection) -> int:
    """The position of the newest event in the store (0 when it is empty)."""
    head = await connection.fetchval(
        f"SELECT coalesce(max(notification_id), 0) FROM {EVENT_SCHEMA}.{EVENT_TABLE}"  # noqa: S608
    )
    assert isinstance(head, int)
    return head


async def projected_position(connection: Connection) -> int:
    position = await connection.fetchval(
        "SELECT position FROM views.tracking WHERE projection = $1", PROJECTION
    )
    assert isinstance(position, int)
    return position


async def try_lock(connection: Connection) -> bool:
    """Take the active projector's lock if nobody holds it."""
    taken = await connection.fetchval("SELECT pg_try_advisory_lock($1)", _LOCK_KEY)
    return bool(taken)
