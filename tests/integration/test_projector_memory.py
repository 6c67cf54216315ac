"""The projector's memory of claims stays within its bound while a batch runs, not only after
it: a batch that loads many claims first forgets others to make room."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import anyio
import pytest

from claimledger.domain.incident import IncidentDraft
from claimledger.domain.ledger import Ledger
from claimledger.domain.receipts import StatementRequest
from claimledger.domain.statement import StatementDraft
from claimledger.domain.values import SourceKind, Stance
from claimledger.projections import memory as memory_module
from claimledger.projections.projector import Projector
from claimledger.store.db import Connection
from tests.ledger_data import WRITER

CLAIMS = 24
STATEMENTS = 5
# A claim held costs its statements and three more (``memory._CLAIM_WEIGHT``).
CLAIM_COST = STATEMENTS + 3
KEPT = 10 * CLAIM_COST


def write_claims(ledger: Ledger) -> dict[UUID, list[UUID]]:
    """``CLAIMS`` claims of ``STATEMENTS`` statements each: their statements' ids by claim."""
    source = ledger.register_source(
        name="Wire",
        kind=SourceKind.MEDIA,
        affiliation=None,
        channels=(),
        url=None,
        recorded_by=WRITER,
    ).id
    incident = ledger.open_incident(IncidentDraft(title="Shelling"), recorded_by=WRITER).id
    published = datetime.now(UTC) - timedelta(days=1)
    said: dict[UUID, list[UUID]] = {}
    for n in range(CLAIMS):
        claim = ledger.add_claim(incident, text=f"Claim {n}", recorded_by=WRITER).id
        requests = [
            StatementRequest(
                claim_id=claim,
                draft=StatementDraft(
                    source_id=source, stance=Stance.ASSERTS, published_at=published
                ),
            )
            for _ in range(STATEMENTS)
        ]
        said[claim] = [r.id for r in ledger.record_statements(requests, recorded_by=WRITER)]
    return said


async def test_a_batch_of_old_claims_makes_room_before_it_loads_them(
    ledger: Ledger, db: Connection, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    said = await anyio.to_thread.run_sync(write_claims, ledger)
    projector = Projector(database_url, batch_size=10_000, facts_kept=KEPT)
    await projector.catch_up(db)
    memory = projector.memory
    assert memory.held <= KEPT
    held_before = set(memory.claims)

    peaks: list[int] = []
    load = memory._load_claims

    async def load_and_count(connection: Connection, claim_ids: set[UUID]) -> None:
        await load(connection, claim_ids)
        peaks.append(memory.held)

    monkeypatch.setattr(memory, "_load_claims", load_and_count)
    # Two claims a part, so that this test's few claims come in several.
    monkeypatch.setattr(memory_module, "_LOADED_AT_ONCE", 2)
    # One withdrawal in each of the claims memory no longer holds: one batch loads them all.
    withdrawals = [(ids[0], "mistaken") for c, ids in said.items() if c not in held_before]
    await anyio.to_thread.run_sync(
        lambda: ledger.withdraw_statements(withdrawals, recorded_by=WRITER)
    )
    await projector.catch_up(db)
    loaded = len(withdrawals)
    assert loaded * CLAIM_COST > KEPT
    assert len(peaks) == loaded // 2
    # What the batch needs and one part more: not what memory held before on top of it.
    assert max(peaks) <= loaded * CLAIM_COST + 2 * CLAIM_COST, (peaks, loaded)
    assert memory.held <= KEPT
