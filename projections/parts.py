"""Replaying the store into empty views in several processes at once, split by incident.

Used by ``rebuild`` with more than one worker, and by a projector that finds the views at
position 0 with a long ledger behind them (a first start on an imported ledger, or after the
views were reset). Each part is ``projections.partition`` in a process of its own, holding all
the claims of its share in memory; the caller holds the projector's lock throughout.

What keeps a replay from leaving views that do not match their position:

- a part writes only while the connection that started it holds the projector's lock, checked
  in each of its transactions after taking the tracking row ``FOR KEY SHARE`` (a reset, which
  locks the row for update, waits for the part's transaction): a part whose caller died stops
  instead of writing into views a new projector has emptied;
- the position moves to the head in one transaction that finds it still at 0, the lock still
  held by the same connection, and the tracking row as the replay last left it (its version,
  ``xmin``: a reset of the views meanwhile, or anything else that wrote the row, fails the
  replay, and the caller starts again from position 0).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio
from anyio.streams.text import TextReceiveStream

from claimledger.projections.deferred_indexes import restore, set_aside
from claimledger.projections.schema import REBUILT_TABLES
from claimledger.projections.tracking import LOCK_KEY, PROJECTION, empty_views_at_0, move_position
from claimledger.store.db import CONNECTION_ERRORS, Connection, close, connect

log = logging.getLogger("claimledger.projector")

Progress = Callable[[int, int], None]

# Statements' worth of claim states a rebuild by one worker keeps (about 1 kB each): a rebuild
# is a command of its own, with no server's memory bound to share.
REBUILD_FACTS_KEPT = 500_000
# How often a replay that advanced says so (see ``replay_in_parts``).
BEAT_SECONDS = 5.0

# Who holds the projector's lock in this database (a bigint key below 2^32 is shown as objid,
# objsubid 1).
_HOLDER = (
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = $1::oid"
    " AND objsubid = 1 AND granted"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)
_HELD_BY = """
SELECT EXISTS (
    SELECT FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = $1::oid
    AND objsubid = 1 AND granted AND pid = $2
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
)
"""
# The tracking row's version: it changes with every update of the row (not with a row lock).
_VERSION = "SELECT xmin::text AS version FROM views.tracking WHERE projection = $1"
_BEAT = "UPDATE views.tracking SET updated_at = now() WHERE projection = $1 RETURNING xmin::text"


class ReplayInterrupted(RuntimeError):
    """The views were reset, or the lock lost, while a replay ran; it must start again."""


async def lock_holder(db: Connection) -> int:
    """The server process id of the connection that holds the projector's lock."""
    pid = await db.fetchval(_HOLDER, LOCK_KEY)
    if not isinstance(pid, int):
        raise RuntimeError("nobody holds the projector's lock")
    return pid


async def still_held_by(db: Connection, owner: int) -> bool:
    """In a transaction: whether ``owner`` still holds the projector's lock, with the tracking
    row held until the transaction ends (a reset of the views, which locks it for update, waits
    for it; the replay's beat, which changes no key, does not). The row is locked first, in a
    statement of its own: a check made before a wait for the row would be stale after it."""
    await db.execute("SELECT FROM views.tracking WHERE projection = $1 FOR KEY SHARE", PROJECTION)
    held = await db.fetchval(_HELD_BY, LOCK_KEY, owner)
    return bool(held)


@dataclass
class _Watch:
    """How far the replay went, and the version of the tracking row it last wrote."""

    version: str
    moved: int = 0  # bumped by every step forward


