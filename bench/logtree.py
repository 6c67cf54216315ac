"""The transparency log in the bench: its tree built from position 0, and proofs to ask for.

``python -m bench.logtree`` with a job (JSON) on standard input: ``url`` (the run's database). With
no server running, it empties the tree if it has leaves already (a ``serve`` whose log worker grew
it), then times ``TreeBuilder().catch_up`` on one connection, as the log worker grows it: from
position 0 to the event table's head, a batch of 10,000 events per transaction. It prints one
JSON result: the leaves it added, how long they took, and whether it emptied the tree first.
"""

from __future__ import annotations

import random
import time
from typing import Any

import anyio

from bench.jobs import answer_job
from claimledger.store.db import close, connect
from claimledger.transparency.tree import TreeBuilder

# The tree and everything derived from it, back to an empty log that has seen no event.
EMPTY_THE_TREE = (
    "TRUNCATE transparency.leaves, transparency.nodes, transparency.checkpoints;"
    " UPDATE transparency.tree SET size = 0, position = 0, refusal = NULL, refused_at = NULL"
)


async def _catch_up(url: str) -> dict[str, Any]:
    connection = await connect(url)
    try:
        found = int(await connection.fetchval("SELECT size FROM transparency.tree"))
        if found:
            await connection.execute(EMPTY_THE_TREE)
        started = time.perf_counter()
        added = await TreeBuilder().catch_up(connection)
        seconds = time.perf_counter() - started
        size = int(await connection.fetchval("SELECT size FROM transparency.tree"))
    finally:
        await close(connection)
    return {
        "events": added,
        "seconds": seconds,
        "events_per_s": added / seconds if seconds else None,
        "size": size,
        "emptied": found,
    }


def run(job: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = anyio.run(_catch_up, str(job["url"]))
    return result


def inclusion_requests(size: int, count: int, rng: random.Random) -> list[tuple[str, str, Any]]:
    """``count`` inclusion proofs of random leaves in the tree of ``size`` leaves."""
    return [
        ("GET", f"/v1/log/proofs/inclusion?index={rng.randrange(size)}&tree_size={size}", None)
        for _ in range(count)
    ]


if __name__ == "__main__":
    raise SystemExit(answer_job(run))
