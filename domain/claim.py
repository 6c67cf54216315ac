"""A claim: one checkable proposition about an incident, and an editor's verdict on it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from claimledger.domain.values import Verdict


class Claim(Aggregate):
    if TYPE_CHECKING:
        incident_id: UUID
        text: str
        verdict: Verdict | None

    @classmethod
    def add(
        cls,
        *,
        incident_id: UUID,
        text: str,
        recorded_by: UUID,
        claim_id: UUID | None = None,
        recorded_at: datetime | None = None,
    ) -> Claim:
        return cls._create(
            ClaimAdded,
            id=claim_id,
            timestamp=recorded_at,
            incident_id=incident_id,
            text=text,
            recorded_by=recorded_by,
        )

    def give_verdict(
        self,
        *,
        verdict: Verdict,
        rationale: str | None,
        recorded_by: UUID,
        recorded_at: datetime | None = None,
    ) -> None:
        self.trigger_event(
            ClaimVerdictGiven,
            verdict=verdict,
            rationale=rationale,
            recorded_by=recorded_by,
            timestamp=recorded_at,
        )


class ClaimAdded(Aggregate.Created):
    incident_id: UUID
    text: str
    recorded_by: UUID

    def apply(self, aggregate: Any) -> None:
        aggregate.incident_id = self.incident_id
        aggregate.text = self.text
        aggregate.verdict = None


class ClaimVerdictGiven(Aggregate.Event):
    verdict: Verdict
    rationale: str | None
    recorded_by: UUID

    def apply(self, aggregate: Any) -> None:
        aggregate.verdict = self.verdict
