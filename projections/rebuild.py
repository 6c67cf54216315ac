"""Rebuilding the views from position 0, with progress reported as it goes.

With ``workers`` above one, the incidents are split among that many processes
(``projections.partition``), each applying its own incidents' events; the position is set to
the head once all are done. The views are the same as one worker's (a test compares them).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import anyio

from claimledger.projections.deferred_indexes import set_aside
from claimledger.projections.parts import (
    REBUILD_FACTS_KEPT,
    Progress,
    after_replay,
    replay_in_parts,
)
from claimledger.projections.projector import Projector
from claimledger.projections.tracking import (
    projected_position,
    reset_views,
    try_lock,
)
from claimledger.store.db import Connection, close, connect
from claimledger.store.events import head_position


@dataclass(frozen=True, slots=True)
class Rebuilt:
    events: int
    seconds: float
    by_this_process: bool


async def rebuild(
    url: str, *, batch_size: int = 5000, workers: int = 1, progress: Progress | None = None
) -> Rebuilt:
    """Empty the views and replay the event store into them.

    When no projector is running this process replays; otherwise the active projector does,
    and this follows it until it has passed the head the store had when the rebuild began. If
    that projector stops before (its lock comes free), this process goes on from where it was.
    """
    report = progress or (lambda done, total: None)
    started = time.monotonic()
    lock = await connect(url)
    work = await connect(url)
    try:
        head = await head_position(work)
        await reset_views(work)
        report(0, head)
        while not (mine := await try_lock(lock)):
            done = await projected_position(work)
            report(done, head)
            if done >= head:
                break
            await anyio.sleep(0.5)
        if mine:
            await _replay(url, work, head, workers, batch_size, report)
        report(head, head)
    finally:
        await close(work)
        await close(lock)
    return Rebuilt(events=head, seconds=time.monotonic() - started, by_this_process=mine)


async def _replay(
    url: str, work: Connection, head: int, workers: int, batch_size: int, report: Progress
) -> None:
    """With the lock: in parts from position 0, else in this process from the position."""
    if workers > 1 and await projected_position(work) == 0:
        await replay_in_parts(url, work, head, parts=workers, batch_size=batch_size, report=report)
    else:
        await _in_one(url, work, head, batch_size, report)
        await after_replay(url, work)


async def _in_one(url: str, work: Connection, head: int, batch_size: int, report: Progress) -> None:
    """The replay in this process, its indexes set aside meanwhile."""
    await set_aside(work)
    projector = Projector(url, batch_size=batch_size, facts_kept=REBUILD_FACTS_KEPT)
    # A rebuild that dies is run again: its batches need not wait for the disk.
    await work.execute("SET synchronous_commit = off")
    while True:
        await projector.apply_batch(work)
        report(min(projector.position, head), head)
        if not projector.behind:
            break
    await work.execute("SET synchronous_commit = on")


def default_workers() -> int:
    """One rebuild process per core, up to four."""
    return max(1, min(4, os.cpu_count() or 1))
