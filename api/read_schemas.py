"""What the read API answers: sources, incidents, claims, history and timelines, and their pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from msgspec import Struct

from claimledger.api.schemas import Position
from claimledger.domain.values import Reliability, SourceKind, Stance, Status, Verdict


class Source(Struct, kw_only=True):
    id: UUID
    name: str
    kind: SourceKind
    affiliation: str | None
    channels: list[str]
    url: str | None
    reliability: Reliability
    recorded_at: datetime
    position: Position


class SourcePage(Struct, kw_only=True):
    items: list[Source]
    next_cursor: str | None


class Place(Struct, kw_only=True):
    name: str
    admin1: str | None = None
    admin2: str | None = None
    country: str | None = None
    lat: float | None = None
    lon: float | None = None
    precision: str | None = None


class Claim(Struct, kw_only=True):
    """A claim with its derived status (as known at ``known_at``, if given) and verdict."""

    id: UUID
    incident_id: UUID
    text: str
    status: Status
    reason: str
    deciding_statement_ids: list[UUID]
    status_since: datetime | None
    verdict: Verdict | None
    verdict_rationale: str | None
    verdict_at: datetime | None
    recorded_at: datetime
    position: Position


class Incident(Struct, kw_only=True):
    id: UUID
    title: str
    summary: str | None
    place: Place | None
    occurred_from: datetime | None
    occurred_to: datetime | None
    occurred_precision: str | None
    tags: list[str]
    recorded_at: datetime
    revised_at: datetime | None
    position: Position
    claim_count: int
    headline_status: Status
    status_counts: dict[str, int]
    claims: list[Claim] | None = None


class IncidentPage(Struct, kw_only=True):
    items: list[Incident]
    next_cursor: str | None


class HistoryItem(Struct, kw_only=True):
    status: Status
    recorded_from: datetime
    recorded_to: datetime | None
    statement_id: UUID | None
    reason: str
    deciding_statement_ids: list[UUID]


class HistoryPage(Struct, kw_only=True):
    items: list[HistoryItem]
    next_cursor: str | None


class Evidence(Struct, kw_only=True):
    kind: str
    url: str | None = None
    description: str | None = None
    sha256: str | None = None
    lat: float | None = None
    lon: float | None = None


class TimelineItem(Struct, kw_only=True):
    """A statement on a timeline: its fields, where it sits, and when the ledger learned it."""

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
    recorded_at: datetime
    withdrawn_at: datetime | None
    position: Position


class TimelinePage(Struct, kw_only=True):
    items: list[TimelineItem]
    next_cursor: str | None


def place_of(value: dict[str, Any] | None) -> Place | None:
    return None if value is None else Place(**value)
