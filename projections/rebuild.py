"""Rebuilding the views from position 0, with progress reported as it goes.

With ``workers`` above one, the incidents are split among that many processes
(``projections.partition``), each applying its own incidents' events; the position is set to
the head once all are done. The views are the same as one worker's (a test compares them).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio
from anyio.streams.text import TextReceiveStream

from claimledger.projections.deferred_indexes import restore, set_aside
from claimledger.projections.partition import REBUILD_FACTS_KEPT
from claimledger.projections.projector import (
    Projector,
    move_position,
    projected_position,
    reset_views,
    try_lock,
)
from claimledger.projections.schema import REBUILT_TABLES
from claimledger.store.db import close, connect
from claimledger.store.events import head_position

Progress = Callable[[int, int], None]


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
            # A rebuild that dies is run again: its batches need not wait for the disk.
            await work.execute("SET synchronous_commit = off")
            await set_aside(work)
            if workers > 1:
                await _in_parts(url, head, workers, batch_size, report)
                async with work.transaction():
                    await work.execute("SET LOCAL synchronous_commit = on")
                    await move_position(work, head)
            else:
                projector = Projector(url, batch_size=batch_size, facts_kept=REBUILD_FACTS_KEPT)
                while True:
                    await projector.apply_batch(work)
                    report(min(projector.position, head), head)
                    if not projector.behind:
                        break
            await restore(url)
            # Every row is new: the planner's statistics (and search's, ``search_plan``) are
            # taken again, and the pages are marked all-visible (index-only scans, and no first
            # read that writes hint bits), rather than left to autovacuum's next round. After
            # ``restore``: its synchronous commit puts the replay's commits on disk first, and
            # only then may VACUUM mark their pages.
            await work.execute(f"VACUUM (ANALYZE) {', '.join(REBUILT_TABLES)}")
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


def default_workers() -> int:
    """One rebuild process per core, up to four."""
    return max(1, min(4, os.cpu_count() or 1))


async def _in_parts(url: str, head: int, parts: int, batch_size: int, report: Progress) -> None:
    """Run every part in a process of its own; fail if any fails."""
    reached = [0] * parts
    failures: list[str] = []

    async def run(part: int) -> None:
        command = [sys.executable, "-m", "claimledger.projections.partition"]
        command += [url, str(part), str(parts), str(head), str(batch_size)]
        async with await anyio.open_process(command, stderr=None) as process:
            assert process.stdout is not None
            pending = ""
            async for chunk in TextReceiveStream(process.stdout):
                *lines, pending = (pending + chunk).split("\n")
                for line in filter(None, lines):
                    reached[part] = int(line)
                report(min(reached), head)
            if await process.wait() != 0:
                failures.append(f"part {part} of the rebuild exited with {process.returncode}")

    async with anyio.create_task_group() as group:
        for part in range(parts):
            group.start_soon(run, part)
    if failures:
        raise RuntimeError("; ".join(failures))
