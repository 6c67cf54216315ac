"""The connection pool serves those who wait in the order they came."""

from __future__ import annotations

import asyncio

import anyio

from claimledger.store.db import FairPool, create_pool


async def test_a_released_connection_goes_to_the_first_waiter_not_to_a_newcomer(
    database_url: str,
) -> None:
    pool = await create_pool(database_url, size=1)
    served: list[str] = []
    try:
        held = await pool.acquire()

        async def wait(name: str) -> None:
            async with pool.acquire() as connection:
                served.append(name)
                await connection.fetchval("SELECT 1")

        newcomer_arrives = anyio.Event()

        async def newcomer() -> None:
            await newcomer_arrives.wait()
            await wait("newcomer")

        with anyio.fail_after(10):
            async with anyio.create_task_group() as group:
                group.start_soon(wait, "first waiter")
                group.start_soon(wait, "second waiter")
                group.start_soon(newcomer)
                await anyio.wait_all_tasks_blocked()
                # The release runs as a task of its own, and the newcomer is made ready after
                # that task has started but before the first waiter, woken by it, runs: the
                # moment at which a newcomer could take the connection ahead of everyone.
                releasing = asyncio.ensure_future(pool.release(held))
                asyncio.get_running_loop().call_soon(newcomer_arrives.set)
                await releasing
    finally:
        await pool.close()
    assert served == ["first waiter", "second waiter", "newcomer"]


async def test_a_connection_released_twice_frees_one_turn(database_url: str) -> None:
    pool = await create_pool(database_url, size=2)
    assert isinstance(pool, FairPool)
    try:
        connection = await pool.acquire()
        assert pool.turns_left == 1
        await pool.release(connection)
        await pool.release(connection)
        assert pool.turns_left == 2
        with anyio.fail_after(10):
            async with pool.acquire() as first, pool.acquire() as second:
                assert await first.fetchval("SELECT 1") == await second.fetchval("SELECT 2") - 1
                assert pool.turns_left == 0
        assert pool.turns_left == 2
    finally:
        await pool.close()


async def test_a_waiter_gives_up_after_its_timeout_and_takes_no_turn(database_url: str) -> None:
    pool = await create_pool(database_url, size=1)
    assert isinstance(pool, FairPool)
    try:
        held = await pool.acquire()
        assert pool.turns_left == 0
        with anyio.fail_after(10):
            try:
                await pool.acquire(timeout=0.05)
            except TimeoutError:
                pass
            else:
                raise AssertionError("a connection was handed out twice")
            await pool.release(held)
            assert pool.turns_left == 1
            async with pool.acquire(timeout=1) as connection:
                assert await connection.fetchval("SELECT 1") == 1
        assert pool.turns_left == 1
    finally:
        await pool.close()
