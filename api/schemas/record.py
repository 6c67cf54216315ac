"""A source's track record: its stances, what became of its claims, and how its assertions held
up against independent verification, with the counts behind every share."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import Meta, Struct

from claimledger.api.schemas.common import Position
from claimledger.api.schemas.sources import ReliabilityLabel, Source
from claimledger.domain.values import Reliability, Stance, Status, reliability_label
from claimledger.projections.queries.record import Record, RecordClaim

Count = Annotated[int, Meta(ge=0)]
Share = (
    Annotated[
        float, Meta(ge=0, le=1, description="The count divided by `claims`; null when it is 0.")
    ]
    | None
)


class StanceCounts(Struct, kw_only=True):
    """The source's statements in view (recorded by the moment, not withdrawn by then), by
    stance."""

    asserts: Count = 0
    denies: Count = 0
    confirms: Count = 0
    refutes: Count = 0
    retracts: Count = 0


class StatusCounts(Struct, kw_only=True):
    """Claims on the record by the status each stands at (now, or as known at `known_at`)."""

    unverified: Count = 0
    claimed: Count = 0
    denied: Count = 0
    disputed: Count = 0
    confirmed: Count = 0
    refuted: Count = 0
    contested: Count = 0
    retracted: Count = 0


class Verification(Struct, kw_only=True):
    """Of the claims the source took this side on, how many independent sources later
    confirmed or refuted (a claim with both counts in both), and the shares."""

    claims: Count
    retracted_by_source: Annotated[
        Count, Meta(description="Of them, those the source retracted since (still counted).")
    ]
    confirmed: Count
    refuted: Count
    confirmed_share: Share
    refuted_share: Share

    @classmethod
    def of(cls, claims: list[RecordClaim]) -> Verification:
        """The counts and shares of ``claims``, all on one side."""
        total = len(claims)
        confirmed = sum(c.confirmed for c in claims)
        refuted = sum(c.refuted for c in claims)
        return cls(
            claims=total,
            retracted_by_source=sum(c.side.retracted for c in claims),
            confirmed=confirmed,
            refuted=refuted,
            confirmed_share=confirmed / total if total else None,
            refuted_share=refuted / total if total else None,
        )


class GradeHeld(Struct, kw_only=True):
    """A grade the source held from ``recorded_at``; the first is the F it starts with."""

    reliability: Reliability
    reliability_label: ReliabilityLabel
    rationale: str | None
    recorded_at: datetime
    position: Position


class SourceRecord(Struct, kw_only=True):
    """A source's track record, as known at ``known_at`` (null: now)."""

    source: Source
    known_at: datetime | None
    stances: StanceCounts
    claims: Annotated[Count, Meta(description="Claims the source asserted or denied.")]
    by_status: StatusCounts
    asserted: Verification
    denied: Verification
    reliability_history: list[GradeHeld]

    @classmethod
    def of(cls, source: Source, known_at: datetime | None, record: Record) -> SourceRecord:
        """Count ``record`` for ``source``."""
        by_status = StatusCounts()
        for claim in record.claims:
            status = Status(claim.status)
            setattr(by_status, status.value, getattr(by_status, status.value) + 1)
        start = GradeHeld(
            reliability=Reliability.F,
            reliability_label=reliability_label(Reliability.F),
            rationale=None,
            recorded_at=source.recorded_at,
            position=source.position,
        )
        ratings = [
            GradeHeld(
                reliability=row["reliability"],
                reliability_label=reliability_label(row["reliability"]),
                rationale=row["rationale"],
                recorded_at=row["recorded_at"],
                position=row["position"],
            )
            for row in record.ratings
        ]
        return cls(
            source=source,
            known_at=known_at,
            stances=StanceCounts(**record.stances),
            claims=len(record.claims),
            by_status=by_status,
            asserted=Verification.of([c for c in record.claims if c.side.stance == Stance.ASSERTS]),
            denied=Verification.of([c for c in record.claims if c.side.stance == Stance.DENIES]),
            reliability_history=[start, *ratings],
        )
