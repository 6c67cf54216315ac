"""Following the event table as the one active worker of a kind per database.

The projector and the transparency log's worker both hold an advisory lock (the others wait as
standby), wake on the event table's NOTIFY or after a pause, and do one step each time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from claimledger.store.db import Connection, close, connect
from claimledger.store.events import EVENTS_CHANNEL

_LOCK_CHECK_SECONDS = 10.0


async def follow_events(
    url: str,
    lock_key: int,
    step: Callable[[Connection], Awaitable[object]],
    *,
    pause: float,
    on_active: Callable[[bool], None],
) -> None:
    """Take the advisory lock ``lock_key`` (waiting while another holds it), then run ``step``
    on a connection of its own whenever events may have arrived, until cancelled or failed.
    ``on_active`` hears when the lock is held and when it is let go."""
    lock = await connect(url)
    work: Connection | None = None
    try:
        await lock.execute("SELECT pg_advisory_lock($1)", lock_key)
        on_active(True)
        work = await connect(url)
        wake = anyio.Event()

        def notified(*_: Any) -> None:
            wake.set()

        await lock.add_listener(EVENTS_CHANNEL, notified)
        checked = anyio.current_time()
        while True:
            await step(work)
            with anyio.move_on_after(pause):
                await wake.wait()
            wake = anyio.Event()
            if anyio.current_time() - checked > _LOCK_CHECK_SECONDS:
                # Holding the lock means holding this connection: make sure it still lives.
                await lock.fetchval("SELECT 1", timeout=5)
                checked = anyio.current_time()
    finally:
        on_active(False)
        if work is not None:
            await close(work)
        await close(lock)
