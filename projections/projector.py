"""The projector: tails the event store by position and keeps the views, exactly once.

Each batch is one transaction that locks the tracking row, reads the events after its position,
writes the views and the outbox, and moves the position: a batch commits whole or not at all, and
two projectors can never apply the same events (the second waits on the row and then starts from
where the first left off). An advisory lock keeps one projector active per database; others wait
as standbys. The projector wakes on the store's NOTIFY and polls as well, since a LISTEN connection
can die without telling anyone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import anyio
from anyio.abc import TaskStatus

from claimledger.projections import garbage
from claimledger.projections.batch import Positioned, apply_batch
from claimledger.projections.decoding import EventDecoder
from claimledger.projections.memory import FACTS_KEPT, RECALLED_MOST, Memory
from claimledger.projections.parts import replay_in_parts
from claimledger.projections.skipped import describe, error_text, record_skipped
from claimledger.projections.tracking import (
    LOCK_KEY,
    PROJECTION,
    empty_views_at_0,
    move_position,
    projected_position,
)
from claimledger.store.db import CONNECTION_ERRORS, Connection, close, connect, is_deterministic
from claimledger.store.events import EVENTS_AFTER, head_position
from claimledger.store.following import follow_events
from claimledger.store.metrics import (
    PROJECTOR_ACTIVE,
    PROJECTOR_BATCH_SECONDS,
    PROJECTOR_EVENTS,
    PROJECTOR_POSITION,
    PROJECTOR_SKIPPED,
)

log = logging.getLogger("claimledger.projector")

# The ranges of the latest batches are kept for inspection; older ones are forgotten.
_BATCHES_KEPT = 10_000

_MAX_BACKOFF = 30.0
# A projector that starts from position 0 replays in parts only a ledger this long at least:
# starting processes and building the indexes again cost a few seconds.
REPLAY_FROM = 100_000
# How soon a worker tries its database again after losing it.
RECONNECT_SECONDS = 0.5


# Called after the views are written and before the commit; tests inject failures here.
Fault = Callable[[int, int], Awaitable[None]]
# Told after each commit: the position reached and, when the batch found nothing left behind it,
# the moment it caught up (what ``views.tracking.caught_up_at`` now says).
OnAdvance = Callable[[int, datetime | None], None]


class ProjectionStuck(Exception):
    """An event the projector cannot apply now; the message names it."""


class Projector:
    """Applies the event store to the views; ``run`` until cancelled."""

    def __init__(
        self,
        url: str,
        *,
        batch_size: int = 5000,
        poll_seconds: float = 0.5,
        on_advance: OnAdvance | None = None,
        fault: Fault | None = None,
        facts_kept: int = FACTS_KEPT,
        recalled_most: int = RECALLED_MOST,
        replay_parts: int = 1,
        replay_from: int = REPLAY_FROM,
    ) -> None:
        self.url = url
        self.replay_parts = replay_parts
        self.replay_from = replay_from
        self.batch_size = batch_size
        self.memory = Memory(facts_kept=facts_kept)
        self.recalled_most = recalled_most
        self.poll_seconds = poll_seconds
        self.on_advance = on_advance
        self.fault = fault
        self.decoder = EventDecoder()
        self.active = False
        self.position = 0
        # Whether the last batch may have left events after it (it was full, or cut short).
        self.behind = True
        # The events a batch cut short left, and the position they follow.
        self._rest: list[Positioned] = []
        self._rest_after = 0
        self.batches: list[tuple[int, int]] = []
        # The error that keeps the projector from advancing, while it does.
        self.error: str | None = None

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Become the active projector (waiting as standby if another is), then keep up.

        Nothing it meets ends it: a lost database is reconnected to within a second of its
        return, and any other failure is logged, recorded for ``/ready`` and retried after a
        pause that grows while the projector does not advance.
        """
        task_status.started()
        failures = 0
        while True:
            before = self.position
            try:
                await self._run_once()
            except CONNECTION_ERRORS as error:
                log.warning("projector lost its database connection (%s); reconnecting", error)
                self.error = error_text(error)
                pause = RECONNECT_SECONDS
            except Exception as error:
                failures = 0 if self.position != before else failures + 1
                pause = min(RECONNECT_SECONDS * 2**failures, _MAX_BACKOFF)
                log.exception(
                    "projector stopped at position %d; it retries in %.1f s", self.position, pause
                )
                self.error = error_text(error)
                await self._record_error(error)
            await anyio.sleep(pause)

    async def _record_error(self, error: BaseException) -> None:
        """Tell other processes (``/ready``) why the projector does not advance."""
        try:
            connection = await connect(self.url)
        except CONNECTION_ERRORS:
            return
        try:
            await connection.execute(
                "UPDATE views.tracking SET last_error = $2, last_error_at = now()"
                " WHERE projection = $1",
                PROJECTION,
                error_text(error),
            )
        except Exception:  # only a report: the projector retries regardless
            log.warning("could not record the projector's error", exc_info=True)
        finally:
            await close(connection)

    async def _run_once(self) -> None:
        await follow_events(
            self.url, LOCK_KEY, self.catch_up, pause=self.poll_seconds, on_active=self._active
        )

    def _active(self, active: bool) -> None:
        self.active = active
        PROJECTOR_ACTIVE.set(int(active))
        if active:
            log.info("projector active")

    async def catch_up(self, connection: Connection) -> int:
        """Apply batches until the store has nothing new; the number of events applied.

        Starting from position 0, it first empties what a replay in parts that died left in the
        views; with at least ``replay_from`` events in the store and ``replay_parts`` above one,
        the events up to the head are then replayed in that many processes
        (``projections.parts``), as a rebuild does."""
        applied = await self._from_zero(connection) if self.position == 0 else 0
        while True:
            applied += await self.apply_batch(connection)
            if not self.behind:
                return applied

    async def _from_zero(self, connection: Connection) -> int:
        """At position 0: replay a long ledger in parts when told to; either way, empty first
        what a replay that died left in the views."""
        if await projected_position(connection) != 0:
            return 0
        head = await head_position(connection)
        if head == 0:
            return 0
        if self.replay_parts < 2 or head < self.replay_from:
            try:
                await empty_views_at_0(connection)
            except CONNECTION_ERRORS:
                raise
            except Exception as error:
                # Views the batches cannot write either: their failure will name the event.
                log.warning("could not look for rows left at position 0 (%s)", error_text(error))
            return 0
        log.info("replaying %d events in %d processes", head, self.replay_parts)
        began = time.perf_counter()
        await replay_in_parts(
            self.url,
            connection,
            head,
            parts=self.replay_parts,
            batch_size=self.batch_size,
            report=lambda done, total: PROJECTOR_POSITION.set(done),
        )
        PROJECTOR_EVENTS.inc(head)
        log.info("replayed %d events in %.1f s", head, time.perf_counter() - began)
        self.memory.forget()
        self._rest = []
        self._advanced(head, None)
        return head

    async def apply_batch(self, connection: Connection) -> int:
        """The next batch of events, applied to the views in one transaction; how many.

        When a batch fails (but for a lost connection), its events are applied one by one to
        find the one at fault. An event that fails for a reason that would fail it again (data
        the views cannot take, an error of our own code) is set aside in
        ``views.skipped_events`` and logged, so that it never stops the ledger; one that fails
        otherwise (the server refuses for now) stops the projector there, named in the error.
        """
        try:
            return await self._batch(connection)
        finally:
            garbage.between_batches()

    async def _batch(self, connection: Connection) -> int:
        try:
            return await self._apply(connection, self.batch_size)
        except CONNECTION_ERRORS:
            raise
        except Exception as error:
            log.warning("a batch of events failed (%s); applying them one by one", error)
        applied = 0
        while applied < self.batch_size:
            try:
                count = await self._apply(connection, 1)
            except CONNECTION_ERRORS:
                raise
            except Exception as error:
                row = await connection.fetchrow(
                    EVENTS_AFTER, await projected_position(connection), 1
                )
                if row is None:
                    raise
                event = describe(row)
                if not is_deterministic(error):
                    raise ProjectionStuck(f"cannot apply {event}: {error_text(error)}") from error
                count = await self._skip(connection, row, error)
            if count == 0:
                break
            applied += count
        return applied

    async def _skip(self, connection: Connection, row: Any, error: BaseException) -> int:
        """Set an event aside: record why, and move the position past it."""
        position = row["notification_id"]
        async with connection.transaction():
            start = await connection.fetchval(
                "SELECT position FROM views.tracking WHERE projection = $1 FOR UPDATE", PROJECTION
            )
            if start >= position:
                return 0
            await record_skipped(connection, row, error)
            await move_position(connection, position)
        PROJECTOR_SKIPPED.inc()
        if self.memory.position == start:
            # Setting an event aside changed no state memory holds.
            self.memory.position = position
        self._advanced(position, None)
        return 1

    async def _apply(self, connection: Connection, limit: int) -> int:
        """One transaction: up to ``limit`` events after the position, applied to the views."""
        try:
            return await self._apply_once(connection, limit)
        except BaseException:
            # The batch changed the states memory holds, and they were not written.
            self.memory.forget()
            self._rest = []
            raise

    async def _apply_once(self, connection: Connection, limit: int) -> int:
        began = time.perf_counter()
        async with connection.transaction():
            tracking = await connection.fetchrow(
                "SELECT position, statement_timestamp() AS locked_at FROM views.tracking"
                " WHERE projection = $1 FOR UPDATE",
                PROJECTION,
            )
            assert tracking is not None  # made by the migrations
            start, locked_at = tracking["position"], tracking["locked_at"]
            self.memory.valid_at(start)
            events, caught_up_at = await self._events(connection, start, locked_at, limit)
            if not events:
                await connection.execute(
                    "UPDATE views.tracking SET caught_up_at = $2 WHERE projection = $1",
                    PROJECTION,
                    caught_up_at,
                )
                self._advanced(start, caught_up_at)
                return 0
            await apply_batch(connection, self.memory, events)
            end = events[-1].position
            if self.fault is not None:
                await self.fault(start, end)
            await move_position(connection, end, caught_up_at=caught_up_at)
        PROJECTOR_BATCH_SECONDS.observe(time.perf_counter() - began)
        PROJECTOR_EVENTS.inc(len(events))
        self.memory.position = end
        self.memory.trim()
        self.batches.append((start, end))
        if len(self.batches) > _BATCHES_KEPT:
            del self.batches[: _BATCHES_KEPT // 2]
        self._advanced(end, caught_up_at)
        return len(events)

    async def _events(
        self, connection: Connection, start: int, locked_at: datetime, limit: int
    ) -> tuple[list[Positioned], datetime | None]:
        """Up to ``limit`` events after ``start``, and the moment before which every event
        committed is among them (None when more may follow): the rest of a batch cut short,
        or read from the store."""
        if self._rest and self._rest_after == start:
            candidates, caught_up_at = self._rest, None
        else:
            rows = await connection.fetch(EVENTS_AFTER, start, limit)
            # When the batch is not full, nothing committed before the events were read (nor so
            # before the row was locked, a moment earlier) is left behind: the horizon moves.
            caught_up_at = locked_at if len(rows) < limit else None
            decode = self.decoder.decode
            candidates = [Positioned(r[0], decode(r[1], r[2], r[3], r[4])) for r in rows]
        # Memory's bound holds during a batch too, but for the claims it reads back: a batch
        # that would read back more ends before the event that needs one too many, and the
        # events after it are the next batch's.
        count = min(
            limit, self.memory.reach([item.event for item in candidates], self.recalled_most)
        )
        events, self._rest = candidates[:count], candidates[count:]
        if self._rest:
            self._rest_after = events[-1].position
            caught_up_at = None
        return events, caught_up_at

    def _advanced(self, position: int, caught_up_at: datetime | None) -> None:
        self.position = position
        self.behind = caught_up_at is None
        PROJECTOR_POSITION.set(position)
        self.error = None
        if self.on_advance is not None:
            self.on_advance(position, caught_up_at)
