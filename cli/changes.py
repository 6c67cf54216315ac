"""Import lines that change a record which exists: a rating, a revision, a verdict, a withdrawal."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from claimledger.cli import lines as fmt
from claimledger.domain.archive import Change
from claimledger.domain.claim import Claim, ClaimVerdictGiven
from claimledger.domain.incident import Incident, IncidentDraft, IncidentRevised
from claimledger.domain.source import Source, SourceRated
from claimledger.domain.statement import Statement, StatementWithdrawn


def change_of(line: fmt.Line, *, recorded_by: UUID, keep: bool) -> Change:
    """The change a line makes, and the content a recorded one has."""
    by = line.recorded_by or recorded_by
    at = line.recorded_at if keep else None
    known_by = {} if line.recorded_by is None else {"recorded_by": line.recorded_by}
    if isinstance(line, fmt.SourceRatingLine):
        rating = {"reliability": line.reliability, "rationale": line.rationale}

        def rate(source: Any) -> None:
            source.rate(**rating, recorded_by=by, recorded_at=at)

        return Change(line.source_id, Source, SourceRated, rating | known_by, rate, at)
    if isinstance(line, fmt.IncidentRevisionLine):
        draft = line.draft()
        described = fmt.fields_of(draft, IncidentDraft.__dataclass_fields__)

        def revise(incident: Any) -> None:
            incident.revise(draft, recorded_by=by, recorded_at=at)

        return Change(line.incident_id, Incident, IncidentRevised, described | known_by, revise, at)
    if isinstance(line, fmt.VerdictLine):
        verdict = {"verdict": line.verdict, "rationale": line.rationale}

        def give(claim: Any) -> None:
            claim.give_verdict(**verdict, recorded_by=by, recorded_at=at)

        return Change(line.claim_id, Claim, ClaimVerdictGiven, verdict | known_by, give, at)
    assert isinstance(line, fmt.WithdrawalLine)
    reason = {"reason": line.reason}

    def withdraw(statement: Any) -> None:
        statement.withdraw(**reason, recorded_by=by, recorded_at=at)

    return Change(
        fmt.withdrawn_id(line), Statement, StatementWithdrawn, reason | known_by, withdraw, at
    )
