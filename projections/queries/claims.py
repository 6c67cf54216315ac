"""Claims with their status as seen from a moment, and a claim's status history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from claimledger.domain.status import DerivedStatus
from claimledger.domain.values import Status
from claimledger.projections.history import StatementFact, status_seen
from claimledger.projections.queries.facts import load_facts, load_incident_facts
from claimledger.projections.queries.moment import Moment, recorded_by
from claimledger.store.db import Db, session

_CLAIM = (
    "SELECT c.id, c.incident_id, c.text, c.recorded_at, c.position, c.status, c.reason,"
    " c.deciding_statement_ids, c.opposing_statement_ids, c.status_since,"
    " CASE WHEN $1::timestamptz IS NULL THEN c.verdict ELSE v.verdict END AS verdict,"
    " CASE WHEN $1::timestamptz IS NULL THEN c.verdict_rationale ELSE v.rationale END"
    "   AS verdict_rationale,"
    " CASE WHEN $1::timestamptz IS NULL THEN c.verdict_at ELSE v.recorded_at END AS verdict_at"
    " FROM views.claims c LEFT JOIN LATERAL (SELECT * FROM views.claim_verdicts v"
    "   WHERE v.claim_id = c.id AND v.recorded_at <= $1 ORDER BY v.position DESC LIMIT 1) v"
    " ON $1::timestamptz IS NOT NULL"
)

# The same, with when the status as known at $1 began (from the stored history).
_CLAIM_AND_SINCE = _CLAIM.replace(
    " FROM views.claims c",
    ", (SELECT h.recorded_from FROM views.claim_history h WHERE h.claim_id = c.id"
    "   AND h.recorded_from <= $1 ORDER BY h.seq DESC LIMIT 1) AS since_at FROM views.claims c",
    1,
)


@dataclass(frozen=True, slots=True)
class ClaimAt:
    """A claim row and its status as seen from a moment."""

    row: dict[str, Any]
    status: DerivedStatus
    status_since: datetime | None


async def get(db: Db, claim_id: UUID, moment: Moment) -> ClaimAt | None:
    """One claim as seen from ``moment``, if the ledger had it by then."""
    async with session(db) as one:
        row = await one.fetchrow(
            (_CLAIM if moment.is_now else _CLAIM_AND_SINCE)
            + " WHERE c.id = $2 AND ($1::timestamptz IS NULL OR c.recorded_at <= $1)",
            moment.known_at,
            claim_id,
        )
        if row is None:
            return None
        if moment.is_now:
            return _now(dict(row))
        facts = await load_facts(one, [claim_id], recorded_by=moment.known_at)
        status = status_seen(
            facts.get(claim_id, []),
            known_at=moment.known_at,
            published_before=moment.published_before,
        )
        since = row["since_at"] if moment.published_before is None else None
        return ClaimAt(row=dict(row), status=status, status_since=since)


async def of_incident(db: Db, incident_id: UUID, moment: Moment) -> list[ClaimAt]:
    """The incident's claims in the order they were added, each as seen from ``moment``."""
    rows = [
        dict(row)
        for row in await db.fetch(
            _CLAIM
            + " WHERE c.incident_id = $2 AND ($1::timestamptz IS NULL OR c.recorded_at <= $1)"
            " ORDER BY c.position",
            moment.known_at,
            incident_id,
        )
    ]
    if moment.is_now:
        return [_now(row) for row in rows]
    facts = await load_incident_facts(db, incident_id, recorded_by=moment.known_at)
    return [await _seen(db, row, facts.get(row["id"], []), moment) for row in rows]


def _now(row: dict[str, Any]) -> ClaimAt:
    """The status the projector keeps in the row."""
    status = DerivedStatus(
        Status(row["status"]),
        tuple(row["deciding_statement_ids"]),
        row["reason"],
        tuple(row["opposing_statement_ids"]),
    )
    return ClaimAt(row=row, status=status, status_since=row["status_since"])


async def _seen(db: Db, row: dict[str, Any], facts: list[StatementFact], moment: Moment) -> ClaimAt:
    """The status derived again from the statements as ``moment`` shows them."""
    status = status_seen(facts, known_at=moment.known_at, published_before=moment.published_before)
    since = None
    if moment.published_before is None and moment.known_at is not None:
        since = await db.fetchval(
            "SELECT recorded_from FROM views.claim_history WHERE claim_id = $1"
            " AND recorded_from <= $2 ORDER BY seq DESC LIMIT 1",
            row["id"],
            moment.known_at,
        )
    return ClaimAt(row=row, status=status, status_since=since)


async def exists(db: Db, claim_id: UUID, known_at: datetime | None) -> bool:
    """Whether the ledger had the claim by ``known_at`` (or has it now)."""
    return await recorded_by(db, "claims", claim_id, known_at)


async def history(
    db: Db, claim_id: UUID, *, known_at: datetime | None, after_seq: int | None, limit: int
) -> list[asyncpg.Record]:
    """Status intervals in recorded order; as known at ``known_at``, the last one is open."""
    return list(
        await db.fetch(
            "SELECT seq, status, reason, deciding_statement_ids, opposing_statement_ids,"
            " statement_id, recorded_from,"
            " CASE WHEN $2::timestamptz IS NOT NULL AND (recorded_to IS NULL OR recorded_to > $2)"
            "   THEN NULL ELSE recorded_to END AS recorded_to"
            " FROM views.claim_history WHERE claim_id = $1"
            " AND ($2::timestamptz IS NULL OR recorded_from <= $2)"
            " AND seq > $3 ORDER BY seq LIMIT $4",
            claim_id,
            known_at,
            -1 if after_seq is None else after_seq,
            limit,
        )
    )
