"""The log's worker: grows the tree as events arrive and signs checkpoints when they are due.

One per database is active (an advisory lock; others wait as standby), woken by the event
table's NOTIFY like the projector. It runs beside the projector, in the projector's process.
"""

from __future__ import annotations

from claimledger.store.db import Connection
from claimledger.store.following import follow_events
from claimledger.transparency.signer import CheckpointSigner
from claimledger.transparency.tree import TreeBuilder

_LOCK_KEY = 0x636C_746C  # "cltl": one active log worker per database


class LogWorker:
    """Keeps the tree up with the event table and signs its checkpoints."""

    def __init__(self, url: str, signer: CheckpointSigner, *, poll_seconds: float = 0.5) -> None:
        self.url = url
        self.signer = signer
        self.builder = TreeBuilder()
        self.poll_seconds = poll_seconds
        self.active = False
        self._published = False

    async def step(self, connection: Connection) -> None:
        """Catch the tree up, then sign a checkpoint if one is due."""
        if not self._published:
            await self.signer.publish(connection)
            self._published = True
        await self.builder.catch_up(connection)
        await self.signer.sign_if_due(connection)

    async def run(self) -> None:
        """Become the active log worker (waiting as standby if another is), then keep up until
        cancelled; failures end it (its supervisor starts it again)."""
        # Wake at least once per signing interval, so a due checkpoint waits no longer.
        pause = min(self.poll_seconds * 4, self.signer.interval.total_seconds())
        await follow_events(self.url, _LOCK_KEY, self.step, pause=pause, on_active=self._active)

    def _active(self, active: bool) -> None:
        self.active = active
        self._published = False
