"""Replaying the store into empty views in several processes at once, split by incident.

Used by ``rebuild`` with more than one worker, and by a projector that finds the views at
position 0 with a long ledger behind them (a first start on an imported ledger, or after the
views were reset). Each part is ``projections.partition`` in a process of its own; the caller
holds the projector's lock throughout and moves the position once every part is done.

A part writes only while the lock's holder at its start still holds it, and checks so in each
of its transactions, holding the tracking row against a reset meanwhile: a part whose caller
died cannot write into views that a new projector has emptied for a replay of its own.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable

import anyio
from anyio.streams.text import TextReceiveStream

from claimledger.projections.deferred_indexes import restore, set_aside
from claimledger.projections.schema import REBUILT_TABLES
from claimledger.projections.tracking import LOCK_KEY, PROJECTION
from claimledger.store.db import CONNECTION_ERRORS, Connection, close, connect

log = logging.getLogger("claimledger.projector")

Progress = Callable[[int, int], None]

# Statements' worth of claim states a part of a replay keeps (about 1 kB each): enough for a
# part's share of a ledger of a million statements or two, since reading claims back costs
# more than the rest of a replay. A rebuild is a command of its own, with no server's memory
# bound to share; a server replays in parts only when told to.
REBUILD_FACTS_KEPT = 1_000_000
# How often a replay under way says so (see ``replay_in_parts``).
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
FROM views.tracking WHERE projection = 'views' FOR KEY SHARE
"""


async def lock_holder(db: Connection) -> int:
    """The server process id of the connection that holds the projector's lock."""
    pid = await db.fetchval(_HOLDER, LOCK_KEY)
    if not isinstance(pid, int):
        raise RuntimeError("nobody holds the projector's lock")
    return pid


async def still_held_by(db: Connection, owner: int) -> bool:
    """In a transaction: whether ``owner`` still holds the projector's lock, with the tracking
    row held until the transaction ends (a reset of the views, which locks it for update, waits
    for it; the replay's beat, which changes no key, does not)."""
    held = await db.fetchval(_HELD_BY, LOCK_KEY, owner)
    return bool(held)


async def replay_in_parts(
    url: str,
    db: Connection,
    head: int,
    *,
    parts: int,
    batch_size: int,
    facts_kept: int,
    report: Progress,
    beat_seconds: float = BEAT_SECONDS,
) -> None:
    """Apply the events up to ``head`` to the views (empty, at position 0) in ``parts``
    processes, with the secondary indexes set aside meanwhile; fail if any part fails. Then
    ``after_replay``: the views are ready for reads when this returns.

    The caller holds the projector's lock and moves the position to ``head`` after. Meanwhile
    the tracking row's ``updated_at`` moves every ``beat_seconds``: ``/ready`` tells a replay
    under way (lagging) from a projector that stands still (stuck)."""
    async with anyio.create_task_group() as beating:
        beating.start_soon(_beat, url, beat_seconds)
        await _replay(url, db, head, parts, batch_size, facts_kept, report)
        beating.cancel_scope.cancel()


async def _beat(url: str, every: float) -> None:
    """Only a report: a beat that fails stops beating, and the replay goes on."""
    try:
        db = await connect(url)
    except CONNECTION_ERRORS:
        log.warning("the replay cannot report that it is under way", exc_info=True)
        return
    try:
        while True:
            await anyio.sleep(every)
            await db.execute(
                "UPDATE views.tracking SET updated_at = now() WHERE projection = $1", PROJECTION
            )
    except Exception:
        log.warning("the replay stops reporting that it is under way", exc_info=True)
    finally:
        await close(db)


async def _replay(
    url: str,
    db: Connection,
    head: int,
    parts: int,
    batch_size: int,
    facts_kept: int,
    report: Progress,
) -> None:
    began = time.perf_counter()
    owner = await lock_holder(db)
    await set_aside(db)
    reached = [0] * parts
    failures: list[str] = []

    async def run(part: int) -> None:
        command = [sys.executable, "-m", "claimledger.projections.partition", url]
        command += [str(n) for n in (part, parts, head, batch_size, owner, facts_kept)]
        async with await anyio.open_process(command, stderr=None) as process:
            assert process.stdout is not None
            pending = ""
            async for chunk in TextReceiveStream(process.stdout):
                *lines, pending = (pending + chunk).split("\n")
                for line in filter(None, lines):
                    reached[part] = int(line)
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
