"""What a write answers (a receipt), and a statement request with what makes it idempotent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Recording

from claimledger.domain.errors import IdempotencyConflict, InvalidInput
from claimledger.domain.statement import Statement, StatementDraft


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a write answers: the id written, its position in the ledger and when it was recorded.

    ``position`` is None for a replayed idempotent request: the adapter looks the original up.
    """

    id: UUID
    recorded_at: datetime
    position: int | None
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class StatementRequest:
    """One statement to record, with what makes its recording idempotent.

    An archive import gives the statement's id, when the ledger learned it and which key
    wrote it; a request records now, under an id of its own or of its Idempotency-Key.
    """

    claim_id: UUID
    draft: StatementDraft
    idempotency_key: str | None = None
    fingerprint: str | None = None
    statement_id: UUID | None = None
    recorded_at: datetime | None = None
    recorded_by: UUID | None = None


def receipts_of(recordings: list[Recording[UUID]]) -> list[Receipt]:
    """What a save answers for each event it stored."""
    return [
        Receipt(
            id=r.domain_event.originator_id,
            recorded_at=_timestamp(r.domain_event),
            position=r.notification.id,
        )
        for r in recordings
    ]


def _timestamp(event: Any) -> datetime:
    timestamp: datetime = event.timestamp
    return timestamp


def replayed(existing: Statement, request: StatementRequest) -> Receipt:
    """The answer to a retried request: the first one's, unless the key was reused."""
    if existing.fingerprint != request.fingerprint or existing.claim_id != request.claim_id:
        raise IdempotencyConflict(
            "this Idempotency-Key was used before for a different request",
            field="Idempotency-Key",
        )
    return Receipt(id=existing.id, recorded_at=existing.created_on, position=None, replayed=True)


def refuse_repeated_keys(requests: list[StatementRequest]) -> None:
    """Two statements of one batch with one Idempotency-Key would be one statement twice."""
    first: dict[str, int] = {}
    for index, request in enumerate(requests):
        key = request.idempotency_key
        if key is None:
            continue
        if key in first:
            raise InvalidInput(
                f"statements[{first[key]}] and statements[{index}] have the same"
                f" idempotency_key {key!r}",
                field=f"statements[{index}].idempotency_key",
            )
        first[key] = index
