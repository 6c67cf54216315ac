"""Incidents: opening and revising one, and reading them with their claims."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta, Struct

from claimledger.api.schemas.claims import Claim
from claimledger.api.schemas.common import (
    NO_NUL,
    Aware,
    Latitude,
    Longitude,
    LongText,
    Name,
    Position,
    Row,
    Strict,
)
from claimledger.domain import values
from claimledger.domain.incident import IncidentDraft
from claimledger.domain.values import PlacePrecision, Status, TimePrecision
from claimledger.projections.queries.claims import ClaimAt

Title = Annotated[str, Meta(min_length=1, max_length=500, pattern=NO_NUL)]
Tag = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
Tags = Annotated[list[Tag], Meta(max_length=32)]
Country = Annotated[str, Meta(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]


class PlaceIn(Strict):
    """Where an incident happened, as a client gives it."""

    name: Name
    admin1: Name | None = None
    admin2: Name | None = None
    country: Country | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    precision: PlacePrecision | None = None

    def place(self) -> values.Place:
        return values.Place(**msgspec.structs.asdict(self))


class Place(Struct, kw_only=True):
    """Where an incident happened, as the API shows it."""

    name: str
    admin1: str | None = None
    admin2: str | None = None
    country: str | None = None
    lat: float | None = None
    lon: float | None = None
    precision: PlacePrecision | None = None


class IncidentCreate(Strict):
    """What happened, where and when, as far as it is known."""

    title: Title
    summary: LongText | None = None
    place: PlaceIn | None = None
    occurred_from: Aware | None = None
    occurred_to: Aware | None = None
    occurred_precision: TimePrecision | None = None
    tags: Tags = []  # noqa: RUF012 - a Struct gives each instance its own

    def draft(self) -> IncidentDraft:
        return IncidentDraft(
            title=self.title,
            summary=self.summary,
            place=None if self.place is None else self.place.place(),
            occurred_from=self.occurred_from,
            occurred_to=self.occurred_to,
            occurred_precision=self.occurred_precision,
            tags=tuple(dict.fromkeys(self.tags)),
        )


class IncidentRevision(Strict):
    """Fields to change; a field left out keeps its value, ``null`` clears an optional one."""

    title: Title | msgspec.UnsetType = msgspec.UNSET
    summary: LongText | msgspec.UnsetType | None = msgspec.UNSET
    place: PlaceIn | msgspec.UnsetType | None = msgspec.UNSET
    occurred_from: Aware | msgspec.UnsetType | None = msgspec.UNSET
    occurred_to: Aware | msgspec.UnsetType | None = msgspec.UNSET
    occurred_precision: TimePrecision | msgspec.UnsetType | None = msgspec.UNSET
    tags: Tags | msgspec.UnsetType = msgspec.UNSET

    def apply(self, current: IncidentDraft) -> IncidentDraft:
        changes: dict[str, object] = {}
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if value is msgspec.UNSET:
                continue
            if isinstance(value, PlaceIn):
                value = value.place()
            elif isinstance(value, list):
                value = tuple(dict.fromkeys(value))
            changes[name] = value
        return replace(current, **changes)  # type: ignore[arg-type]


class Incident(Struct, kw_only=True):
    """An incident with its claim counts and headline status; with its claims when read alone."""

    id: UUID
    title: str
    summary: str | None
    place: Place | None
    occurred_from: datetime | None
    occurred_to: datetime | None
    occurred_precision: TimePrecision | None
    tags: list[str]
    recorded_at: datetime
    revised_at: datetime | None
    position: Position
    claim_count: int
    headline_status: Status
    status_counts: dict[str, int]
    claims: list[Claim] | None = None

    @classmethod
    def of(cls, row: Row, claims: list[ClaimAt] | None = None) -> Incident:
        """A row of the incidents' read query (``place`` and ``status_counts`` as jsonb), and
        its claims as seen from the same moment."""
        incident = msgspec.convert(row, cls)
        if claims is not None:
            incident.claims = [Claim.of(found) for found in claims]
        return incident


class IncidentPage(Struct, kw_only=True):
    """A page of incidents; ``next_cursor`` asks for the next (None on the last page)."""

    items: list[Incident]
    next_cursor: str | None
