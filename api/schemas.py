"""Request bodies of the write API, and what every write answers.

These are the contract: strict (unknown fields are refused), bounded, separate from the events.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta, Struct

from claimledger.domain.incident import IncidentDraft
from claimledger.domain.receipts import Receipt, StatementRequest
from claimledger.domain.statement import StatementDraft
from claimledger.domain.values import (
    Evidence,
    Place,
    PlacePrecision,
    Reliability,
    SourceKind,
    Stance,
    TimePrecision,
    Verdict,
)

Aware = Annotated[
    datetime,
    Meta(
        tz=True,
        description="RFC 3339 date-time with an offset, e.g. 2024-03-12T06:10:00Z, from "
        "1900-01-01 up to (not including) 2200-01-01",
    ),
]
# Every free text refuses NUL (U+0000), which PostgreSQL cannot keep in text or jsonb.
NO_NUL = r"^[^\x00]*$"
Url = Annotated[str, Meta(max_length=2048, pattern=r"^https?://[^\x00-\x20\x7f]+$")]
Name = Annotated[str, Meta(min_length=1, max_length=300, pattern=NO_NUL)]
Title = Annotated[str, Meta(min_length=1, max_length=500, pattern=NO_NUL)]
ShortText = Annotated[str, Meta(min_length=1, max_length=2000, pattern=NO_NUL)]
LongText = Annotated[str, Meta(min_length=1, max_length=20_000, pattern=NO_NUL)]
Latitude = Annotated[float, Meta(ge=-90, le=90)]
Longitude = Annotated[float, Meta(ge=-180, le=180)]
Channel = Annotated[str, Meta(min_length=1, max_length=64, pattern=NO_NUL)]
IdempotencyKeyText = Annotated[str, Meta(min_length=1, max_length=255, pattern=NO_NUL)]
Tag = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
Tags = Annotated[list[Tag], Meta(max_length=32)]
Country = Annotated[str, Meta(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]
Language = Annotated[
    str, Meta(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$", description="BCP 47 tag")
]
EvidenceKind = Annotated[
    str, Meta(pattern=r"^[a-z][a-z0-9_]{0,31}$", examples=["video", "geolocation", "photo"])
]
Credibility = Annotated[int, Meta(ge=1, le=6, description="Admiralty credibility, 1 to 6")]
Sha256 = Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$")]
# A position in the ledger: strictly increasing with every event, but not gap-free (a failed or
# concurrent write may use up a number), so nothing may count on consecutive numbers.
Position = Annotated[
    int,
    Meta(
        description="The event's position in the ledger: increasing, may skip numbers "
        "(a failed or concurrent write can use one up)."
    ),
]


class Strict(Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of every request body: unknown fields are an error, not silently dropped."""


class SourceCreate(Strict):
    name: Name
    kind: SourceKind
    affiliation: Name | None = None
    channels: Annotated[list[Channel], Meta(max_length=32)] = []
    url: Url | None = None


class SourceRatingCreate(Strict):
    reliability: Reliability
    rationale: ShortText | None = None


class PlaceIn(Strict):
    name: Name
    admin1: Name | None = None
    admin2: Name | None = None
    country: Country | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    precision: PlacePrecision | None = None

    def place(self) -> Place:
        return Place(**msgspec.structs.asdict(self))


class IncidentCreate(Strict):
    title: Title
    summary: LongText | None = None
    place: PlaceIn | None = None
    occurred_from: Aware | None = None
    occurred_to: Aware | None = None
    occurred_precision: TimePrecision | None = None
    tags: Tags = []

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


class ClaimCreate(Strict):
    text: ShortText


class EvidenceIn(Strict):
    kind: EvidenceKind
    url: Url | None = None
    description: ShortText | None = None
    sha256: Sha256 | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None


class StatementCreate(Strict):
    source_id: UUID
    stance: Stance
    published_at: Aware
    quote: LongText | None = None
    language: Language | None = None
    url: Url | None = None
    channel: Channel | None = None
    via_source_id: UUID | None = None
    evidence: Annotated[list[EvidenceIn], Meta(max_length=50)] = []
    credibility: Credibility | None = None

    def fingerprint(self, claim_id: UUID) -> str:
        """A digest of what was asked, to tell a retry from a reused Idempotency-Key."""
        body = msgspec.json.encode(self, order="sorted")
        return hashlib.sha256(claim_id.bytes + body).hexdigest()

    def draft(self) -> StatementDraft:
        return StatementDraft(
            source_id=self.source_id,
            stance=self.stance,
            published_at=self.published_at,
            quote=self.quote,
            language=self.language,
            url=self.url,
            channel=self.channel,
            via_source_id=self.via_source_id,
            evidence=tuple(Evidence(**msgspec.structs.asdict(e)) for e in self.evidence),
            credibility=self.credibility,
        )


class WithdrawalCreate(Strict):
    reason: ShortText


class VerdictCreate(Strict):
    verdict: Verdict
    rationale: LongText | None = None


class Written(Struct, kw_only=True):
    """What every write answers."""

    id: UUID
    position: Position
    recorded_at: datetime

    @classmethod
    def of(cls, receipt: Receipt) -> Written:
        """A receipt with its position (``Writer.positioned``), as the API answers it."""
        return msgspec.convert(receipt, cls, from_attributes=True)


class StatementBatchItem(StatementCreate, kw_only=True):
    """A statement and the claim it is about, in a batch."""

    claim_id: UUID
    idempotency_key: IdempotencyKeyText | None = None

    def statement(self) -> StatementCreate:
        fields = msgspec.structs.asdict(self)
        del fields["claim_id"], fields["idempotency_key"]
        return StatementCreate(**fields)

    def request(self) -> StatementRequest:
        return StatementRequest(
            claim_id=self.claim_id,
            draft=self.draft(),
            idempotency_key=self.idempotency_key,
            fingerprint=None
            if self.idempotency_key is None
            else self.statement().fingerprint(self.claim_id),
        )


class StatementBatchCreate(Strict):
    statements: Annotated[list[StatementBatchItem], Meta(min_length=1, max_length=1000)]


class WrittenBatch(Struct, kw_only=True):
    """What a batch answers: one receipt per statement, in the order they were sent."""

    items: list[Written]
