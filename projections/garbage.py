"""Cyclic garbage in a process that works in batches: collected between batches.

CPython's collector walks the container objects it tracks, and its oldest generation holds
everything a process keeps. The projector keeps a great deal (its memory of claims, a few hundred
thousand objects) and makes many more while it applies a batch, so the collector ran often, and
each full run walked all that it keeps: on the bench's full ledger, in the first minute of a
catch-up from position 0, 21 of 60 seconds went to full collections. What a batch makes is freed
as its last reference goes (after that minute a full collection found 52 objects in cycles), so a
process that works in batches turns automatic collection off (``take_over``) and collects in full
once a batch is done, at most every ``FULL_EVERY`` seconds (``between_batches``): in the same
minute the catch-up got 62 % further.

Only a process that works in batches and little else takes over: a projector's worker process,
a rebuild and its parts, an import. A projector beside the API
(``CLAIMLEDGER_WORKER_PROCESSES=false``) keeps the API's automatic collector
(``runtime.heap.settle``), a test the default one, and ``between_batches`` then does nothing. A
projector's worker process also runs ``keep_collecting``: while its projector waits as a standby,
or for its database, no batch ends, and the transparency log's worker beside it still makes
garbage.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass

import anyio

# At most this long between two collections, while batches are applied.
FULL_EVERY = 30.0


@dataclass(slots=True)
class _Collection:
    taken: bool = False
    last: float = 0.0


_collection = _Collection()


def take_over() -> None:
    """From now on this process collects between batches; what it holds already (its modules,
    its settings) is never walked again."""
    gc.collect()
    gc.freeze()
    gc.disable()
    _collection.taken, _collection.last = True, time.monotonic()


def between_batches() -> None:
    """A batch is done: collect if this process took over and the last collection is old."""
    if not _collection.taken:
        return
    now = time.monotonic()
    if now - _collection.last >= FULL_EVERY:
        gc.collect()
        _collection.last = time.monotonic()


async def keep_collecting() -> None:
    """Collect when due even while no batch ends (until cancelled)."""
    while True:
        await anyio.sleep(FULL_EVERY)
        between_batches()
