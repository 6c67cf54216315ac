"""The log's worker: grows the tree as events arrive and signs checkpoints when they are due.

One per database is active (an advisory lock; others wait as standby), woken by the event
table's NOTIFY like the projector. It runs beside the projector, in the projector's process.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio

from claimledger.store.db import Connection, close, connect
from claimledger.store.events import EVENTS_CHANNEL
from claimledger.transparency.signer import CheckpointSigner
from claimledger.transparency.tree import TreeBuilder

log = logging.getLogger("claimledger.transparency")

_LOCK_KEY = 0x636C_746C  # "cltl": one active log worker per database
_LOCK_CHECK_SECONDS = 10.0


class LogWorker:
    """Keeps the tree up with the event table and signs its checkpoints."""

    def __init__(self, url: str, signer: CheckpointSigner, *, poll_seconds: float = 0.5) -> None:
        self.url = url
        self.signer = signer
        self.builder = TreeBuilder()
        self.poll_seconds = poll_seconds
        self.active = False

    async def step(self, connection: Connection) -> None:
        """Catch the tree up, then sign a checkpoint if one is due."""
        await self.builder.catch_up(connection)
        await self.signer.sign_if_due(connection)

    async def run(self) -> None:
        """Become the active log worker (waiting as standby if another is), then keep up until
        cancelled; failures end it (its supervisor starts it again)."""
        lock = await connect(self.url)
        work: Connection | None = None
        try:
            await lock.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
            self.active = True
            work = await connect(self.url)
            wake = anyio.Event()

            def notified(*_: Any) -> None:
                wake.set()

            await lock.add_listener(EVENTS_CHANNEL, notified)
            checked = anyio.current_time()
            # Wake at least once per signing interval, so a due checkpoint waits no longer.
            pause = min(self.poll_seconds * 4, self.signer.interval.total_seconds())
            while True:
                await self.step(work)
                with anyio.move_on_after(pause):
                    await wake.wait()
                wake = anyio.Event()
                if anyio.current_time() - checked > _LOCK_CHECK_SECONDS:
                    await lock.fetchval("SELECT 1", timeout=5)
                    checked = anyio.current_time()
        finally:
            self.active = False
            if work is not None:
                await close(work)
            await close(lock)
