"""What an incident's record learned between two moments: one item per change, in order."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from msgspec import Meta, Struct, field

from claimledger.api.schemas.common import FromRow
from claimledger.domain.values import Stance, Status, Verdict


class ChangeKind(StrEnum):
    """What a change is."""

    INCIDENT_OPENED = "incident_opened"
    INCIDENT_REVISED = "incident_revised"
    CLAIM_ADDED = "claim_added"
    STATEMENT_RECORDED = "statement_recorded"
    STATEMENT_WITHDRAWN = "statement_withdrawn"
    STATUS_CHANGED = "status_changed"
    VERDICT_GIVEN = "verdict_given"


class Change(FromRow, kw_only=True):
    """One thing the ledger learned about the incident, when and at which position.

    Fields that do not belong to a kind are null (or empty lists). ``reason`` is a status
    change's reason, a withdrawal's reason or a verdict's rationale.
    """

    kind: ChangeKind
    position: Annotated[
        int,
        Meta(
            description="The event's position; a status change has the position of the "
            "recording or withdrawal that caused it, and follows it."
        ),
    ]
    recorded_at: datetime
    claim_id: UUID | None = None
    claim_text: str | None = None
    statement_id: Annotated[
        UUID | None,
        Meta(description="The statement recorded or withdrawn; for a status change, its cause."),
    ] = None
    source_id: UUID | None = None
    source_name: str | None = None
    stance: Stance | None = None
    published_at: datetime | None = None
    quote: str | None = None
    language: str | None = None
    url: str | None = None
    via_source_id: UUID | None = None
    credibility: int | None = None
    from_: Annotated[Status | None, Meta(description="A status change: the status before.")] = (
        field(default=None, name="from")
    )
    to: Annotated[Status | None, Meta(description="A status change: the status after.")] = None
    reason: str | None = None
    deciding_statement_ids: list[UUID] = field(default_factory=list)
    opposing_statement_ids: list[UUID] = field(default_factory=list)
    verdict: Verdict | None = None
    previous_verdict: Verdict | None = None
    title: str | None = None
    summary: str | None = None
    changed: Annotated[
        list[str],
        Meta(description="An incident revision: the fields of its description it changed."),
    ] = field(default_factory=list)


class ChangePage(Struct, kw_only=True):
    """Changes recorded in ``(from, to]`` in order of position; ``next_cursor`` asks for the next
    page (None on the last). ``to`` is null when the window reaches up to now."""

    incident_id: UUID
    from_: datetime = field(name="from")
    to: datetime | None
    items: list[Change]
    next_cursor: str | None
