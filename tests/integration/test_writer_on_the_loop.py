"""A statement without an Idempotency-Key is built on the event loop once its claim and sources
are known to exist (looked up through the pool when they are not yet): only its save goes
through a thread. A key to look up, or an id not found, takes the ledger's own way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from claimledger.domain.errors import NotFound, UnknownReference
from claimledger.domain.incident import IncidentDraft
from claimledger.domain.known import KnownIds
from claimledger.domain.receipts import StatementRequest
from claimledger.domain.statement import Statement, StatementDraft
from claimledger.domain.values import Stance
from claimledger.runtime.bootstrap import Services
from claimledger.runtime.keys import SYSTEM_KEY_ID
from tests.ledger_data import media_source

pytestmark = pytest.mark.anyio


def _request(claim_id: Any, source_id: Any, via: Any = None, key: str | None = None) -> Any:
    draft = StatementDraft(
        source_id=source_id,
        stance=Stance.ASSERTS,
        published_at=datetime.now(UTC) - timedelta(hours=1),
        via_source_id=via,
    )
    return StatementRequest(claim_id=claim_id, draft=draft, idempotency_key=key)


async def test_a_statement_on_known_ids_is_built_without_a_thread(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = services.writer
    ledger = writer.ledger

    def entities() -> tuple[Any, Any, Any]:
        incident = ledger.open_incident(IncidentDraft(title="Tyotkino"), recorded_by=SYSTEM_KEY_ID)
        claim = ledger.add_claim(incident.id, text="entered", recorded_by=SYSTEM_KEY_ID)
        return media_source(ledger, "Radio"), media_source(ledger, "Relay"), claim.id

    source_id, relay_id, claim_id = await writer.run(entities)
    # A ledger that has forgotten them (as one started after they were recorded).
    ledger.known = KnownIds()
    commands: list[str] = []
    running = writer.run

    async def counted(command: Any, *args: Any, **kwargs: Any) -> Any:
        commands.append(command.__name__)
        return await running(command, *args, **kwargs)

    monkeypatch.setattr(writer, "run", counted)

    first = await writer.record_statement(
        _request(claim_id, source_id, via=relay_id), recorded_by=SYSTEM_KEY_ID
    )
    assert ledger.known.unknown(claim_id, {source_id, relay_id}) == (set(), set())
    second = await writer.record_statement(_request(claim_id, source_id), recorded_by=SYSTEM_KEY_ID)
    assert commands == ["save_statements_apart", "save_statements_apart"]
    assert first.position is not None
    assert second.position is not None
    assert second.position > first.position
    saved = await writer.run(ledger.repository.get, second.id)
    assert isinstance(saved, Statement)
    assert (saved.claim_id, saved.draft.source_id) == (claim_id, source_id)

    # A key is looked up by the ledger, in its thread.
    commands.clear()
    keyed = await writer.record_statement(
        _request(claim_id, source_id, key="k-1"), recorded_by=SYSTEM_KEY_ID
    )
    again = await writer.record_statement(
        _request(claim_id, source_id, key="k-1"), recorded_by=SYSTEM_KEY_ID
    )
    assert again.id == keyed.id
    assert commands.count("prepare_statement") == 2

    # An unknown claim or source is refused as before, through the ledger's own lookups.
    commands.clear()
    with pytest.raises(NotFound) as claim_error:
        await writer.record_statement(_request(uuid4(), source_id), recorded_by=SYSTEM_KEY_ID)
    assert claim_error.value.kind == "claim"
    with pytest.raises(UnknownReference) as source_error:
        await writer.record_statement(_request(claim_id, uuid4()), recorded_by=SYSTEM_KEY_ID)
    assert source_error.value.field == "source_id"
    assert commands == ["prepare_statement", "prepare_statement"]
