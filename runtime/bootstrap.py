"""The one wiring point: every service a process runs on, built from settings.

``started(settings)`` migrates the database (once), opens the pools, the ledger and its writer,
the key store, the watcher of each database reads come from, and the workers ``settings.roles``
names; it closes them all when the block ends. The HTTP app's lifespan, every command of the
command line, the bench and the tests' fixtures start their services here and nowhere else.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import anyio
import httpx

from claimledger.domain.ledger import Ledger
from claimledger.projections.watcher import OnRestored, PositionWatcher
from claimledger.runtime.keys import KeyStore
from claimledger.runtime.migrations import migrate
from claimledger.runtime.settings import Settings
from claimledger.runtime.workers import Workers, background_workers, supervised
from claimledger.runtime.writer import Writer
from claimledger.store.db import Pool, create_pool
from claimledger.store.eventstore import open_ledger
from claimledger.webhooks.delivery import new_client

# Connections of the primary pool: the writer's lookups, keys, subscriptions, readiness.
_PRIMARY_POOL_SIZE = 4


@dataclass(frozen=True, slots=True)
class ReadSource:
    """A database reads are answered from, and the watcher of its own tracking row; searches
    have a pool of their own there, or share ``pool``."""

    pool: Pool
    watcher: PositionWatcher
    searches: Pool


@dataclass(frozen=True, slots=True)
class Services:
    """What a process runs on. ``reads`` is where reads go (the replica, when there is one);
    ``primary_reads`` answers those that ask for more than the replica has applied."""

    settings: Settings
    pool: Pool
    reads: ReadSource
    primary_reads: ReadSource
    watcher: PositionWatcher
    writer: Writer
    keys: KeyStore
    webhook_client: httpx.AsyncClient
    workers: Workers
    migrations_applied: tuple[str, ...]


async def prepared(url: str) -> list[str]:
    """Bring the database's schema up to date; the migrations applied."""
    return await migrate(url)


@asynccontextmanager
async def started(settings: Settings, *, watch: bool = True) -> AsyncIterator[Services]:
    """Every service for ``settings``, running until the block ends (see the module).

    ``watch=False`` (a command that only writes or migrates) runs no watcher of the projector's
    position: nothing in such a command reads with ``min_position``.
    """
    url = settings.require_database_url
    applied = await prepared(url)
    async with AsyncExitStack() as stack:
        pool = await create_pool(url, size=_PRIMARY_POOL_SIZE, name="primary")
        stack.push_async_callback(_shielded, pool.close)
        # Reads have a pool of their own, so that many readers never queue behind lookups.
        read_pool = await create_pool(
            settings.read_database_url or url, size=settings.read_pool_size, name="reads"
        )
        stack.push_async_callback(_shielded, read_pool.close)
        # Searches keep each statement's generic plan (planning one costs more than running
        # it), which other reads, planned for their values, must not.
        search_pool = await create_pool(
            settings.read_database_url or url,
            size=settings.search_pool_size,
            name="search",
            generic_plans=True,
        )
        stack.push_async_callback(_shielded, search_pool.close)

        async def read_database_restored() -> None:
            await read_pool.expire_connections()
            await search_pool.expire_connections()

        def new_ledger() -> Ledger:
            return open_ledger(
                url,
                pool_size=settings.write_pool_size,
                clock_skew_seconds=settings.clock_skew_seconds,
            )

        async def primary_restored() -> None:
            # Connections made before the server went away are dead: make new ones.
            await writer.reopen()
            await pool.expire_connections()
            if settings.read_database_url is None:
                await read_database_restored()

        watcher = _watcher(url, settings, primary_restored, listen=True)
        writer = Writer(
            await anyio.to_thread.run_sync(new_ledger),
            pool,
            threads=settings.write_pool_size,
            available=lambda: watcher.available is not False,
            reopen=new_ledger,
        )
        stack.push_async_callback(_shielded, writer.close)
        client = new_client(settings.delivery_options())
        stack.push_async_callback(_shielded, client.aclose)
        if settings.read_database_url is None:
            primary_reads = ReadSource(read_pool, watcher, search_pool)
        else:
            # The rare search that must wait for the primary shares its pool.
            primary_reads = ReadSource(pool, watcher, pool)
        reads = primary_reads
        if settings.read_database_url is not None:
            # A replica has a tracking row of its own, which says what its rows hold.
            replica = _watcher(
                settings.read_database_url, settings, read_database_restored, listen=False
            )
            reads = ReadSource(read_pool, replica, search_pool)
        async with anyio.create_task_group() as group:
            if watch:
                await group.start(supervised, "the position watcher", watcher.run)
            if watch and reads is not primary_reads:
                await group.start(supervised, "the replica's watcher", reads.watcher.run)
            try:
                async with background_workers(settings, on_advance=watcher.advance) as workers:
                    yield Services(
                        settings=settings,
                        pool=pool,
                        reads=reads,
                        primary_reads=primary_reads,
                        watcher=watcher,
                        writer=writer,
                        keys=KeyStore(pool, cache_seconds=settings.key_cache_seconds),
                        webhook_client=client,
                        workers=workers,
                        migrations_applied=tuple(applied),
                    )
            finally:
                group.cancel_scope.cancel()


async def _shielded(close: Callable[[], Awaitable[None]]) -> None:
    """Close even while the process is being stopped."""
    with anyio.CancelScope(shield=True):
        await close()


def _watcher(
    url: str, settings: Settings, restored: OnRestored, *, listen: bool
) -> PositionWatcher:
    return PositionWatcher(
        url,
        poll_seconds=settings.poll_seconds,
        settle_seconds=settings.settle_seconds,
        listen=listen,
        on_restored=restored,
    )
