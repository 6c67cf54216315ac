"""How far the projector has got, as the API sees it: for ``min_position`` waits and headers.

Each database the API reads from has its own watcher, which reads that database's own tracking
row: an answer's position and settled horizon are those of the rows it was read from. The watcher
also notices when its database is gone and when it is back.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import anyio
from anyio.abc import TaskStatus

from claimledger.projections.projector import RECONNECT_SECONDS
from claimledger.projections.tracking import PROJECTED_CHANNEL, PROJECTION
from claimledger.store.db import CONNECTION_ERRORS, close, connect

log = logging.getLogger("claimledger.watcher")

# Told when the database answers again after it was lost.
OnRestored = Callable[[], Awaitable[None]]


class PositionWatcher:
    """Follows the projector's position by NOTIFY, by polling, or by being told in-process.

    ``listen=False`` polls only: a streaming replica cannot LISTEN.
    """

    def __init__(
        self,
        url: str,
        *,
        poll_seconds: float = 0.5,
        settle_seconds: float = 60.0,
        listen: bool = True,
        on_restored: OnRestored | None = None,
    ) -> None:
        self.url = url
        self.poll_seconds = poll_seconds
        self.settle = timedelta(seconds=settle_seconds)
        self.listen = listen
        self.on_restored = on_restored
        self.position = 0
        self.caught_up_at: datetime | None = None
        # Whether the database answered the last poll; None before the first.
        self.available: bool | None = None
        self._waiters: list[tuple[int, anyio.Event]] = []

    @property
    def horizon(self) -> datetime | None:
        """Answers about moments before this can no longer change."""
        if self.caught_up_at is None:
            return None
        return self.caught_up_at - self.settle

    def advance(self, position: int, caught_up_at: datetime | None = None) -> None:
        """The projector is at ``position``: told in-process (in commit order, so it may go back
        to 0 after a rebuild's reset), with the moment it caught up when it did."""
        self.position = position
        if caught_up_at is not None and (
            self.caught_up_at is None or caught_up_at > self.caught_up_at
        ):
            self.caught_up_at = caught_up_at
        still_waiting = []
        for needed, event in self._waiters:
            if needed <= position:
                event.set()
            else:
                still_waiting.append((needed, event))
        self._waiters = still_waiting

    def heard(self, position: int) -> None:
        """A NOTIFY from a projector. It may arrive after the in-process projector has told of a
        later batch, so only 0, which a reset of the views sends, moves the position back."""
        if position == 0:
            self.caught_up_at = None
            self.advance(0)
        elif position > self.position:
            self.advance(position)

    def polled(self, position: int, caught_up_at: datetime | None) -> None:
        """What ``views.tracking`` said. A row read just before a commit that was already told
        in-process is older than what the watcher knows, and is passed over; a lower position
        is taken when the views were reset (not caught up since) or caught up again later than
        the watcher knew (the store itself went back: a restore, a failover)."""
        if (
            position >= self.position
            or caught_up_at is None
            or self.caught_up_at is None
            or caught_up_at > self.caught_up_at
        ):
            self.caught_up_at = caught_up_at
            self.advance(position)

    async def wait_for(self, position: int, within: float) -> bool:
        """Whether the projector has passed ``position`` within ``within`` seconds."""
        if self.position >= position:
            return True
        waiter = (position, anyio.Event())
        self._waiters.append(waiter)
        try:
            with anyio.move_on_after(within):
                await waiter[1].wait()
        finally:
            # A waiter that gave up must not stay behind until the position comes.
            if waiter in self._waiters:
                self._waiters.remove(waiter)
        return self.position >= position

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        while True:
            try:
                await self._follow()
            except CONNECTION_ERRORS as error:
                if self.available is not False:
                    log.warning("lost the database (%s); reconnecting", error)
            except Exception:
                log.exception("position watcher failed; reconnecting")
            self.available = False
            await anyio.sleep(RECONNECT_SECONDS)

    async def _follow(self) -> None:
        connection = await connect(self.url)
        try:
            wake = anyio.Event()

            def notified(_c: Any, _pid: int, _channel: str, payload: object) -> None:
                self.heard(int(str(payload)))
                wake.set()

            if self.listen:
                await connection.add_listener(PROJECTED_CHANNEL, notified)
            await self._poll(connection)
            if self.available is False and self.on_restored is not None:
                log.warning("the database answers again")
                await self.on_restored()
            self.available = True
            while True:
                with anyio.move_on_after(self.poll_seconds):
                    await wake.wait()
                wake = anyio.Event()
                await self._poll(connection)
        finally:
            await close(connection)

    async def _poll(self, connection: Any) -> None:
        row = await connection.fetchrow(
            "SELECT position, caught_up_at FROM views.tracking WHERE projection = $1",
            PROJECTION,
            timeout=5,
        )
        if row is not None:
            self.polled(row["position"], row["caught_up_at"])
