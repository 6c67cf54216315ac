"""Claims: adding one, giving a verdict, and reading its status and its history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta, Struct

from claimledger.api.schemas.common import FromRow, LongText, Position, ShortText, Strict
from claimledger.domain.values import Status, Verdict
from claimledger.projections.queries.claims import ClaimAt

OpposingIds = Annotated[
    list[UUID],
    Meta(
        description="The counted statements that stand against the deciding ones without "
        "changing the status (a confirmed claim's denials, a refuted one's assertions); the "
        "reason names them after 'against it:'."
    ),
]


class ClaimCreate(Strict):
    """One checkable proposition about an incident."""

    text: ShortText


class Claim(Struct, kw_only=True):
    """A claim with its derived status (as known at ``known_at``, if given) and verdict."""

    id: UUID
    incident_id: UUID
    text: str
    status: Status
    reason: str
    deciding_statement_ids: list[UUID]
    opposing_statement_ids: OpposingIds
    status_since: datetime | None
    verdict: Verdict | None
    verdict_rationale: str | None
    verdict_at: datetime | None
    recorded_at: datetime
    position: Position

    @classmethod
    def of(cls, found: ClaimAt) -> Claim:
        """A claim's row with the status it had at the moment it was seen from."""
        return msgspec.convert(
            {
                **found.row,
                "status": found.status.status,
                "reason": found.status.reason,
                "deciding_statement_ids": found.status.statement_ids,
                "opposing_statement_ids": found.status.opposing_ids,
                "status_since": found.status_since,
            },
            cls,
        )


class VerdictCreate(Strict):
    """An editor's verdict, kept apart from the derived status."""

    verdict: Verdict
    rationale: LongText | None = None


class HistoryItem(FromRow, kw_only=True):
    """One interval ``[recorded_from, recorded_to)`` of a claim's status, and what caused it."""

    status: Status
    recorded_from: datetime
    recorded_to: datetime | None
    statement_id: UUID | None
    reason: str
    deciding_statement_ids: list[UUID]
    opposing_statement_ids: OpposingIds


class HistoryPage(Struct, kw_only=True):
    """A page of status intervals; ``next_cursor`` asks for the next (None on the last page)."""

    items: list[HistoryItem]
    next_cursor: str | None
