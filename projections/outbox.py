"""The outbox's event catalogue: one Struct per type of entry, and the types' names.

The projector writes an entry to ``views.outbox`` with the view change that caused it; webhooks
and the live stream send them as they are. Every entry ends with the ``position`` of the event
that caused it. These Structs are the one definition of what each type carries: the projector
builds them, the stream and the webhook API name their types with ``EventType``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import Meta, Struct

from claimledger.domain.status import DerivedStatus
from claimledger.domain.values import Stance, Status, TimePrecision, Verdict


# The types of outbox entries, as webhooks subscribe to them and the stream names them. (No
# docstring: it would become the enum's description in the OpenAPI document.)
class EventType(StrEnum):
    CLAIM_STATUS_CHANGED = "claim.status_changed"
    CLAIM_VERDICT_CHANGED = "claim.verdict_changed"
    STATEMENT_RECORDED = "statement.recorded"
    STATEMENT_WITHDRAWN = "statement.withdrawn"
    INCIDENT_OPENED = "incident.opened"


class Evidence(Struct, kw_only=True):
    """What a statement points to, as the API shows it."""

    kind: str
    url: str | None = None
    description: str | None = None
    sha256: str | None = None
    lat: float | None = None
    lon: float | None = None


class StatementShown(Struct, kw_only=True):
    """A statement as the timeline, the stream and webhooks show it."""

    id: UUID
    claim_id: UUID
    incident_id: UUID
    source_id: UUID
    source_name: str
    stance: Stance
    published_at: datetime
    quote: str | None
    language: str | None
    url: str | None
    channel: str | None
    via_source_id: UUID | None
    evidence: list[Evidence]
    credibility: int | None
    credibility_label: Annotated[
        str | None,
        Meta(
            description='The Admiralty words of `credibility` ("probably true"); null without one.'
        ),
    ]
    recorded_at: datetime
    withdrawn_at: datetime | None


class StatementRecorded(StatementShown, kw_only=True):
    position: int


class StatementWithdrawn(Struct, kw_only=True):
    id: UUID
    claim_id: UUID
    incident_id: UUID
    reason: str
    withdrawn_at: datetime
    position: int


class Reasons(Struct, kw_only=True):
    # One sentence naming both sides, the statements that decided the status, and those
    # against them.
    text: str
    statement_ids: list[UUID]
    opposing_statement_ids: list[UUID]

    @classmethod
    def of(cls, derived: DerivedStatus) -> Reasons:
        return cls(
            text=derived.reason,
            statement_ids=list(derived.statement_ids),
            opposing_statement_ids=list(derived.opposing_ids),
        )


class ClaimStatusChanged(Struct, kw_only=True):
    incident_id: UUID
    claim_id: UUID
    from_: Status = msgspec.field(name="from")
    to: Status
    reasons: Reasons
    statement_id: UUID
    recorded_at: datetime
    position: int


class ClaimVerdictChanged(Struct, kw_only=True):
    incident_id: UUID
    claim_id: UUID
    from_: Verdict | None = msgspec.field(name="from")
    to: Verdict
    rationale: str | None
    recorded_at: datetime
    position: int


class IncidentOpened(Struct, kw_only=True):
    incident_id: UUID
    title: str
    summary: str | None
    place: dict[str, Any] | None
    occurred_from: datetime | None
    occurred_to: datetime | None
    occurred_precision: TimePrecision | None
    tags: list[str]
    recorded_at: datetime
    position: int


CATALOGUE: dict[EventType, type[Struct]] = {
    EventType.CLAIM_STATUS_CHANGED: ClaimStatusChanged,
    EventType.CLAIM_VERDICT_CHANGED: ClaimVerdictChanged,
    EventType.STATEMENT_RECORDED: StatementRecorded,
    EventType.STATEMENT_WITHDRAWN: StatementWithdrawn,
    EventType.INCIDENT_OPENED: IncidentOpened,
}
