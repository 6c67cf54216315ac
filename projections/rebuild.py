"""Rebuilding the views from position 0, with progress reported as it goes."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio

from claimledger.projections.projector import (
    Projector,
    projected_position,
    reset_views,
    try_lock,
)
from claimledger.store.db import close, connect
from claimledger.store.events import head_position

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Rebuilt:
    events: int
    seconds: float
    by_this_process: bool


async def rebuild(url: str, *, batch_size: int = 2000, progress: Progress | None = None) -> Rebuilt:
    """Empty the views and replay the event store into them.

    When no projector is running this process replays; otherwise the active projector does,
    and this follows it until it has passed the head the store had when the rebuild began.
    """
    report = progress or (lambda done, total: None)
    started = time.monotonic()
    lock = await connect(url)
    work = await connect(url)
    try:
        head = await head_position(work)
        await reset_views(work)
        report(0, head)
        if await try_lock(lock):
            projector = Projector(url, batch_size=batch_size)
            while True:
                applied = await projector.apply_batch(work)
                report(min(projector.position, head), head)
                if applied < batch_size:
                    break
            mine = True
        else:
            while (done := await projected_position(work)) < head:
                report(done, head)
                await anyio.sleep(0.5)
            mine = False
        report(head, head)
    finally:
        await close(work)
        await close(lock)
    return Rebuilt(events=head, seconds=time.monotonic() - started, by_this_process=mine)
