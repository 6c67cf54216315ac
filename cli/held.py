"""What the ledger holds already of an import's records, and whether a line is one of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from claimledger.cli import lines as fmt
from claimledger.cli.reading import ImportFailed
from claimledger.domain.archive import differences
from claimledger.domain.ledger import Ledger
from claimledger.store import events
from claimledger.store.db import Pool

# Event fields that are not a record's content: where it sits, the request it came from, and
# (unless the line gives them) when and by whom it was recorded.
NOT_CONTENT = frozenset(
    {
        "originator_id",
        "originator_version",
        "originator_topic",
        "fingerprint",
        "timestamp",
        "recorded_by",
    }
)


def expected_fields(content: dict[str, Any], line: fmt.Line, keep: bool) -> dict[str, Any]:
    """The fields a recorded event of this line has: its content, and when and by whom it was
    recorded if the line says so."""
    expected = {k: v for k, v in content.items() if k not in NOT_CONTENT}
    if keep and line.recorded_at is not None:
        expected["timestamp"] = line.recorded_at
    if line.recorded_by is not None:
        expected["recorded_by"] = line.recorded_by
    return expected


async def recorded(pool: Pool, ledger: Ledger, ids: list[UUID]) -> dict[UUID, Any]:
    """The first event of each of these ids the ledger holds."""
    mapper = ledger.mapper
    held: dict[UUID, Any] = {}
    for aggregate_id, topic, state in await events.first_events(pool, ids):
        stored = Stored(aggregate_id, 1, topic, state)
        held[aggregate_id] = mapper.to_domain_event(stored)  # type: ignore[arg-type]
    return held


@dataclass(frozen=True)
class Stored:
    """An event as the event table holds it, for the ledger's mapper to decode."""

    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes


def is_new(
    number: int,
    kind: str,
    record_id: UUID,
    expected: dict[str, Any],
    held: Any,
    *,
    key: str | None = None,
) -> bool:
    """False for a record held with this content; an error for one held with other content
    (naming the idempotency ``key`` that gave the id, if one did)."""
    if record_id not in held:
        return True
    earlier = held[record_id]
    if isinstance(earlier, dict):  # a line earlier in this batch
        differing = [k for k, v in expected.items() if earlier.get(k) != v]
    else:
        differing = differences(earlier, expected)
        if type(earlier).__name__ != EVENT_OF.get(kind, type(earlier).__name__):
            differing = ["type"]
    if differing:
        raise ImportFailed(
            number,
            f"{kind} {record_id}{'' if key is None else f' (idempotency_key {key!r})'}"
            " exists already with other content"
            f" ({', '.join(sorted(_LINE_NAMES.get(k, k) for k in differing))} differ)",
        )
    return False


# The events' names for what a line calls otherwise.
_LINE_NAMES = {"timestamp": "recorded_at"}

EVENT_OF = {
    "source": "SourceRegistered",
    "incident": "IncidentOpened",
    "claim": "ClaimAdded",
    "statement": "StatementRecorded",
}
