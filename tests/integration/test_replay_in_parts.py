"""A projector starting from position 0 replays a long ledger in parts, as a rebuild does; a
part whose caller no longer holds the projector's lock writes nothing."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest

from claimledger.domain.ledger import Ledger
from claimledger.projections.partition import Abandoned, rebuild_part
from claimledger.projections.parts import ReplayInterrupted, replay_in_parts
from claimledger.projections.projector import Projector
from claimledger.projections.rebuild import Rebuilt, rebuild
from claimledger.projections.tracking import projected_position, reset_views, try_lock
from claimledger.store.db import Connection, close, connect
from claimledger.store.events import head_position
from tests.integration.test_projector import dump
from tests.ledger_data import populate_for_rebuilds, populate_incidents


async def replayed_alone(
    ledger: Ledger, db: Connection, database_url: str
) -> tuple[int, dict[str, list[tuple[Any, ...]]]]:
    """A ledger of several incidents, its head, and its views as one worker rebuilds them."""
    await anyio.to_thread.run_sync(populate_for_rebuilds, ledger)
    head = await head_position(db)
    await rebuild(database_url, batch_size=7, workers=1)
    return head, await dump(db)


async def emptied_views_of_a_ledger(ledger: Ledger, db: Connection) -> int:
    """A ledger of several incidents, its views emptied (at position 0); its head."""
    await anyio.to_thread.run_sync(populate_for_rebuilds, ledger)
    await reset_views(db)
    return await head_position(db)


@asynccontextmanager
async def lock_held(database_url: str) -> AsyncIterator[Connection]:
    """A connection of its own that holds the projector's lock, as a running projector's does."""
    holder = await connect(database_url)
    try:
        assert await try_lock(holder)
        yield holder
    finally:
        await close(holder)


async def leave_a_row_behind(db: Connection) -> None:
    """What a replay in parts that died leaves at position 0: the projector empties it first,
    whichever way it goes on."""
    await db.execute(
        "INSERT INTO views.skipped_events (position, originator_id, originator_version, topic,"
        " error) VALUES (1, gen_random_uuid(), 1, 'x', 'left behind')"
    )


async def test_a_projector_at_position_0_replays_in_parts_the_views_of_one_worker(
    ledger: Ledger, db: Connection, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    head, alone = await replayed_alone(ledger, db, database_url)
    await reset_views(db)
    await leave_a_row_behind(db)

    projector = Projector(database_url, batch_size=5, replay_parts=3, replay_from=head)
    async with lock_held(database_url):
        with caplog.at_level(logging.INFO, logger="claimledger.projector"):
            assert await projector.catch_up(db) == head
        assert f"replaying {head} events in 3 processes" in caplog.text
        assert projector.position == head
        assert await projected_position(db) == head
        assert await dump(db) == alone
        # The indexes set aside during the replay are back.
        assert await db.fetchval("SELECT count(*) FROM views.deferred_indexes") == 0
        assert await db.fetchval("SELECT to_regclass('views.statements_timeline') IS NOT NULL")

        # Later events are the same projector's, one batch after another.
        await anyio.to_thread.run_sync(populate_incidents, ledger, 2)
        later = await head_position(db)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="claimledger.projector"):
            assert await projector.catch_up(db) == later - head
        assert "replaying" not in caplog.text
        caught_up = await dump(db)
    await rebuild(database_url, batch_size=7, workers=1)
    assert await dump(db) == caught_up


async def test_a_short_ledger_or_one_worker_is_caught_up_alone(
    ledger: Ledger, db: Connection, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    head, alone = await replayed_alone(ledger, db, database_url)
    for parts, replay_from in ((3, head + 1), (1, 1)):
        await reset_views(db)
        await leave_a_row_behind(db)
        projector = Projector(database_url, replay_parts=parts, replay_from=replay_from)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="claimledger.projector"):
            assert await projector.catch_up(db) == head
        assert "replaying" not in caplog.text
        assert "held rows at position 0 (a replay that died): emptied" in caplog.text
        assert await projected_position(db) == head
        assert await dump(db) == alone


async def test_a_part_whose_caller_let_go_of_the_lock_writes_nothing(
    ledger: Ledger, db: Connection, database_url: str
) -> None:
    head = await emptied_views_of_a_ledger(ledger, db)
    reached: list[int] = []
    async with lock_held(database_url) as holder:
        owner = holder.get_server_pid()
        await rebuild_part(database_url, 1, 2, head, 5, reached.append, owner=owner)
        assert reached[-1] == head
        written = await db.fetchval("SELECT count(*) FROM views.statements")
        assert written > 0
        await reset_views(db)
    # Another connection now holds it: the one the part was started for is gone.
    async with lock_held(database_url):
        with pytest.raises(Abandoned, match=str(owner)):
            await rebuild_part(database_url, 1, 2, head, 5, reached.append, owner=owner)
        assert await db.fetchval("SELECT count(*) FROM views.statements") == 0
        assert await db.fetchval("SELECT count(*) FROM views.incidents") == 0


async def test_a_replay_under_way_says_so_while_the_position_stays_at_0(
    ledger: Ledger, db: Connection, database_url: str
) -> None:
    head = await emptied_views_of_a_ledger(ledger, db)
    before = await db.fetchval("SELECT updated_at FROM views.tracking")
    seen: set[Any] = set()
    watcher = await connect(database_url)
    try:

        async def watch() -> None:
            for _ in range(2000):  # bounded: at most 2000 looks, 10 ms apart
                row = await watcher.fetchrow("SELECT position, updated_at FROM views.tracking")
                assert row is not None
                if row["position"] == 0:
                    seen.add(row["updated_at"])
                await anyio.sleep(0.01)

        async with lock_held(database_url), anyio.create_task_group() as group:
            group.start_soon(watch)
            await replay_in_parts(
                database_url,
                db,
                head,
                parts=2,
                batch_size=1,
                report=lambda done, total: None,
                beat_seconds=0.05,
            )
            group.cancel_scope.cancel()
    finally:
        await close(watcher)
    # The views are replayed and the position at the head, and meanwhile, at position 0, the
    # row said several times that a replay was under way.
    assert await projected_position(db) == head
    assert await db.fetchval("SELECT count(*) FROM views.statements") > 0
    assert len(seen - {before}) >= 2


async def test_a_reset_of_the_views_during_a_replay_leaves_the_position_at_0(
    ledger: Ledger, db: Connection, database_url: str
) -> None:
    head = await emptied_views_of_a_ledger(ledger, db)
    other = await connect(database_url)
    try:

        async def reset_once_under_way() -> None:
            for _ in range(2000):  # bounded: at most 2000 looks, 5 ms apart
                if await other.fetchval("SELECT count(*) FROM views.statements"):
                    await reset_views(other)  # as a `claimledger rebuild` run meanwhile does
                    return
                await anyio.sleep(0.005)

        failure: Exception | None = None
        async with lock_held(database_url), anyio.create_task_group() as group:
            group.start_soon(reset_once_under_way)
            try:
                await replay_in_parts(
                    database_url, db, head, parts=2, batch_size=1, report=lambda d, t: None
                )
            except ReplayInterrupted as error:
                failure = error
            group.cancel_scope.cancel()
    finally:
        await close(other)
    assert isinstance(failure, ReplayInterrupted)
    assert await projected_position(db) == 0


async def test_a_rebuild_that_follows_a_projector_goes_on_when_its_lock_comes_free(
    ledger: Ledger, db: Connection, database_url: str
) -> None:
    head, alone = await replayed_alone(ledger, db, database_url)
    rebuilt: list[Rebuilt] = []

    async def run_rebuild() -> None:
        rebuilt.append(await rebuild(database_url, batch_size=7, workers=2))

    # Stands for a projector that holds the lock, then stops before it replays anything.
    async with lock_held(database_url) as holder, anyio.create_task_group() as group:
        group.start_soon(run_rebuild)
        for _ in range(400):  # until the rebuild has emptied the views: at most 4 s
            if not await db.fetchval("SELECT count(*) FROM views.statements"):
                break
            await anyio.sleep(0.01)
        await anyio.sleep(1.2)  # the rebuild follows meanwhile, the lock taken
        assert await projected_position(db) == 0
        await close(holder)
    assert [(r.events, r.by_this_process) for r in rebuilt] == [(head, True)]
    assert await projected_position(db) == head
    assert await dump(db) == alone
