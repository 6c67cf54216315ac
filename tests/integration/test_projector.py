"""The projector: exactly once through failures, one active at a time, identical to a rebuild."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any
from uuid import UUID

import anyio
import pytest

from claimledger.domain.incident import IncidentDraft
from claimledger.domain.ledger import Ledger
from claimledger.domain.receipts import StatementRequest
from claimledger.domain.statement import StatementDraft
from claimledger.domain.values import Stance
from claimledger.projections.memory import FACTS_KEPT, Memory
from claimledger.projections.projector import Projector
from claimledger.projections.rebuild import rebuild
from claimledger.projections.schema import REBUILT_TABLES
from claimledger.projections.tracking import projected_position
from claimledger.store.db import Connection, close, connect
from claimledger.store.events import head_position
from tests.helpers import until
from tests.ledger_data import WRITER, media_source, populate, populate_for_rebuilds


class InjectedFailure(BaseException):
    """Stands for the process dying between writing and committing: nothing in it handles this."""


async def dump(db: Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every view, in a canonical order."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    for table in REBUILT_TABLES:
        rows = await db.fetch(f"SELECT * FROM {table}")  # noqa: S608
        tables[table] = sorted(tuple(map(repr, row.values())) for row in rows)
    return tables


async def test_a_failure_before_commit_leaves_no_trace_and_a_restart_matches_rebuild(
    ledger: Ledger, db: Connection, database_url: str
) -> None:
    await anyio.to_thread.run_sync(populate, ledger)
    head = await head_position(db)
    assert head > 30
    calls = 0

    async def fail_on_third_batch(start: int, end: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise InjectedFailure(f"between writing {start}..{end} and committing")

    doomed = Projector(database_url, batch_size=7, fault=fail_on_third_batch)
    with pytest.raises(InjectedFailure):
        await doomed.catch_up(db)
    assert await projected_position(db) == doomed.position == doomed.batches[-1][1]
    assert len(doomed.batches) == 2
    statements = await db.fetchval("SELECT count(*) FROM views.statements")
    assert statements == await db.fetchval(
        "SELECT count(*) FROM es.claimledger_events WHERE notification_id <= $1"
        " AND topic = 'domain.statement:StatementRecorded'",
        doomed.position,
    )

    restarted = Projector(database_url, batch_size=7)
    await restarted.catch_up(db)
    assert await projected_position(db) == head
    assert await skipped(db) == []
    incremental = await dump(db)

    result = await rebuild(database_url, batch_size=11)
    assert result.by_this_process
    assert result.events == head
    assert await dump(db) == incremental
    assert await skipped(db) == []


async def test_one_event_a_batch_gives_the_views_of_one_batch(
    ledger: Ledger, db: Connection, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Claims kept in memory across batches, among them batches that leave a status unchanged.
    await anyio.to_thread.run_sync(populate, ledger)
    with caplog.at_level(logging.WARNING, logger="claimledger"):
        await Projector(database_url, batch_size=1).catch_up(db)
    assert [record.getMessage() for record in caplog.records] == []
    assert await skipped(db) == []
    one_by_one = await dump(db)
    await rebuild(database_url, batch_size=100_000)
    assert await dump(db) == one_by_one


async def test_a_rebuild_in_parts_gives_the_views_of_one_worker(
    ledger: Ledger, db: Connection, database_url: str
) -> None:
    await anyio.to_thread.run_sync(populate_for_rebuilds, ledger)
    head = await head_position(db)
    one = await rebuild(database_url, batch_size=7, workers=1)
    assert one.events == head
    assert await projected_position(db) == head
    alone = await dump(db)
    assert len(alone["views.incidents"]) >= 9
    for workers in (2, 3):
        began = await db.fetchval("SELECT clock_timestamp()")
        parts = await rebuild(database_url, batch_size=5, workers=workers)
        assert parts.by_this_process
        assert await projected_position(db) == head
        assert await dump(db) == alone, f"{workers} workers"
    assert await skipped(db) == []
    # The rebuilt views are vacuumed and analyzed at the end: their statistics are taken again (a
    # TRUNCATE leaves their size unknown) and their pages marked all-visible, so index-only scans
    # need no heap and no first read writes. How many pages VACUUM may mark depends on what else
    # the server runs (an autovacuum's ANALYZE holds a snapshot), so the test checks that it ran.
    for table in ("statements", "claims", "claim_history", "incidents"):
        row = await db.fetchrow(
            "SELECT c.relpages, c.reltuples, s.last_vacuum, s.last_analyze"
            " FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid"
            " WHERE c.oid = $1::regclass",
            f"views.{table}",
        )
        assert row is not None, table
        assert row["reltuples"] > 0, table
        assert row["relpages"] > 0, table
        assert row["last_vacuum"] is not None, table
        assert row["last_vacuum"] >= began, table
        assert row["last_analyze"] >= began, table


async def skipped(db: Connection) -> list[str]:
    """The events the projector set aside: none, for a ledger the write side accepted."""
    rows = await db.fetch("SELECT position, error FROM views.skipped_events ORDER BY position")
    return [f"{row['position']}: {row['error']}" for row in rows]


async def test_two_projectors_never_apply_the_same_batch(
    ledger: Ledger, database_url: str, db: Connection
) -> None:
    await anyio.to_thread.run_sync(populate, ledger)
    head = await head_position(db)
    other = await connect(database_url)
    first = Projector(database_url, batch_size=3)
    second = Projector(database_url, batch_size=3)
    try:
        with anyio.fail_after(60):
            async with anyio.create_task_group() as both:
                both.start_soon(first.catch_up, db)
                both.start_soon(second.catch_up, other)
    finally:
        await close(other)
    ranges = sorted(first.batches + second.batches)
    assert first.batches
    assert second.batches
    for (_, end), (start, _) in pairwise(ranges):
        assert end <= start, f"two batches overlap: {ranges}"
    assert ranges[0][0] == 0
    assert ranges[-1][1] == head
    together = await dump(db)
    await rebuild(database_url)
    assert await dump(db) == together
    assert await skipped(db) == []


async def test_one_projector_is_active_and_a_standby_takes_over(
    ledger: Ledger, database_url: str, db: Connection
) -> None:
    advanced: list[int] = []
    first = Projector(database_url, poll_seconds=0.05)
    second = Projector(
        database_url, poll_seconds=0.05, on_advance=lambda position, _: advanced.append(position)
    )
    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            first_scope = anyio.CancelScope()

            async def run_first() -> None:
                with first_scope:
                    await first.run()

            group.start_soon(run_first)
            await until(lambda: first.active)
            group.start_soon(second.run)
            await anyio.to_thread.run_sync(populate, ledger)
            head = await head_position(db)
            await until(lambda: first.position >= head)
            assert not second.active
            assert second.batches == []

            first_scope.cancel()
            await until(lambda: second.active)
            more = await anyio.to_thread.run_sync(
                lambda: ledger.open_incident(IncidentDraft(title="Later"), recorded_by=WRITER)
            )
            target = more.position
            assert target is not None
            await until(lambda: second.position >= target)
            group.cancel_scope.cancel()
    assert second.batches[-1][1] == more.position
    assert all(start >= head for start, _ in second.batches)


class CountedMemory(Memory):
    """Memory that notes how many claims each batch reads back."""

    def __init__(self, *, facts_kept: int) -> None:
        super().__init__(facts_kept=facts_kept)
        self.recalled: list[int] = []

    async def _load_claims(self, db: Connection, claim_ids: set[UUID]) -> None:
        self.recalled.append(len(claim_ids))
        await super()._load_claims(db, claim_ids)


def said_again(ledger: Ledger, claims: list[UUID], statements: list[UUID]) -> None:
    """A statement on each of ``claims`` and a withdrawal of each of ``statements``."""
    source = media_source(ledger, "Late source")
    for claim_id in claims:
        ledger.record_statement(
            StatementRequest(
                claim_id=claim_id,
                draft=StatementDraft(
                    source_id=source, stance=Stance.CONFIRMS, published_at=datetime.now(UTC)
                ),
            ),
            recorded_by=WRITER,
        )
    for statement_id in statements:
        ledger.withdraw_statement(statement_id, reason="late", recorded_by=WRITER)


async def test_a_batch_ends_before_it_would_read_back_more_claims_than_allowed(
    ledger: Ledger, db: Connection, database_url: str
) -> None:
    await anyio.to_thread.run_sync(populate_for_rebuilds, ledger)
    await Projector(database_url).catch_up(db)
    claims = [row["id"] for row in await db.fetch("SELECT id FROM views.claims")]
    statements = [
        row["id"]
        for row in await db.fetch(
            "SELECT DISTINCT ON (claim_id) id FROM views.statements WHERE withdrawn_at IS NULL"
        )
    ]
    assert len(claims) >= 10
    assert len(statements) >= 10
    await anyio.to_thread.run_sync(said_again, ledger, claims, statements)
    head = await head_position(db)
    # A projector that has just started remembers nothing: each claim the new events touch
    # is read back, and it may read back two a batch.
    projector = Projector(database_url, batch_size=1_000, recalled_most=2)
    memory = projector.memory = CountedMemory(facts_kept=FACTS_KEPT)
    await projector.catch_up(db)
    assert await projected_position(db) == head
    # Each claim read back once (the withdrawals are of statements on claims it then holds).
    assert max(memory.recalled) == 2
    assert sum(memory.recalled) == len(claims)
    assert len(projector.batches) > len(claims) // 2
    assert [start for start, _ in projector.batches[1:]] == [
        end for _, end in projector.batches[:-1]
    ]
    assert await skipped(db) == []
    incremental = await dump(db)
    await rebuild(database_url, batch_size=100_000)
    assert await dump(db) == incremental
