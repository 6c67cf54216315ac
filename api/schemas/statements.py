"""Statements: recording them (one at a time or in a batch) with their evidence, withdrawing
one, and reading them on a timeline."""

from __future__ import annotations

import hashlib
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta, Struct

from claimledger.api.schemas.common import (
    NO_NUL,
    Aware,
    Channel,
    Latitude,
    Longitude,
    LongText,
    Position,
    Row,
    ShortText,
    Strict,
    Url,
)
from claimledger.domain.receipts import StatementRequest
from claimledger.domain.statement import StatementDraft
from claimledger.domain.values import CREDIBILITY_LABELS, Stance, credibility_label
from claimledger.projections.outbox import StatementShown

IdempotencyKeyText = Annotated[str, Meta(min_length=1, max_length=255, pattern=NO_NUL)]
Language = Annotated[
    str, Meta(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$", description="BCP 47 tag")
]
EvidenceKind = Annotated[
    str, Meta(pattern=r"^[a-z][a-z0-9_]{0,31}$", examples=["video", "geolocation", "photo"])
]
Credibility = Annotated[
    int,
    Meta(
        ge=1,
        le=6,
        description="Admiralty credibility, 1 to 6: "
        + "; ".join(f"{grade} {words}" for grade, words in CREDIBILITY_LABELS.items()),
    ),
]
Sha256 = Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$")]


class EvidenceIn(Strict):
    """What a statement points to, as a client gives it."""

    kind: EvidenceKind
    url: Url | None = None
    description: ShortText | None = None
    sha256: Sha256 | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None


class StatementCreate(Strict):
    """A source's stance on a claim, when it was published, and what it points to."""

    source_id: UUID
    stance: Stance
    published_at: Aware
    quote: LongText | None = None
    language: Language | None = None
    url: Url | None = None
    channel: Channel | None = None
    via_source_id: UUID | None = None
    evidence: Annotated[list[EvidenceIn], Meta(max_length=50)] = []  # noqa: RUF012 - a Struct gives each instance its own
    credibility: Credibility | None = None

    def fingerprint(self, claim_id: UUID) -> str:
        """A digest of what was asked, to tell a retry from a reused Idempotency-Key."""
        body = msgspec.json.encode(self, order="sorted")
        return hashlib.sha256(claim_id.bytes + body).hexdigest()

    def draft(self) -> StatementDraft:
        return msgspec.convert(self, StatementDraft, from_attributes=True)


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
    """Up to 1,000 statements on any claims, recorded in one transaction."""

    statements: Annotated[list[StatementBatchItem], Meta(min_length=1, max_length=1000)]


class WithdrawalCreate(Strict):
    """Why a statement recorded in error is withdrawn."""

    reason: ShortText


class TimelineItem(StatementShown, kw_only=True):
    """A statement on a timeline: its fields, the text of its claim, where it sits, and when the
    ledger learned it. (A claim's text and a source's name never change once recorded, so an
    answer as known at a past moment shows them as they were then.)"""

    claim_text: Annotated[str, Meta(description="The text of the claim the statement is on.")]
    position: Position

    @classmethod
    def of(cls, row: Row) -> TimelineItem:
        """A row of the timeline query, with the words of its credibility grade."""
        return msgspec.convert(
            {**row, "credibility_label": credibility_label(row["credibility"])}, cls
        )


class TimelinePage(Struct, kw_only=True):
    """A page of statements; ``next_cursor`` asks for the next (None on the last page)."""

    items: list[TimelineItem]
    next_cursor: str | None
