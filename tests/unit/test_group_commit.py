"""Group commit: statements waiting together are saved in one transaction, each answered as if
saved alone, a failing one failing alone (the ledger on the library's in-memory store)."""

from __future__ import annotations

from uuid import UUID

import anyio
import pytest
from anyio.lowlevel import checkpoint

from claimledger.domain.errors import IdempotencyConflict
from claimledger.domain.ledger import Ledger
from claimledger.domain.receipts import Receipt, StatementRequest
from claimledger.domain.statement import Statement, statement_id_for
from claimledger.domain.values import Stance
from claimledger.runtime.group_commit import GroupCommit, Prepared
from tests.unit.test_ledger import WRITER, claim, ledger, request, source

__all__ = ["claim", "ledger", "source"]  # the fixtures, shared with the ledger's tests


def prepare(ledger: Ledger, req: StatementRequest) -> Statement:
    prepared = ledger.prepare_statement(req, recorded_by=WRITER)
    assert isinstance(prepared, Statement)
    return prepared


@pytest.mark.anyio
async def test_a_mixed_group_answers_each_request_on_its_own(
    ledger: Ledger, claim: UUID, source: UUID
) -> None:
    lead = request(claim, source)
    plain = [request(claim, source) for _ in range(4)]
    replay = request(claim, source, key="replayed")
    reused = request(claim, source, key="reused")
    fresh = request(claim, source, key="fresh")
    group = [*plain, replay, reused, fresh]
    prepared = {id(r): prepare(ledger, r) for r in [lead, *group]}
    # While these waited, other requests recorded two of their keys: one with the same
    # request (a retry), one with another (a key reused).
    first = ledger.record_statement(replay, recorded_by=WRITER)
    ledger.record_statement(
        request(claim, source, key="reused", stance=Stance.ASSERTS), recorded_by=WRITER
    )

    release = anyio.Event()
    calls: list[int] = []

    async def save_apart(batch: Prepared) -> list[Receipt | Exception]:
        calls.append(len(batch))
        if len(calls) == 1:
            await release.wait()
        return ledger.save_statements_apart(batch)

    commit = GroupCommit(save_apart)
    outcomes: dict[int, Receipt | Exception] = {}

    async def send(req: StatementRequest) -> None:
        try:
            outcomes[id(req)] = await commit.save(req, prepared[id(req)])
        except Exception as error:
            outcomes[id(req)] = error

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(send, lead)
        while not calls:
            await checkpoint()
        for req in group:
            tasks.start_soon(send, req)
        await anyio.wait_all_tasks_blocked()
        release.set()

    # The first saved alone; all that came while it was saving, together.
    assert calls == [1, len(group)]
    assert commit.group_sizes == [1, len(group)]
    saved = [outcomes[id(r)] for r in [lead, *plain, fresh]]
    assert all(isinstance(o, Receipt) and not o.replayed for o in saved)
    positions = [o.position for o in saved if isinstance(o, Receipt)]
    assert len(set(positions)) == len(positions)
    assert all(ledger.repository.get(o.id).version == 1 for o in saved if isinstance(o, Receipt))
    retried = outcomes[id(replay)]
    assert isinstance(retried, Receipt)
    assert retried.replayed
    assert retried.id == first.id == statement_id_for("replayed")
    assert isinstance(outcomes[id(reused)], IdempotencyConflict)


@pytest.mark.anyio
async def test_a_group_that_cannot_be_saved_fails_every_request_in_it(
    ledger: Ledger, claim: UUID, source: UUID
) -> None:
    async def unavailable(batch: Prepared) -> list[Receipt | Exception]:
        raise ConnectionError("the database is out of reach")

    commit = GroupCommit(unavailable)
    req = request(claim, source)
    with pytest.raises(ConnectionError):
        await commit.save(req, prepare(ledger, req))
    # Nothing is left pending: the next group starts afresh.
    saved = GroupCommit(lambda batch: _now(ledger.save_statements_apart(batch)))
    receipt = await saved.save(req, prepare(ledger, req))
    assert receipt.position is not None


async def _now(outcomes: list[Receipt | Exception]) -> list[Receipt | Exception]:
    return outcomes
