"""A source: who speaks, and how reliable the desk judges it to be."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from claimledger.domain.values import Reliability, SourceKind


class Source(Aggregate):
    if TYPE_CHECKING:
        name: str
        kind: SourceKind
        affiliation: str | None
        channels: tuple[str, ...]
        url: str | None
        reliability: Reliability

    @classmethod
    def register(
        cls,
        *,
        name: str,
        kind: SourceKind,
        affiliation: str | None,
        channels: tuple[str, ...],
        url: str | None,
        recorded_by: UUID,
        source_id: UUID | None = None,
        recorded_at: datetime | None = None,
    ) -> Source:
        return cls._create(
            SourceRegistered,
            id=source_id,
            timestamp=recorded_at,
            name=name,
            kind=kind,
            affiliation=affiliation,
            channels=channels,
            url=url,
            recorded_by=recorded_by,
        )

    def rate(
        self,
        *,
        reliability: Reliability,
        rationale: str | None,
        recorded_by: UUID,
        recorded_at: datetime | None = None,
    ) -> None:
        self.trigger_event(
            SourceRated,
            reliability=reliability,
            rationale=rationale,
            recorded_by=recorded_by,
            timestamp=recorded_at,
        )


class SourceRegistered(Aggregate.Created):
    name: str
    kind: SourceKind
    affiliation: str | None
    channels: tuple[str, ...]
    url: str | None
    recorded_by: UUID

    def apply(self, aggregate: Any) -> None:
        aggregate.name = self.name
        aggregate.kind = self.kind
        aggregate.affiliation = self.affiliation
        aggregate.channels = self.channels
        aggregate.url = self.url
        aggregate.reliability = Reliability.F


class SourceRated(Aggregate.Event):
    reliability: Reliability
    rationale: str | None
    recorded_by: UUID

    def apply(self, aggregate: Any) -> None:
        aggregate.reliability = self.reliability
