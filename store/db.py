"""asyncpg connections as we use them: UTC sessions without JIT, jsonb as msgspec JSON."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeAlias, cast

import anyio
import asyncpg
import msgspec

from claimledger.store.metrics import watch_pool

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    Connection: TypeAlias = asyncpg.Connection[Any]
    Pool: TypeAlias = asyncpg.Pool[Any]
    # Any of them serves a query; a read that makes several uses one connection for all.
    Db: TypeAlias = Connection | Pool | PoolConnectionProxy[Any]
else:  # the classes are generic only in their stubs
    Connection = asyncpg.Connection
    Pool = asyncpg.Pool
    Db = Any


class DatabaseUnavailable(ConnectionError):
    """The database is known to be out of reach; answered 503 without trying it."""


# What a lost, refused or not-yet-accepted connection raises (a server starting, shutting down,
# out of connections or restarting); workers reconnect on these and requests answer 503.
CONNECTION_ERRORS = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    # The client's own view of a broken exchange: a protocol error when the server went away
    # in the middle of an answer.
    asyncpg.exceptions.InternalClientError,
)
# PostgreSQL error classes a given input causes every time: a data exception (22) or an integrity
# constraint violation (23). Anything else may pass by itself (the server is back, a lock freed).
_DETERMINISTIC_CLASSES = frozenset({"22", "23"})
# How long to wait for a connection to a server that does not answer.
CONNECT_TIMEOUT = 5.0


def is_deterministic(error: BaseException) -> bool:
    """Whether trying the same work again would fail the same way.

    Lost connections and errors of the server's state are not; errors of the data are, and so is
    any error of our own code (a decode failure, a missing reference).
    """
    if isinstance(error, CONNECTION_ERRORS):
        return False
    if isinstance(error, asyncpg.PostgresError):
        return str(error.sqlstate)[:2] in _DETERMINISTIC_CLASSES
    return isinstance(error, Exception)


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode
_JSONB_VERSION = b"\x01"


def _encode_jsonb(value: Any) -> bytes:
    return _JSONB_VERSION + _encode(value)


def _decode_jsonb(data: bytes) -> Any:
    return _decode(data[1:])


# Every session: UTC, and no JIT. Our queries are short index lookups, for which PostgreSQL's JIT
# compilation (tens of milliseconds once the tables are analysed) costs far more than it saves.
SESSION_SETTINGS = {"timezone": "UTC", "jit": "off"}


async def init_connection(connection: Connection) -> None:
    """Every connection we open decodes and encodes jsonb with msgspec."""
    await connection.set_type_codec(
        "jsonb",
        schema="pg_catalog",
        encoder=_encode_jsonb,
        decoder=_decode_jsonb,
        format="binary",
    )
    await connection.set_type_codec(
        "json", schema="pg_catalog", encoder=_encode, decoder=_decode, format="binary"
    )


@asynccontextmanager
async def session(db: Db) -> AsyncIterator[Db]:
    """One connection for several queries: taken from a pool, or the connection given."""
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as connection:
            yield connection
    else:
        yield db


def keeps_generic_plans(db: Db) -> bool:
    """Whether ``db`` is a pool whose sessions keep generic plans (``create_pool``)."""
    return isinstance(db, FairPool) and db.generic_plans


@asynccontextmanager
async def read_only(db: Db) -> AsyncIterator[Connection]:
    """One connection in a read-only transaction (what it sets with ``set_config(..., true)``
    ends with it)."""
    async with session(db) as connection:
        # A pool's connection stands for the connection it lends.
        lent = cast("Connection", connection)
        async with lent.transaction(readonly=True):
            yield lent


async def close(connection: Connection) -> None:
    """Close even while being cancelled; a connection that will not close is cut."""
    with anyio.CancelScope(shield=True), anyio.move_on_after(2):
        await connection.close()
    if not connection.is_closed():
        connection.terminate()


async def connect(url: str) -> Connection:
    connection: Connection = await asyncpg.connect(
        url, server_settings=SESSION_SETTINGS, timeout=CONNECT_TIMEOUT
    )
    await init_connection(connection)
    return connection


async def _keep_session(connection: Connection) -> None:
    """Pooled connections never change session state, so there is nothing to reset."""


class FairPool(asyncpg.Pool):
    """An asyncpg pool that hands out connections in the order they were asked for.

    asyncpg's own pool gives a released connection to whichever task asks next, even while others
    wait, and a task that was woken but passed over queues again at the back: under more requests
    than connections a few of them waited seconds while the rest took milliseconds. A fair
    semaphore of the pool's size, taken before the pool's queue, makes the wait first come, first
    served. A turn comes back when the connection goes back through ``release`` (``async with``
    does that, and so do the pool's own ``fetch`` and ``execute``), not when one is closed.
    """

    def __init__(self, *args: Any, generic_plans: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._turns = anyio.Semaphore(kwargs["max_size"], fast_acquire=True)
        self._lent: set[int] = set()
        self.generic_plans = generic_plans

    @property
    def turns_left(self) -> int:
        """How many more connections could be handed out without waiting."""
        return self._turns.value

    async def _acquire(self, timeout: float | None) -> Any:  # noqa: ASYNC109 - asyncpg's own
        try:
            self._turns.acquire_nowait()
        except anyio.WouldBlock:
            if timeout is None:
                # A cancel scope with no deadline costs as much as one with: only the wait.
                await self._turns.acquire()
            else:
                with anyio.fail_after(timeout):
                    await self._turns.acquire()
        try:
            proxy = await super()._acquire(timeout)  # type: ignore[misc]
        except BaseException:
            self._turns.release()
            raise
        self._lent.add(id(proxy))
        return proxy

    async def release(self, connection: Any, *, timeout: float | None = None) -> None:  # noqa: ASYNC109
        try:
            await super().release(connection, timeout=timeout)
        finally:
            # A connection released twice gives its turn back once.
            if id(connection) in self._lent:
                self._lent.discard(id(connection))
                self._turns.release()


async def create_pool(
    url: str, *, size: int, name: str = "other", generic_plans: bool = False
) -> Pool:
    """A fair pool of at most ``size`` connections, reported in ``/metrics`` as ``name``.

    ``generic_plans``: its sessions plan each prepared statement once, for any values
    (``plan_cache_mode``), for statements whose plan costs more to make than to run."""
    settings = (
        {**SESSION_SETTINGS, "plan_cache_mode": "force_generic_plan"}
        if generic_plans
        else SESSION_SETTINGS
    )
    pool: Pool = await FairPool(
        url,
        generic_plans=generic_plans,
        min_size=min(2, size),
        max_size=size,
        max_queries=50_000,
        max_inactive_connection_lifetime=300.0,
        init=init_connection,
        reset=_keep_session,
        loop=None,
        connection_class=asyncpg.Connection,
        record_class=asyncpg.Record,
        command_timeout=60,
        server_settings=settings,
        timeout=CONNECT_TIMEOUT,
    )
    watch_pool(pool, name)
    return pool