async def replay_in_parts(
    url: str,
    db: Connection,
    head: int,
    *,
    parts: int,
    batch_size: int,
    report: Progress,
    beat_seconds: float = BEAT_SECONDS,
) -> None:
    """Apply the events up to ``head`` to the views (at position 0, emptied first of what a
    replay that died left there) in ``parts`` processes, with the secondary indexes set aside
    meanwhile, then ``after_replay``, and move the position to ``head``: the views are ready
    for reads when it says so. Fails (and leaves the position at 0) if any part fails, or with
    ``ReplayInterrupted``.

    The caller holds the projector's lock. While the parts advance, the tracking row's
    ``updated_at`` moves every ``beat_seconds``: ``/ready`` tells a replay under way (lagging)
    from one that stands still (stuck)."""
    await empty_views_at_0(db)
    owner = await lock_holder(db)
    watch = _Watch(await db.fetchval(_VERSION, PROJECTION))
    failure: Exception | None = None
    async with anyio.create_task_group() as beating:
        beating.start_soon(_beat, url, watch, beat_seconds)
        try:
            await _replay(url, db, head, parts, batch_size, owner, watch, report)
        except Exception as error:  # raised below, not wrapped in the task group's
            failure = error
        beating.cancel_scope.cancel()
    if failure is not None:
        raise failure
    async with db.transaction():
        row = await db.fetchrow(f"{_VERSION} FOR UPDATE", PROJECTION)
        assert row is not None  # made by the migrations
        if row["version"] != watch.version or not await still_held_by(db, owner):
            raise ReplayInterrupted(
                "the views were reset, or the lock lost, while the replay ran; it starts again"
            )
        await move_position(db, head)


async def _beat(url: str, watch: _Watch, every: float) -> None:
    """Move ``updated_at`` while the replay advances; only a report, so a failure stops it."""
    try:
        db = await connect(url)
    except CONNECTION_ERRORS:
        log.warning("a replay cannot report that it is under way", exc_info=True)
        return
    try:
        said = watch.moved
        while True:
            await anyio.sleep(every)
            if watch.moved != said:
                said = watch.moved
                # Not cut short: the version it writes is the one the end expects.
                with anyio.CancelScope(shield=True):
                    watch.version = await db.fetchval(_BEAT, PROJECTION)
    except Exception:
        log.warning("a replay stops reporting that it is under way", exc_info=True)
    finally:
        await close(db)


async def _replay(
    url: str,
    db: Connection,
    head: int,
    parts: int,
    batch_size: int,
    owner: int,
    watch: _Watch,
    report: Progress,
) -> None:
    began = time.perf_counter()
    await set_aside(db)
    reached = [0] * parts
    failures: list[str] = []

    async def run(part: int) -> None:
        try:
            await run_part(part)
        except Exception as error:  # told below with the others, not in an ExceptionGroup
            failures.append(f"part {part} of the replay failed: {error}")

    async def run_part(part: int) -> None:
        command = [sys.executable, "-m", "claimledger.projections.partition", url]
        command += [str(n) for n in (part, parts, head, batch_size, owner)]
        async with await anyio.open_process(command, stderr=None) as process:
            assert process.stdout is not None
            pending = ""
            async for chunk in TextReceiveStream(process.stdout):
                *lines, pending = (pending + chunk).split("\n")
                for line in filter(None, lines):
                    reached[part] = int(line)
                    watch.moved += 1
                report(min(reached), head)
            if await process.wait() != 0:
                failures.append(f"part {part} of the replay exited with {process.returncode}")

    async with anyio.create_task_group() as group:
        for part in range(parts):
            group.start_soon(run, part)
    if failures:
        raise RuntimeError("; ".join(failures))
    replayed = time.perf_counter()
    log.info("replayed the events in %.1f s; building the indexes set aside", replayed - began)
    watch.moved += 1
    await after_replay(url, db)
    log.info("indexes built and views analyzed in %.1f s", time.perf_counter() - replayed)


async def after_replay(url: str, db: Connection) -> None:
    """Build the indexes set aside, then take the views' statistics again and mark their pages
    all-visible, rather than leave it to autovacuum's next round.

    Every row is new: the planner's statistics (and search's, ``search_plan``) are all out of
    date. VACUUM comes after ``restore``, whose commits are synchronous: they put the replay's
    commits (which were not) on disk first, and only then may VACUUM mark their pages."""
    await restore(url)
    await db.execute(f"VACUUM (ANALYZE) {', '.join(REBUILT_TABLES)}")
