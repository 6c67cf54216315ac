"""The background workers a process runs besides (or instead of) the HTTP API.

Every one of them runs supervised: whatever it raises is logged and it starts again, so that no
background task can take the process (or its pools) down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

import anyio
from anyio.abc import TaskStatus

from claimledger.projections.projector import RECONNECT_SECONDS, OnAdvance, Projector
from claimledger.runtime.log_keys import log_origin_of, log_signer
from claimledger.runtime.settings import Settings
from claimledger.transparency.signer import CheckpointSigner
from claimledger.transparency.worker import LogWorker
from claimledger.webhooks.dispatcher import Dispatcher

log = logging.getLogger("claimledger.workers")


def _being_cancelled() -> bool:
    """Whether this task is being cancelled, rather than meeting a CancelledError that some
    code under it raised of its own accord."""
    try:
        task = asyncio.current_task()
    except RuntimeError:  # not on asyncio: take it for a cancellation
        return True
    return task is None or task.cancelling() > 0


async def supervised(
    name: str,
    run: Callable[[], Awaitable[None]],
    *,
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Run ``run`` until cancelled, starting it again whenever it ends or fails.

    Whatever it raises is logged and survived: only the cancellation of this task (the process
    stopping) and a KeyboardInterrupt end it.
    """
    task_status.started()
    while True:
        try:
            await run()
            log.warning("%s stopped; starting it again", name)
        except KeyboardInterrupt:
            raise
        except anyio.get_cancelled_exc_class():
            if _being_cancelled():
                raise
            log.exception("%s was cancelled by itself; starting it again", name)
        except BaseException:
            log.exception("%s failed; starting it again", name)
        await anyio.sleep(RECONNECT_SECONDS)


@dataclass
class Workers:
    projector: Projector | None = None
    dispatcher: Dispatcher | None = None
    log: LogWorker | None = None


@asynccontextmanager
async def background_workers(
    settings: Settings, *, on_advance: OnAdvance | None = None
) -> AsyncIterator[Workers]:
    """Start the workers ``settings.roles`` names; stop them when the block ends."""
    url = settings.require_database_url
    workers = Workers()
    if "dispatcher" in settings.roles:
        workers.dispatcher = Dispatcher(url, settings.dispatch_options())

    def advanced(position: int, caught_up_at: datetime | None) -> None:
        # In one process the dispatcher hears of new outbox entries without waiting for NOTIFY.
        if on_advance is not None:
            on_advance(position, caught_up_at)
        if workers.dispatcher is not None:
            workers.dispatcher.wake()

    async with anyio.create_task_group() as group:
        if "projector" in settings.roles:
            workers.projector = Projector(
                url,
                batch_size=settings.projector_batch_size,
                poll_seconds=settings.poll_seconds,
                on_advance=advanced,
                replay_parts=settings.replay_workers,
            )
            await group.start(supervised, "the projector", workers.projector.run)
            # The transparency log keeps up with the projector, in its process.
            workers.log = log_worker(settings)
            await group.start(supervised, "the transparency log", workers.log.run)
        if workers.dispatcher is not None:
            await group.start(supervised, "the dispatcher", workers.dispatcher.run)
        yield workers
        group.cancel_scope.cancel()


def log_worker(settings: Settings) -> LogWorker:
    """The transparency log's worker, signing with the settings' key (none: unsigned)."""
    signer = CheckpointSigner(
        log_origin_of(settings),
        log_signer(settings, generate=False),
        interval=settings.checkpoint_seconds,
    )
    return LogWorker(settings.require_database_url, signer, poll_seconds=settings.poll_seconds)
